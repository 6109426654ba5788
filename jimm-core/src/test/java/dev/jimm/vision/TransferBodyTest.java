package dev.jimm.vision;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.jimm.hub.SafetensorsFile;
import dev.jimm.transforms.Preprocessing;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The transfer experiment's step (c): an export's body under a new head, as {@code --weights FILE} loads it. */
class TransferBodyTest {
    @Test
    void loadedBodyIsTheExportedOneAndTheHeadIsFresh(@TempDir Path dir) {
        Path file = dir.resolve("backbone.safetensors");
        Preprocessing p = new Preprocessing(1, 28, "bilinear", 1.0, List.of(0.286), List.of(0.353));
        try (VisionModel trained = VisionLearner.buildModel(
                VisionLearner.Options.of("resnet10t").inChans(1).seed(1), 5)) {
            Export.write(
                    file,
                    trained,
                    new Export.Spec("resnet10t", 1, FastaiHead.defaults(), List.of("a", "b", "c", "d", "e"), p));
        }
        VisionLearner.Options o =
                VisionLearner.Options.of("resnet10t").inChans(1).seed(2);
        try (VisionModel loaded = VisionLearner.buildModel(o.weights(file), 5);
                VisionModel scratch = VisionLearner.buildModel(o, 5);
                SafetensorsFile f = SafetensorsFile.open(file);
                NDManager m = NDManager.newBaseManager()) {
            Map<String, NDArray> exported = f.loadAll(m);
            Map<String, NDArray> mine = loaded.stateDict();
            Map<String, NDArray> fresh = scratch.stateDict();
            assertEquals(exported.keySet(), mine.keySet());
            int body = 0;
            int differs = 0;
            for (String k : mine.keySet()) {
                float[] got = mine.get(k).toType(DataType.FLOAT32, false).toFloatArray();
                float[] exp = exported.get(k).toType(DataType.FLOAT32, false).toFloatArray();
                float[] init = fresh.get(k).toType(DataType.FLOAT32, false).toFloatArray();
                if (k.startsWith("0.")) {
                    body++;
                    assertArrayEquals(exp, got, 0f, k + ": the body is the exported one");
                    differs += Arrays.equals(exp, init) ? 0 : 1;
                } else {
                    assertArrayEquals(init, got, 0f, k + ": the head is the seed's fresh init, as from scratch");
                }
            }
            assertTrue(body > 50, "body keys: " + body);
            // seed 1's and seed 2's bodies differ, so the equality above says the file was read
            assertTrue(differs > 10, "body tensors that differ between the two seeds' inits: " + differs);
            assertFalse(
                    Arrays.equals(
                            exported.get("1.8.weight").toFloatArray(),
                            mine.get("1.8.weight").toFloatArray()),
                    "the exported head is not carried over");
        }
    }
}
