package dev.jimm.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.jimm.layers.BatchNorm2d;
import dev.jimm.layers.DropPath;
import dev.jimm.layers.Module;
import dev.jimm.parity.ReferenceInit;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** What the model tests share: test inputs, comparisons, parameter counts, unbuilt models, timm's name lists. */
final class ModelTesting {
    /** The list of timm's model names by family that the registry follows (a resource of the models package). */
    static final String TIMM_FAMILIES = "timm_models_by_family.json";

    private ModelTesting() {}

    /** A batch of 2 RGB images of {@code size} x {@code size}, the same values on every call. */
    static NDArray input(NDManager m, int size) {
        return input(m, 2, 3, size);
    }

    /** A batch of {@code n} images of {@code c} channels and {@code size} x {@code size}, the same on every call. */
    static NDArray input(NDManager m, int n, int c, int size) {
        return ReferenceInit.input(m, new Shape(n, c, size, size), 0);
    }

    static float maxAbsDiff(NDArray a, NDArray b) {
        return a.sub(b).abs().max().getFloat();
    }

    /**
     * A registered model declared with its entry's default pooling but never materialized: its layers and shapes
     * without arrays, so even the largest names are cheap.
     */
    static ImageModel unbuilt(String name) {
        ModelEntry e = ModelRegistry.builtIn().entry(name);
        return e.factory().apply(new ModelArgs(1000, 3, e.defaultGlobalPool(), 0, 0));
    }

    /** The parameters of a registered model as timm and torchvision count them. */
    static long paramCount(String name) {
        return paramCount(unbuilt(name));
    }

    /**
     * The parameters of a model as timm and torchvision count them: every state_dict entry but the batch norm
     * statistics (their published counts include the few other buffers).
     */
    static long paramCount(Module m) {
        long n = 0;
        for (Map.Entry<String, Shape> e : m.stateDictShapes().entrySet()) {
            String k = e.getKey();
            if (!k.endsWith("running_mean") && !k.endsWith("running_var") && !k.endsWith("num_batches_tracked")) {
                n += e.getValue().size();
            }
        }
        return n;
    }

    /**
     * Checks that the features of {@code x} have shape {@code features}, whose channels are {@code numFeatures()}, and
     * that its logits are [batch, numClasses]. Returns the features.
     */
    static NDArray assertFeaturesAndLogits(ImageModel m, NDArray x, Shape features, long numClasses) {
        NDArray f = m.forwardFeatures(x);
        assertEquals(features, f.getShape());
        assertEquals(features.get(1), m.numFeatures());
        assertEquals(new Shape(x.getShape().get(0), numClasses), m.forward(x).getShape());
        return f;
    }

    /** Checks that the logits of {@code features} are their pre-logits through the final Linear {@code fc}. */
    static void assertPreLogitsFeed(ImageModel m, NDArray features, String fc) {
        NDArray pre = m.forwardHead(features, true);
        NDArray w = m.stateDict().get(fc + ".weight");
        NDArray b = m.stateDict().get(fc + ".bias");
        NDArray expected = pre.matMul(w.transpose()).add(b);
        assertTrue(maxAbsDiff(m.forwardHead(features, false), expected) < 1e-4, "pre-logits feed " + fc);
    }

    /**
     * Checks {@code resetClassifier(numClasses, pool)}: {@code fc} becomes a Linear from {@code inFeatures}, whose bias
     * is the last state_dict key (as timm's new head, registered last), and {@code x} gives numClasses logits.
     */
    static void assertResetTo(ImageModel m, NDArray x, int numClasses, String pool, String fc, long inFeatures) {
        m.resetClassifier(numClasses, pool);
        assertEquals(
                new Shape(numClasses, inFeatures),
                m.stateDict().get(fc + ".weight").getShape(),
                fc);
        List<String> keys = List.copyOf(m.stateDict().keySet());
        assertEquals(fc + ".bias", keys.get(keys.size() - 1));
        assertEquals(new Shape(x.getShape().get(0), numClasses), m.forward(x).getShape());
    }

    /** Checks that level {@code i} of {@code levels} is [batch, channels[i], sides[i], sides[i]], for every side. */
    static void assertSquareLevels(NDList levels, long batch, int[] channels, int[] sides) {
        assertEquals(sides.length, levels.size(), "levels");
        for (int i = 0; i < sides.length; i++) {
            assertEquals(
                    new Shape(batch, channels[i], sides[i], sides[i]),
                    levels.get(i).getShape(),
                    "level " + i);
        }
    }

    /** Checks that level {@code i} of {@code levels} is [batch, expected[i][0], expected[i][1], expected[i][1]]. */
    static void assertSquareLevels(NDList levels, long batch, long[][] expected) {
        for (int i = 0; i < expected.length; i++) {
            assertEquals(
                    new Shape(batch, expected[i][0], expected[i][1], expected[i][1]),
                    levels.get(i).getShape(),
                    "level " + i);
        }
    }

