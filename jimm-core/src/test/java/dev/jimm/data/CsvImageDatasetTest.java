package dev.jimm.data;

import static org.junit.jupiter.api.Assertions.*;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CsvImageDatasetTest {
    @Test
    void readsLabelsAndValidColumn(@TempDir Path dir) throws Exception {
        for (String n : new String[] {"a.png", "b, c.png", "d.png"}) {
            ImageIO.write(
                    new BufferedImage(3, 2, BufferedImage.TYPE_INT_RGB),
                    "png",
                    dir.resolve(n).toFile());
        }
        Files.writeString(
                dir.resolve("labels.csv"),
                "fname,label,is_valid\na.png,zebra,False\n\"b, c.png\",ant,True\nd.png,zebra,False\n");
        CsvImageDataset all = CsvImageDataset.of(dir.resolve("labels.csv"), dir, "fname", "label", new ImageDecoder());
        assertEquals(3, all.size());
        assertEquals(List.of("ant", "zebra"), all.classes());
        assertEquals(0, all.label(1));
        assertEquals(3, all.image(1).width(), "quoted file name with a comma");
        Split s =
                CsvImageDataset.split(dir.resolve("labels.csv"), dir, "fname", "label", "is_valid", new ImageDecoder());
        assertEquals(2, s.train().size());
        assertEquals(1, s.valid().size());
        assertArrayEquals(new int[] {0, 2}, s.train().countsPerClass());
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> CsvImageDataset.of(dir.resolve("labels.csv"), dir, "file", "label", new ImageDecoder()));
        assertTrue(e.getMessage().contains("labels.csv") && e.getMessage().contains("file"), e.getMessage());
    }
}
