package dev.jimm.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import dev.jimm.hub.SafetensorsWriter;
import dev.jimm.layers.StateDictException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** timm's listing order and names, and the messages of names and checkpoints that do not fit. */
class ListingAndLoadErrorsTest {
    @Test
    void namesSortNaturallyAsTimmLists() {
        List<String> r = Models.listModels("resnet1*");
        // timm: resnet10t, resnet14t, resnet18, resnet18d, resnet26..., then resnet101 after resnet50
        assertTrue(r.indexOf("resnet10t") < r.indexOf("resnet14t"), r.toString());
        assertTrue(r.indexOf("resnet18d") < r.indexOf("resnet101"), r.toString());
        assertTrue(r.indexOf("resnet101") < r.indexOf("resnet152"), r.toString());
        List<String> b = Models.listModels("efficientnet_b?");
        assertEquals(List.of("efficientnet_b0", "efficientnet_b1"), b.subList(0, 2));
        assertTrue(NaturalOrder.INSTANCE.compare("efficientnet_b2", "efficientnet_b10") < 0);
        assertTrue(NaturalOrder.INSTANCE.compare("vit_base_patch8_224", "vit_base_patch16_224") < 0);
    }

    @Test
    void listPretrainedGivesNameDotTagDefaultFirst() {
        List<String> r = Models.listPretrained("resnet50");
        assertFalse(r.isEmpty());
        assertTrue(r.stream().allMatch(n -> n.startsWith("resnet50.")), r.toString());
        String defaultTag = ModelRegistry.builtIn().config("resnet50").tag();
        assertEquals("resnet50." + defaultTag, r.get(0));
        List<String> byTag = Models.listPretrained("convnext_*.fb_in22k*");
        assertFalse(byTag.isEmpty());
        assertTrue(byTag.stream().allMatch(n -> n.contains(".fb_in22k")), byTag.toString());
    }

    @Test
    void torchvisionNamesAreSuggestedWithTheirPrefix() {
        var e = assertThrows(ModelNotFoundException.class, () -> Models.createModel("squeezenet1_1"));
        assertTrue(e.getMessage().contains("did you mean tv/squeezenet1_1?"), e.getMessage());
        var unknown = assertThrows(ModelNotFoundException.class, () -> Models.createModel("no_such_net"));
        assertFalse(unknown.getMessage().contains("jimm "), "a library error names no CLI command: " + unknown);
        assertTrue(unknown.getMessage().contains("Models.listModels"), unknown.getMessage());
    }

    @Test
    void aCheckpointOfAnotherArchitectureIsSummarisedAndNamed(@TempDir Path dir) {
        Path file = dir.resolve("resnet18.safetensors");
        try (ImageModel r18 = Models.createModel("resnet18")) {
            SafetensorsWriter.write(file, r18.stateDict(), Map.of());
        }
        var e = assertThrows(
                StateDictException.class,
                () -> Models.createModel(
                        "densenet121",
                        ModelOptions.builder().pretrainedFile(file).build()));
        String m = e.getMessage();
        assertTrue(m.contains("keys missing"), m);
        assertTrue(m.contains("unexpected keys"), m);
        assertTrue(m.contains("those of resnet18"), m);
        assertTrue(m.contains("Models.createModel(\"resnet18\""), m);
        assertTrue(m.contains(file.toString()), m);
        assertTrue(m.length() < 1500, "a summary, not every key: " + m.length() + " characters");
        assertTrue(e.missingKeys().size() > 300, "the exception still holds every key");
    }

    @Test
    void aWrappingPrefixIsNamedWithTheOptionThatStripsIt(@TempDir Path dir) {
        Path file = dir.resolve("wrapped.safetensors");
        try (ImageModel r18 = Models.createModel("resnet18")) {
            Map<String, NDArray> wrapped = new LinkedHashMap<>();
            r18.stateDict().forEach((k, v) -> wrapped.put("backbone." + k, v));
            SafetensorsWriter.write(file, wrapped, Map.of());
        }
        var e = assertThrows(
                StateDictException.class,
                () -> Models.createModel(
                        "resnet18", ModelOptions.builder().pretrainedFile(file).build()));
        assertTrue(e.getMessage().contains("stripPrefix(\"backbone.\")"), e.getMessage());
        try (ImageModel ok = Models.createModel(
                "resnet18",
                ModelOptions.builder()
                        .pretrainedFile(file)
                        .stripPrefix("backbone.")
                        .build())) {
            assertEquals(1000, ok.numClasses());
        }
    }

    @Test
    void aFewWrongKeysAreListedWithoutAGuess() {
        List<String> missing = new ArrayList<>(List.of("a.weight", "b.weight", "c.weight", "d.weight", "e.weight"));
        StateDictException e = StateDictException.of("checkpoint does not fit x", missing, List.of("z"), List.of(), "");
        assertEquals(
                "checkpoint does not fit x: 5 keys missing (a.weight, b.weight, c.weight, d.weight, …), 1 unexpected"
                        + " key (z)",
                e.getMessage());
    }
}
