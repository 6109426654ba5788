package dev.jimm.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.jimm.TestFixtures;
import dev.jimm.parity.ParityFixture;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
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
        assertTrue(registry.list("test_resnet", true).isEmpty() || !registry.pretrainedTags("test_resnet").isEmpty());
    }

    @Test
    void everyTimmResnetNameTheCodeBuildsIsRegistered() throws Exception {
        JsonObject fam;
        try (var r = new InputStreamReader(ModelRegistry.class.getResourceAsStream("timm_models_by_family.json"), StandardCharsets.UTF_8)) {
            fam = JsonParser.parseReader(r).getAsJsonObject().getAsJsonObject("families");
        }
        List<String> missing = new ArrayList<>();
        fam.getAsJsonArray("resnet").forEach(e -> {
            String n = e.getAsString();
            if (!registry.contains(n) && !n.endsWith("_pruned")) {
                missing.add(n);
            }
        });
        assertTrue(missing.isEmpty(), "not registered: " + missing);
    }

    @Test
    void everyRegisteredResnetConstructs() {
        // construction declares every layer and shape without allocating: a cheap check of all configs
        for (String n : registry.list("*")) {
            ModelEntry e = registry.entry(n);
            if (e.family().equals("resnet") || n.startsWith("tv/res") || n.startsWith("tv/wide")) {
                ImageModel m = e.factory().apply(ModelArgs.defaults());
                assertTrue(m.numParameters() > 100_000, n);
                assertEquals(5, m.featureInfo().size(), n);
            }
        }
    }

    @Test
    void defaultConfigIsTimmsDefaultPretrainedConfig() {
        List<String> names = new java.util.ArrayList<>();
        try (var files = java.nio.file.Files.list(TestFixtures.root().resolve("parity"))) {
            files.map(f -> f.getFileName().toString()).filter(f -> f.startsWith("timm__") && f.endsWith(".safetensors"))
                    .sorted().forEach(f -> names.add(f.substring(6, f.length() - 12)));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        assertTrue(names.size() >= 60, "timm fixtures found: " + names.size());
        for (String name : names) {
            JsonObject ref = ParityFixture.read(TestFixtures.parity("timm__" + name)).meta().getAsJsonObject("pretrained_cfg");
            PretrainedCfg cfg = registry.config(name);
            assertEquals(ref.get("tag").getAsString(), cfg.tag(), name);
            assertEquals(ref.get("input_size").getAsJsonArray().get(1).getAsInt(), cfg.inputSize().get(1), name);
            assertEquals(ref.get("crop_pct").getAsDouble(), cfg.cropPct(), 1e-9, name);
            assertEquals(ref.get("interpolation").getAsString(), cfg.interpolation(), name);
            assertEquals(ref.get("first_conv").getAsString(), cfg.firstConv(), name);
            var cls = ref.get("classifier");
            // distilled DeiTs name two heads; the config keeps the first
            assertEquals(cls.isJsonArray() ? cls.getAsJsonArray().get(0).getAsString() : cls.getAsString(), cfg.classifier(), name);
            assertEquals(ref.get("mean").getAsJsonArray().get(0).getAsDouble(), cfg.mean().get(0), 1e-9, name);
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
