package dev.jimm.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import dev.jimm.JimmException;
import dev.jimm.hub.SafetensorsWriter;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Pretrained weights from a local file: exact load, a resized head, adapted input channels. */
class PretrainedLoaderTest {
    @TempDir
    Path dir;

    private Path saved(String name, long seed) {
        Path file = dir.resolve(name + ".safetensors");
        try (ImageModel src =
                Models.createModel(name, ModelOptions.builder().seed(seed).build())) {
            SafetensorsWriter.write(file, src.stateDict(), Map.of("format", "pt"));
        }
        return file;
    }

    private static float[] values(ImageModel m, String key) {
        return m.stateDict().get(key).toFloatArray();
    }

    @Test
    void loadsEveryValueAndMakesTheSameOutputs() {
        Path file = saved("resnet18", 3);
        try (ImageModel ref = Models.createModel(
                        "resnet18", ModelOptions.builder().seed(3).build());
                ImageModel m = Models.createModel(
                        "resnet18", ModelOptions.builder().pretrainedFile(file).build())) {
            for (Map.Entry<String, NDArray> e : ref.stateDict().entrySet()) {
                assertArrayEquals(
                        e.getValue().toType(DataType.FLOAT32, false).toFloatArray(),
                        m.stateDict()
                                .get(e.getKey())
                                .toType(DataType.FLOAT32, false)
                                .toFloatArray(),
                        e.getKey());
            }
        }
        try (ImageModel other =
                Models.createModel("resnet18", ModelOptions.builder().seed(4).build())) {
            assertFalse(
                    Arrays.equals(
                            values(other, "conv1.weight"),
                            values(
                                    Models.createModel(
                                            "resnet18",
                                            ModelOptions.builder().seed(3).build()),
                                    "conv1.weight")),
                    "seeds give different inits");
        }
    }

    @Test
    void anotherClassCountKeepsTheBodyAndLeavesTheHeadAtInit() {
        Path file = saved("resnet18", 3);
        try (ImageModel ref = Models.createModel(
                        "resnet18", ModelOptions.builder().seed(3).build());
                ImageModel m = Models.createModel(
                        "resnet18",
                        ModelOptions.builder()
                                .pretrainedFile(file)
                                .numClasses(10)
                                .build())) {
            assertArrayEquals(values(ref, "layer4.1.conv2.weight"), values(m, "layer4.1.conv2.weight"));
            assertEquals(10, m.stateDict().get("fc.weight").getShape().get(0));
        }
        try (ImageModel m = Models.createModel(
                "resnet18",
                ModelOptions.builder().pretrainedFile(file).numClasses(0).build())) {
            assertFalse(m.stateDict().containsKey("fc.weight"));
        }
    }

    @Test
    void otherChannelCountsAdaptTheFirstConvAsTimmDoes() {
        Path file = saved("resnet18", 5);
        try (ImageModel ref = Models.createModel(
                        "resnet18", ModelOptions.builder().seed(5).build());
                ImageModel gray = Models.createModel(
                        "resnet18",
                        ModelOptions.builder().pretrainedFile(file).inChans(1).build());
                ImageModel five = Models.createModel(
                        "resnet18",
                        ModelOptions.builder().pretrainedFile(file).inChans(5).build())) {
            float[] rgb = values(ref, "conv1.weight");
            float[] g = values(gray, "conv1.weight");
            float[] f = values(five, "conv1.weight");
            int k = 49;
            // output 7, kernel position 11
            int o = 7;
            int p = 11;
            float r = rgb[(o * 3) * k + p];
            float gg = rgb[(o * 3 + 1) * k + p];
            float b = rgb[(o * 3 + 2) * k + p];
            assertEquals(r + gg + b, g[o * k + p], 1e-6f, "one channel: the RGB filters summed");
            // five channels: R G B R G, scaled by 3/5
            assertEquals(r * 0.6f, f[(o * 5) * k + p], 1e-6f);
            assertEquals(gg * 0.6f, f[(o * 5 + 4) * k + p], 1e-6f);
            assertArrayEquals(values(ref, "layer1.0.conv1.weight"), values(gray, "layer1.0.conv1.weight"));
        }
    }

    @Test
    void aCheckpointOfAnotherModelIsRefusedWithItsKeys() {
        Path file = saved("resnet18", 1);
        JimmException e = assertThrows(
                JimmException.class,
                () -> Models.createModel(
                        "resnet34", ModelOptions.builder().pretrainedFile(file).build()));
        assertTrue(e.getMessage().contains("layer1.2"), e.getMessage());
    }

    @Test
    void pretrainedWithoutWeightsListsWhatExists() {
        JimmException e = assertThrows(
                JimmException.class,
                () -> Models.createModel(
                        "resnet50.nonexistent_tag",
                        ModelOptions.builder().pretrained(true).build()));
        assertTrue(e.getMessage().contains("a1_in1k"), e.getMessage());
    }
}
