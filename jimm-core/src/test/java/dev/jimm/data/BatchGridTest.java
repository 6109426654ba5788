package dev.jimm.data;

import static org.junit.jupiter.api.Assertions.*;

import ai.djl.ndarray.NDManager;
import dev.jimm.transforms.Interpolation;
import dev.jimm.transforms.Pipelines;
import dev.jimm.transforms.Preprocessing;
import dev.jimm.transforms.TimmAugment;
import dev.jimm.vision.TrainRecipe;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BatchGridTest {
    /** A class folder of the real test photos: a/ camera, chelsea; b/ coffee, rocket. */
    static Path realFolder(Path root) throws Exception {
        String[][] layout = {{"a", "camera.png"}, {"a", "chelsea.png"}, {"b", "coffee.png"}, {"b", "rocket.jpg"}};
        for (String[] l : layout) {
            Files.createDirectories(root.resolve(l[0]));
            Files.copy(
                    TestFiles.resource("images/real/" + l[1]),
                    root.resolve(l[0]).resolve(l[1]));
        }
        return root;
    }

    @Test
    void showBatchWritesCaptionedGrid(@TempDir Path tmp) throws Exception {
        IdxDataset ds = IdxDataset.fashionMnist(TrainRecipe.samplesDir().resolve("fashion-mnist"), false);
        Preprocessing cfg = new Preprocessing(1, 28, "bilinear", 1.0, List.of(0.5), List.of(0.5));
        try (NDManager root = NDManager.newBaseManager()) {
            DataLoader loader = DataLoader.builder(ds, Pipelines.createTransform(cfg, false), root)
                    .batchSize(8)
                    .shuffle(false)
                    .threads(1)
                    .build();
            try (DataLoader.EpochIterator it = loader.iterator();
                    Batch b = it.next()) {
                Path png = tmp.resolve("grid.png");
                BatchGrid.write(b, ds.classes(), new float[] {0.5f}, new float[] {0.5f}, 4, png);
                BufferedImage g = ImageIO.read(png.toFile());
                // 28 px tiles zoomed x4 to 112, 4 px gaps, 14 px captions: 4 x 116 by 2 x 130.
                assertEquals(4 * 116, g.getWidth());
                assertEquals(2 * 130, g.getHeight());
                // Tile 5 (row 1, col 1), pixel (10, 20) of the image, shown at zoom 4, gray in all channels.
                int v = ds.image(5).get(10, 20, 0);
                int rgb = g.getRGB(116 + 10 * 4 + 1, 130 + 20 * 4 + 1);
                assertEquals(v, rgb & 0xFF);
                assertEquals(v, (rgb >> 16) & 0xFF);
                // Some caption text was drawn below the first tile.
                boolean dark = false;
                for (int x = 0; x < 112; x++) {
                    for (int y = 112; y < 126; y++) {
                        dark |= (g.getRGB(x, y) & 0xFF) < 128;
                    }
                }
                assertTrue(dark);
            }
        }
    }

    @Test
    void realImageFolderLoaderIsThreadCountIndependent(@TempDir Path tmp) throws Exception {
        ImageFolderDataset ds = ImageFolderDataset.of(realFolder(tmp), new ImageDecoder());
        assertEquals(List.of("a", "b"), ds.classes());
        Preprocessing cfg = Preprocessing.imagenet(64, Interpolation.BICUBIC, 0.875);
        List<List<float[]>> runs = new ArrayList<>();
        try (NDManager root = NDManager.newBaseManager()) {
            for (int threads : new int[] {1, 3}) {
                DataLoader loader = DataLoader.builder(
                                ds,
                                Pipelines.createTransform(cfg, true, new TimmAugment(0.5, 0, 2, 9, false, 0.25)),
                                root)
                        .batchSize(2)
                        .seed(3)
                        .threads(threads)
                        .build();
                List<float[]> out = new ArrayList<>();
                for (Batch b : loader) {
                    try (b) {
                        out.add(b.data().toFloatArray());
                    }
                }
                runs.add(out);
            }
        }
        assertEquals(2, runs.get(0).size());
        for (int i = 0; i < 2; i++) {
            assertArrayEquals(runs.get(0).get(i), runs.get(1).get(i));
        }
    }
}
