package dev.jimm.models;

import static dev.jimm.models.ModelTesting.input;
import static dev.jimm.models.ModelTesting.unbuilt;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.jimm.JimmException;
import java.util.Arrays;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Per-name facts of the registered models as timm and torchvision publish them (parameter counts, widths) and the
 * shapes their heads give for each pooling, one table per kind of fact. {@link ModelContractTest} checks the API on the
 * smallest name of each family and the parity fixtures check the outputs; these tables pin the numbers of the other
 * names. The counts and the widths that are not built come from shapes only, without arrays.
 */
class ModelFactsTest {
    /**
     * torchvision 0.26's num_params (its weights tables) and the param_count of timm's parity fixtures, exactly: the
     * parameters alone (Swin's persistent relative position indices are not counted).
     */
    @ParameterizedTest(name = "{0}")
    @CsvSource({
        "tv/convnext_tiny, 28589128",
        "tv/convnext_small, 50223688",
        "tv/convnext_base, 88591464",
        "tv/convnext_large, 197767336",
        "convnext_atto, 3695520",
        "convnextv2_atto, 3708400",
        "tv/regnet_x_400mf, 5495976",
        "tv/regnet_x_800mf, 7259656",
        "tv/regnet_x_1_6gf, 9190136",
        "tv/regnet_x_3_2gf, 15296552",
        "tv/regnet_x_8gf, 39572648",
        "tv/regnet_x_16gf, 54278536",
        "tv/regnet_x_32gf, 107811560",
        "tv/regnet_y_400mf, 4344144",
        "tv/regnet_y_800mf, 6432512",
        "tv/regnet_y_1_6gf, 11202430",
        "tv/regnet_y_3_2gf, 19436338",
        "tv/regnet_y_8gf, 39381472",
        "tv/regnet_y_16gf, 83590140",
        "tv/regnet_y_32gf, 145046770",
        "tv/regnet_y_128gf, 644812894",
        "tv/mobilenet_v2, 3504872",
        "tv/mobilenet_v3_large, 5483032",
        "tv/mobilenet_v3_small, 2542856",
        "tv/efficientnet_b0, 5288548",
        "tv/efficientnet_b1, 7794184",
        "tv/efficientnet_b2, 9109994",
        "tv/efficientnet_b3, 12233232",
        "tv/efficientnet_b4, 19341616",
        "tv/efficientnet_b5, 30389784",
        "tv/efficientnet_b6, 43040704",
        "tv/efficientnet_b7, 66347960",
        "tv/efficientnet_v2_s, 21458488",
        "tv/efficientnet_v2_m, 54139356",
        "tv/efficientnet_v2_l, 118515272",
        "tv/mnasnet0_5, 2218512",
        "tv/mnasnet0_75, 3170208",
        "tv/mnasnet1_0, 4383312",
        "tv/mnasnet1_3, 6282256",
        "tv/shufflenet_v2_x0_5, 1366792",
        "tv/shufflenet_v2_x1_0, 2278604",
        "tv/shufflenet_v2_x1_5, 3503624",
        "tv/shufflenet_v2_x2_0, 7393996",
        "tv/googlenet, 6624904",
        "tv/swin_t, 28288354",
        "tv/swin_s, 49606258",
        "tv/swin_b, 87768224",
        "tv/swin_v2_t, 28351570",
        "tv/swin_v2_s, 49737442",
        "tv/swin_v2_b, 87930848",
        "ghostnet_100, 5182508",
    })
    void exactParameterCounts(String name, long expected) {
        assertEquals(expected, unbuilt(name).numParameters(), name);
        if (name.startsWith("tv/")) {
            assertEquals("torchvision", ModelRegistry.builtIn().entry(name).family(), name);
        }
    }

    /**
     * timm's published parameter counts (results-imagenet.csv and the model cards), in millions to two decimals; a
     * width, depth, SE or head that differs from timm's moves them. GhostNet V3 is counted in its training form.
     */
    @ParameterizedTest(name = "{0}")
    @CsvSource({
        "efficientnet_b3, 12.23",
        "mixnet_s, 4.13",
        "mixnet_xl, 11.90",
        "tf_efficientnetv2_m, 54.14",
        "efficientnetv2_rw_s, 23.94",
        "tinynet_e, 2.04",
        "mobilenetv1_100, 4.23",
        "efficientnet_b8, 87.41",
        "mobilenet_edgetpu_v2_m, 8.46",
        "tf_efficientnet_el, 10.59",
        "efficientnet_cc_b0_8e, 24.01",
        "gc_efficientnetv2_rw_t, 13.68",
        "mobilenetv4_conv_small, 3.77",
        "mobilenetv4_conv_medium, 9.72",
        "mobilenetv4_conv_large, 32.59",
        "mobilenetv4_hybrid_medium, 11.07",
        "mobilenetv4_hybrid_large, 37.76",
        "mobilenetv3_large_100, 5.48",
        "lcnet_050, 1.88",
        "fbnetv3_g, 16.62",
        "ghostnetv2_100, 6.16",
        "ghostnetv2_130, 8.96",
        "ghostnetv2_160, 12.39",
        "ghostnetv3_100, 8.13",
    })
    void timmParameterCountsInMillions(String name, double millions) {
        assertEquals(millions, unbuilt(name).numParameters() / 1e6, 0.005, name);
    }

