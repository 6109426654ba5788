package dev.jimm.models;

import static dev.jimm.models.ModelTesting.assertRandomOnlyInTraining;
import static dev.jimm.models.ModelTesting.assertResetTo;
import static dev.jimm.models.ModelTesting.dropPathRates;
import static dev.jimm.models.ModelTesting.input;
import static dev.jimm.models.ModelTesting.maxAbsDiff;
import static dev.jimm.models.ModelTesting.paramCount;
import static dev.jimm.models.ModelTesting.unbuilt;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.inference.Predictor;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.translate.NoopTranslator;
import dev.jimm.JimmException;
import dev.jimm.TestFixtures;
import dev.jimm.hub.SafetensorsWriter;
import dev.jimm.layers.AvgPool2dSame;
import dev.jimm.layers.Conv2d;
import dev.jimm.layers.Identity;
import dev.jimm.layers.Module;
import dev.jimm.layers.StateDictException;
import dev.jimm.parity.ParityFixture;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The timm API on ResNets: heads, pooling, features, loading, modes, DJL integration, output stride, pruned variants.
 */
class ResNetApiTest {
    @Test
    void resetClassifierSwitchesHeadsOnABuiltModel() {
        try (ImageModel m = Models.createModel("resnet18");
                NDManager s = m.getManager().newSubManager()) {
            NDArray x = input(s, 224);
            assertEquals(new Shape(2, 1000), m.forward(x).getShape());
            m.resetClassifier(0, "");
            assertEquals(new Shape(2, 512, 7, 7), m.forward(x).getShape());
            assertInstanceOf(Identity.class, m.child("fc"), "timm puts an identity where the classifier was");
            assertResetTo(m, x, 10, "avg", "fc", 512);
            m.resetClassifier(0, "catavgmax");
            assertEquals(new Shape(2, 1024), m.forward(x).getShape());
            m.resetClassifier(3, "catavgmax");
            assertEquals(new Shape(3, 1024), m.stateDict().get("fc.weight").getShape());
            assertEquals(new Shape(2, 3), m.forward(x).getShape());
            List<String> keys = List.copyOf(m.stateDict().keySet());
            assertEquals("fc.bias", keys.get(keys.size() - 1), "the new head keeps the classifier's place at the end");
        }
    }

    @Test
    void preLogitsAreThePooledFeatures() {
        try (ImageModel m = Models.createModel("resnet18");
                NDManager s = m.getManager().newSubManager()) {
            NDArray feats = m.forwardFeatures(input(s, 224));
            NDArray pre = m.forwardHead(feats, true);
            NDArray mean = feats.sum(new int[] {2, 3}).div(49f);
            assertTrue(pre.sub(mean).abs().max().getFloat() < 1e-4f);
            NDArray logits = m.forwardHead(feats, false);
            assertEquals(new Shape(2, 1000), logits.getShape());
        }
    }

    @Test
    void featuresOnlyLevelsMatchTimmFeatureInfo() {
        for (String name : new String[] {"resnet18", "resnet50d"}) {
            ParityFixture fx = ParityFixture.read(TestFixtures.parity("timm__" + name));
            try (FeatureExtractor fe = Models.createFeatureExtractor(
                            name, ModelOptions.builder().build());
                    NDManager s = fe.getManager().newSubManager()) {
                NDList maps = fe.forwardFeatures(input(s, 224));
                assertEquals(fx.featureInfo().size(), maps.size());
                for (int i = 0; i < maps.size(); i++) {
                    Object[] ref = fx.featureInfo().get(i);
                    int reduction = (Integer) ref[1];
                    assertEquals(
                            new Shape(2, (Integer) ref[0], 224 / reduction, 224 / reduction),
                            maps.get(i).getShape(),
                            name + " level " + i);
                    assertEquals(ref[2], fe.featureInfo().get(i).module());
                }
                assertFalse(fe.stateDict().containsKey("fc.weight"));
                assertTrue(fe.stateDict().containsKey("layer4.1.bn2.running_var"));
            }
        }
        try (FeatureExtractor fe = Models.createFeatureExtractor(
                        "resnet50",
                        ModelOptions.builder().featuresOnly(1, 3, -1).build());
                NDManager s = fe.getManager().newSubManager()) {
            NDList maps = fe.forwardFeatures(input(s, 128));
            assertEquals(3, maps.size());
            assertEquals(new Shape(2, 256, 32, 32), maps.get(0).getShape());
            assertEquals(new Shape(2, 1024, 8, 8), maps.get(1).getShape());
            assertEquals(new Shape(2, 2048, 4, 4), maps.get(2).getShape());
        }
    }

