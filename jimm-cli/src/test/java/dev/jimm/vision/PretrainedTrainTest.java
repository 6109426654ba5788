package dev.jimm.vision;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.jimm.cli.Main;
import dev.jimm.hub.SafetensorsFile;
import dev.jimm.hub.SafetensorsWriter;
import dev.jimm.hub.WeightHub;
import dev.jimm.models.ImageModel;
import dev.jimm.models.ModelOptions;
import dev.jimm.models.ModelRegistry;
import dev.jimm.models.Models;
import dev.jimm.models.PretrainedCfg;
import dev.jimm.train.Callback;
import dev.jimm.train.Learner;
import java.awt.image.BufferedImage;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --pretrained}: the body comes from the hub's cache (here a file we put there, in the layout {@link WeightHub}
 * uses), the head is new, training is fine_tune; offline without the file, one line naming the URL and the cache path.
 */
class PretrainedTrainTest {
    static final String ARCH = "resnet10t";

    /** Puts a freshly created model's state dict (seed 7, 1000 classes) where the hub caches the default tag. */
    static Path fakeCache(Path home) throws Exception {
        PretrainedCfg cfg = ModelRegistry.builtIn().config(ARCH);
        WeightHub hub = new WeightHub(WeightHub.Settings.from(k -> null, k -> null)
                .withHome(home)
                .withOffline(true)
                .withProgress(null));
        Path file = hub.sources(cfg).get(0).cacheFile();
        Files.createDirectories(file.getParent());
        try (ImageModel m =
                Models.createModel(ARCH, ModelOptions.builder().seed(7).build())) {
            SafetensorsWriter.write(file, m.stateDict(), Map.of());
        }
        return file;
    }

    static void assertBodyIs(Path cacheFile, Map<String, NDArray> model) {
        try (SafetensorsFile f = SafetensorsFile.open(cacheFile);
                NDManager m = NDManager.newBaseManager()) {
            Map<String, NDArray> sd = f.loadAll(m);
            int n = 0;
            for (Map.Entry<String, NDArray> e : model.entrySet()) {
                if (e.getKey().startsWith("0.")) {
                    NDArray want = sd.get(e.getKey().substring(2));
                    assertTrue(want != null, e.getKey() + " is not in the cached file");
                    assertArrayEquals(
                            want.toType(DataType.FLOAT32, false).toFloatArray(),
                            e.getValue().toType(DataType.FLOAT32, false).toFloatArray(),
                            0f,
                            e.getKey());
                    n++;
                }
            }
            assertEquals(
                    sd.keySet().stream().filter(k -> !k.startsWith("fc.")).count(),
                    n,
                    "every body key of the file loaded");
        }
    }

    static void writeFolder(Path root) throws Exception {
        for (int c = 0; c < 2; c++) {
            Path d = Files.createDirectories(root.resolve("class" + c));
            for (int i = 0; i < 10; i++) {
                BufferedImage img = new BufferedImage(40, 40, BufferedImage.TYPE_INT_RGB);
                for (int y = 0; y < 40; y++) {
                    for (int x = 0; x < 40; x++) {
                        int v = (c == 0 ? x : y) * 6 + i;
                        img.setRGB(x, y, (v << 16) | ((255 - v) << 8) | (i * 20));
                    }
                }
                ImageIO.write(img, "png", d.resolve("img" + i + ".png").toFile());
            }
        }
    }

    @Test
    void bodyComesFromTheHubCacheAndTheHeadIsNew(@TempDir Path home) throws Exception {
        Path file = fakeCache(home);
        WeightHub hub = new WeightHub(WeightHub.Settings.from(k -> null, k -> null)
                .withHome(home)
                .withOffline(true)
                .withProgress(null));
        VisionLearner.Options o = VisionLearner.Options.of(ARCH).seed(3);
        try (VisionModel pre = VisionLearner.buildModel(o.pretrained(true).hub(hub), 4);
                VisionModel scratch = VisionLearner.buildModel(o, 4)) {
            assertBodyIs(file, pre.stateDict());
            // a seed-3 body is not the file's seed-7 one: the comparison above can fail
            assertFalse(Arrays.equals(
                    pre.stateDict().get("0.conv1.0.weight").toFloatArray(),
                    scratch.stateDict().get("0.conv1.0.weight").toFloatArray()));
            assertArrayEquals(
                    scratch.stateDict().get("1.8.weight").toFloatArray(),
                    pre.stateDict().get("1.8.weight").toFloatArray(),
                    "the head is the fresh init for 4 classes");
        }
    }

