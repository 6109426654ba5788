package dev.jimm.data;

import com.twelvemonkeys.imageio.stream.ByteArrayImageInputStream;
import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.ComponentColorModel;
import java.awt.image.DataBufferByte;
import java.awt.image.IndexColorModel;
import java.awt.image.PixelInterleavedSampleModel;
import java.awt.image.Raster;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import javax.imageio.IIOException;
import javax.imageio.ImageIO;
import javax.imageio.ImageReadParam;
import javax.imageio.ImageReader;
import javax.imageio.ImageTypeSpecifier;
import javax.imageio.event.IIOReadWarningListener;
import javax.imageio.stream.ImageInputStream;

/**
 * Decodes PNG, JPEG (baseline, progressive, gray, CMYK), BMP, GIF (first frame), TIFF and WebP into 8-bit
 * {@link DecodedImage}s through ImageIO and the TwelveMonkeys plugins; well-formed 8-bit gray and color JPEGs go
 * through libjpeg-turbo ({@link TurboJpeg}) instead, with the same pixels, faster.
 *
 * <p>Policy: the pixel count is checked from the header before any pixel is decoded; EXIF orientation of JPEGs is
 * applied; alpha is composited on white by default (like flattening onto a white page, so transparent regions do not
 * turn black) or dropped on request ({@link DecodeOptions.Alpha}); 16-bit gray samples keep their high byte, unless the
 * whole image fits in 0..255 (then values are taken as-is, as Pillow shows them); embedded ICC profiles of RGB images
 * are ignored, as in Pillow, so pixels are what torchvision-trained models saw; gray stays gray unless RGB is asked
 * for. Every failure is an {@link ImageDecodeException} naming the file. Thread safe: each call uses its own reader.
 */
public final class ImageDecoder {
    private final DecodeOptions options;

    public ImageDecoder(DecodeOptions options) {
        this.options = options;
    }

    public ImageDecoder() {
        this(DecodeOptions.defaults());
    }

    public DecodeOptions options() {
        return options;
    }

    /** Header facts of a file: size before EXIF orientation, and format. */
    public record Header(int width, int height, String format) {}

    /** Decodes a file with this decoder's options. */
    public DecodedImage decode(Path file) {
        byte[] bytes = readAll(file);
        return decode(bytes, file);
    }

