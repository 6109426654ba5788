package dev.jimm.models;

import static dev.jimm.models.ModelTesting.assertRandomOnlyInTraining;
import static dev.jimm.models.ModelTesting.assertResetTo;
import static dev.jimm.models.ModelTesting.dropPathRates;
import static dev.jimm.models.ModelTesting.input;
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
import ai.djl.ndarray.types.Shape;
import ai.djl.translate.NoopTranslator;
import dev.jimm.TestFixtures;
import dev.jimm.layers.Identity;
import dev.jimm.layers.Module;
import dev.jimm.layers.StateDictException;
import dev.jimm.parity.ParityFixture;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The timm API on ResNets: heads, pooling, features, loading, modes, DJL integration. */
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
}
