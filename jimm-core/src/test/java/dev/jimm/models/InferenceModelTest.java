package dev.jimm.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import dev.jimm.layers.Activation;
import dev.jimm.layers.BatchNorm2d;
import dev.jimm.layers.BatchNormFolding;
import dev.jimm.layers.Conv2d;
import dev.jimm.layers.MemoryFormat;
import dev.jimm.layers.Module;
import dev.jimm.layers.NoGrad;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** BatchNorm folding and the no-grad inference path, against the unfolded eval-mode models. */
class InferenceModelTest {
    /** Gives every BatchNorm non-trivial affine weights and running statistics. */
    static void randomizeNorms(Module model, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        for (Module m : model.namedModules().values()) {
            if (m instanceof BatchNorm2d bn) {
                int n = bn.numFeatures();
                float[] g = new float[n], b = new float[n], mean = new float[n], var = new float[n];
                for (int i = 0; i < n; i++) {
                    g[i] = (float) r.nextDouble(0.5, 1.5);
                    b[i] = (float) r.nextDouble(-0.3, 0.3);
                    mean[i] = (float) r.nextDouble(-0.3, 0.3);
                    var[i] = (float) r.nextDouble(0.3, 2.0);
                }
                Module.assign(bn.weight().getArray(), g);
                Module.assign(bn.bias().getArray(), b);
                Module.assign(bn.runningMean().array(), mean);
                Module.assign(bn.runningVar().array(), var);
            }
        }
    }

    private static long normKeys(Map<String, ?> stateDict) {
        return stateDict.keySet().stream()
                .filter(k -> k.endsWith("running_mean"))
                .count();
    }

    @Test
    void foldedModelsComputeWhatTheOriginalsDo() {
        // every norm of these families follows a convolution, so all of them fold
        String[] names = {
            "resnet18",
            "efficientnet_b0",
            "mobilenetv3_large_100",
            "regnetx_002",
            "tv/resnet18",
            "tv/googlenet",
            "ghostnet_100"
        };
        for (String name : names) {
            try (ImageModel m = Models.createModel(
                            name, ModelOptions.builder().numClasses(10).build());
                    NDManager scope = NDManager.newBaseManager()) {
                randomizeNorms(m, name.hashCode());
                long norms = normKeys(m.stateDict());
                assertTrue(norms > 0, name);
                NDArray x = scope.randomNormal(new Shape(2, 3, 96, 96));
                float[] reference = m.forward(x).toFloatArray();
                float[] weightBefore = m.stateDict().values().iterator().next().toFloatArray();
                try (InferenceModel fast = InferenceModel.of(m, x.getShape())) {
                    float[] folded = fast.forward(x).toFloatArray();
                    double maxAbs = 0, maxDiff = 0;
                    for (int i = 0; i < reference.length; i++) {
                        maxAbs = Math.max(maxAbs, Math.abs(reference[i]));
                        maxDiff = Math.max(maxDiff, Math.abs(reference[i] - folded[i]));
                    }
                    assertTrue(maxAbs > 1e-3, name + " outputs are not all zero");
                    assertTrue(maxDiff <= 1e-4 * maxAbs, name + ": folded differs by " + maxDiff + " of " + maxAbs);
                    assertEquals(norms, fast.foldedPairs().size(), name + " folds every norm");
                    assertEquals(0, normKeys(fast.model().stateDict()), name + " keeps no BatchNorm state");
                    assertTrue(fast.model().numParameters() < m.numParameters(), name + " has fewer parameters");
                    assertFalse(
                            fast.model().namedParameters().values().stream().anyMatch(p -> p.requiresGradient()),
                            name + " requires no gradient");
                }
                assertEquals(norms, normKeys(m.stateDict()), name + " original keeps its norms");
                assertArrayEquals(
                        weightBefore, m.stateDict().values().iterator().next().toFloatArray(), name);
                assertArrayEquals(reference, m.forward(x).toFloatArray(), name + " original unchanged");
            }
        }
    }

    @Test
    void foldedWeightsAreStoredChannelsLastAndReadBackInTheirOwnOrder() {
        try (ImageModel m = Models.createModel(
                "resnet18", ModelOptions.builder().numClasses(10).build())) {
            randomizeNorms(m, 11);
            var sd = m.stateDict();
            float[] w = sd.get("conv1.weight").toFloatArray();
            float[] gamma = sd.get("bn1.weight").toFloatArray();
            float[] var = sd.get("bn1.running_var").toFloatArray();
            try (InferenceModel fast = InferenceModel.of(m, new Shape(1, 3, 64, 64))) {
                NDArray packed =
                        fast.model().namedParameters().get("conv1.weight").getArray();
                assertFalse(MemoryFormat.isContiguous(packed), "the 7x7 stem weight is stored channels-last");
                float[] got = fast.model().stateDict().get("conv1.weight").toFloatArray();
                int per = w.length / gamma.length;
                for (int i = 0; i < w.length; i++) {
                    int o = i / per;
                    double expected = w[i] * gamma[o] / Math.sqrt(var[o] + 1e-5);
                    assertEquals(expected, got[i], 1e-6 * Math.max(1, Math.abs(expected)), "conv1.weight element " + i);
                }
            }
        }
    }

