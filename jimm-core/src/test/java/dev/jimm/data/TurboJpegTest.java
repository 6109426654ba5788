package dev.jimm.data;

import static org.junit.jupiter.api.Assertions.*;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.MemoryCacheImageOutputStream;
import org.junit.jupiter.api.Test;

/** libjpeg-turbo and the JDK's ImageIO reader must give the same pixels; odd files keep ImageIO's errors. */
class TurboJpegTest {
    private static final ImageDecoder TURBO = new ImageDecoder();
    private static final ImageDecoder IMAGEIO =
            new ImageDecoder(DecodeOptions.builder().libjpegTurbo(false).build());
    private static final ImageDecoder TURBO_GRAY =
            new ImageDecoder(DecodeOptions.builder().channels(1).build());
    private static final ImageDecoder IMAGEIO_GRAY = new ImageDecoder(
            DecodeOptions.builder().channels(1).libjpegTurbo(false).build());

    @Test
    void theNativeDecoderLoadsOnThisPlatform() {
        assertTrue(TurboJpeg.available(), "libjpeg-turbo not loaded: " + TurboJpeg.unavailableReason());
    }

    @Test
    void bundledJpegsDecodeToTheSamePixelsAsImageIo() throws IOException {
        List<String> files = List.of(
                "real/rocket.jpg",
                "odd/chelsea_progressive.jpg",
                "odd/chelsea_gray.jpg",
                "odd/chelsea_exif_orientation6.jpg",
                "odd/wide_4000x60.jpg",
                "odd/chelsea_cmyk.jpg");
        int fast = 0;
        for (String f : files) {
            Path p = TestFiles.resource("images/" + f);
            byte[] bytes = Files.readAllBytes(p);
            TurboJpeg.JpegHeader h = TurboJpeg.JpegHeader.parse(bytes);
            assertNotNull(h, f);
            ImageDecoder.Header io = IMAGEIO.header(p);
            assertEquals(io.width(), h.width(), f);
            assertEquals(io.height(), h.height(), f);
            if (TurboJpeg.accepts(h, bytes)) {
                fast++;
            }
            assertSamePixels(IMAGEIO.decode(p), TURBO.decode(p), f);
            assertSamePixels(IMAGEIO_GRAY.decode(p), TURBO_GRAY.decode(p), f + " (gray)");
        }
        assertEquals(5, fast, "every 8-bit gray/colour JPEG but the CMYK one takes the libjpeg-turbo path");
        // the EXIF rotation is applied on the fast path too: the stored picture has its sides swapped
        Path exif = TestFiles.resource("images/odd/chelsea_exif_orientation6.jpg");
        DecodedImage rotated = TURBO.decode(exif);
        DecodedImage stored = new ImageDecoder(
                        DecodeOptions.builder().applyExifOrientation(false).build())
                .decode(exif);
        assertEquals(stored.width(), rotated.height());
        assertEquals(stored.height(), rotated.width());
    }

