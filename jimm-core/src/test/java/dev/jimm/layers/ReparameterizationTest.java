package dev.jimm.layers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.jimm.layers.Reparameterization.Kernel;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The branch arithmetic of re-parameterisation, on hand-made values, and the in-place swap of modules. */
class ReparameterizationTest {
    private static <M extends Module> M ready(M m, NDManager mgr) {
        m.materialize(mgr);
        m.initialize(new SplittableRandom(0));
        return m;
    }

    private static BatchNorm2d norm(NDManager mgr, float[] gamma, float[] beta, float[] mean, float[] var) {
        BatchNorm2d bn = ready(new BatchNorm2d(gamma.length), mgr);
        Module.assign(bn.weight().getArray(), gamma);
        Module.assign(bn.bias().getArray(), beta);
        Module.assign(bn.runningMean().array(), mean);
        Module.assign(bn.runningVar().array(), var);
        return bn;
    }

    @Test
    void convAndNormFoldAsWrittenOut() {
        try (NDManager mgr = NDManager.newBaseManager()) {
            // one output channel, 1x1 kernel of weight 2 and no bias; BN: gamma 3, beta 1, mean 0.5, var 3 (eps 1e-5)
            Conv2d conv = ready(new Conv2d(1, 1, 1, Conv2d.Options.defaults().bias(false)), mgr);
            Module.assign(conv.weight().getArray(), new float[] {2f});
            BatchNorm2d bn = norm(mgr, new float[] {3f}, new float[] {1f}, new float[] {0.5f}, new float[] {3f});
            Kernel k = Kernel.of(conv, bn);
            double s = 3 / Math.sqrt(3 + 1e-5);
            assertEquals(2 * s, k.weight()[0], 1e-12);
            assertEquals(1 - 0.5 * s, k.bias()[0], 1e-12);
        }
    }

    @Test
    void identityKernelPicksEachChannelsOwnInputAtTheCentre() {
        // 4 channels in 2 groups: 2 inputs per group; channel c reads input c % 2 of its group
        Kernel id = Kernel.identity(4, 2, 3);
        assertArrayEquals(new long[] {4, 2, 3, 3}, id.shape());
        for (int c = 0; c < 4; c++) {
            for (int i = 0; i < 2; i++) {
                for (int t = 0; t < 9; t++) {
                    double expected = i == c % 2 && t == 4 ? 1 : 0;
                    assertEquals(expected, id.weight()[(c * 2 + i) * 9 + t], "channel " + c + " input " + i);
                }
            }
        }
    }

    @Test
    void paddingCentresASmallKernel() {
        Kernel one = new Kernel(new long[] {1, 1, 1, 1}, new double[] {5}, new double[] {0.5});
        Kernel padded = one.padTo(3);
        assertArrayEquals(new double[] {0, 0, 0, 0, 5, 0, 0, 0, 0}, padded.weight());
        assertArrayEquals(new double[] {0.5}, padded.bias());
        assertThrows(IllegalArgumentException.class, () -> one.padTo(2));
        Kernel three = new Kernel(new long[] {1, 1, 3, 3}, new double[] {1, 2, 3, 4, 5, 6, 7, 8, 9}, new double[1]);
        double[] five = three.padTo(5).weight();
        assertEquals(1, five[6]);
        assertEquals(9, five[18]);
        assertEquals(0, five[0]);
    }

    @Test
    void mergedBranchesComputeTheSumOfTheirConvolutions() {
        try (NDManager mgr = NDManager.newBaseManager()) {
            SplittableRandom r = new SplittableRandom(3);
            Conv2d big = ready(
                    new Conv2d(2, 2, 3, Conv2d.Options.defaults().padding(1).bias(false)), mgr);
            Conv2d small = ready(new Conv2d(2, 2, 1, Conv2d.Options.defaults().bias(true)), mgr);
            Init.uniform(small.bias().getArray(), 1, r);
            NDArray x = mgr.randomNormal(new Shape(1, 2, 5, 5));
            NDArray expected = big.forward(x).add(small.forward(x)).add(x);
            Kernel merged = Kernel.of(big).plus(Kernel.of(small).padTo(3)).plus(Kernel.identity(2, 1, 3));
            Conv2d fused = ready(merged.newConv(1, 1, 1), mgr);
            Module.assign(fused.weight().getArray(), merged.weightFloats());
            Module.assign(fused.bias().getArray(), merged.biasFloats());
            assertTrue(fused.forward(x).sub(expected).abs().max().getFloat() < 1e-5f);
        }
    }

    /** conv then the identity, as one module whose inference form is one convolution. */
    private static final class Residual extends Module implements Reparameterizable {
        Residual() {
            register("conv", new Conv2d(2, 2, 3, Conv2d.Options.defaults().padding(1)));
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            return child("conv").forward(x).add(x);
        }

        @Override
        public Reparameterized reparameterized() {
            Kernel k = Kernel.of((Conv2d) child("conv")).plus(Kernel.identity(2, 1, 3));
            return new Reparameterized(k.newConv(1, 1, 1), Map.of("weight", k.weightFloats(), "bias", k.biasFloats()));
        }
    }

    @Test
    void applySwapsModulesInPlaceKeepingTheOutput() {
        try (NDManager mgr = NDManager.newBaseManager()) {
            Sequential net =
                    ready(new Sequential(new Residual(), new Activation(Activation.Kind.RELU), new Residual()), mgr);
            NDArray x = mgr.randomNormal(new Shape(2, 2, 6, 6));
            float[] before = net.forward(x).toFloatArray();
            assertEquals(2, Reparameterization.apply(net));
            assertInstanceOf(Conv2d.class, net.get(0));
            assertInstanceOf(Conv2d.class, net.get(2));
            assertEquals(
                    List.of("0.weight", "0.bias", "2.weight", "2.bias"),
                    List.copyOf(net.stateDict().keySet()));
            assertArrayEquals(before, net.forward(x).toFloatArray(), 1e-5f);
            assertEquals(0, Reparameterization.apply(net), "nothing left to fuse");
        }
    }

    @Test
    void applyNeedsWeights() {
        assertThrows(IllegalStateException.class, () -> Reparameterization.apply(new Sequential(new Residual())));
    }

    @Test
    void aReplacementMustGiveEveryValue() {
        Module bad = new Module() {
            {
                register("inner", new Incomplete());
            }

            @Override
            protected NDArray forwardImpl(NDArray x) {
                return x;
            }
        };
        try (NDManager mgr = NDManager.newBaseManager()) {
            ready(bad, mgr);
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> Reparameterization.apply(bad));
            assertTrue(e.getMessage().contains("[bias]"), e.getMessage());
        }
    }

    private static final class Incomplete extends Module implements Reparameterizable {
        @Override
        protected NDArray forwardImpl(NDArray x) {
            return x;
        }

        @Override
        public Reparameterized reparameterized() {
            return new Reparameterized(
                    new Conv2d(1, 1, 1, Conv2d.Options.defaults()), Map.of("weight", new float[] {1f}));
        }
    }
}
