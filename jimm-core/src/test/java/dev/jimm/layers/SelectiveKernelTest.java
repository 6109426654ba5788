package dev.jimm.layers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
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

/** timm's SelectiveKernel: paths, keys and shapes, and the attention's mixing of the paths. */
class SelectiveKernelTest {
    private static SelectiveKernel built(NDManager m, SelectiveKernel sk) {
        sk.materialize(m);
        sk.initialize(new SplittableRandom(5));
        sk.eval();
        return sk;
    }

    @Test
    void keysShapesAndDilationsAreTimms() {
        // skresnet18's layer1 conv1: 64 -> 64, split input, rd 1/8 to a multiple of 16: 16
        SelectiveKernel sk = new SelectiveKernel(64, 64, 1, 1, 1, 1.0 / 8, 16, true);
        Map<String, Shape> s = sk.stateDictShapes();
        assertEquals(new Shape(64, 32, 3, 3), s.get("paths.0.conv.weight"), "each path takes half the input");
        assertEquals(new Shape(64, 32, 3, 3), s.get("paths.1.conv.weight"), "the 5x5 path is a dilated 3x3");
        assertEquals(new Shape(64), s.get("paths.1.bn.running_mean"));
        assertEquals(new Shape(16, 64, 1, 1), s.get("attn.fc_reduce.weight"));
        assertEquals(new Shape(16), s.get("attn.bn.weight"));
        assertEquals(new Shape(128, 16, 1, 1), s.get("attn.fc_select.weight"));
        Conv2d c0 = (Conv2d) sk.child("paths").child("0").child("conv");
        Conv2d c1 = (Conv2d) sk.child("paths").child("1").child("conv");
        assertArrayEquals(new long[] {1, 1}, c0.dilation());
        assertArrayEquals(new long[] {2, 2}, c1.dilation());
        assertArrayEquals(new long[] {2, 2}, c1.padding());

        // skresnext50's: whole input to each path, 32 groups, rd 1/16 to a multiple of 32
        Map<String, Shape> x = new SelectiveKernel(128, 128, 2, 1, 32, 1.0 / 16, 32, false).stateDictShapes();
        assertEquals(new Shape(128, 4, 3, 3), x.get("paths.0.conv.weight"));
        assertEquals(new Shape(32, 128, 1, 1), x.get("attn.fc_reduce.weight"));
        assertThrows(IllegalArgumentException.class, () -> new SelectiveKernel(63, 64, 1, 1, 1, 0.125, 16, true));
    }

    @Test
    void stridedPathsHalveTheMapAndUniformAttentionAveragesThem() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray x = ReferenceInit.input(m, new Shape(2, 8, 9, 9), 0);
            SelectiveKernel sk = built(m, new SelectiveKernel(8, 6, 2, 1, 1, 0.5, 4, true));
            sk.stateDict().get("attn.fc_select.weight").muli(0);
            NDArray p0 = sk.child("paths").child("0").forward(x.get(new NDIndex(":, 0:4")));
            NDArray p1 = sk.child("paths").child("1").forward(x.get(new NDIndex(":, 4:8")));
            assertEquals(new Shape(2, 6, 5, 5), p1.getShape());
            NDArray out = sk.forward(x);
            assertEquals(0f, out.sub(p0.add(p1).mul(0.5f)).abs().max().getFloat(), 1e-5f);
        }
    }

    @Test
    void theAttentionWeighsEachPathPerChannel() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray x = ReferenceInit.input(m, new Shape(1, 4, 6, 6), 2);
            SelectiveKernel sk = built(m, new SelectiveKernel(4, 4, 1, 1, 1, 1.0, 4, false));
            // a constant 1 into fc_select: fc_reduce zero, the norm's bias 1 (eval: mean 0, var 1)
            sk.stateDict().get("attn.fc_reduce.weight").muli(0);
            Module.assign(sk.stateDict().get("attn.bn.bias"), new float[] {1, 1, 1, 1});
            Module.assign(sk.stateDict().get("attn.bn.running_mean"), new float[4]);
            Module.assign(sk.stateDict().get("attn.bn.running_var"), new float[] {1, 1, 1, 1});
            Module.assign(sk.stateDict().get("attn.bn.weight"), new float[] {1, 1, 1, 1});
            // fc_select's outputs are path-major: channels 0, 1 pick path 0, channels 2, 3 path 1
            float[] w = new float[8 * 4];
            for (int path = 0; path < 2; path++) {
                for (int c = 0; c < 4; c++) {
                    boolean pick = (c < 2) == (path == 0);
                    for (int k = 0; k < 4; k++) {
                        w[(path * 4 + c) * 4 + k] = pick ? 10f : -10f;
                    }
                }
            }
            Module.assign(sk.stateDict().get("attn.fc_select.weight"), w);
            NDArray p0 = sk.child("paths").child("0").forward(x);
            NDArray p1 = sk.child("paths").child("1").forward(x);
            NDArray out = sk.forward(x);
            assertEquals(
                    0f,
                    out.get(new NDIndex(":, 0:2"))
                            .sub(p0.get(new NDIndex(":, 0:2")))
                            .abs()
                            .max()
                            .getFloat(),
                    1e-5f);
            assertEquals(
                    0f,
                    out.get(new NDIndex(":, 2:4"))
                            .sub(p1.get(new NDIndex(":, 2:4")))
                            .abs()
                            .max()
                            .getFloat(),
                    1e-5f);
        }
    }
}
