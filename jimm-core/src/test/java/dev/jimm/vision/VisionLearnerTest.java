package dev.jimm.vision;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import dev.jimm.data.DataLoaders;
import dev.jimm.data.InMemoryBatches;
import dev.jimm.parity.ReferenceInit;
import dev.jimm.train.Learner;
import dev.jimm.train.ParamGroup;
import dev.jimm.transforms.Preprocessing;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class VisionLearnerTest {
    private static DataLoaders tinyData(int classes) {
        int n = 16;
        float[] x = new float[n * 3 * 32 * 32];
        long[] y = new long[n];
        for (int i = 0; i < n; i++) {
            y[i] = i % classes;
            for (int j = 0; j < 3 * 32 * 32; j++) {
                x[i * 3 * 32 * 32 + j] = (float) Math.sin(0.01 * j * (1 + y[i]));
            }
        }
        List<String> names = new ArrayList<>();
        for (int i = 0; i < classes; i++) {
            names.add("class" + i);
        }
        return new DataLoaders(
                new InMemoryBatches(x, y, new long[] {3, 32, 32}, 8, true, true, 0),
                new InMemoryBatches(x, y, new long[] {3, 32, 32}, 8, false, false, 0),
                names);
    }

    @Test
    void fastaiHeadHasFastaisLayersAndKeys() {
        try (VisionModel m = VisionLearner.buildModel(VisionLearner.Options.of("resnet18"), 7)) {
            Map<String, NDArray> sd = m.stateDict();
            assertEquals(new Shape(1024), sd.get("1.2.weight").getShape(), "BatchNorm1d on the concat-pooled 2x512");
            assertEquals(new Shape(512, 1024), sd.get("1.4.weight").getShape(), "bias-free Linear 1024 -> 512");
            assertFalse(sd.containsKey("1.4.bias"));
            assertEquals(new Shape(512), sd.get("1.6.running_var").getShape());
            assertEquals(new Shape(7, 512), sd.get("1.8.weight").getShape());
            assertTrue(sd.containsKey("0.layer4.1.bn2.weight"));
            try (NDManager s = m.getManager().newSubManager()) {
                assertEquals(
                        new Shape(2, 7),
                        m.forward(ReferenceInit.input(s, new Shape(2, 3, 64, 64), 0))
                                .getShape());
            }
        }
    }

    @Test
    void resnetGroupsAreFastaisSplit() {
        try (VisionModel m = VisionLearner.buildModel(VisionLearner.Options.of("resnet18"), 3)) {
            List<ParamGroup> g = VisionLearner.paramGroups(m);
            assertEquals(3, g.size());
            assertTrue(g.get(0).params().containsKey("0.conv1.weight"));
            assertTrue(g.get(0).params().containsKey("0.layer2.1.bn2.bias"));
            assertFalse(g.get(0).params().keySet().stream().anyMatch(k -> k.startsWith("0.layer3")));
            assertTrue(g.get(1).params().keySet().stream()
                    .allMatch(k -> k.startsWith("0.layer3") || k.startsWith("0.layer4")));
            assertTrue(g.get(2).params().keySet().stream().allMatch(k -> k.startsWith("1.")));
            int total = g.stream().mapToInt(p -> p.params().size()).sum();
            assertEquals(m.namedParameters().size(), total, "every parameter in exactly one group");
        }
    }

    @Test
    void fineTuneSpreadsItsRatesOverTheGroupsByLrMult() {
        for (double mult : new double[] {100, 10, 1}) {
            try (Learner l = VisionLearner.create(tinyData(3), VisionLearner.Options.of("resnet18"), b -> {})) {
                l.fineTune(1, 1e-2, 0, mult);
                double[] lrs = l.plan().lrMax();
                // fastai: base_lr / 2 for the head, spread geometrically down to (base_lr / 2) / lr_mult
                assertEquals(3, lrs.length);
                assertEquals(5e-3, lrs[2], 1e-12);
                assertEquals(5e-3 / mult, lrs[0], 1e-12);
                assertEquals(Math.sqrt(lrs[0] * lrs[2]), lrs[1], 1e-12);
            }
        }
    }

    @Test
    void freezeLeavesExactlyTheHeadAndNormsTrainable() {
        try (Learner l = VisionLearner.create(tinyData(3), VisionLearner.Options.of("resnet18"), b -> {})) {
            Map<String, Parameter> params = l.model().namedParameters();
            l.freeze();
            for (Map.Entry<String, Parameter> e : params.entrySet()) {
                String k = e.getKey();
                boolean norm = k.matches("0\\.(bn1|layer\\d\\.\\d\\.(bn\\d|downsample\\.1))\\.(weight|bias)");
                boolean expected = k.startsWith("1.") || norm;
                assertEquals(expected, e.getValue().requiresGradient(), k);
            }
            l.freezeTo(1);
            assertFalse(params.get("0.conv1.weight").requiresGradient());
            assertTrue(params.get("0.layer3.0.conv1.weight").requiresGradient());
            l.unfreeze();
            assertTrue(params.values().stream().allMatch(Parameter::requiresGradient));
        }
    }

    @Test
    void frozenBodyWeightsDoNotMoveButNormsAndHeadDo() {
        try (Learner l = VisionLearner.create(tinyData(2), VisionLearner.Options.of("resnet18"), b -> {})) {
            float[] conv = l.model().stateDict().get("0.layer1.0.conv1.weight").toFloatArray();
            // the stem's norm: block norms start behind a zero-initialized last BN and get no gradient yet
            float[] bn = l.model().stateDict().get("0.bn1.weight").toFloatArray();
            float[] head = l.model().stateDict().get("1.8.weight").toFloatArray();
            l.freeze();
            l.fit(1, 1e-2);
            assertArrayEquals(
                    conv, l.model().stateDict().get("0.layer1.0.conv1.weight").toFloatArray());
            assertFalse(
                    Arrays.equals(bn, l.model().stateDict().get("0.bn1.weight").toFloatArray()));
            assertFalse(
                    Arrays.equals(head, l.model().stateDict().get("1.8.weight").toFloatArray()));
        }
    }

    @Test
    void exportRoundTripsAndItsBodySeedsANewLearner(@TempDir Path dir) {
        Path file = dir.resolve("model.safetensors");
        float[] out;
        try (Learner l = VisionLearner.create(
                tinyData(3), VisionLearner.Options.of("resnet18").seed(3), b -> {})) {
            l.fit(1, 1e-3);
            VisionModel m = (VisionModel) l.model();
            Export.write(
                    file,
                    m,
                    new Export.Spec(
                            "resnet18",
                            3,
                            FastaiHead.defaults(),
                            List.of("a", "b", "c"),
                            new Preprocessing(3, 32, "bilinear", 1.0, List.of(0.5, 0.5, 0.5), List.of(0.5, 0.5, 0.5))));
            try (NDManager s = m.getManager().newSubManager()) {
                out = m.forward(ReferenceInit.input(s, new Shape(2, 3, 32, 32), 1))
                        .toFloatArray();
            }
        }
        assertTrue(Export.isExport(file));
        Export.Spec spec = Export.readSpec(file);
        assertEquals(List.of("a", "b", "c"), spec.classes());
        assertEquals(32, spec.preprocessing().size());
        try (VisionModel loaded = Export.load(file);
                NDManager s = loaded.getManager().newSubManager()) {
            assertArrayEquals(
                    out,
                    loaded.forward(ReferenceInit.input(s, new Shape(2, 3, 32, 32), 1))
                            .toFloatArray(),
                    1e-5f);
        }
        // transfer: the exported body under a new head for 5 classes
        try (VisionModel fresh = VisionLearner.buildModel(
                        VisionLearner.Options.of("resnet18").weights(file), 5);
                VisionModel ref = Export.load(file)) {
            assertArrayEquals(
                    ref.stateDict().get("0.layer3.1.conv2.weight").toFloatArray(),
                    fresh.stateDict().get("0.layer3.1.conv2.weight").toFloatArray());
            assertEquals(new Shape(5, 512), fresh.stateDict().get("1.8.weight").getShape());
        }
    }
}
