package dev.jimm.models;

import static dev.jimm.models.ModelTesting.input;
import static dev.jimm.models.ModelTesting.maxAbsDiff;
import static dev.jimm.models.ModelTesting.paramCount;
import static dev.jimm.models.ModelTesting.unbuilt;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.jimm.hub.Checkpoints;
import dev.jimm.hub.SafetensorsWriter;
import dev.jimm.layers.LayerNorm;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** timm's swin_transformer_v2_cr family: its 16 names, extra norms, windows per input size, head and levels. */
class SwinTransformerV2CrApiTest {

    @Test
    void everyNameHasTimmsPublishedParameterCount() {
        // timm's results tables, in millions
        Map<String, Double> published = new LinkedHashMap<>();
        published.put("swinv2_cr_tiny_224", 28.33);
        published.put("swinv2_cr_tiny_384", 28.33);
        published.put("swinv2_cr_tiny_ns_224", 28.33);
        published.put("swinv2_cr_small_224", 49.70);
        published.put("swinv2_cr_small_384", 49.70);
        published.put("swinv2_cr_small_ns_224", 49.70);
        published.put("swinv2_cr_small_ns_256", 49.70);
        published.put("swinv2_cr_base_224", 87.88);
        published.put("swinv2_cr_base_384", 87.88);
        published.put("swinv2_cr_base_ns_224", 87.88);
        published.put("swinv2_cr_large_224", 196.68);
        published.put("swinv2_cr_large_384", 196.68);
        published.put("swinv2_cr_huge_224", 657.83);
        published.put("swinv2_cr_huge_384", 657.94);
        published.put("swinv2_cr_giant_224", 2598.76);
        published.put("swinv2_cr_giant_384", 2598.76);
        assertEquals(published.keySet().stream().sorted().toList(), ModelTesting.timmNames("swin_transformer_v2_cr"));
        published.forEach((name, millions) -> assertEquals(millions * 1e6, paramCount(name), 0.005e6, name));
        // the fixture's exact count
        assertEquals(28_333_468L, paramCount("swinv2_cr_tiny_ns_224"));
    }

    /** The blocks of a model that end with an extra norm, as "stage.block". */
    private static List<String> extraNorms(String name) {
        List<String> out = new ArrayList<>();
        unbuilt(name).namedModules().forEach((k, m) -> {
            if (k.endsWith(".norm3") && m instanceof LayerNorm) {
                String[] p = k.split("\\.");
                out.add(p[1] + "." + p[3]);
            }
        });
        return out;
    }

    @Test
    void extraNormsEndTheLastStageEachStageOrEverySixthBlock() {
        assertEquals(List.of("3.1"), extraNorms("swinv2_cr_tiny_224"));
        assertEquals(List.of("0.1", "1.1", "2.5", "3.1"), extraNorms("swinv2_cr_tiny_ns_224"));
        assertEquals(List.of("2.5", "2.11", "2.17", "3.1"), extraNorms("swinv2_cr_huge_224"));
    }

    @Test
    void theWindowIsThePatchGridOverEightAndTheCoordinatesAreLogSpaced() {
        SwinTransformerV2Cr.Config tiny = ((SwinTransformerV2Cr) unbuilt("swinv2_cr_tiny_224")).config();
        assertEquals(7, tiny.window());
        assertEquals(
                12,
                ((SwinTransformerV2Cr) unbuilt("swinv2_cr_tiny_384")).config().window());
        assertEquals(
                8,
                ((SwinTransformerV2Cr) unbuilt("swinv2_cr_small_ns_256"))
                        .config()
                        .window());
        // a 2 x 2 window: query (0, 0) to key (1, 1) is the offset (-1, -1), ln 2 with its sign
        float[] c = SwinTransformerV2Cr.WindowMultiHeadAttention.relativeCoordinatesLog(2, 2);
        float ln2 = (float) Math.log(2);
        assertArrayEquals(new float[] {-ln2, -ln2}, new float[] {c[3 * 2], c[3 * 2 + 1]}, 1e-7f);
        assertArrayEquals(new float[] {ln2, 0f}, new float[] {c[(2 * 4) * 2], c[(2 * 4) * 2 + 1]}, 1e-7f);
        assertEquals(0f, c[(3 * 4 + 3) * 2]);
    }

