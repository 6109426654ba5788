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
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Pretrained weights from a local file: exact load, a resized head, adapted input channels. */
class PretrainedLoaderTest {
    @TempDir
    Path dir;

    private Path saved(String name, long seed) {
        Path file = dir.resolve(name + ".safetensors");
        try (ImageModel src = seeded(name, seed)) {
            SafetensorsWriter.write(file, src.stateDict(), Map.of("format", "pt"));
        }
        return file;
    }

    private static ImageModel seeded(String name, long seed) {
        return Models.createModel(name, ModelOptions.builder().seed(seed).build());
    }

    private static ImageModel loaded(String name, Path file, UnaryOperator<ModelOptions.Builder> options) {
        return Models.createModel(
                name, options.apply(ModelOptions.builder().pretrainedFile(file)).build());
    }

    private static float[] values(ImageModel m, String key) {
        return m.stateDict().get(key).toFloatArray();
    }

    @Test
    void loadsEveryValueAndMakesTheSameOutputs() {
        Path file = saved("resnet18", 3);
        try (ImageModel ref = seeded("resnet18", 3);
                ImageModel m = loaded("resnet18", file, b -> b)) {
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
        try (ImageModel other = seeded("resnet18", 4)) {
            assertFalse(
                    Arrays.equals(values(other, "conv1.weight"), values(seeded("resnet18", 3), "conv1.weight")),
                    "seeds give different inits");
        }
    }

    @Test
    void anotherClassCountKeepsTheBodyAndLeavesTheHeadAtInit() {
        Path file = saved("resnet18", 3);
        try (ImageModel ref = seeded("resnet18", 3);
                ImageModel m = loaded("resnet18", file, b -> b.numClasses(10))) {
            assertArrayEquals(values(ref, "layer4.1.conv2.weight"), values(m, "layer4.1.conv2.weight"));
            assertEquals(10, m.stateDict().get("fc.weight").getShape().get(0));
        }
        try (ImageModel m = loaded("resnet18", file, b -> b.numClasses(0))) {
            assertFalse(m.stateDict().containsKey("fc.weight"));
        }
    }

    @Test
    void otherChannelCountsAdaptTheFirstConvAsTimmDoes() {
        Path file = saved("resnet18", 5);
        try (ImageModel ref = seeded("resnet18", 5);
                ImageModel gray = loaded("resnet18", file, b -> b.inChans(1));
                ImageModel five = loaded("resnet18", file, b -> b.inChans(5))) {
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
        JimmException e = assertThrows(JimmException.class, () -> loaded("resnet34", file, b -> b));
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
