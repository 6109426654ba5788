package dev.jimm.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import dev.jimm.TestFixtures;
import dev.jimm.parity.ParityFixture;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class RegistryTest {
    private final ModelRegistry registry = ModelRegistry.builtIn();

    @Test
    void wildcardListing() {
        List<String> r = registry.list("resnet5*");
        assertTrue(r.containsAll(List.of("resnet50", "resnet50d", "resnet50_gn")), r.toString());
        assertTrue(r.stream().allMatch(n -> n.startsWith("resnet5")));
        List<String> se = registry.list("se*resnet*50*");
        assertTrue(se.contains("seresnet50") && se.contains("seresnetaa50d"), se.toString());
        assertEquals(List.of("resnet18"), registry.list("resnet18"));
        assertTrue(registry.list("tv/*").contains("tv/resnet50"));
        assertTrue(registry.list("test_resnet", true).isEmpty()
                || !registry.pretrainedTags("test_resnet").isEmpty());
    }

    /** timm names of covered families that jimm leaves out (none since the pruned variants read timm's width files). */
    private static final Set<String> NOT_BUILT = Set.of();

    /** Families that are jimm's own, with names timm does not have. */
    private static final Set<String> JIMM_OWN_FAMILIES = Set.of("airbench");

    @Test
    void everyFamilyRegistersTimmsNamesOfThatFamily() {
        // every family jimm registers holds all of timm's names of that family, but for NOT_BUILT
        Map<String, Integer> counts = new TreeMap<>(registry.countsByFamily());
        // torchvision's names (tv/...) are not timm's, nor are jimm's own families
        counts.remove("torchvision");
        for (String own : JIMM_OWN_FAMILIES) {
            assertTrue(ModelTesting.timmNames(own).isEmpty(), own + " is a timm family: register timm's names");
            assertTrue(counts.remove(own) != null, own + " registers no names");
        }
        for (String family : counts.keySet()) {
            List<String> timm = ModelTesting.timmNames(family);
            assertFalse(timm.isEmpty(), family + " is not a family of " + ModelTesting.TIMM_FAMILIES);
            long expected = timm.stream().filter(n -> !NOT_BUILT.contains(n)).count();
            assertEquals(expected, (long) counts.get(family), "registered names of timm's family " + family);
            for (String n : timm) {
                if (!NOT_BUILT.contains(n)) {
                    assertTrue(registry.contains(n), "timm's " + family + " name " + n + " is not registered");
                    assertEquals(family, registry.entry(n).family(), n);
                }
            }
            for (String n : ModelTesting.registeredNames(family)) {
                assertTrue(
                        timm.contains(n),
                        n + " is registered under " + family + " but is not a timm " + family + " name");
            }
        }
        NOT_BUILT.forEach(n -> assertFalse(registry.contains(n), n));
    }

    @Test
    void everyRegisteredResnetConstructs() {
        // construction declares every layer and shape without allocating: a cheap check of all configs
        for (String n : registry.list("*")) {
            if (registry.entry(n).family().equals("resnet") || n.startsWith("tv/res") || n.startsWith("tv/wide")) {
                ImageModel m = ModelTesting.unbuilt(n);
                assertTrue(m.numParameters() > 100_000, n);
                assertEquals(5, m.featureInfo().size(), n);
            }
        }
    }

    @Test
    void defaultConfigIsTimmsDefaultPretrainedConfig() {
        List<String> names = new ArrayList<>();
        try (var files = Files.list(TestFixtures.root().resolve("parity"))) {
            files.map(f -> f.getFileName().toString())
                    .filter(f -> f.startsWith("timm__") && f.endsWith(".safetensors"))
                    .sorted()
                    .forEach(f -> names.add(f.substring(6, f.length() - 12)));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        assertTrue(names.size() >= 60, "timm fixtures found: " + names.size());
        for (String name : names) {
            JsonObject ref = ParityFixture.read(TestFixtures.parity("timm__" + name))
                    .meta()
                    .getAsJsonObject("pretrained_cfg");
            PretrainedCfg cfg = registry.config(name);
            assertEquals(ref.get("tag").getAsString(), cfg.tag(), name);
            assertEquals(
                    ref.get("input_size").getAsJsonArray().get(1).getAsInt(),
                    cfg.inputSize().get(1),
                    name);
            assertEquals(ref.get("crop_pct").getAsDouble(), cfg.cropPct(), 1e-9, name);
            assertEquals(ref.get("interpolation").getAsString(), cfg.interpolation(), name);
            assertEquals(ref.get("first_conv").getAsString(), cfg.firstConv(), name);
            var cls = ref.get("classifier");
            // distilled DeiTs name two heads, both classifiers
            List<String> heads = new ArrayList<>();
            if (cls.isJsonArray()) {
                cls.getAsJsonArray().forEach(c -> heads.add(c.getAsString()));
            } else {
                heads.add(cls.getAsString());
            }
            assertEquals(heads, cfg.classifiers(), name);
            assertEquals(
                    ref.get("mean").getAsJsonArray().get(0).getAsDouble(),
                    cfg.mean().get(0),
                    1e-9,
                    name);
            assertEquals(ref.get("num_classes").getAsInt(), cfg.numClasses(), name);
        }
    }

    @Test
    void tagsAreSelectableAndUnknownOnesListTheRealOnes() {
        assertEquals("a3_in1k", registry.config("resnet50.a3_in1k").tag());
        assertEquals(160, registry.config("resnet50.a3_in1k").inputSize().get(1));
        ModelNotFoundException e = assertThrows(ModelNotFoundException.class, () -> registry.config("resnet50.nope"));
        assertTrue(e.getMessage().contains("a1_in1k") && e.getMessage().contains("tv_in1k"), e.getMessage());
        e = assertThrows(ModelNotFoundException.class, () -> registry.entry("resnet51"));
        assertTrue(e.getMessage().contains("resnet51") && e.getMessage().contains("did you mean"), e.getMessage());
    }

    @Test
    void torchvisionNamesCarryTorchvisionWeights() {
        List<PretrainedCfg> tags = registry.pretrainedTags("tv/resnet50");
        assertEquals("IMAGENET1K_V2", tags.get(0).tag(), "torchvision's DEFAULT is V2 for resnet50");
        assertTrue(tags.get(0).url().startsWith("https://download.pytorch.org/models/resnet50-"));
        assertEquals(224.0 / 232, tags.get(0).cropPct(), 1e-9);
        assertFalse(tags.get(0).fileSha256().isEmpty());
    }
}