    @Test
    void oldCheckpointsTurnTauIntoTheLogitScaleAndRenameTheHead() {
        SwinTransformerV2Cr m = (SwinTransformerV2Cr) unbuilt("swinv2_cr_tiny_224");
        try (NDManager s = NDManager.newBaseManager()) {
            Map<String, NDArray> old = new LinkedHashMap<>();
            old.put("stages.0.blocks.0.attn.tau", s.create(new float[] {0.5f, 0.25f, 0.1f}));
            old.put("head.weight", s.zeros(new Shape(3, 768)));
            Map<String, NDArray> out = m.prepareForPretrained(old);
            assertEquals(List.of("stages.0.blocks.0.attn.logit_scale", "head.fc.weight"), List.copyOf(out.keySet()));
            float[] scale = out.get("stages.0.blocks.0.attn.logit_scale").toFloatArray();
            assertArrayEquals(
                    new float[] {(float) Math.log(2), (float) Math.log(4), (float) Math.log(10)}, scale, 1e-6f);
            Map<String, NDArray> current = Map.of("head.fc.weight", s.zeros(new Shape(3, 768)));
            assertTrue(m.prepareForPretrained(current) == current, "a current checkpoint passes unchanged");
        }
    }

    @Test
    void initLevelsHeadAndFeaturesFollowTimm() {
        try (ImageModel m = Models.createModel(
                        "swinv2_cr_tiny_224",
                        ModelOptions.builder().numClasses(7).build());
                NDManager s = m.getManager().newSubManager()) {
            Map<String, NDArray> sd = m.stateDict();
            // timm's init_values 0: each block starts as the identity; the temperature starts at 10
            assertEquals(
                    0f, sd.get("stages.1.blocks.0.norm1.weight").abs().max().getFloat());
            assertEquals(
                    0f, sd.get("stages.1.blocks.0.norm2.weight").abs().max().getFloat());
            assertEquals(1f, sd.get("stages.3.blocks.1.norm3.weight").min().getFloat());
            assertEquals(
                    (float) Math.log(10),
                    sd.get("stages.2.blocks.3.attn.logit_scale").max().getFloat(),
                    1e-6f);
            NDArray x = input(s, 224);
            NDList levels = m.forwardIntermediates(x, m.allFeatureIndices());
            long[][] shapes = {{2, 96, 56, 56}, {2, 192, 28, 28}, {2, 384, 14, 14}, {2, 768, 7, 7}};
            for (int i = 0; i < 4; i++) {
                assertEquals(new Shape(shapes[i]), levels.get(i).getShape());
                assertEquals(4 << i, m.featureInfo().get(i).reduction());
                assertEquals("stages." + i, m.featureInfo().get(i).module());
            }
            NDArray features = m.forwardFeatures(x);
            assertEquals(0f, maxAbsDiff(levels.get(3), features));
            assertEquals(new Shape(2, 7), m.forwardHead(features, false).getShape());
            assertEquals(new Shape(2, 768), m.forwardHead(features, true).getShape());
            m.resetClassifier(0);
            assertFalse(m.stateDict().containsKey("head.fc.weight"));
            assertEquals(new Shape(2, 768), m.forward(x).getShape());
        }
    }

    @TempDir
    Path tmp;

    @Test
    void windowsFollowTheInputSizeAndA224CheckpointLoadsAt384() {
        Path file = tmp.resolve("cr224.safetensors");
        try (ImageModel m = Models.createModel(
                "swinv2_cr_tiny_224", ModelOptions.builder().seed(17).build())) {
            SafetensorsWriter.write(file, m.stateDict(), Map.of());
        }
        try (ImageModel m = Models.createModel(
                        "swinv2_cr_tiny_224",
                        ModelOptions.builder().imgSize(384).pretrainedFile(file).build());
                NDManager s = m.getManager().newSubManager()) {
            assertEquals(List.of(3, 384, 384), m.pretrainedCfg().inputSize());
            // the patch grid over 8: 96 / 8 = 12, so 144 positions per window, 144 * 144 pairs
            NDArray coords = m.namedModules()
                    .get("stages.0.blocks.0.attn")
                    .directBuffers()
                    .get("relative_coordinates_log")
                    .array();
            assertEquals(new Shape(144 * 144, 2), coords.getShape());
            // the position MLP is continuous: every weight loads as it is
            String k = "stages.3.blocks.1.attn.meta_mlp.fc2.weight";
            assertEquals(
                    0f,
                    maxAbsDiff(Checkpoints.load(file, s).get(k), m.stateDict().get(k)));
            assertEquals(new Shape(1, 1000), m.forward(input(s, 1, 3, 384)).getShape());
        }
        // timm registers swinv2_cr_tiny_384 without img_size: its pretrained config's 384 builds it
        try (ImageModel m = Models.createModel("swinv2_cr_tiny_384")) {
            assertEquals(384, ((SwinTransformerV2Cr) m).config().imgSize());
            assertEquals(12, ((SwinTransformerV2Cr) m).config().window());
        }
    }
}
