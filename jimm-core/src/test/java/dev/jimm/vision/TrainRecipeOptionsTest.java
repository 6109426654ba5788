package dev.jimm.vision;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import dev.jimm.train.Learner;
import dev.jimm.transforms.AugPolicy;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A recipe's weight decay and random erasing reach the optimizer, the data pipeline and the command line. */
class TrainRecipeOptionsTest {
    private static TrainRecipe.Config.Builder sample() {
        return TrainRecipe.Config.builder("fashion-mnist-sample")
                .model("airbench_s")
                .epochs(1)
                .batchSize(16)
                .lr(1e-3);
    }

    @Test
    void weightDecayReachesEveryParameterGroupOfTheOptimizer(@TempDir Path tmp) {
        for (double wd : new double[] {TrainRecipe.DEFAULT_WD, 0.05, 0}) {
            TrainRecipe.Config c = sample().wd(wd).build();
            try (NDManager manager = NDManager.newBaseManager()) {
                TrainRecipe.Data data = TrainRecipe.prepareData(c, manager);
                try (Learner l = TrainRecipe.learner(c, data, tmp.resolve("run-" + wd), List.of())) {
                    int groups = l.optimizer().groups().size();
                    assertTrue(groups >= 1);
                    for (int g = 0; g < groups; g++) {
                        assertEquals(wd, l.optimizer().hyper(g).wd, 0.0, "group " + g);
                    }
                }
            }
            String command = TrainRecipe.commandLine(c);
            assertEquals(wd != TrainRecipe.DEFAULT_WD, command.contains(" --wd "), command);
        }
        assertTrue(TrainRecipe.commandLine(sample().wd(0.05).build()).contains(" --wd 0.05"));
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class, () -> sample().wd(-0.1).build());
        assertTrue(e.getMessage().contains("wd (--wd) must be in [0, 1), got -0.1"), e.getMessage());
    }

    @Test
    void randomErasingReachesTheSmallPolicyAndOnlyTheSmallOrTimmOne() {
        TrainRecipe.Config c = sample().aug(AugPolicy.SMALL).reProb(0.25).build();
        try (NDManager manager = NDManager.newBaseManager()) {
            DataPipeline p = TrainRecipe.prepareData(c, manager).pipeline();
            assertEquals(0.25, p.timm().reProb(), 0.0);
            assertTrue(p.describe().contains("random erasing p 0.25"), p.describe());
        }
        assertTrue(TrainRecipe.commandLine(c).contains(" --reprob 0.25"), TrainRecipe.commandLine(c));
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> sample().aug(AugPolicy.FASTAI).reProb(0.25).build());
        assertTrue(
                e.getMessage().contains("--reprob belongs to --aug timm or small, got --aug fastai"), e.getMessage());
    }

    @Test
    void validateEveryReachesTheLearnerConfigJsonAndTheCommandLine(@TempDir Path tmp) {
        TrainRecipe.Config c = sample().validateEvery(3).build();
        try (NDManager manager = NDManager.newBaseManager()) {
            TrainRecipe.Data data = TrainRecipe.prepareData(c, manager);
            try (Learner l = TrainRecipe.learner(c, data, tmp.resolve("run"), List.of())) {
                assertFalse(l.validatesEpoch(0));
                assertFalse(l.validatesEpoch(1));
                assertTrue(l.validatesEpoch(2));
            }
            try (Learner l = TrainRecipe.learner(sample().build(), data, tmp.resolve("run-1"), List.of())) {
                assertTrue(l.validatesEpoch(0), "every epoch by default");
            }
            TrainRecipe.writeConfig(c, tmp, data);
            assertEquals(
                    3, TrainRecipe.readConfig(tmp.resolve("config.json"), tmp).validateEvery(), "--resume keeps it");
        }
        assertTrue(TrainRecipe.commandLine(c).endsWith(" --validate-every 3"), TrainRecipe.commandLine(c));
        assertFalse(TrainRecipe.commandLine(sample().build()).contains("--validate-every"));
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class, () -> sample().validateEvery(0).build());
        assertTrue(
                e.getMessage().contains("validateEvery (--validate-every) must be at least 1, got 0"), e.getMessage());
    }

    @Test
    void alternatingFlipReachesThePipelineConfigJsonAndTheCommandLine(@TempDir Path tmp) {
        TrainRecipe.Config c =
                sample().aug(AugPolicy.SMALL).flip(true).alternatingFlip(true).build();
        try (NDManager manager = NDManager.newBaseManager()) {
            TrainRecipe.Data data = TrainRecipe.prepareData(c, manager);
            DataPipeline p = data.pipeline();
            assertTrue(p.alternatingFlip());
            TrainRecipe.writeConfig(c, tmp, data);
            assertTrue(TrainRecipe.readConfig(tmp.resolve("config.json"), tmp).alternatingFlip(), "--resume keeps it");
            TrainRecipe.writeConfig(sample().build(), tmp, data);
            assertFalse(TrainRecipe.readConfig(tmp.resolve("config.json"), tmp).alternatingFlip());
            assertTrue(p.describe().contains("flips alternating by epoch"), p.describe());
            assertTrue(
                    p.trainTransform().toString().contains("alternatingFlip"),
                    p.trainTransform().toString());
            assertEquals(true, p.toJson().get("alternating_flip"));
        }
        assertTrue(TrainRecipe.commandLine(c).contains(" --flip --alternating-flip"), TrainRecipe.commandLine(c));
        assertFalse(TrainRecipe.commandLine(sample().build()).contains("--alternating-flip"));
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> sample().aug(AugPolicy.FASTAI).alternatingFlip(true).build());
        assertTrue(
                e.getMessage().contains("--alternating-flip needs flips and --aug small or none, got --aug fastai"),
                e.getMessage());
        e = assertThrows(
                IllegalArgumentException.class,
                () -> sample().flip(false).alternatingFlip(true).build());
        assertTrue(e.getMessage().contains("got --no-flip"), e.getMessage());
    }
}