    @Test
    void densenetFoldsOnlyTheNormsAfterAConvolution() {
        try (ImageModel m = Models.createModel(
                        "densenet121", ModelOptions.builder().numClasses(10).build());
                NDManager scope = NDManager.newBaseManager()) {
            randomizeNorms(m, 5);
            NDArray x = scope.randomNormal(new Shape(1, 3, 64, 64));
            float[] reference = m.forward(x).toFloatArray();
            try (InferenceModel fast = InferenceModel.of(m, x.getShape())) {
                float[] folded = fast.forward(x).toFloatArray();
                for (int i = 0; i < reference.length; i++) {
                    assertEquals(reference[i], folded[i], 1e-4 * Math.max(1, Math.abs(reference[i])));
                }
                // stem conv0/norm0 and each layer's conv1/norm2 fold; norm1 and transitions' norms
                // follow a concatenation or a pooling
                assertTrue(
                        fast.foldedPairs().contains(new BatchNormFolding.Pair("features.conv0", "features.norm0")),
                        fast.foldedPairs().toString());
                assertEquals(
                        1 + 58, fast.foldedPairs().size(), fast.foldedPairs().toString());
            }
        }
    }

    /** A conv whose output a norm and a residual sum both read: folding would change the sum. */
    static final class ReadTwice extends Module {
        final Conv2d conv =
                register("conv", new Conv2d(3, 4, 3, Conv2d.Options.defaults().padding(1)));
        final BatchNorm2d bn = register("bn", new BatchNorm2d(4));
        final Activation act = register("act", Activation.relu());
        final boolean viaModule;

        ReadTwice(boolean viaModule) {
            this.viaModule = viaModule;
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            NDArray c = conv.forward(x);
            return bn.forward(c).add(viaModule ? act.forward(c) : c);
        }
    }

    @Test
    void aConvolutionOutputReadTwiceIsNotFolded() {
        try (NDManager manager = NDManager.newBaseManager()) {
            ReadTwice byModule = new ReadTwice(true);
            byModule.materialize(manager);
            byModule.initialize(new SplittableRandom(1));
            randomizeNorms(byModule, 1);
            assertEquals(List.of(), BatchNormFolding.fold(byModule, new Shape(1, 3, 8, 8)), "another module reads it");
            assertEquals(4, byModule.stateDict().get("bn.running_mean").size());

            ReadTwice inCode = new ReadTwice(false);
            inCode.materialize(manager);
            inCode.initialize(new SplittableRandom(1));
            randomizeNorms(inCode, 1);
            IllegalStateException e = assertThrows(
                    IllegalStateException.class, () -> BatchNormFolding.fold(inCode, new Shape(1, 3, 8, 8)));
            assertTrue(e.getMessage().contains("read besides its norm"), e.getMessage());
        }
    }

    @Test
    void inferenceRecordsNoGraphOnAThreadWithGradModeOn() throws Exception {
        try (ImageModel m = Models.createModel(
                        "resnet10t", ModelOptions.builder().numClasses(3).build());
                InferenceModel fast = InferenceModel.inPlace(m, new Shape(1, 3, 32, 32))) {
            AtomicReference<boolean[]> seen = new AtomicReference<>();
            Thread t = new Thread(() -> {
                try (NDManager scope = NDManager.newBaseManager()) {
                    boolean defaultOn = NoGrad.isGradEnabled();
                    boolean inside;
                    try (NoGrad g = NoGrad.enter()) {
                        inside = NoGrad.isGradEnabled();
                    }
                    NDArray y = fast.forward(scope.randomNormal(new Shape(1, 3, 32, 32)));
                    seen.set(new boolean[] {
                        defaultOn, inside, NoGrad.isGradEnabled(), JniUtils.requiresGrad((PtNDArray) y)
                    });
                }
            });
            t.start();
            t.join();
            boolean[] s = seen.get();
            assertTrue(s[0], "libtorch turns grad mode on in a new thread");
            assertFalse(s[1], "NoGrad turns it off");
            assertTrue(s[2], "and restores it");
            assertFalse(s[3], "the output carries no autograd graph");
        }
    }
}