    @Test
    void generatedJpegsOfEverySubsamplingAndQualityMatch() throws IOException {
        Random r = new Random(7);
        for (int k = 0; k < 12; k++) {
            int w = 17 + r.nextInt(300), h = 9 + r.nextInt(200);
            boolean gray = k % 4 == 3;
            BufferedImage bi =
                    new BufferedImage(w, h, gray ? BufferedImage.TYPE_BYTE_GRAY : BufferedImage.TYPE_3BYTE_BGR);
            // smooth gradients plus noise: both the DC and the AC paths of the IDCT matter
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    int v = (x * 255 / w + r.nextInt(40)) & 0xFF;
                    int g2 = (y * 255 / h + r.nextInt(40)) & 0xFF;
                    bi.setRGB(x, y, (v << 16) | (g2 << 8) | ((v + g2) / 2));
                }
            }
            byte[] bytes = jpeg(bi, 0.5f + 0.04f * k, k % 2 == 1);
            Path name = Path.of("generated" + k + ".jpg");
            assertTrue(TurboJpeg.accepts(TurboJpeg.JpegHeader.parse(bytes), bytes), "generated " + k);
            assertSamePixels(IMAGEIO.decode(bytes, name), TURBO.decode(bytes, name), name.toString());
        }
    }

    @Test
    void cutOrPaddedFilesStillGetImageIosVerdict() throws IOException {
        for (String f : List.of("truncated_half.jpg", "truncated_skimage.jpg")) {
            Path p = TestFiles.resource("images/odd/" + f);
            byte[] bytes = Files.readAllBytes(p);
            assertFalse(TurboJpeg.accepts(TurboJpeg.JpegHeader.parse(bytes), bytes), f + " has no end marker");
            ImageDecodeException e = assertThrows(ImageDecodeException.class, () -> TURBO.decode(p));
            assertTrue(e.getMessage().contains("truncated"), e.getMessage());
        }
        byte[] ok = Files.readAllBytes(TestFiles.resource("images/real/rocket.jpg"));
        byte[] cut = Arrays.copyOf(ok, ok.length * 2 / 3);
        assertThrows(ImageDecodeException.class, () -> TURBO.decode(cut, Path.of("cut.jpg")));
        byte[] padded = Arrays.copyOf(ok, ok.length + 5);
        assertTrue(TurboJpeg.accepts(TurboJpeg.JpegHeader.parse(padded), padded), "zero bytes after the end marker");
        assertSamePixels(TURBO.decode(ok, Path.of("ok.jpg")), TURBO.decode(padded, Path.of("padded.jpg")), "padded");
    }

    @Test
    void thePixelLimitIsCheckedFromTheHeaderFirst() throws IOException {
        byte[] ok = Files.readAllBytes(TestFiles.resource("images/real/rocket.jpg"));
        TurboJpeg.JpegHeader h = TurboJpeg.JpegHeader.parse(ok);
        ImageDecoder small = new ImageDecoder(DecodeOptions.builder()
                .maxPixels((long) h.width() * h.height() - 1)
                .build());
        ImageDecodeException e =
                assertThrows(ImageDecodeException.class, () -> small.decode(ok, Path.of("rocket.jpg")));
        assertTrue(e.getMessage().contains("limit"), e.getMessage());
    }

    @Test
    void headerParsingRefusesWhatIsNotABaselineOrProgressiveJpeg() {
        assertNull(TurboJpeg.JpegHeader.parse(new byte[0]));
        assertNull(TurboJpeg.JpegHeader.parse(new byte[] {(byte) 0x89, 'P', 'N', 'G'}));
        // SOI then a marker whose length runs past the end
        assertNull(TurboJpeg.JpegHeader.parse(
                new byte[] {(byte) 0xFF, (byte) 0xD8, (byte) 0xFF, (byte) 0xE0, 0x7F, 0x00}));
        // SOI, then a lossless (SOF3) frame: left to ImageIO
        byte[] sof3 = {(byte) 0xFF, (byte) 0xD8, (byte) 0xFF, (byte) 0xC3, 0, 11, 8, 0, 16, 0, 16, 1, 1, 0x11, 0};
        assertNull(TurboJpeg.JpegHeader.parse(sof3));
        byte[] sof0 = {(byte) 0xFF, (byte) 0xD8, (byte) 0xFF, (byte) 0xC0, 0, 11, 8, 0, 20, 0, 30, 1, 1, 0x11, 0};
        TurboJpeg.JpegHeader h = TurboJpeg.JpegHeader.parse(sof0);
        assertEquals(30, h.width());
        assertEquals(20, h.height());
        assertEquals(1, h.components());
    }

    private static byte[] jpeg(BufferedImage bi, float quality, boolean progressive) throws IOException {
        ImageWriter w = ImageIO.getImageWritersByFormatName("jpeg").next();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (MemoryCacheImageOutputStream ios = new MemoryCacheImageOutputStream(out)) {
            w.setOutput(ios);
            ImageWriteParam p = w.getDefaultWriteParam();
            p.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
            p.setCompressionQuality(quality);
            if (progressive) {
                p.setProgressiveMode(ImageWriteParam.MODE_DEFAULT);
            }
            w.write(null, new IIOImage(bi, null, null), p);
        } finally {
            w.dispose();
        }
        return out.toByteArray();
    }

    private static void assertSamePixels(DecodedImage expected, DecodedImage actual, String what) {
        assertEquals(expected.width(), actual.width(), what);
        assertEquals(expected.height(), actual.height(), what);
        assertEquals(expected.channels(), actual.channels(), what);
        byte[] a = expected.pixels(), b = actual.pixels();
        int diff = 0, max = 0;
        for (int i = 0; i < a.length; i++) {
            int d = Math.abs((a[i] & 0xFF) - (b[i] & 0xFF));
            if (d != 0) {
                diff++;
                max = Math.max(max, d);
            }
        }
        assertEquals(0, diff, what + ": " + diff + " of " + a.length + " samples differ (max " + max + ")");
    }
}
