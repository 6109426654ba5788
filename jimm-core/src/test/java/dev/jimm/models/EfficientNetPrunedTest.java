package dev.jimm.models;

import static dev.jimm.models.ModelTesting.input;
import static dev.jimm.models.ModelTesting.paramCount;
import static dev.jimm.models.ModelTesting.unbuilt;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * timm's knapsack-pruned EfficientNet B1-B3: built at the layer widths timm's {@code _pruned/*.txt} list, with timm's
 * published parameter counts.
 */
class EfficientNetPrunedTest {
    private static final String[] NAMES = {"efficientnet_b1_pruned", "efficientnet_b2_pruned", "efficientnet_b3_pruned"
    };

    /** The resource's entries, "key:[shape]", in its order, read here without the library's parser. */
    private static List<String> listed(String name) throws IOException {
        try (InputStream in = ModelRegistry.class.getResourceAsStream("_pruned/" + name + ".txt")) {
            String text = new String(in.readAllBytes(), StandardCharsets.UTF_8).strip();
            return Arrays.asList(text.split("\\*\\*\\*"));
        }
    }

    @Test
    void everyStateDictEntryHasTheListedShapeInTheListedOrder() throws IOException {
        for (String name : NAMES) {
            List<String> ours = new ArrayList<>();
            for (Map.Entry<String, Shape> e : unbuilt(name).stateDictShapes().entrySet()) {
                long[] dims = e.getValue().getShape();
                StringBuilder b = new StringBuilder(e.getKey()).append(":[");
                for (int i = 0; i < dims.length; i++) {
                    b.append(i == 0 ? "" : ", ").append(dims[i]);
                }
                ours.add(b.append(']').toString());
            }
            assertEquals(listed(name), ours, name);
        }
    }

    @Test
    void parameterCountsAreTimmsPublishedOnes() {
        // timm's results tables: 6.33M, 8.31M, 9.86M
        double[] published = {6.33e6, 8.31e6, 9.86e6};
        for (int i = 0; i < NAMES.length; i++) {
            assertEquals(published[i], paramCount(NAMES[i]), 0.005e6, NAMES[i]);
        }
    }

    @Test
    void theUnprunedSkipsStayAndThePrunedModelRuns() {
        try (ImageModel m = Models.createModel(NAMES[0]);
                NDManager s = m.getManager().newSubManager()) {
            assertEquals(List.of(3, 240, 240), m.pretrainedCfg().inputSize());
            // the feature levels carry the pruned widths of the stage ends
            int[] chs = m.featureInfo().stream().mapToInt(FeatureInfo::numChs).toArray();
            assertArrayEquals(new int[] {16, 12, 35, 67, 320}, chs);
            assertEquals(new Shape(2, 1000), m.forward(input(s, 64)).getShape());
            // blocks.1.1 keeps timm's skip (24 -> 24 unpruned) though pruned it maps 12 to 12
            EfficientNetBlocks.Block b =
                    (EfficientNetBlocks.Block) m.namedModules().get("blocks.1.1");
            assertTrue(b.hasSkip);
        }
    }
}
