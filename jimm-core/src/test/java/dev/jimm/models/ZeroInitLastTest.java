package dev.jimm.models;

import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * timm's zero_init_last: on by default (each block's last norm weight at 0), off leaves it at 1 as torchvision does.
 */
class ZeroInitLastTest {
    static float[] weight(ImageModel m, String key) {
        return m.stateDict().get(key).toFloatArray();
    }

    @Test
    void resnetAndRegnetHonourIt() {
        for (String[] c : new String[][] {
            {"resnet18", "layer1.0.bn2.weight", "layer1.0.bn1.weight"},
            {"resnet50", "layer2.1.bn3.weight", "layer2.1.bn2.weight"},
            {"regnety_002", "s1.b1.conv3.bn.weight", "s1.b1.conv1.bn.weight"}
        }) {
            try (ImageModel timm = Models.createModel(
                            c[0], ModelOptions.builder().numClasses(0).build());
                    ImageModel tv = Models.createModel(
                            c[0],
                            ModelOptions.builder()
                                    .numClasses(0)
                                    .zeroInitLast(false)
                                    .build())) {
                for (float v : weight(timm, c[1])) {
                    assertTrue(v == 0f, c[0] + " " + c[1] + " starts at zero by default");
                }
                for (float v : weight(tv, c[1])) {
                    assertTrue(v == 1f, c[0] + " " + c[1] + " starts at one without zero_init_last");
                }
                // the other norms are untouched either way
                for (float v : weight(timm, c[2])) {
                    assertTrue(v == 1f, c[0] + " " + c[2] + " is not a last norm");
                }
            }
        }
    }
}
