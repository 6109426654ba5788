package dev.jimm.data;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

class ImageDecoderTest {
    private final ImageDecoder decoder = new ImageDecoder();

    private static Path odd(String name) {
        return TestFiles.resource("images/odd/" + name);
    }

    private static double meanAbs(DecodedImage a, DecodedImage b) {
        assertEquals(a.width(), b.width());
        assertEquals(a.height(), b.height());
        assertEquals(a.channels(), b.channels());
        long s = 0;
        for (int i = 0; i < a.pixels().length; i++) {
            s += Math.abs((a.pixels()[i] & 0xFF) - (b.pixels()[i] & 0xFF));
        }
        return s / (double) a.pixels().length;
    }

    @Test
    void everyOddFileGivesAPictureOrATypedError() throws IOException {
        List<Path> files;
        try (Stream<Path> s = Files.list(odd("chelsea.bmp").getParent())) {
            files = s.sorted().toList();
        }
        assertEquals(17, files.size());
        List<String> expectedFailures = List.of("bomb_100000x100000.png", "empty.jpg", "not_an_image.jpg",
                "truncated_half.jpg", "truncated_skimage.jpg");
        for (Path f : files) {
            String n = f.getFileName().toString();
            if (expectedFailures.contains(n)) {
                ImageDecodeException e = assertThrows(ImageDecodeException.class, () -> decoder.decode(f), n);
                assertTrue(e.getMessage().contains(n), e.getMessage());
                assertEquals(f, e.file());
            } else {
                DecodedImage img = decoder.decode(f);
                assertEquals(3, img.channels(), n);
                assertEquals((long) img.width() * img.height() * 3, img.pixels().length);
            }
        }
    }

    @Test
    void chelseaVariantsAgreeWithTheLosslessBmp() {
        DecodedImage bmp = decoder.decode(odd("chelsea.bmp"));
        assertEquals(451, bmp.width());
        assertEquals(300, bmp.height());
        assertEquals("bmp", bmp.format());
        // Lossy encodings of the same photo: a few levels apart on average, never a wrong layout.
        assertTrue(meanAbs(bmp, decoder.decode(odd("chelsea_progressive.jpg"))) < 6);
        assertTrue(meanAbs(bmp, decoder.decode(odd("chelsea.webp"))) < 8);
        assertTrue(meanAbs(bmp, decoder.decode(odd("chelsea_cmyk.jpg"))) < 12,
                "CMYK JPEG must be converted to RGB with correct colors");
        DecodedImage gray = new ImageDecoder(DecodeOptions.builder().channels(1).build())
                .decode(odd("chelsea_gray.jpg"));
        assertEquals(1, gray.channels());
        assertTrue(meanAbs(bmp.toGray(), gray) < 6);
    }

    @Test
    void exifOrientationMakesThePhotoUpright() {
        DecodedImage bmp = decoder.decode(odd("chelsea.bmp"));
        DecodedImage rotated = decoder.decode(odd("chelsea_exif_orientation6.jpg"));
        assertEquals(451, rotated.width());
        assertEquals(300, rotated.height());
        assertTrue(meanAbs(bmp, rotated) < 6, "orientation 6 applied");
        DecodedImage raw = new ImageDecoder(DecodeOptions.builder().applyExifOrientation(false).build())
                .decode(odd("chelsea_exif_orientation6.jpg"));
        assertEquals(300, raw.width());
        assertEquals(451, raw.height());
    }

    @Test
    void rgbaIsCompositedOnWhiteOrDropped() {
        // chelsea_rgba.png is chelsea.bmp's colors with alpha 128 everywhere.
        DecodedImage bmp = decoder.decode(odd("chelsea.bmp"));
        DecodedImage white = decoder.decode(odd("chelsea_rgba.png"));
        DecodedImage dropped = new ImageDecoder(DecodeOptions.builder().alpha(DecodeOptions.Alpha.DROP).build())
                .decode(odd("chelsea_rgba.png"));
        assertEquals(0.0, meanAbs(bmp, dropped), "dropping alpha keeps the stored colors");
        for (int i = 0; i < bmp.pixels().length; i++) {
            int v = bmp.pixels()[i] & 0xFF;
            // v * a + white * (1 - a), a = 128/255, rounded
            assertEquals((v * 128 + 255 * 127 + 127) / 255, white.pixels()[i] & 0xFF);
        }
    }

    @Test
    void bombIsRefusedFromTheHeaderAndLimitIsConfigurable() {
        long t0 = System.nanoTime();
        ImageDecodeException e = assertThrows(ImageDecodeException.class,
                () -> decoder.decode(odd("bomb_100000x100000.png")));
        assertTrue(e.getMessage().contains("100000x100000"), e.getMessage());
        assertTrue(e.getMessage().contains("limit"), e.getMessage());
        assertTrue(System.nanoTime() - t0 < 5_000_000_000L, "refused at once");
        Path pal = odd("palette_color.png"); // 10x10
        assertEquals(10, new ImageDecoder(DecodeOptions.builder().maxPixels(100).build()).decode(pal).width());
        ImageDecoder tiny = new ImageDecoder(DecodeOptions.builder().maxPixels(99).build());
        assertThrows(ImageDecodeException.class, () -> tiny.decode(pal));
    }

    @Test
    void smallAndOddFormats() {
        DecodedImage one = decoder.decode(odd("one_pixel.png"));
        assertEquals(1, one.width());
        assertEquals(1, one.height());
        DecodedImage pal = decoder.decode(odd("palette_color.png"));
        assertEquals(10, pal.width());
        DecodedImage gif = decoder.decode(odd("no_time_for_that_tiny.gif"));
        assertEquals(14, gif.width());
        assertEquals(25, gif.height());
        assertEquals("gif", gif.format());
        DecodedImage tif = new ImageDecoder(DecodeOptions.builder().channels(1).build())
                .decode(odd("chessboard_GRAY_U16.tif"));
        assertEquals(200, tif.width());
        assertEquals(1, tif.channels());
        // A chessboard: both dark and bright squares must survive the 16 -> 8 bit conversion.
        int min = 255, max = 0;
        for (byte b : tif.pixels()) {
            min = Math.min(min, b & 0xFF);
            max = Math.max(max, b & 0xFF);
        }
        assertTrue(max - min > 200, "min " + min + " max " + max);
        DecodedImage wide = decoder.decode(odd("wide_4000x60.jpg"));
        assertEquals(4000, wide.width());
        assertEquals(60, wide.height());
    }

    @Test
    void missingFileNamesTheFile() {
        Path p = Path.of("/nonexistent/x.png");
        ImageDecodeException e = assertThrows(ImageDecodeException.class, () -> decoder.decode(p));
        assertTrue(e.getMessage().startsWith(p.toString()));
    }
}
