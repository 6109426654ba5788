package dev.jimm.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.jimm.hub.SafetensorsWriter;
import dev.jimm.parity.ReferenceInit;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The API every registered model keeps, checked on the smallest name of each family and on every tiny {@code test_*}
 * name (as timm's {@code tests/test_models.py}): classification output, {@code resetClassifier(0)},
 * {@code forwardIntermediates} against {@code featureInfo()}, the features-only extractor, and a state_dict save and
 * load that reproduces the outputs. Family tests ({@code *ApiTest}) keep what is particular to one family.
 */
class ModelContractTest {
    /** Classes of the contract's classifier: not the table's 1000, so that a head that ignores it shows. */
    private static final int NUM_CLASSES = 5;

    private static final int BATCH = 1;
    /**
     * Models that take any input size run at their configured size scaled by this (224 becomes 64, Inception's 299
     * becomes 88, above timm's min_input_size 75), as timm's test shrinks inputs.
     */
    private static final double SCALE = 64.0 / 224;
    /**
     * The largest model the contract builds: each is built three times (model, reloaded copy, features-only), and the
     * heavier families' smallest names (VGG's 133M) would take most of the test's time budget; their family tests build
     * them once.
     */
    private static final long MAX_PARAMS = 30_000_000L;

    /**
     * Names left out of the contract, with why. A model that breaks the contract goes here (with the bug) until its
     * family is fixed, so that the test keeps guarding every other model.
     */
    static final Map<String, String> EXCLUDED = Map.of();

    /**
     * The smallest name (fewest parameters) of each registry family, then every {@code test_*} name; names above
     * {@link #MAX_PARAMS} or in {@link #EXCLUDED} are left out.
     */
    static Stream<String> contractModels() {
        ModelRegistry registry = ModelRegistry.builtIn();
        Map<String, String> smallest = new TreeMap<>();
        Map<String, Long> sizes = new LinkedHashMap<>();
        List<String> tiny = new ArrayList<>();
        for (String name : registry.list("*")) {
            ModelEntry e = registry.entry(name);
            // construction declares every shape without allocating, so counting all names is cheap
            ImageModel unbuilt = e.factory().apply(defaultArgs(e));
            long params = unbuilt.numParameters();
            sizes.put(name, params);
            String best = smallest.get(e.family());
            if (best == null || params < sizes.get(best)) {
                smallest.put(e.family(), name);
            }
            if (name.startsWith("test_")) {
                tiny.add(name);
            }
        }
        List<String> out = new ArrayList<>(smallest.values());
        tiny.stream().filter(n -> !out.contains(n)).forEach(out::add);
        return out.stream()
                .filter(n -> !EXCLUDED.containsKey(n) && sizes.get(n) <= MAX_PARAMS)
                .sorted();
    }

    private static ModelArgs defaultArgs(ModelEntry e) {
        return new ModelArgs(1000, 3, e.defaultGlobalPool(), 0, 0);
    }

    @Test
    void theListsNameRegisteredModels() {
        assertTrue(
                contractModels().count() >= 20,
                "the contract covers " + contractModels().toList());
        EXCLUDED.keySet().stream()
                .forEach(n -> assertTrue(ModelRegistry.builtIn().contains(n), n + " is not registered"));
    }

    /**
     * The side of the test images: the configured one for models whose position embeddings or attention windows fix it
     * (timm's fixed_input_size), else the configured one scaled by {@link #SCALE}.
     */
    private static int inputSize(ImageModel m) {
        boolean fixed = m.stateDictShapes().keySet().stream()
                .anyMatch(k -> k.contains("pos_emb")
                        || k.contains("relative_position")
                        || k.startsWith("patch_embed.")
                        || k.contains("attention_biases")
                        // MLP-Mixer's token mixing is as wide as the patch count
                        || k.contains("_tokens.")
                        || k.contains("mlp_channels.gate.proj"));
        int configured = m.pretrainedCfg().inputSize().get(1);
        return fixed ? configured : Math.max(64, 8 * (int) Math.ceil(configured * SCALE / 8));
    }

    private static ModelOptions options(long seed) {
        return ModelOptions.builder().numClasses(NUM_CLASSES).seed(seed).build();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("contractModels")
    void keepsTheModelContract(String name, @TempDir Path dir) {
        try (ImageModel m = Models.createModel(name, options(1));
                NDManager s = m.getManager().newSubManager()) {
            int size = inputSize(m);
            NDArray x = ReferenceInit.input(s, new Shape(BATCH, 3, size, size), 0);

            // one trunk pass serves the logits and the pooled features after resetClassifier(0)
            NDArray features = m.forwardFeatures(x);
            NDArray logits = m.forwardHead(features, false);
            assertEquals(new Shape(BATCH, NUM_CLASSES), logits.getShape(), name + " logits");
            assertFinite(name + " logits", logits);
            assertEquals(NUM_CLASSES, m.numClasses(), name);

            Path file = dir.resolve("model.safetensors");
            SafetensorsWriter.write(file, m.stateDict(), Map.of());
            ModelOptions reload = ModelOptions.builder()
                    .numClasses(NUM_CLASSES)
                    .seed(2)
                    .pretrained(true)
                    .pretrainedFile(file)
                    .build();
            try (ImageModel copy = Models.createModel(name, reload)) {
                assertEquals(
                        List.copyOf(m.stateDict().keySet()),
                        List.copyOf(copy.stateDict().keySet()),
                        name + " keys");
                // also checks that forward is forwardHead(forwardFeatures)
                assertArrayEquals(
                        logits.toFloatArray(), copy.forward(x).toFloatArray(), name + ": the reloaded model's logits");
            }

            checkIntermediates(name, m, x, size);

            m.resetClassifier(0);
            NDArray pooled = m.forwardHead(features, false);
            assertEquals(2, pooled.getShape().dimension(), name + " after resetClassifier(0): " + pooled.getShape());
            assertEquals(new Shape(BATCH, m.headHiddenSize()), pooled.getShape(), name + " after resetClassifier(0)");
            assertFinite(name + " pooled features", pooled);
        }
        checkFeatureExtractor(name);
    }

    private static void checkIntermediates(String name, ImageModel m, NDArray x, int size) {
        List<FeatureInfo> info = m.featureInfo();
        assertFalse(info.isEmpty(), name + " has no feature levels");
        NDList maps = m.forwardIntermediates(x, m.allFeatureIndices());
        assertEquals(info.size(), maps.size(), name + " levels");
        for (int i = 0; i < info.size(); i++) {
            checkMap(name + " level " + i, maps.get(i), info.get(i), size);
        }
    }

    private static void checkFeatureExtractor(String name) {
        try (FeatureExtractor fe = Models.createFeatureExtractor(
                        name, ModelOptions.builder().seed(1).build());
                NDManager s = fe.getManager().newSubManager()) {
            int size = inputSize(fe.model());
            NDList maps = fe.forwardFeatures(ReferenceInit.input(s, new Shape(BATCH, 3, size, size), 0));
            List<FeatureInfo> info = fe.featureInfo();
            assertEquals(fe.model().featureInfo(), info, name + ": the extractor keeps every level by default");
            assertEquals(info.size(), maps.size(), name + " extractor levels");
            for (int i = 0; i < info.size(); i++) {
                checkMap(name + " extractor level " + i, maps.get(i), info.get(i), size);
            }
        }
    }

    /**
     * A feature map is NCHW with the level's channels and a side of about input / reduction: at most one more (timm's
     * test's bound, for the padding of odd sizes) and at least half, so that a level a whole stride off fails while
     * unpadded convolutions (Inception's stem) may lose a few pixels.
     */
    private static void checkMap(String what, NDArray map, FeatureInfo level, int size) {
        Shape shape = map.getShape();
        assertEquals(4, shape.dimension(), what + ": " + shape + " is not NCHW");
        assertEquals(level.numChs(), shape.get(1), what + " channels of " + shape + " vs " + level);
        double expected = (double) size / level.reduction();
        for (int axis = 2; axis < 4; axis++) {
            long side = shape.get(axis);
            assertTrue(
                    side >= Math.floor(expected / 2) && side <= Math.ceil(expected) + 1,
                    what + ": side " + side + " of " + shape + " for input " + size + " and " + level);
        }
        assertFinite(what, map);
    }

    private static void assertFinite(String what, NDArray a) {
        assertTrue(a.isInfinite().logicalOr(a.isNaN()).none().getBoolean(), what + " has NaN or infinite values");
    }
}