    @Test
    void trainPretrainedFineTunesFromTheCachedBody(@TempDir Path tmp) throws Exception {
        Path home = tmp.resolve("home");
        Path cacheFile = fakeCache(home);
        Path data = tmp.resolve("data");
        writeFolder(data);
        List<Map<String, float[]>> seenAtStart = new ArrayList<>();
        Callback check = new Callback() {
            @Override
            public void beforeFit(Learner l) {
                if (seenAtStart.isEmpty()) {
                    assertBodyIs(cacheFile, l.model().stateDict());
                    seenAtStart.add(Map.of());
                }
            }
        };
        String oldHome = System.getProperty("jimm.home");
        String oldOffline = System.getProperty("jimm.offline");
        System.setProperty("jimm.home", home.toString());
        System.setProperty("jimm.offline", "true");
        try {
            TrainRecipe.Config c = TrainRecipe.Config.builder(data.toString())
                    .model(ARCH)
                    .pretrained(true)
                    .epochs(1)
                    .lr(1e-3)
                    .freezeEpochs(1)
                    .batchSize(4)
                    .imgSize(32)
                    .validPct(0.25)
                    .seed(1)
                    .out(tmp.resolve("run"))
                    .threads(1)
                    .linearHead(true)
                    .build();
            TrainRecipe.Result r = TrainRecipe.run(c, List.of(check));
            assertEquals(1, seenAtStart.size(), "the body was checked before the first fit");
            assertTrue(r.metrics().get("accuracy") >= 0);
            // fine_tune: one frozen epoch, then one unfrozen
            assertEquals(
                    3, Files.readAllLines(r.runDir().resolve("metrics.csv")).size(), "header + 2 epochs");
            String cfg = Files.readString(r.runDir().resolve("config.json"));
            assertTrue(cfg.contains("\"pretrained\": true"), cfg);
            assertTrue(cfg.contains("--pretrained --freeze-epochs 1"), cfg);
            // the export carries the pretrained config's statistics, not the folder's; its resize is the one
            // training validated with (fastai's centre crop, so no crop_pct shrink)
            Export.Spec spec = Export.readSpec(r.runDir().resolve("model.safetensors"));
            PretrainedCfg pcfg = ModelRegistry.builtIn().config(ARCH);
            for (int i = 0; i < 3; i++) {
                assertEquals(pcfg.mean().get(i), spec.preprocessing().mean().get(i), 1e-6, "mean " + i);
                assertEquals(pcfg.std().get(i), spec.preprocessing().std().get(i), 1e-6, "std " + i);
            }
            assertEquals(32, spec.preprocessing().size());
            assertEquals(1.0, spec.preprocessing().cropPct(), 1e-9);
            assertEquals("crop", spec.preprocessing().resize());
            assertEquals(3, spec.inChans());
            // training moved the weights away from the file's
            try (VisionModel m = Export.load(r.runDir().resolve("model.safetensors"));
                    SafetensorsFile f = SafetensorsFile.open(cacheFile);
                    NDManager nm = NDManager.newBaseManager()) {
                assertNotEquals(
                        Arrays.toString(f.load("layer4.0.conv1.weight", nm).toFloatArray()),
                        Arrays.toString(
                                m.stateDict().get("0.layer4.0.conv1.weight").toFloatArray()));
            }
        } finally {
            restore("jimm.home", oldHome);
            restore("jimm.offline", oldOffline);
        }
    }

    @Test
    void offlineWithoutTheCacheIsOneLineNamingUrlAndPath(@TempDir Path tmp) throws Exception {
        Path data = tmp.resolve("data");
        writeFolder(data);
        Path home = tmp.resolve("empty-home");
        String oldHome = System.getProperty("jimm.home");
        String oldOffline = System.getProperty("jimm.offline");
        System.setProperty("jimm.home", home.toString());
        System.setProperty("jimm.offline", "1");
        String oldEndpoint = System.getProperty("jimm.hf.endpoint");
        System.setProperty("jimm.hf.endpoint", "https://huggingface.co");
        try {
            StringWriter out = new StringWriter();
            StringWriter err = new StringWriter();
            int status = Main.execute(
                    new String[] {
                        "train",
                        data.toString(),
                        "--pretrained",
                        "--model",
                        ARCH,
                        "--epochs",
                        "1",
                        "--img-size",
                        "32",
                        "--batch-size",
                        "4",
                        "--out",
                        tmp.resolve("run").toString()
                    },
                    new PrintWriter(out),
                    new PrintWriter(err));
            assertNotEquals(0, status);
            String e = err.toString().strip();
            assertEquals(1, e.lines().count(), e);
            assertFalse(e.contains("\tat "), e);
            PretrainedCfg cfg = ModelRegistry.builtIn().config(ARCH);
            assertTrue(e.contains("https://huggingface.co/" + cfg.hfHubId() + "/resolve/main/model.safetensors"), e);
            assertTrue(e.contains(home.toAbsolutePath().resolve("hub").toString()), e);
            assertTrue(e.contains("offline"), e);
        } finally {
            restore("jimm.hf.endpoint", oldEndpoint);
            restore("jimm.home", oldHome);
            restore("jimm.offline", oldOffline);
        }
    }

    private static void restore(String key, String value) {
        if (value == null) {
            System.clearProperty(key);
        } else {
            System.setProperty(key, value);
        }
    }
}