    @Test
    void strictLoadingNamesEveryBadKeyAndBothShapes() {
        try (ImageModel src = Models.createModel(
                        "resnet18", ModelOptions.builder().seed(7).build());
                ImageModel dst = Models.createModel("resnet18");
                NDManager s = dst.getManager().newSubManager()) {
            Map<String, NDArray> sd = new LinkedHashMap<>(src.stateDict());
            sd.put("fc.weight", s.zeros(new Shape(10, 512)));
            StateDictException e = assertThrows(StateDictException.class, () -> dst.loadStateDict(sd, true));
            assertTrue(e.getMessage().contains("fc.weight"), e.getMessage());
            assertTrue(e.getMessage().contains("(10, 512)") && e.getMessage().contains("(1000, 512)"), e.getMessage());

            Map<String, NDArray> partial = new LinkedHashMap<>(src.stateDict());
            partial.remove("layer1.0.bn1.running_mean");
            partial.put("head.extra", s.zeros(new Shape(3)));
            e = assertThrows(StateDictException.class, () -> dst.loadStateDict(partial, true));
            assertTrue(e.getMessage().contains("1 key missing (layer1.0.bn1.running_mean)"), e.getMessage());
            assertTrue(e.getMessage().contains("1 unexpected key (head.extra)"), e.getMessage());

            Module.LoadResult r = dst.loadStateDict(partial, false);
            assertEquals(List.of("layer1.0.bn1.running_mean"), r.missingKeys());
            assertEquals(List.of("head.extra"), r.unexpectedKeys());
            assertArrayEquals(
                    src.stateDict().get("conv1.weight").toFloatArray(),
                    dst.stateDict().get("conv1.weight").toFloatArray());
        }
    }

    @Test
    void trainModeUpdatesBatchNormStatisticsAndEvalDoesNot() {
        try (ImageModel m = Models.createModel("resnet18");
                NDManager s = m.getManager().newSubManager()) {
            NDArray x = input(s, 64);
            float[] before = m.stateDict().get("bn1.running_mean").toFloatArray();
            m.forward(x);
            assertArrayEquals(before, m.stateDict().get("bn1.running_mean").toFloatArray(), "eval keeps running stats");
            m.train(true);
            m.forward(x);
            float[] after = m.stateDict().get("bn1.running_mean").toFloatArray();
            assertNotEquals(before[0], after[0]);
            assertEquals(1L, m.stateDict().get("bn1.num_batches_tracked").getLong());
            // momentum 0.1 from a zero mean: the new running mean is 0.1 x the batch mean of conv1's output
            NDArray conv = ((Module) m.child("conv1")).forward(x);
            float batchMean = conv.get(":, 0").sum().getFloat()
                    / (conv.getShape().get(0)
                            * conv.getShape().get(2)
                            * conv.getShape().get(3));
            assertEquals(0.1f * batchMean, after[0], 1e-5f);
        }
    }

    @Test
    void dropRateAndDropPathActOnlyInTraining() {
        try (ImageModel m = Models.createModel(
                        "resnet50",
                        ModelOptions.builder().dropRate(0.5).dropPathRate(0.2).build());
                NDManager s = m.getManager().newSubManager()) {
            List<Float> rates = dropPathRates(m);
            assertEquals(15, rates.size(), "block 0 has rate 0 and no DropPath; the other 15 have one");
            assertEquals(0.2f, rates.get(rates.size() - 1), 1e-6f, "the last block gets the full rate");
            assertEquals(0.2f / 15, rates.get(0), 1e-6f, "rates rise linearly from the second block");
            assertRandomOnlyInTraining(m, input(s, 64));
        }
    }

    @Test
    void inChansBuildsTheFirstConvForThatManyChannels() {
        try (ImageModel m = Models.createModel(
                        "resnet18d",
                        ModelOptions.builder().inChans(1).numClasses(5).build());
                NDManager s = m.getManager().newSubManager()) {
            assertEquals(
                    new Shape(32, 1, 3, 3), m.stateDict().get("conv1.0.weight").getShape());
            assertEquals(new Shape(2, 5), m.forward(input(s, 2, 1, 64)).getShape());
        }
    }

