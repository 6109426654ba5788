package dev.jimm.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The default pretrained tag of a name is timm's own, for every name, not the alphabetically first tag. */
class DefaultTagsTest {
    @Test
    void theDefaultIsTimmsWhereTheAlphabetWouldPickAnother() {
        ModelRegistry r = ModelRegistry.builtIn();
        // timm 1.0's defaults; but for resnet50, the pretrained table lists another tag of each name first
        String[][] cases = {
            {"convnext_base", "fb_in22k_ft_in1k"},
            {"convnextv2_femto", "fcmae_ft_in1k"},
            {"convnext_nano", "in12k_ft_in1k"},
            {"convnext_large_mlp", "clip_laion2b_soup_ft_in12k_in1k_320"},
            {"resnet50", "a1_in1k"}
        };
        for (String[] c : cases) {
            List<PretrainedCfg> tags = r.pretrainedTags(c[0]);
            assertEquals(c[1], tags.get(0).tag(), c[0]);
            assertEquals(c[1], r.config(c[0]).tag(), c[0] + " without a tag loads timm's default");
            assertTrue(tags.size() > 1, c[0] + " has other tags to choose from");
        }
    }
}