    /** Decodes in-memory bytes; {@code name} is used in error messages only. */
    public DecodedImage decode(byte[] bytes, Path name) {
        if (bytes.length == 0) {
            throw new ImageDecodeException(name, "empty file (0 bytes)");
        }
        TurboJpeg.JpegHeader jpeg = options.libjpegTurbo() ? TurboJpeg.JpegHeader.parse(bytes) : null;
        if (TurboJpeg.accepts(jpeg, bytes) && TurboJpeg.available()) {
            checkPixels(name, jpeg.width(), jpeg.height());
            DecodedImage img = TurboJpeg.decode(bytes, jpeg);
            if (img != null) {
                if (img.channels() != options.channels()) {
                    img = options.channels() == 1 ? img.toGray() : img.toRgb();
                }
                return options.applyExifOrientation()
                        ? Orientation.apply(img, Orientation.exifOrientation(bytes))
                        : img;
            }
            // refused by libjpeg-turbo: ImageIO below gives the reason
        }
        ImageReader reader = null;
        // Reads straight from the array: ImageIO.createImageInputStream on an InputStream may buffer
        // through a temporary file and copies the bytes again.
        try (ImageInputStream in = new ByteArrayImageInputStream(bytes)) {
            reader = readerFor(in, bytes, name);
            List<String> warnings = new ArrayList<>();
            reader.addIIOReadWarningListener(warningCollector(warnings));
            reader.setInput(in, true, true);
            int w = reader.getWidth(0);
            int h = reader.getHeight(0);
            checkPixels(name, w, h);
            String format = reader.getFormatName().toLowerCase(Locale.ROOT);
            ImageReadParam param = reader.getDefaultReadParam();
            if (format.equals("jpeg")) {
                // Reading into the raw type keeps the decoded RGB samples as stored; the default type
                // converts embedded ICC profiles (e.g. Adobe RGB) to sRGB, which Pillow never does.
                ImageTypeSpecifier raw = reader.getRawImageType(0);
                if (raw != null && raw.getColorModel().getColorSpace().getType() == ColorSpace.TYPE_RGB) {
                    param.setDestinationType(raw);
                }
            }
            BufferedImage bi;
            try {
                bi = reader.read(0, param);
            } catch (IndexOutOfBoundsException | IllegalStateException | NegativeArraySizeException e) {
                throw new ImageDecodeException(name, "corrupt " + format + " data: " + e, e);
            }
            for (String warn : warnings) {
                // The JDK JPEG decoder pads a cut-off file with gray and only warns; Pillow refuses such
                // files by default, and a half-gray picture silently poisons training, so we refuse too.
                String lw = warn.toLowerCase(Locale.ROOT);
                if (lw.contains("premature") || lw.contains("truncat") || lw.contains("corrupt")) {
                    throw new ImageDecodeException(name, "truncated or corrupt " + format + " data: " + warn);
                }
            }
            DecodedImage img = toBytes(bi, format, options.channels(), options.alpha() == DecodeOptions.Alpha.DROP);
            if (options.applyExifOrientation() && format.equals("jpeg")) {
                img = Orientation.apply(img, Orientation.exifOrientation(bytes));
            }
            return img;
        } catch (ImageDecodeException e) {
            throw e;
        } catch (IIOException e) {
            throw new ImageDecodeException(name, reason(e), e);
        } catch (IOException e) {
            throw new ImageDecodeException(name, "read error: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            throw new ImageDecodeException(name, "corrupt image data: " + e, e);
        } finally {
            if (reader != null) {
                reader.dispose();
            }
        }
    }

    /**
     * An image already in memory (from a camera, a UI or {@code ImageIO.read}) with this decoder's channels and alpha
     * handling, as a decoded file would be.
     */
    public DecodedImage decode(BufferedImage image) {
        checkPixels(Path.of("BufferedImage"), image.getWidth(), image.getHeight());
        return toBytes(image, "memory", options.channels(), options.alpha() == DecodeOptions.Alpha.DROP);
    }

    /** Reads only the header: width, height (as stored, before EXIF orientation) and format. */
    public Header header(Path file) {
        byte[] bytes = readAll(file);
        if (bytes.length == 0) {
            throw new ImageDecodeException(file, "empty file (0 bytes)");
        }
        ImageReader reader = null;
        try (ImageInputStream in = new ByteArrayImageInputStream(bytes)) {
            reader = readerFor(in, bytes, file);
            reader.setInput(in, true, true);
            return new Header(
                    reader.getWidth(0),
                    reader.getHeight(0),
                    reader.getFormatName().toLowerCase(Locale.ROOT));
        } catch (ImageDecodeException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            throw new ImageDecodeException(file, "unreadable header: " + e.getMessage(), e);
        } finally {
            if (reader != null) {
                reader.dispose();
            }
        }
    }

    private void checkPixels(Path name, int w, int h) {
        long pixels = (long) w * h;
        if (w <= 0 || h <= 0) {
            throw new ImageDecodeException(name, "invalid image size " + w + "x" + h + " in header");
        }
        if (pixels > options.maxPixels()) {
            throw new ImageDecodeException(
                    name,
                    "image is " + w + "x" + h + " = " + pixels
                            + " pixels, more than the limit of " + options.maxPixels()
                            + " (possible decompression bomb; raise DecodeOptions.maxPixels to allow it)");
        }
    }

    private static byte[] readAll(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            return in.readAllBytes();
        } catch (NoSuchFileException e) {
            throw new ImageDecodeException(file, "no such file");
        } catch (IOException e) {
            throw new ImageDecodeException(file, "cannot read file: " + e.getMessage(), e);
        }
    }

    private static ImageReader readerFor(ImageInputStream in, byte[] bytes, Path name) {
        if (in == null) {
            throw new ImageDecodeException(name, "cannot open an image stream");
        }
        Iterator<ImageReader> it = ImageIO.getImageReaders(in);
        if (!it.hasNext()) {
            throw new ImageDecodeException(
                    name,
                    "not a recognized image format (first bytes: " + firstBytes(bytes)
                            + "); expected PNG, JPEG, BMP, GIF, TIFF or WebP");
        }
        return it.next();
    }