    @Test
    void frozenParametersGetNoGradient() {
        try (ImageModel m = Models.createModel(
                        "resnet18", ModelOptions.builder().numClasses(4).build());
                NDManager s = m.getManager().newSubManager()) {
            m.namedParameters().get("conv1.weight").freeze(true);
            m.train(true);
            try (var gc = Engine.getInstance().newGradientCollector()) {
                NDArray loss = m.forward(input(s, 64)).square().mean();
                gc.backward(loss);
            }
            assertFalse(m.namedParameters().get("conv1.weight").getArray().hasGradient());
            assertTrue(m.namedParameters()
                            .get("fc.weight")
                            .getArray()
                            .getGradient()
                            .abs()
                            .sum()
                            .getFloat()
                    > 0);
        }
    }

    @Test
    void worksAsADjlBlockWithAPredictor() throws Exception {
        try (ImageModel m = Models.createModel(
                        "resnet18", ModelOptions.builder().numClasses(3).build());
                NDManager s = m.getManager().newSubManager();
                Model djl = Model.newInstance("resnet18")) {
            djl.setBlock(m);
            NDArray x = input(s, 64);
            float[] direct = m.forward(x).toFloatArray();
            try (Predictor<NDList, NDList> p = djl.newPredictor(new NoopTranslator())) {
                float[] viaDjl = p.predict(new NDList(x)).singletonOrThrow().toFloatArray();
                assertArrayEquals(direct, viaDjl, 1e-6f);
            }
            assertTrue(m.getParameters().keys().contains("layer1.0.conv1.weight"), "DJL sees dotted names");
        }
    }

    // ---- output stride ----------------------------------------------------------------------------

    /** {@code name} as the registry builds it, at {@code outputStride}, declared but not materialized. */
    private static ImageModel unbuiltAt(String name, int outputStride) {
        return ModelRegistry.builtIn()
                .entry(name)
                .factory()
                .apply(ModelArgs.defaults().withOutputStride(outputStride));
    }

    private static int[] reductions(ImageModel m) {
        return m.featureInfo().stream().mapToInt(FeatureInfo::reduction).toArray();
    }

    /**
     * The features of {@code name} at {@code outputStride}, taken every {@code 32 / outputStride} pixels, are those of
     * the same weights at stride 32: a strided conv is its dense (stride 1) output subsampled, and the convs after it,
     * dilated by the stride, see on the dense map what they saw on the strided one. Holds for every layer of timm's
     * dilation rule (first conv of a stage at the previous dilation, pools stride 1), so it checks the rule end to end.
     * The weights come from the stride-32 model: a 32-stride checkpoint loads into the dilated model unchanged. Not so
     * for average-pool shortcuts ("d" variants) in a stage whose input is already dense (layer4 at stride 8): timm's
     * stride-1 "same" pool there averages neighbours on the dense map, not on the strided one; nor for blocks whose
     * attention pools the whole map (SE, ECA, selective kernel, split attention).
     */
    static void assertDilationKeepsTheStridedFeatures(String name, int outputStride, int size) {
        // zero_init_last off, so that every residual branch contributes
        ModelOptions strided =
                ModelOptions.builder().seed(3).zeroInitLast(false).build();
        ModelOptions dilated = ModelOptions.builder().outputStride(outputStride).build();
        try (ImageModel ref = Models.createModel(name, strided);
                ImageModel dense = Models.createModel(name, dilated);
                NDManager s = ref.getManager().newSubManager()) {
            dense.loadStateDict(ref.stateDict(), true);
            NDArray x = input(s, size);
            NDArray expected = ref.forwardFeatures(x);
            NDArray actual = dense.forwardFeatures(x);
            int step = 32 / outputStride;
            assertEquals(expected.getShape().get(2) * step, actual.getShape().get(2), name);
            assertEquals(expected.getShape().get(3) * step, actual.getShape().get(3), name);
            NDArray sampled = actual.get(new NDIndex(":, :, ::{}, ::{}", step, step));
            float scale = expected.abs().max().getFloat();
            assertTrue(scale > 0, name + " features are all zero");
            assertTrue(
                    maxAbsDiff(sampled, expected) <= 1e-4f * scale,
                    name + " at output stride " + outputStride + ": " + maxAbsDiff(sampled, expected) + " of " + scale);
        }
    }

