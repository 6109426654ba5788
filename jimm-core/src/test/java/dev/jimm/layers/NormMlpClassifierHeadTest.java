package dev.jimm.layers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** timm's NormMlpClassifierHead: its keys, the pooled and the per-pixel (no pooling) forms, and reset. */
class NormMlpClassifierHeadTest {
    private static NormMlpClassifierHead head(NDManager mgr, int classes, int hidden, String pool) {
        NormMlpClassifierHead h = new NormMlpClassifierHead(
                4, classes, hidden, pool, 0, LayerNorm.channelsFirst(4, 1e-6f), Activation.Kind.TANH);
        h.materialize(mgr);
        h.initialize(new SplittableRandom(1));
        return h;
    }

    @Test
    void keysAreTimms() {
        try (NDManager mgr = NDManager.newBaseManager()) {
            assertEquals(
                    List.of(
                            "norm.weight",
                            "norm.bias",
                            "pre_logits.fc.weight",
                            "pre_logits.fc.bias",
                            "fc.weight",
                            "fc.bias"),
                    List.copyOf(head(mgr, 3, 6, "avg").stateDict().keySet()));
            assertEquals(
                    List.of("norm.weight", "norm.bias", "fc.weight", "fc.bias"),
                    List.copyOf(head(mgr, 3, 0, "avg").stateDict().keySet()));
        }
    }

    @Test
    void withoutPoolingEachPixelGetsWhatThePooledPathGivesAOnePixelMap() {
        try (NDManager mgr = NDManager.newBaseManager()) {
            NormMlpClassifierHead h = head(mgr, 3, 6, "avg");
            NDArray x = mgr.randomNormal(new Shape(2, 4, 1, 1));
            float[] pooled = h.forward(x, false).toFloatArray();
            float[] w = h.stateDict().get("pre_logits.fc.weight").toFloatArray();
            h.reset(3, "");
            assertInstanceOf(Conv2d.class, h.child("pre_logits").child("fc"));
            assertArrayEquals(w, h.stateDict().get("pre_logits.fc.weight").toFloatArray(), "trained weights stay");
            assertEquals(
                    new Shape(6, 4, 1, 1),
                    h.stateDict().get("pre_logits.fc.weight").getShape());
            // the classifier is new: compare the pre-logits, which both forms share
            h.reset(0, "");
            NDArray maps = h.forward(x, true);
            assertEquals(new Shape(2, 6, 1, 1), maps.getShape());
            h.reset(0, "avg");
            assertArrayEquals(h.forward(x, true).toFloatArray(), maps.toFloatArray(), 1e-6f);
            assertInstanceOf(Linear.class, h.child("pre_logits").child("fc"));
        }
    }

    @Test
    void pooledPathIsPoolNormTanhFc() {
        try (NDManager mgr = NDManager.newBaseManager()) {
            NormMlpClassifierHead h = head(mgr, 2, 0, "max");
            // channels (max over 2 pixels): 1, 3, 5, 7 -> mean 4, var 5
            NDArray x = mgr.create(new float[] {0, 1, 3, 2, 5, 4, 6, 7}, new Shape(1, 4, 1, 2));
            float[] pre = h.forward(x, true).toFloatArray();
            double sd = Math.sqrt(5 + 1e-6);
            assertArrayEquals(
                    new float[] {(float) (-3 / sd), (float) (-1 / sd), (float) (1 / sd), (float) (3 / sd)}, pre, 1e-5f);
            assertThrows(IllegalArgumentException.class, () -> h.reset(2, "catavgmax"));
        }
    }
}
