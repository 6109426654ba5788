package dev.jimm.layers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import dev.jimm.parity.ReferenceInit;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** timm's SplitAttn: its keys and shapes, and the attention across radix splits and groups. */
class SplitAttentionTest {
    private static SplitAttention built(NDManager m, int in, int out, int groups, int radix) {
        SplitAttention sa = new SplitAttention(in, out, 3, 1, 1, 1, groups, radix, BatchNorm2d::new);
        sa.materialize(m);
        sa.initialize(new SplittableRandom(3));
        sa.eval();
        return sa;
    }

    /** The conv branch before the attention: relu(bn0(conv(x))), from the layer's own children. */
    private static NDArray splits(SplitAttention sa, NDArray x) {
        return Activation.apply(
                Activation.Kind.RELU, sa.child("bn0").forward(sa.child("conv").forward(x)));
    }

    @Test
    void keysAndShapesAreTimms() {
        // resnest50d's layer1 conv2: 64 -> 64, radix 2: attention width max(32, 64 * 2 / 4) = 32
        Map<String, Shape> s = new SplitAttention(64, 64, 3, 1, 1, 1, 1, 2, BatchNorm2d::new).stateDictShapes();
        assertEquals(new Shape(128, 32, 3, 3), s.get("conv.weight"), "groups x radix = 2 conv groups");
        assertEquals(new Shape(128), s.get("bn0.running_var"));
        assertEquals(new Shape(32, 64, 1, 1), s.get("fc1.weight"));
        assertEquals(new Shape(32), s.get("fc1.bias"));
        assertEquals(new Shape(128, 32, 1, 1), s.get("fc2.weight"));
        // resnest50d_4s2x40d's layer4: 320 wide, 2 groups, radix 4: 320 * 4 / 4 = 320
        Map<String, Shape> wide = new SplitAttention(320, 320, 3, 1, 1, 1, 2, 4, BatchNorm2d::new).stateDictShapes();
        assertEquals(new Shape(320, 160, 1, 1), wide.get("fc1.weight"));
        assertEquals(new Shape(1280, 160, 1, 1), wide.get("fc2.weight"));
        assertThrows(IllegalArgumentException.class, () -> new SplitAttention(8, 8, 3, 1, 1, 1, 1, 0, null));
    }

    @Test
    void zeroAttentionLogitsAverageTheSplitsOrHalveTheOnlyOne() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray x = ReferenceInit.input(m, new Shape(2, 8, 5, 5), 0);
            SplitAttention sa = built(m, 8, 6, 1, 2);
            sa.stateDict().get("fc2.weight").muli(0);
            sa.stateDict().get("fc2.bias").muli(0);
            NDArray y = splits(sa, x);
            NDArray expected = y.get(new NDIndex(":, 0:6"))
                    .add(y.get(new NDIndex(":, 6:12")))
                    .mul(0.5f);
            assertEquals(0f, sa.forward(x).sub(expected).abs().max().getFloat(), 1e-5f);

            SplitAttention one = built(m, 8, 6, 1, 1);
            one.stateDict().get("fc2.weight").muli(0);
            one.stateDict().get("fc2.bias").muli(0);
            NDArray gated = splits(one, x).mul(0.5f);
            assertEquals(0f, one.forward(x).sub(gated).abs().max().getFloat(), 1e-5f, "sigmoid(0) = 0.5");
        }
    }

    @Test
    void eachGroupsSoftmaxRunsAcrossItsOwnRadixSplits() {
        try (NDManager m = NDManager.newBaseManager()) {
            // 2 groups of 2 channels, radix 2; fc2's outputs are ordered group, split, channel (timm's RadixSoftmax)
            NDArray x = ReferenceInit.input(m, new Shape(1, 8, 4, 4), 1);
            SplitAttention sa = built(m, 8, 4, 2, 2);
            sa.stateDict().get("fc2.weight").muli(0);
            float[] bias = new float[8];
            for (int g = 0; g < 2; g++) {
                for (int r = 0; r < 2; r++) {
                    for (int j = 0; j < 2; j++) {
                        // group 0 picks split 0, group 1 picks split 1
                        bias[g * 4 + r * 2 + j] = r == g ? 30f : -30f;
                    }
                }
            }
            Module.assign(sa.stateDict().get("fc2.bias"), bias);
            NDArray y = splits(sa, x);
            NDArray out = sa.forward(x);
            // the conv's output channels are split-major: split r holds channels r*4 .. r*4+3
            NDArray group0 = y.get(new NDIndex(":, 0:2"));
            NDArray group1 = y.get(new NDIndex(":, 6:8"));
            assertEquals(
                    0f, out.get(new NDIndex(":, 0:2")).sub(group0).abs().max().getFloat(), 1e-5f);
            assertEquals(
                    0f, out.get(new NDIndex(":, 2:4")).sub(group1).abs().max().getFloat(), 1e-5f);
        }
    }
}
