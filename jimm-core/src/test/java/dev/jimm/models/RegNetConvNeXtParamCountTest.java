package dev.jimm.models;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Every registered RegNet and ConvNeXt name against the parameter count timm publishes for it (its results/*.csv
 * tables, millions to two decimals): a width, depth, group, SE or head that differs from timm's moves the count. Only
 * module shapes are built, no arrays.
 */
class RegNetConvNeXtParamCountTest {
    private static final Map<String, Double> TIMM_MILLIONS = Map.ofEntries(
            Map.entry("convnext_atto", 3.70),
            Map.entry("convnext_atto_ols", 3.70),
            Map.entry("convnext_atto_rms", 3.69),
            Map.entry("convnext_base", 88.59),
            Map.entry("convnext_femto", 5.22),
            Map.entry("convnext_femto_ols", 5.23),
            Map.entry("convnext_large", 197.77),
            Map.entry("convnext_large_mlp", 200.13),
            Map.entry("convnext_nano", 15.59),
            Map.entry("convnext_nano_ols", 15.65),
            Map.entry("convnext_pico", 9.05),
            Map.entry("convnext_pico_ols", 9.06),
            Map.entry("convnext_small", 50.22),
            Map.entry("convnext_tiny", 28.59),
            Map.entry("convnext_tiny_hnf", 28.59),
            Map.entry("convnext_xlarge", 350.20),
            Map.entry("convnext_xxlarge", 846.47),
            Map.entry("convnext_zepto_rms", 2.16),
            Map.entry("convnext_zepto_rms_ols", 2.16),
            Map.entry("convnextv2_atto", 3.71),
            Map.entry("convnextv2_base", 88.72),
            Map.entry("convnextv2_femto", 5.23),
            Map.entry("convnextv2_huge", 660.29),
            Map.entry("convnextv2_large", 197.96),
            Map.entry("convnextv2_nano", 15.62),
            Map.entry("convnextv2_pico", 9.07),
            Map.entry("convnextv2_small", 50.32),
            Map.entry("convnextv2_tiny", 28.64),
            Map.entry("test_convnext", 0.27),
            Map.entry("test_convnext2", 0.48),
            Map.entry("test_convnext3", 0.47),
            Map.entry("regnetv_040", 20.64),
            Map.entry("regnetv_064", 30.58),
            Map.entry("regnetx_002", 2.68),
            Map.entry("regnetx_004", 5.16),
            Map.entry("regnetx_004_tv", 5.50),
            Map.entry("regnetx_006", 6.20),
            Map.entry("regnetx_008", 7.26),
            Map.entry("regnetx_016", 9.19),
            Map.entry("regnetx_032", 15.30),
            Map.entry("regnetx_040", 22.12),
            Map.entry("regnetx_064", 26.21),
            Map.entry("regnetx_080", 39.57),
            Map.entry("regnetx_120", 46.11),
            Map.entry("regnetx_160", 54.28),
            Map.entry("regnetx_320", 107.81),
            Map.entry("regnety_002", 3.16),
            Map.entry("regnety_004", 4.34),
            Map.entry("regnety_006", 6.06),
            Map.entry("regnety_008", 6.26),
            Map.entry("regnety_008_tv", 6.43),
            Map.entry("regnety_016", 11.20),
            Map.entry("regnety_032", 19.44),
            Map.entry("regnety_040", 20.65),
            Map.entry("regnety_040_sgn", 20.65),
            Map.entry("regnety_064", 30.58),
            Map.entry("regnety_080", 39.18),
            Map.entry("regnety_080_tv", 39.38),
            Map.entry("regnety_120", 51.82),
            Map.entry("regnety_1280", 644.81),
            Map.entry("regnety_160", 83.59),
            Map.entry("regnety_2560", 1282.60),
            Map.entry("regnety_320", 145.05),
            Map.entry("regnety_640", 281.38),
            Map.entry("regnetz_005", 7.12),
            Map.entry("regnetz_040", 27.12),
            Map.entry("regnetz_040_h", 28.94));

    @Test
    void everyNameHasTimmsParameterCount() {
        List<String> wrong = new ArrayList<>();
        int checked = 0;
        ModelRegistry reg = ModelRegistry.builtIn();
        for (String family : List.of("regnet", "convnext")) {
            for (String name : reg.list("*")) {
                if (!reg.entry(name).family().equals(family)) {
                    continue;
                }
                Double expected = TIMM_MILLIONS.get(name);
                if (expected == null) {
                    wrong.add(name + ": no reference count");
                    continue;
                }
                long n = ModelTesting.paramCount(name);
                checked++;
                double millions = Math.round(n / 1e4) / 100.0;
                if (Math.abs(millions - expected) > 1e-9) {
                    wrong.add(name + ": " + n + " (" + millions + "M), timm " + expected + "M");
                }
            }
        }
        assertEquals(List.of(), wrong);
        assertEquals(TIMM_MILLIONS.size(), checked, "36 RegNet and 31 ConvNeXt names");
    }
}
