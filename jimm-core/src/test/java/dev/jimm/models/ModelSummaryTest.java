package dev.jimm.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.types.Shape;
import dev.jimm.TestFixtures;
import dev.jimm.parity.ParityFixture;
import org.junit.jupiter.api.Test;

class ModelSummaryTest {
    @Test
    void resnet50TotalsMatchTheReference() {
        long refParams = ParityFixture.read(TestFixtures.parity("timm__resnet50"))
                .meta()
                .get("param_count")
                .getAsLong();
        try (ImageModel m = Models.createModel("resnet50")) {
            ModelSummary s = ModelSummary.of(m, new Shape(1, 3, 224, 224));
            assertEquals(refParams, s.totalParams());
            assertEquals(refParams, s.trainableParams());
            // torchinfo reports 4.09 G mult-adds for ResNet-50 at 224
            assertEquals(4.09, s.multAdds() / 1e9, 0.01);
            ModelSummary.Row last = s.rows().stream()
                    .filter(r -> r.name().equals("layer4.2.conv3"))
                    .findFirst()
                    .orElseThrow();
            assertEquals(new Shape(1, 2048, 7, 7), last.outputShape());
            assertEquals(512L * 2048, last.params());
            ModelSummary.Row layer1 = s.rows().stream()
                    .filter(r -> r.name().equals("layer1"))
                    .findFirst()
                    .orElseThrow();
            assertEquals(215_808L, layer1.params());
            String text = s.format(2);
            assertTrue(text.contains("Total params: 25,557,032"), text);
            assertTrue(text.contains("Params size (MB): 102.23"), text);
        }
    }

    @Test
    void frozenParametersCountAsNonTrainable() {
        try (ImageModel m = Models.createModel("resnet18")) {
            m.namedParameters().get("fc.weight").freeze(true);
            ModelSummary s = ModelSummary.of(m, new Shape(1, 3, 64, 64));
            assertEquals(s.totalParams() - 512_000, s.trainableParams());
        }
    }
}
