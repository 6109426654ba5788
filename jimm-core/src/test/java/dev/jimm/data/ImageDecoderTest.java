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
        List<String> expectedFailures = List.of(
                "bomb_100000x100000.png",
                "empty.jpg",
                "not_an_image.jpg",
                "truncated_half.jpg",
                "truncated_skimage.jpg");
        for (Path f : files) {
            String n = f.getFileName().toString();
            if (expectedFailures.contains(n)) {
                ImageDecodeException e = assertThrows(ImageDecodeException.class, () -> decoder.decode(f), n);
                assertTrue(e.getMessage().contains(n), e.getMessage());
                assertEquals(f, e.file());
                String reason = switch (n) {
                    case "bomb_100000x100000.png" -> "limit";
                    case "empty.jpg" -> "empty file";
                    case "not_an_image.jpg" -> "not a recognized image format";
                    default -> "truncated";
                };
                assertTrue(e.getMessage().contains(reason), n + ": " + e.getMessage());
            } else {
                DecodedImage img = decoder.decode(f);
                assertEquals(3, img.channels(), n);
                assertEquals((long) img.width() * img.height() * 3, img.pixels().length);
            }
        }
    }

    @Test
    void chelseaVariantsAgreeWithTheLosslessBmp() {
        DecodedImage bmp = decodeSized(odd("chelsea.bmp"), 451, 300);
        assertEquals("bmp", bmp.format());
        // Lossy encodings of the same photo: a few levels apart on average, never a wrong layout.
        assertTrue(meanAbs(bmp, decoder.decode(odd("chelsea_progressive.jpg"))) < 6);
        assertTrue(meanAbs(bmp, decoder.decode(odd("chelsea.webp"))) < 8);
        assertTrue(
                meanAbs(bmp, decoder.decode(odd("chelsea_cmyk.jpg"))) < 12,
                "CMYK JPEG must be converted to RGB with correct colors");
        DecodedImage gray =
                new ImageDecoder(DecodeOptions.builder().channels(1).build()).decode(odd("chelsea_gray.jpg"));
        assertEquals(1, gray.channels());
        assertTrue(meanAbs(bmp.toGray(), gray) < 6);
    }

    @Test
    void exifOrientationMakesThePhotoUpright() {
        DecodedImage bmp = decoder.decode(odd("chelsea.bmp"));
        DecodedImage rotated = decodeSized(odd("chelsea_exif_orientation6.jpg"), 451, 300);
        assertTrue(meanAbs(bmp, rotated) < 6, "orientation 6 applied");
        DecodedImage raw = new ImageDecoder(
                        DecodeOptions.builder().applyExifOrientation(false).build())
                .decode(odd("chelsea_exif_orientation6.jpg"));
        assertEquals(300, raw.width());
        assertEquals(451, raw.height());
    }

    @Test
    void rgbaIsCompositedOnWhiteOrDropped() {
        // chelsea_rgba.png is chelsea.bmp's colors with alpha 128 everywhere.
        DecodedImage bmp = decoder.decode(odd("chelsea.bmp"));
        DecodedImage white = decoder.decode(odd("chelsea_rgba.png"));
        DecodedImage dropped = new ImageDecoder(
                        DecodeOptions.builder().alpha(DecodeOptions.Alpha.DROP).build())
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
        ImageDecodeException e =
                assertThrows(ImageDecodeException.class, () -> decoder.decode(odd("bomb_100000x100000.png")));
        assertTrue(e.getMessage().contains("100000x100000"), e.getMessage());
        assertTrue(e.getMessage().contains("limit"), e.getMessage());
        assertTrue(System.nanoTime() - t0 < 5_000_000_000L, "refused at once");
        Path pal = odd("palette_color.png"); // 10x10
        assertEquals(
                10,
                new ImageDecoder(DecodeOptions.builder().maxPixels(100).build())
                        .decode(pal)
                        .width());
        ImageDecoder tiny =
                new ImageDecoder(DecodeOptions.builder().maxPixels(99).build());
        assertThrows(ImageDecodeException.class, () -> tiny.decode(pal));
    }

    @Test
    void smallAndOddFormats() {
        decodeSized(odd("one_pixel.png"), 1, 1);
        DecodedImage pal = decoder.decode(odd("palette_color.png"));
        assertEquals(10, pal.width());
        assertEquals(
                "gif", decodeSized(odd("no_time_for_that_tiny.gif"), 14, 25).format());
        DecodedImage tif =
                new ImageDecoder(DecodeOptions.builder().channels(1).build()).decode(odd("chessboard_GRAY_U16.tif"));
        assertEquals(200, tif.width());
        assertEquals(1, tif.channels());
        // A chessboard: both dark and bright squares must survive the 16 -> 8 bit conversion.
        int min = 255, max = 0;
        for (byte b : tif.pixels()) {
            min = Math.min(min, b & 0xFF);
            max = Math.max(max, b & 0xFF);
        }
        assertTrue(max - min > 200, "min " + min + " max " + max);
        decodeSized(odd("wide_4000x60.jpg"), 4000, 60);
    }

    /** Decodes {@code file} with the default decoder and checks its size. */
    private DecodedImage decodeSized(Path file, int width, int height) {
        DecodedImage img = decoder.decode(file);
        assertEquals(width, img.width(), file + " width");
        assertEquals(height, img.height(), file + " height");
        return img;
    }

    private static Path format(String name) {
        return TestFiles.resource("images/formats/" + name);
    }

    /** Pillow's composite of value v with alpha a on white, as our decoder does it. */
    private static int onWhite(int v, int a) {
        return (v * a + 255 * (255 - a) + 127) / 255;
    }

    @Test
    void losslessTiffWebpAnd16BitPngGiveTheExactPixels() {
        // 96x72 crops of chelsea written by Pillow (see images/formats/README.md); all lossless.
        DecodedImage bmp = decodeSized(format("chelsea_crop.bmp"), 96, 72);
        DecodedImage tif = decoder.decode(format("chelsea_crop_rgb_lzw.tif"));
        assertEquals("tiff", tif.format());
        assertArrayEquals(bmp.pixels(), tif.pixels(), "8-bit RGB LZW TIFF");
        DecodedImage webp = decoder.decode(format("chelsea_crop_lossless.webp"));
        assertEquals("webp", webp.format());
        assertArrayEquals(bmp.pixels(), webp.pixels(), "lossless WebP");
        // Each 16-bit sample is v * 256 + noise: the high byte, as Pillow shows it, is the 8-bit value.
        DecodedImage png16 = decoder.decode(format("chelsea_crop_rgb16.png"));
        assertArrayEquals(bmp.pixels(), png16.pixels(), "16-bit RGB PNG");
    }

    @Test
    void alphaOfWebpAndGrayAlphaPngIsCompositedOnWhiteOrDropped() {
        DecodedImage bmp = decoder.decode(format("chelsea_crop.bmp"));
        ImageDecoder drop = new ImageDecoder(
                DecodeOptions.builder().alpha(DecodeOptions.Alpha.DROP).build());
        // Alpha is a vertical gradient: 1 in the top row, 254 in the bottom row (read with Pillow).
        int w = bmp.width(), last = bmp.height() - 1;
        DecodedImage webpDropped = drop.decode(format("chelsea_crop_rgba.webp"));
        assertArrayEquals(bmp.pixels(), webpDropped.pixels(), "RGB under the alpha kept as stored");
        DecodedImage webpWhite = decoder.decode(format("chelsea_crop_rgba.webp"));
        for (int x = 0; x < w; x++) {
            for (int c = 0; c < 3; c++) {
                assertEquals(onWhite(bmp.get(x, 0, c), 1), webpWhite.get(x, 0, c), "top row x " + x);
                assertEquals(onWhite(bmp.get(x, last, c), 254), webpWhite.get(x, last, c), "bottom row x " + x);
            }
        }
        DecodedImage gray = bmp.toGray();
        ImageDecoder oneChannel =
                new ImageDecoder(DecodeOptions.builder().channels(1).build());
        ImageDecoder oneChannelDrop = new ImageDecoder(DecodeOptions.builder()
                .channels(1)
                .alpha(DecodeOptions.Alpha.DROP)
                .build());
        DecodedImage laDropped = oneChannelDrop.decode(format("chelsea_crop_la.png"));
        assertEquals(1, laDropped.channels());
        assertArrayEquals(gray.pixels(), laDropped.pixels(), "LA PNG gray samples are Pillow's convert('L')");
        DecodedImage laWhite = oneChannel.decode(format("chelsea_crop_la.png"));
        for (int x = 0; x < w; x++) {
            assertEquals(onWhite(gray.get(x, 0, 0), 1), laWhite.get(x, 0, 0), "top row x " + x);
            assertEquals(onWhite(gray.get(x, last, 0), 254), laWhite.get(x, last, 0), "bottom row x " + x);
        }
        DecodedImage laRgb = decoder.decode(format("chelsea_crop_la.png"));
        assertEquals(3, laRgb.channels(), "gray becomes RGB by default");
        assertEquals(laWhite.get(5, 5, 0), laRgb.get(5, 5, 2));
    }

    @Test
    void missingFileNamesTheFile() {
        Path p = Path.of("/nonexistent/x.png");
        ImageDecodeException e = assertThrows(ImageDecodeException.class, () -> decoder.decode(p));
        assertTrue(e.getMessage().startsWith(p.toString()));
    }
}
