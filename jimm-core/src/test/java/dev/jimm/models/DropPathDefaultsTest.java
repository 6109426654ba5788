package dev.jimm.models;

import static dev.jimm.models.ModelTesting.dropPathRates;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A variant's own default drop-path rate applies when the caller sets none, and an explicit rate, 0 included, wins. No
 * registered variant of jimm's timm families sets {@code drop_path_rate} in its model arguments (timm 1.0.29);
 * torchvision's builders do ({@code stochastic_depth_prob}): ConvNeXt 0.1 / 0.4 / 0.5 / 0.5, Swin and Swin V2 0.2 / 0.3
 * / 0.5, every EfficientNet 0.2.
 */
class DropPathDefaultsTest {
    private static ImageModel unbuilt(String name, ModelArgs args) {
        return ModelRegistry.builtIn().entry(name).factory().apply(args);
    }

    private static ModelArgs withRate(double rate) {
        return new ModelArgs(1000, 3, "avg", 0, rate);
    }

    private static float last(List<Float> rates) {
        return rates.isEmpty() ? 0f : rates.get(rates.size() - 1);
    }

    private static float max(List<Float> rates) {
        return (float) rates.stream().mapToDouble(Float::doubleValue).max().orElse(0);
    }

    @Test
    void modelArgsTellUnsetFromZero() {
        ModelArgs unset = ModelArgs.defaults();
        assertNull(unset.userDropPathRate());
        assertEquals(0.0, unset.dropPathRate());
        assertEquals(0.3, unset.dropPathRate(0.3));
        assertEquals(0.3, unset.withDefaultDropPathRate(0.3).dropPathRate());
        ModelArgs zero = withRate(0);
        assertEquals(0.0, zero.dropPathRate(0.3));
        assertEquals(0.0, zero.withDefaultDropPathRate(0.3).dropPathRate());
        assertEquals(0.1, withRate(0.1).dropPathRate(0.3));
        assertNull(ModelOptions.defaults().dropPathRate());
        assertEquals(0.0, ModelOptions.builder().dropPathRate(0).build().dropPathRate());
    }

    @Test
    void torchvisionConvNeXtDefaultsToItsBuildersRate() {
        // linear over the 18 blocks of tiny: the last block gets the full rate
        assertEquals(0.1f, last(dropPathRates(unbuilt("tv/convnext_tiny", ModelArgs.defaults()))), 1e-7f);
        assertEquals(0.4f, last(dropPathRates(unbuilt("tv/convnext_small", ModelArgs.defaults()))), 1e-7f);
        assertEquals(0.5f, last(dropPathRates(unbuilt("tv/convnext_large", ModelArgs.defaults()))), 1e-7f);
        assertEquals(0f, max(dropPathRates(unbuilt("tv/convnext_tiny", withRate(0)))), "an explicit 0 stays 0");
        assertEquals(0.25f, last(dropPathRates(unbuilt("tv/convnext_tiny", withRate(0.25)))), 1e-7f);
    }

    @Test
    void torchvisionSwinAndEfficientNetDefaultToTheirBuildersRates() {
        assertEquals(0.2f, last(dropPathRates(unbuilt("tv/swin_t", ModelArgs.defaults()))), 1e-7f);
        assertEquals(0.5f, last(dropPathRates(unbuilt("tv/swin_v2_b", ModelArgs.defaults()))), 1e-7f);
        assertEquals(0f, max(dropPathRates(unbuilt("tv/swin_t", withRate(0)))));
        // torchvision's EfficientNet: 0.2 * block / 16 blocks, the last block at 0.2 * 15 / 16
        assertEquals(0.2f * 15 / 16, last(dropPathRates(unbuilt("tv/efficientnet_b0", ModelArgs.defaults()))), 1e-7f);
        assertEquals(0f, max(dropPathRates(unbuilt("tv/efficientnet_b0", withRate(0)))));
    }

    @Test
    void createModelPassesTheCallersRateOrNone() {
        try (ImageModel m = Models.createModel("tv/efficientnet_b0")) {
            assertEquals(0.2f * 15 / 16, last(dropPathRates(m)), 1e-7f);
        }
        try (ImageModel m = Models.createModel(
                "tv/efficientnet_b0", ModelOptions.builder().dropPathRate(0).build())) {
            assertEquals(0f, max(dropPathRates(m)));
        }
        // timm's families have no default of their own: unset is 0
        assertTrue(dropPathRates(unbuilt("convnext_atto", ModelArgs.defaults())).isEmpty());
        assertTrue(dropPathRates(unbuilt("swin_tiny_patch4_window7_224", ModelArgs.defaults()))
                .isEmpty());
    }
}