    /** timm's num_features: the width the classifier sees (before any head conv), from the unbuilt model. */
    @ParameterizedTest(name = "{0}")
    @CsvSource({
        "resnet18, 512",
        "resnet50, 2048",
        "densenet121, 1024",
        "densenet264d, 4032",
        "mobilenetv2_050, 1280", // max(1280, round(640)): a narrow net keeps the 1280-wide head
        "mobilenetv2_140, 1792", // a 1.4 width multiplier widens the head
        "mobilenetv3_small_100, 576", // the trunk's width: the head conv comes after pooling
        "ghostnet_050, 480",
        "vit_tiny_patch16_224, 192",
        "tv/shufflenet_v2_x2_0, 2048",
        "tv/googlenet, 1024",
    })
    void numFeatures(String name, int expected) {
        assertEquals(expected, unbuilt(name).numFeatures(), name);
    }

    /**
     * With numClasses 0 the model gives its pooled features ({@code width}, wider than numFeatures where a head conv or
     * hidden layer follows the pooling): the final classifier's {@code goneKey} is not in the state_dict, the layers
     * before it ({@code keptKey}, when given) are.
     */
    @ParameterizedTest(name = "{0}")
    @CsvSource({
        "resnet18, 64, 512, fc.weight,",
        "resnet50, 64, 2048, fc.weight,",
        "tv/mobilenet_v2, 64, 1280, classifier.1.weight,",
        "tv/mobilenet_v3_small, 64, 1024, classifier.3.weight, classifier.0.weight",
        "tv/efficientnet_b0, 64, 1280, classifier.1.weight,",
        "tv/mnasnet0_5, 64, 1280, classifier.1.weight,",
        "mobilenetv2_050, 64, 1280, classifier.weight,",
        "mobilenetv2_140, 64, 1792, classifier.weight,",
        "mobilenetv3_small_100, 64, 1024, classifier.weight, conv_head.bias",
        "ghostnet_050, 64, 1280, classifier.weight, conv_head.weight",
        "vit_tiny_patch16_224, 224, 192, head.weight,",
    })
    void numClassesZeroGivesPooledFeatures(String name, int size, long width, String goneKey, String keptKey) {
        try (ImageModel m = Models.createModel(
                        name, ModelOptions.builder().numClasses(0).build());
                NDManager s = m.getManager().newSubManager()) {
            assertEquals(new Shape(2, width), m.forward(input(s, size)).getShape(), name);
            assertFalse(m.stateDict().containsKey(goneKey), name + " has " + goneKey + " with numClasses 0");
            if (keptKey != null) {
                assertTrue(m.stateDict().containsKey(keptKey), name + " lost " + keptKey);
            }
        }
    }

    /**
     * An empty global pool gives the unpooled maps (tokens for a ViT), through any head conv that timm runs on them;
     * with classes but no pooling the model is refused where timm refuses it.
     */
    @ParameterizedTest(name = "{0}")
    @CsvSource({
        "resnet18, 64, 512x2x2",
        "tv/mobilenet_v2, 64, 1280x2x2",
        "tv/mobilenet_v3_small, 64, 576x2x2",
        "mobilenetv2_050, 96, 1280x3x3",
        "mobilenetv3_small_050, 96, 1024x3x3",
        "ghostnet_050, 64, 1280x2x2",
        "test_vit, 160, 101x64",
    })
    void emptyGlobalPoolGivesTheMaps(String name, int size, String maps) {
        long[] dims = Arrays.stream(maps.split("x")).mapToLong(Long::parseLong).toArray();
        try (ImageModel m = Models.createModel(
                        name,
                        ModelOptions.builder().numClasses(0).globalPool("").build());
                NDManager s = m.getManager().newSubManager()) {
            assertEquals(
                    new Shape(2).addAll(new Shape(dims)),
                    m.forward(input(s, size)).getShape(),
                    name);
        }
    }

    /** A classifier needs pooling (timm's ValueError), or a pooling the architecture supports. */
    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({
        "resnet18, 10, ''",
        "densenet121, 10, ''",
        "tv/convnext_tiny, 3, ''",
        "regnetx_002, 10, ''",
        "mobilenetv2_050, 5, ''",
        "vgg11, 10, ''",
        "tv/mobilenet_v3_small, 10, ''",
        "swin_tiny_patch4_window7_224, 10, ''",
        "ghostnet_050, 1000, catavgmax",
        "test_vit, 1000, catavgmax",
        "tv/alexnet, 1000, max",
        "tv/squeezenet1_0, 1000, catavgmax",
    })
    void unsupportedPoolingIsRefused(String name, int numClasses, String pool) {
        assertThrows(
                JimmException.class,
                () -> Models.createModel(
                        name,
                        ModelOptions.builder()
                                .numClasses(numClasses)
                                .globalPool(pool)
                                .build()),
                name + " with pool '" + pool + "'");
    }
}