    @Test
    void outputStrideKeepsTheKeysAndShapesAndDilatesTheLastStages() {
        for (String name : new String[] {"resnet18", "resnet50d", "resnext50_32x4d", "senet154"}) {
            Map<String, Shape> base = unbuilt(name).stateDictShapes();
            for (int os : new int[] {16, 8}) {
                Map<String, Shape> dilated = unbuiltAt(name, os).stateDictShapes();
                assertEquals(List.copyOf(base.keySet()), List.copyOf(dilated.keySet()), name + " at " + os);
                assertEquals(base, dilated, name + " at " + os);
            }
            // timm's make_blocks: the stride stops growing at output_stride
            assertArrayEquals(new int[] {2, 4, 8, 16, 32}, reductions(unbuilt(name)), name);
            assertArrayEquals(new int[] {2, 4, 8, 16, 16}, reductions(unbuiltAt(name, 16)), name);
            assertArrayEquals(new int[] {2, 4, 8, 8, 8}, reductions(unbuiltAt(name, 8)), name);
        }
    }

    @Test
    void dilationFollowsTimmsRule() {
        // output stride 8: layer3 at dilation 2, layer4 at 4; a stage's first block keeps the previous dilation in its
        // strided conv (first_dilation), its later convs take the stage's
        ImageModel m = unbuiltAt("resnet50", 8);
        Object[][] convs = {
            // conv, stride, dilation (padding = dilation for a 3x3)
            {"layer2.0.conv2", 2, 1},
            {"layer3.0.conv2", 1, 1},
            {"layer3.1.conv2", 1, 2},
            {"layer4.0.conv2", 1, 2},
            {"layer4.2.conv2", 1, 4},
            {"layer3.0.downsample.0", 1, 1},
        };
        for (Object[] c : convs) {
            Conv2d conv = (Conv2d) m.namedModules().get((String) c[0]);
            long stride = (Integer) c[1];
            long dilation = (Integer) c[2];
            assertArrayEquals(new long[] {stride, stride}, conv.stride(), c[0] + " stride");
            assertArrayEquals(new long[] {dilation, dilation}, conv.dilation(), c[0] + " dilation");
            long pad = conv.kernelSize()[0] == 3 ? dilation : 0;
            assertArrayEquals(new long[] {pad, pad}, conv.padding(), c[0] + " padding");
        }
        // the d variants' shortcut pools "same" at stride 1 in dilated stages (timm's AvgPool2dSame)
        ImageModel d = unbuiltAt("resnet50d", 16);
        assertInstanceOf(AvgPool2dSame.class, d.namedModules().get("layer4.0.downsample.0"));
        assertFalse(d.namedModules().get("layer3.0.downsample.0") instanceof AvgPool2dSame);
    }

    @Test
    void dilatedFeaturesSubsampledAreTheStridedOnes() {
        assertDilationKeepsTheStridedFeatures("resnet18", 16, 96);
        assertDilationKeepsTheStridedFeatures("resnet18", 8, 96);
        assertDilationKeepsTheStridedFeatures("resnet50d", 16, 96);
        assertDilationKeepsTheStridedFeatures("resnet26", 8, 64);
    }

    @Test
    void outputStrideReachesTheModelFeaturesAndCheckpointsThroughModelOptions(@TempDir Path dir) {
        Path file = dir.resolve("resnet18.safetensors");
        try (ImageModel src =
                Models.createModel("resnet18", ModelOptions.builder().seed(4).build())) {
            SafetensorsWriter.write(file, src.stateDict(), Map.of());
            try (ImageModel m = Models.createModel(
                            "resnet18",
                            ModelOptions.builder()
                                    .outputStride(16)
                                    .pretrainedFile(file)
                                    .build());
                    NDManager s = m.getManager().newSubManager()) {
                assertEquals(16, ((ResNet) m).outputStride());
                assertEquals(
                        new Shape(2, 512, 6, 6), m.forwardFeatures(input(s, 96)).getShape());
                assertEquals(new Shape(2, 1000), m.forward(input(s, 96)).getShape());
                assertArrayEquals(
                        src.stateDict().get("layer4.1.conv2.weight").toFloatArray(),
                        m.stateDict().get("layer4.1.conv2.weight").toFloatArray(),
                        "the stride-32 checkpoint loads as it is");
            }
        }
        try (FeatureExtractor fe = Models.createFeatureExtractor(
                        "resnet50", ModelOptions.builder().outputStride(8).build());
                NDManager s = fe.getManager().newSubManager()) {
            NDList maps = fe.forwardFeatures(input(s, 64));
            long[] sides = maps.stream().mapToLong(a -> a.getShape().get(2)).toArray();
            assertArrayEquals(new long[] {32, 16, 8, 8, 8}, sides);
            assertEquals(8, fe.featureInfo().get(4).reduction());
        }
    }

