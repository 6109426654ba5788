package dev.jimm.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.jimm.layers.Attention;
import dev.jimm.layers.Conv2d;
import dev.jimm.layers.Linear;
import dev.jimm.layers.Module;
import dev.jimm.models.ImageModel;
import dev.jimm.models.Models;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Forward MACs against hand counts and timm's published GMACs. */
class FlopCounterTest {
    /** conv 3→8 3×3 on 10×10 (padding 1), then a Linear 8→5 on the pooled features, then attention. */
    static final class Tiny extends Module {
        private final Conv2d conv =
                register("conv", new Conv2d(3, 8, 3, Conv2d.Options.defaults().padding(1)));
        private final Linear fc = register("fc", new Linear(8, 5));

        @Override
        protected NDArray forwardImpl(NDArray x) {
            NDArray y = conv.forward(x).mean(new int[] {3}).mean(new int[] {2});
            return fc.forward(y);
        }
    }

    @Test
    void convAndLinearAreCountedFromShapes() {
        try (NDManager m = NDManager.newBaseManager()) {
            Tiny t = new Tiny();
            t.materialize(m);
            t.initialize(new SplittableRandom(0));
            // conv: 2 images × 8 × 10 × 10 outputs × 3·3·3; fc: 2 × 5 outputs × 8 inputs
            assertEquals(2L * 8 * 100 * 27 + 2 * 5 * 8, FlopCounter.forwardMacs(t, new Shape(2, 3, 10, 10)));
        }
    }

    @Test
    void attentionCountsItsProjectionsAndBothMatrixProducts() {
        try (NDManager m = NDManager.newBaseManager()) {
            Attention a = new Attention(12, 3, true, 0f, 0f);
            a.materialize(m);
            a.initialize(new SplittableRandom(0));
            long b = 2;
            long n = 7;
            long c = 12;
            long qkv = b * n * 3 * c * c;
            long proj = b * n * c * c;
            long products = 2 * b * n * n * c;
            assertEquals(qkv + proj + products, FlopCounter.forwardMacs(a, new Shape(b, n, c)));
        }
    }

    @Test
    void resnetsMatchTimmsPublishedGmacs() {
        // torchvision's model tables (conv and linear MACs, labelled GFLOPS): resnet18 1.81, resnet50 4.09;
        // timm's tables (1.82, 4.11) count the norms and activations too, within 1% of these
        try (ImageModel r18 = Models.createModel("resnet18")) {
            double g = FlopCounter.forwardMacs(r18, new Shape(1, 3, 224, 224)) / 1e9;
            assertEquals(1.81, g, 0.006);
            assertEquals(1.82, g, 0.01 * 1.82);
        }
        try (ImageModel r50 = Models.createModel("resnet50")) {
            double g = FlopCounter.forwardMacs(r50, new Shape(1, 3, 224, 224)) / 1e9;
            assertEquals(4.09, g, 0.006);
            assertEquals(4.11, g, 0.01 * 4.11);
        }
    }
}
