package dev.jimm.models;

import static dev.jimm.models.ModelTesting.input;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** timm's MobileViTs (v1 and v2): sizes, block layout, inputs off the patch grid, the bilinear resize. */
class MobileVitApiTest {
    /** timm's published parameter counts (results/results-imagenet.csv), millions. */
    private static final Map<String, Double> TIMM_MILLIONS = Map.of(
            "mobilevit_xxs", 1.27,
            "mobilevit_xs", 2.32,
            "mobilevit_s", 5.58,
            "mobilevitv2_050", 1.37,
            "mobilevitv2_075", 2.87,
            "mobilevitv2_100", 4.90,
            "mobilevitv2_125", 7.48,
            "mobilevitv2_150", 10.59,
            "mobilevitv2_175", 14.25,
            "mobilevitv2_200", 18.45);

    @Test
    void everyNameHasTimmsParameterCount() {
        List<String> wrong = new ArrayList<>();
        for (String name : ModelTesting.registeredNames("mobilevit")) {
            double millions = Math.round(ModelTesting.unbuilt(name).numParameters() / 1e4) / 100.0;
            if (!TIMM_MILLIONS.containsKey(name) || Math.abs(millions - TIMM_MILLIONS.get(name)) > 1e-9) {
                wrong.add(name + ": " + millions + "M, timm " + TIMM_MILLIONS.get(name));
            }
        }
        assertEquals(List.of(), wrong);
        assertEquals(10, ModelTesting.registeredNames("mobilevit").size());
        // exact counts timm 1.0.29 reports for the two fixture models
        assertEquals(1272024L, ModelTesting.unbuilt("mobilevit_xxs").numParameters());
        assertEquals(1370593L, ModelTesting.unbuilt("mobilevitv2_050").numParameters());
    }

    @Test
    void blockLayout() {
        Map<String, Shape> xs = ModelTesting.unbuilt("mobilevit_xs").stateDictShapes();
        // the inverted residual widens its input 4x; the v1 block has its own transformer width (120) and 4 heads
        assertEquals(new Shape(256, 64, 1, 1), xs.get("stages.3.0.conv1_1x1.conv.weight"));
        assertEquals(new Shape(360, 120), xs.get("stages.3.1.transformer.3.attn.qkv.weight"));
        assertEquals(new Shape(80, 160, 3, 3), xs.get("stages.3.1.conv_fusion.conv.weight"));
        assertEquals(new Shape(384, 96, 1, 1), xs.get("final_conv.conv.weight"));
        Map<String, Shape> v2 = ModelTesting.unbuilt("mobilevitv2_075").stateDictShapes();
        // widths 64..512 x 0.75 truncated, transformer width half the block's, one query channel
        assertEquals(new Shape(24, 3, 3, 3), v2.get("stem.conv.weight"));
        assertEquals(new Shape(288, 1, 3, 3), v2.get("stages.3.1.conv_kxk.conv.weight"));
        assertEquals(new Shape(1 + 2 * 144, 144, 1, 1), v2.get("stages.3.1.transformer.3.attn.qkv_proj.weight"));
        assertEquals(new Shape(192), v2.get("stages.4.1.norm.weight"));
        assertTrue(v2.keySet().stream().noneMatch(k -> k.startsWith("final_conv.")));
        assertTrue(v2.keySet().stream().noneMatch(k -> k.contains("conv_fusion")));
    }

    @Test
    void inputsOffThePatchGrid() {
        // 200: the stages see 25, 13 and 7 pixel maps, none a multiple of the 2x2 patches. v1 resizes to the grid and
        // back; v2 resizes up (align_corners) and keeps the larger map, so its later stages see 26 -> 13 -> 14 -> 7 ->
        // 8
        try (ImageModel v1 = Models.createModel("mobilevit_xxs");
                ImageModel v2 = Models.createModel("mobilevitv2_050");
                NDManager s = v1.getManager().newSubManager()) {
            NDArray x = input(s, 200);
            assertEquals(new Shape(2, 320, 7, 7), v1.forwardFeatures(x).getShape());
            assertEquals(new Shape(2, 256, 8, 8), v2.forwardFeatures(x).getShape());
            NDArray logits = v2.forward(x);
            assertEquals(new Shape(2, 1000), logits.getShape());
            assertFalse(logits.isNaN().any().getBoolean());
        }
    }

    @Test
    void bilinearResizeFollowsPyTorch() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray x = m.create(new float[] {0, 4, 8, 12}, new Shape(1, 1, 2, 2));
            // align_corners=False, 2 -> 4: sources -0.25 (clamped), 0.25, 0.75, 1.25 (clamped)
            float[] up = MobileVitBlocks.resizeBilinear(x, 2, 4, false).toFloatArray();
            assertArrayEquals(new float[] {0, 1, 3, 4, 8, 9, 11, 12}, up, 1e-6f);
            // align_corners=True, 2 -> 3: the corners stay, the middle is the mean
            float[] ac = MobileVitBlocks.resizeBilinear(x, 3, 2, true).toFloatArray();
            assertArrayEquals(new float[] {0, 4, 4, 8, 8, 12}, ac, 1e-6f);
            // 3 -> 2 down, align_corners=False: sources 0.25 and 1.75
            NDArray row = m.create(new float[] {0, 10, 20}, new Shape(1, 1, 1, 3));
            float[] down = MobileVitBlocks.resizeBilinear(row, 1, 2, false).toFloatArray();
            assertArrayEquals(new float[] {2.5f, 17.5f}, down, 1e-5f);
        }
    }
}