    @Test
    void outputStrideIsRefusedWhereItCannotBeBuilt() {
        JimmException notResNet = assertThrows(
                JimmException.class,
                () -> Models.createModel(
                        "convnext_atto", ModelOptions.builder().outputStride(16).build()));
        assertTrue(notResNet.getMessage().contains("outputStride 16"), notResNet.getMessage());
        JimmException four = assertThrows(
                JimmException.class,
                () -> Models.createModel(
                        "resnet18", ModelOptions.builder().outputStride(4).build()));
        assertTrue(four.getMessage().contains("8, 16 or 32"), four.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ModelArgs.defaults().withOutputStride(12));
    }

    // ---- pruned variants ----------------------------------------------------------------------------

    @Test
    void prunedVariantsHaveTheWidthsOfTimmsFiles() {
        Set<String> statistics = Set.of("running_mean", "running_var", "num_batches_tracked");
        for (String name : List.of("ecaresnet50d_pruned", "ecaresnet101d_pruned")) {
            Map<String, Shape> model = unbuilt(name).stateDictShapes();
            Set<String> fromFile = new HashSet<>();
            long params = 0;
            for (Map.Entry<String, int[]> e : PrunedShapes.load(name).shapes().entrySet()) {
                String key = e.getKey();
                if (key.endsWith("_M.weight")) {
                    continue; // timm's files also list weights of no module, which its adaptation skips
                }
                Shape shape =
                        new Shape(Arrays.stream(e.getValue()).asLongStream().toArray());
                assertEquals(shape, model.get(key), name + " " + key);
                fromFile.add(key);
                // a norm and the classifier have a bias of their output width beside the weight; convs none
                boolean biased = shape.dimension() == 1 || key.equals("fc.weight");
                params += shape.size() + (biased ? shape.get(0) : 0);
            }
            for (String key : model.keySet()) {
                String leaf = key.substring(key.lastIndexOf('.') + 1);
                assertTrue(
                        fromFile.contains(key) || leaf.equals("bias") || statistics.contains(leaf),
                        name + ": " + key + " is in neither the file nor a norm/classifier bias or statistic");
            }
            assertEquals(params, paramCount(name), name);
        }
        // timm's documented counts (hfdocs ecaresnet.mdx, to 10k)
        assertEquals(19_940_000, paramCount("ecaresnet50d_pruned"), 5_000);
        assertEquals(24_880_000, paramCount("ecaresnet101d_pruned"), 5_000);
    }

    @Test
    void aPrunedModelRunsWithItsFeatureWidths() {
        PrunedShapes file = PrunedShapes.load("ecaresnet50d_pruned");
        try (ImageModel m = Models.createModel("ecaresnet50d_pruned");
                NDManager s = m.getManager().newSubManager()) {
            int[] expected = {
                file.outChannels("bn1"),
                file.outChannels("layer1.0.downsample.2"),
                file.outChannels("layer2.0.downsample.2"),
                file.outChannels("layer3.0.downsample.2"),
                file.outChannels("layer4.0.downsample.2"),
            };
            assertArrayEquals(
                    expected,
                    m.featureInfo().stream().mapToInt(FeatureInfo::numChs).toArray());
            assertEquals(file.inChannels("fc"), m.numFeatures());
            NDArray x = input(s, 64);
            NDList levels = m.forwardIntermediates(x, m.allFeatureIndices());
            for (int i = 0; i < levels.size(); i++) {
                assertEquals(expected[i], levels.get(i).getShape().get(1), "level " + i);
            }
            assertEquals(new Shape(2, 1000), m.forward(x).getShape());
        }
    }

    @Test
    void prunedShapesParseTimmsFormatAndNameWhatIsMissing() {
        PrunedShapes p =
                PrunedShapes.parse("t", "conv1.weight:[8, 3, 3, 3]***bn1.weight:[8]***x:[]***fc.weight:[10, 8]\n");
        assertEquals(
                List.of("conv1.weight", "bn1.weight", "fc.weight"),
                List.copyOf(p.shapes().keySet()));
        assertEquals(8, p.outChannels("conv1"));
        assertEquals(8, p.inChannels("fc"));
        IllegalArgumentException missing = assertThrows(IllegalArgumentException.class, () -> p.outChannels("conv2"));
        assertTrue(missing.getMessage().contains("conv2.weight"), missing.getMessage());
        assertThrows(IllegalArgumentException.class, () -> PrunedShapes.parse("t", "conv1.weight=[8]"));
        assertThrows(IllegalArgumentException.class, () -> PrunedShapes.load("resnet50_pruned"));
    }
}
