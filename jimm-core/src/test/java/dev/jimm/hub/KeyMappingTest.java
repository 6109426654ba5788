package dev.jimm.hub;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * {@link KeyMapping#renameEach}, the rename loop of timm's checkpoint filters: the families' filters rely on its order,
 * on getting the checkpoint's arrays themselves back, and on a Python dict's handling of two keys renamed alike.
 */
class KeyMappingTest {
    /** Keys in an order no sort would give, so a kept order cannot come from sorting. */
    private static Map<String, Object> checkpoint(String... keys) {
        Map<String, Object> sd = new LinkedHashMap<>();
        for (String k : keys) {
            sd.put(k, new Object());
        }
        return sd;
    }

    @Test
    void keepsTheOrderOfTheKeys() {
        Map<String, Object> sd =
                checkpoint("patch_embed.weight", "blocks.1.norm.weight", "blocks.0.norm.weight", "head");

        Map<String, Object> out = KeyMapping.renameEach(sd, k -> k.replace("blocks", "stages.0.blocks"));

        assertEquals(
                List.of("patch_embed.weight", "stages.0.blocks.1.norm.weight", "stages.0.blocks.0.norm.weight", "head"),
                List.copyOf(out.keySet()));
    }

    @Test
    void keepsTheValuesThemselves() {
        Map<String, Object> sd = checkpoint("norm.weight", "norm.bias", "fc.weight");
        List<Object> values = List.copyOf(sd.values());

        Map<String, Object> out = KeyMapping.renameEach(sd, k -> "head." + k);

        assertEquals(List.of("head.norm.weight", "head.norm.bias", "head.fc.weight"), List.copyOf(out.keySet()));
        assertSame(values.get(0), out.get("head.norm.weight"));
        assertSame(values.get(1), out.get("head.norm.bias"));
        assertSame(values.get(2), out.get("head.fc.weight"));
        // a new map: the checkpoint itself is left as it was
        assertNotSame(sd, out);
        assertEquals(List.of("norm.weight", "norm.bias", "fc.weight"), List.copyOf(sd.keySet()));
        assertEquals(values, List.copyOf(sd.values()));
    }

    @Test
    void aStatefulRenameSeesTheKeysInOrder() {
        // as EfficientFormer's filter counts stages: each downsampling weight opens the next stage
        Pattern block = Pattern.compile("network\\.\\d+\\.(\\d+)\\.(.*)");
        Map<String, Object> sd = checkpoint(
                "stem.weight",
                "network.0.0.w",
                "network.0.1.w",
                "network.1.proj.weight",
                "network.2.0.w",
                "network.3.proj.weight",
                "network.4.0.w",
                "network.4.1.w");
        List<String> seen = new ArrayList<>();
        int[] stage = {0};

        Map<String, Object> out = KeyMapping.renameEach(sd, k -> {
            seen.add(k);
            if (k.startsWith("stem.")) {
                return k;
            }
            if (k.endsWith(".proj.weight")) {
                stage[0]++;
                return "stages." + stage[0] + ".downsample.weight";
            }
            Matcher m = block.matcher(k);
            assertTrue(m.matches(), k);
            return "stages." + stage[0] + ".blocks." + m.group(1) + "." + m.group(2);
        });

        assertEquals(List.copyOf(sd.keySet()), seen);
        assertEquals(
                List.of(
                        "stem.weight",
                        "stages.0.blocks.0.w",
                        "stages.0.blocks.1.w",
                        "stages.1.downsample.weight",
                        "stages.1.blocks.0.w",
                        "stages.2.downsample.weight",
                        "stages.2.blocks.0.w",
                        "stages.2.blocks.1.w"),
                List.copyOf(out.keySet()));
        assertSame(sd.get("network.4.1.w"), out.get("stages.2.blocks.1.w"));
    }

    @Test
    void aCollisionReplacesTheEarlierValueInItsPlace() {
        Map<String, Object> sd = checkpoint("norm.weight", "fc.weight", "ln.weight", "fc.bias");
        Object earlier = sd.get("norm.weight");
        Object later = sd.get("ln.weight");

        // as a Python dict: the later value wins, the earlier key keeps its position
        Map<String, Object> out = KeyMapping.renameEach(sd, k -> k.replace("ln.", "norm."));

        assertEquals(List.of("norm.weight", "fc.weight", "fc.bias"), List.copyOf(out.keySet()));
        assertSame(later, out.get("norm.weight"));
        assertFalse(out.containsValue(earlier));
        assertSame(sd.get("fc.weight"), out.get("fc.weight"));
        assertSame(sd.get("fc.bias"), out.get("fc.bias"));
    }

    @Test
    void anEmptyCheckpointStaysEmpty() {
        Map<String, Object> out = KeyMapping.renameEach(Map.of(), k -> {
            throw new AssertionError("renamed a key of an empty checkpoint: " + k);
        });

        assertTrue(out.isEmpty());
    }
}