    /**
     * Checks that the maps of {@code fe} on a batch of 2 at {@code size} follow its feature info, [2, numChs, size /
     * reduction, size / reduction], and that the levels' reductions are {@code reductions}.
     */
    static void assertIntermediatesMatchFeatureInfo(
            FeatureExtractor fe, String name, int size, List<Integer> reductions) {
        try (NDManager s = fe.getManager().newSubManager()) {
            NDList maps = fe.forwardFeatures(input(s, size));
            List<FeatureInfo> info = fe.featureInfo();
            assertEquals(reductions.size(), maps.size(), name);
            for (int i = 0; i < maps.size(); i++) {
                FeatureInfo f = info.get(i);
                assertEquals(
                        new Shape(2, f.numChs(), size / f.reduction(), size / f.reduction()),
                        maps.get(i).getShape(),
                        name + " level " + i);
            }
            assertEquals(reductions, info.stream().map(FeatureInfo::reduction).toList());
        }
    }

    /**
     * Checks that {@link ImageModel#optimizeForInference()} folds every BatchNorm2d of {@code name} and computes what
     * the model does on a batch of 2 at {@code size}.
     */
    static void assertEveryBatchNormFolds(String name, int size) {
        try (ImageModel m = Models.createModel(name);
                NDManager s = m.getManager().newSubManager();
                InferenceModel fast = m.optimizeForInference()) {
            long norms = m.namedModules().values().stream()
                    .filter(b -> b instanceof BatchNorm2d)
                    .count();
            assertEquals(norms, fast.foldedPairs().size());
            NDArray x = input(s, size);
            NDArray ref = m.forward(x);
            assertTrue(
                    maxAbsDiff(fast.forward(x), ref) <= 1e-4f * ref.abs().max().getFloat());
        }
    }

    /** Checks the parameter count of each name, in millions, to within {@code tolerance}. */
    static void assertParamsMillions(Map<String, Double> millions, double tolerance) {
        millions.forEach(
                (name, expected) -> assertEquals(expected, unbuilt(name).numParameters() / 1e6, tolerance, name));
    }

    /** Checks that {@code millions} names every registered model of {@code family} and their counts to 0.005M. */
    static void assertFamilyParamsMillions(String family, Map<String, Double> millions) {
        assertEquals(millions.keySet(), Set.copyOf(registeredNames(family)));
        assertParamsMillions(millions, 0.005);
    }

    /**
     * Checks that the feature info of {@code m} is {@code expected}, that its levels on {@code x} are square with those
     * channels and {@code sides}, and that the deepest level is {@code features}.
     */
    static void assertSquareFeatureLevels(
            ImageModel m, NDArray x, NDArray features, List<FeatureInfo> expected, int[] sides) {
        List<FeatureInfo> fi = m.featureInfo();
        assertEquals(expected, fi);
        NDList levels = m.forwardIntermediates(x, m.allFeatureIndices());
        assertSquareLevels(levels, x.getShape().get(0), channels(fi), sides);
        assertEquals(0.0, maxAbsDiff(features, levels.get(sides.length - 1)));
    }

    /** The channels of each feature level. */
    static int[] channels(List<FeatureInfo> featureInfo) {
        return featureInfo.stream().mapToInt(FeatureInfo::numChs).toArray();
    }

    /** The rates of a model's DropPath modules, in module order. */
    static List<Float> dropPathRates(Module m) {
        return dropPathRates(m, "");
    }

    /** The rates of the DropPath modules whose names end with {@code nameSuffix}, in module order. */
    static List<Float> dropPathRates(Module m, String nameSuffix) {
        List<Float> rates = new ArrayList<>();
        m.namedModules().forEach((name, mod) -> {
            if (mod instanceof DropPath dp && name.endsWith(nameSuffix)) {
                rates.add(dp.rate());
            }
        });
        return rates;
    }

    /**
     * Checks that dropout and drop path act only in training: two eval passes on {@code x} agree and a training pass
     * differs. Leaves {@code m} in eval mode.
     */
    static void assertRandomOnlyInTraining(ImageModel m, NDArray x) {
        m.eval();
        float[] eval = m.forward(x).toFloatArray();
        assertArrayEquals(eval, m.forward(x).toFloatArray(), "eval is deterministic");
        m.train(true);
        float[] train = m.forward(x).toFloatArray();
        m.eval();
        assertFalse(Arrays.equals(eval, train), "a training pass drops something");
    }

    /** timm's model names by family, from {@link #TIMM_FAMILIES}. */
    static JsonObject timmFamilies() {
        try (InputStream in = ModelRegistry.class.getResourceAsStream(TIMM_FAMILIES)) {
            if (in == null) {
                throw new IllegalStateException(
                        TIMM_FAMILIES + " is not a resource of " + ModelRegistry.class.getPackageName());
            }
            return JsonParser.parseReader(new InputStreamReader(in, StandardCharsets.UTF_8))
                    .getAsJsonObject()
                    .getAsJsonObject("families");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + TIMM_FAMILIES, e);
        }
    }

    /** timm's names of one family (empty for a family timm does not have, such as torchvision). */
    static List<String> timmNames(String family) {
        JsonObject families = timmFamilies();
        List<String> names = new ArrayList<>();
        if (families.has(family)) {
            families.getAsJsonArray(family).forEach(e -> names.add(e.getAsString()));
        }
        return names;
    }

    /** The registered names of one family, sorted. */
    static List<String> registeredNames(String family) {
        ModelRegistry r = ModelRegistry.builtIn();
        return r.list("*").stream()
                .filter(n -> r.entry(n).family().equals(family))
                .sorted()
                .toList();
    }
}