    private static String firstBytes(byte[] b) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < Math.min(8, b.length); i++) {
            sb.append(String.format("%02x", b[i] & 0xFF));
        }
        return sb.toString();
    }

    private static String reason(IIOException e) {
        String m = e.getMessage() == null ? e.toString() : e.getMessage();
        Throwable c = e.getCause();
        if (c != null && c.getMessage() != null && !m.contains(c.getMessage())) {
            m += " (" + c.getMessage() + ")";
        }
        if (m.toLowerCase(Locale.ROOT).contains("eof") || e.getCause() instanceof EOFException) {
            return "truncated file: " + m;
        }
        return "corrupt image data: " + m;
    }

    private static IIOReadWarningListener warningCollector(List<String> sink) {
        return (source, warning) -> sink.add(warning);
    }

    /** Converts any BufferedImage to 8-bit gray or RGB, compositing alpha on white unless dropped. */
    static DecodedImage toBytes(BufferedImage bi, String format, int channels, boolean dropAlpha) {
        int w = bi.getWidth(), h = bi.getHeight();
        ColorModel cm = bi.getColorModel();
        Raster r = bi.getRaster();
        boolean gray = cm.getColorSpace().getType() == ColorSpace.TYPE_GRAY && !(cm instanceof IndexColorModel);
        if (gray) {
            // Read gray samples directly: getRGB would push them through a linear-to-sRGB conversion.
            int bands = r.getNumBands();
            int bits = cm.getComponentSize(0);
            boolean alpha = cm.hasAlpha() && bands > 1 && !dropAlpha;
            int alphaBits = alpha ? cm.getComponentSize(bands - 1) : 0;
            byte[] g = new byte[w * h];
            int[] row = new int[w * bands];
            if (bits > 8) {
                // Many 16-bit files (e.g. scikit-image's) hold 0..255 values: Pillow shows those as-is,
                // whereas true 16-bit data (max above 255) keeps its high byte.
                int max = 0;
                for (int y = 0; y < h; y++) {
                    r.getPixels(0, y, w, 1, row);
                    for (int x = 0; x < w; x++) {
                        max = Math.max(max, row[x * bands]);
                    }
                }
                if (max <= 255) {
                    bits = 8;
                }
            }
            for (int y = 0; y < h; y++) {
                r.getPixels(0, y, w, 1, row);
                for (int x = 0; x < w; x++) {
                    int v = scaleTo8(row[x * bands], bits);
                    if (alpha) {
                        int a = scaleTo8(row[x * bands + bands - 1], alphaBits);
                        v = (v * a + 255 * (255 - a) + 127) / 255;
                    }
                    g[y * w + x] = (byte) v;
                }
            }
            DecodedImage img = new DecodedImage(w, h, 1, g, format);
            return channels == 3 ? img.toRgb() : img;
        }
        byte[] rgb = new byte[w * h * 3];
        boolean rawRgb = cm instanceof ComponentColorModel
                && cm.getColorSpace().getType() == ColorSpace.TYPE_RGB
                && (r.getNumBands() == 3 || (r.getNumBands() == 4 && cm.hasAlpha()));
        if (rawRgb && interleavedBytes(r, cm)) {
            copyInterleaved(r, cm, rgb, dropAlpha);
        } else if (rawRgb) {
            // Samples as stored, ignoring any embedded ICC profile, as Pillow (and so torchvision) does:
            // getRGB would convert to sRGB and shift colors away from what pretrained models saw.
            int bands = r.getNumBands();
            int bits = cm.getComponentSize(0);
            int alphaBits = bands == 4 ? cm.getComponentSize(3) : 8;
            int[] row = new int[w * bands];
            for (int y = 0; y < h; y++) {
                r.getPixels(0, y, w, 1, row);
                for (int x = 0; x < w; x++) {
                    int a = bands == 4 && !dropAlpha ? scaleTo8(row[x * bands + 3], alphaBits) : 255;
                    for (int c = 0; c < 3; c++) {
                        int v = scaleTo8(row[x * bands + c], bits);
                        if (a != 255) {
                            v = (v * a + 255 * (255 - a) + 127) / 255;
                        }
                        rgb[(y * w + x) * 3 + c] = (byte) v;
                    }
                }
            }
        } else {
            int[] argb = new int[w];
            for (int y = 0; y < h; y++) {
                bi.getRGB(0, y, w, 1, argb, 0, w);
                for (int x = 0; x < w; x++) {
                    int p = argb[x];
                    int a = dropAlpha ? 255 : p >>> 24, rr = (p >> 16) & 0xFF, gg = (p >> 8) & 0xFF, bb = p & 0xFF;
                    if (a != 255) {
                        rr = (rr * a + 255 * (255 - a) + 127) / 255;
                        gg = (gg * a + 255 * (255 - a) + 127) / 255;
                        bb = (bb * a + 255 * (255 - a) + 127) / 255;
                    }
                    int o = (y * w + x) * 3;
                    rgb[o] = (byte) rr;
                    rgb[o + 1] = (byte) gg;
                    rgb[o + 2] = (byte) bb;
                }
            }
        }
        DecodedImage img = new DecodedImage(w, h, 3, rgb, format);
        return channels == 1 ? img.toGray() : img;
    }

    /** True when the raster is one byte array of 8-bit interleaved samples (the usual JPEG/PNG/BMP case). */
    private static boolean interleavedBytes(Raster r, ColorModel cm) {
        if (!(r.getDataBuffer() instanceof DataBufferByte db)
                || db.getNumBanks() != 1
                || !(r.getSampleModel() instanceof PixelInterleavedSampleModel sm)
                || r.getSampleModelTranslateX() != 0
                || r.getSampleModelTranslateY() != 0) {
            return false;
        }
        for (int i = 0; i < cm.getNumComponents(); i++) {
            if (cm.getComponentSize(i) != 8) {
                return false;
            }
        }
        return sm.getNumBands() == r.getNumBands() && sm.getPixelStride() >= sm.getNumBands();
    }

    /**
     * The fast path of {@link #toBytes}: reads the bytes in place instead of one int per sample through
     * Raster.getPixels, with the same result (samples as stored, alpha on white or dropped).
     */
    private static void copyInterleaved(Raster r, ColorModel cm, byte[] rgb, boolean dropAlpha) {
        PixelInterleavedSampleModel sm = (PixelInterleavedSampleModel) r.getSampleModel();
        DataBufferByte db = (DataBufferByte) r.getDataBuffer();
        byte[] src = db.getData();
        int[] off = sm.getBandOffsets();
        int base = db.getOffset(), ps = sm.getPixelStride(), ss = sm.getScanlineStride();
        int o0 = off[0], o1 = off[1], o2 = off[2];
        boolean alpha = r.getNumBands() == 4 && cm.hasAlpha() && !dropAlpha;
        int o3 = r.getNumBands() == 4 ? off[3] : 0;
        int w = r.getWidth(), h = r.getHeight();
        if (!alpha && ps == 3 && base == 0 && ss == w * 3) {
            // The common case (JPEG's 3-byte BGR or PNG's RGB, packed rows) as one flat loop.
            int n = w * h * 3;
            if (o0 == 2 && o1 == 1 && o2 == 0) {
                for (int p = 0; p < n; p += 3) {
                    rgb[p] = src[p + 2];
                    rgb[p + 1] = src[p + 1];
                    rgb[p + 2] = src[p];
                }
                return;
            }
            if (o0 == 0 && o1 == 1 && o2 == 2) {
                System.arraycopy(src, 0, rgb, 0, n);
                return;
            }
        }
        int o = 0;
        for (int y = 0; y < h; y++) {
            int p = base + y * ss;
            for (int x = 0; x < w; x++, p += ps, o += 3) {
                if (alpha) {
                    int a = src[p + o3] & 0xFF;
                    if (a != 255) {
                        rgb[o] = (byte) (((src[p + o0] & 0xFF) * a + 255 * (255 - a) + 127) / 255);
                        rgb[o + 1] = (byte) (((src[p + o1] & 0xFF) * a + 255 * (255 - a) + 127) / 255);
                        rgb[o + 2] = (byte) (((src[p + o2] & 0xFF) * a + 255 * (255 - a) + 127) / 255);
                        continue;
                    }
                }
                rgb[o] = src[p + o0];
                rgb[o + 1] = src[p + o1];
                rgb[o + 2] = src[p + o2];
            }
        }
    }

    private static int scaleTo8(int v, int bits) {
        if (bits == 8) {
            return v;
        }
        if (bits > 8) {
            return v >>> (bits - 8);
        }
        return v * 255 / ((1 << bits) - 1);
    }
}
