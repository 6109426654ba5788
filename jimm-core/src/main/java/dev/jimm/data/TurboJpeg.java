package dev.jimm.data;

import dev.jimm.AtomicFiles;
import dev.jimm.JimmHome;
import java.io.IOException;
import java.io.InputStream;
import java.net.URL;
import java.net.URLConnection;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import org.opencv.core.Mat;
import org.opencv.core.MatOfByte;
import org.opencv.imgcodecs.Imgcodecs;
import org.opencv.imgproc.Imgproc;

/**
 * JPEG decoding with libjpeg-turbo (the decoder Pillow, and so torchvision, uses), through the OpenCV build that DJL's
 * image extension also relies on ({@code org.openpnp:opencv}, one self-contained native library with libjpeg-turbo 2.1
 * built in).
 *
 * <p>Why: the JDK's own JPEG reader is libjpeg 6b without SIMD and took 2.9 ms for a 500x375 photo against Pillow's 1.6
 * ms, which kept jimm's loader below torchvision's. Both run the same algorithms (islow IDCT, fancy upsampling), so the
 * pixels are identical ({@code TurboJpegTest} compares the two on every bundled JPEG).
 *
 * <p>Only well-formed files come here: {@link ImageDecoder} sends a JPEG to this path when its header parses, it has 1
 * or 3 components (not CMYK/YCCK) and it ends with the end-of-image marker. libjpeg-turbo pads a cut-off file and only
 * warns, which OpenCV does not report, so truncated and odd files keep going through the ImageIO path that refuses them
 * with a reason.
 *
 * <p>The native library (65 MB) is unpacked once into the {@code native} folder of {@link JimmHome} (default
 * {@code ~/.cache/jimm/native}), or a temporary folder when that is not writable. When it cannot be loaded, or with
 * {@code -Djimm.jpeg=imageio}, {@link #available()} is false and ImageIO decodes every JPEG.
 */
public final class TurboJpeg {
    private static final String VERSION = "4.9.0-0";
    private static final String LIB = "libopencv_java490.so";
    private static final String RESOURCE = "/nu/pattern/opencv/linux/x86_64/" + LIB;

    private TurboJpeg() {}

    /** Whether the native decoder is loaded (once per process, on first use). */
    public static boolean available() {
        return Loader.ERROR == null;
    }

    /** Why the native decoder is not in use, or null when it is. */
    public static String unavailableReason() {
        return Loader.ERROR;
    }

    private static final class Loader {
        static final String ERROR = load();

        private static String load() {
            if ("imageio".equalsIgnoreCase(System.getProperty("jimm.jpeg", ""))) {
                return "-Djimm.jpeg=imageio";
            }
            String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
            String arch = System.getProperty("os.arch", "");
            if (!os.contains("linux") || !(arch.equals("amd64") || arch.equals("x86_64"))) {
                return "no bundled libjpeg-turbo for " + os + "/" + arch;
            }
            try {
                System.load(unpacked().toString());
                return null;
            } catch (IOException | UnsatisfiedLinkError | SecurityException e) {
                return "cannot load " + LIB + ": " + e.getMessage();
            }
        }

        private static Path unpacked() throws IOException {
            Path base = JimmHome.fromEnvironment();
            try {
                return unpackInto(base.resolve("native").resolve("opencv-" + VERSION));
            } catch (IOException e) {
                return unpackInto(Files.createTempDirectory("jimm-opencv"));
            }
        }

        private static Path unpackInto(Path dir) throws IOException {
            Path lib = dir.resolve(LIB);
            try (InputStream in = TurboJpeg.class.getResourceAsStream(RESOURCE)) {
                if (in == null) {
                    throw new IOException(RESOURCE + " is not on the class path (org.openpnp:opencv:" + VERSION + ")");
                }
                long size = resourceSize();
                if (Files.isRegularFile(lib) && Files.size(lib) == size) {
                    return lib;
                }
                Files.createDirectories(dir);
                // atomic, so a second process starting at the same time never loads a half-written file
                AtomicFiles.writeStream(lib, out -> in.transferTo(out));
                return lib;
            }
        }

        private static long resourceSize() throws IOException {
            URL url = TurboJpeg.class.getResource(RESOURCE);
            URLConnection c = url.openConnection();
            long n = c.getContentLengthLong();
            if (n < 0) {
                throw new IOException("unknown size of " + RESOURCE);
            }
            return n;
        }
    }

    /**
     * Whether {@code bytes} is a JPEG this path decodes exactly: a parsable header with 1 (gray) or 3 (YCbCr/RGB)
     * components, 8-bit samples, and the end-of-image marker at the end.
     */
    static boolean accepts(JpegHeader h, byte[] bytes) {
        return h != null
                && (h.components() == 1 || h.components() == 3)
                && h.precision() == 8
                && !h.adobeTransformYcck()
                && endsWithEoi(bytes);
    }

    private static boolean endsWithEoi(byte[] b) {
        int n = b.length;
        // encoders sometimes pad a few zero bytes after the marker
        while (n > 2 && b[n - 1] == 0 && b.length - n < 16) {
            n--;
        }
        return n >= 4 && (b[n - 2] & 0xFF) == 0xFF && (b[n - 1] & 0xFF) == 0xD9;
    }

    /**
     * Decodes to 8-bit samples as stored (no EXIF rotation, no ICC conversion): 1 channel for a gray JPEG, else RGB;
     * null when libjpeg-turbo refuses the data.
     */
    static DecodedImage decode(byte[] bytes, JpegHeader h) {
        boolean gray = h.components() == 1;
        MatOfByte buf = new MatOfByte(bytes);
        Mat m = Imgcodecs.imdecode(
                buf,
                (gray ? Imgcodecs.IMREAD_GRAYSCALE : Imgcodecs.IMREAD_COLOR) | Imgcodecs.IMREAD_IGNORE_ORIENTATION);
        try {
            int ch = gray ? 1 : 3;
            if (m.empty() || m.cols() != h.width() || m.rows() != h.height() || m.channels() != ch) {
                return null;
            }
            if (!gray) {
                // OpenCV decodes to BGR; its vectorized swap and the copy out take 0.07-0.11 ms for
                // a 500x375 image, the copy and a Java swap loop 0.23-0.30
                Imgproc.cvtColor(m, m, Imgproc.COLOR_BGR2RGB);
            }
            byte[] px = new byte[h.width() * h.height() * ch];
            m.get(0, 0, px);
            return new DecodedImage(h.width(), h.height(), ch, px, "jpeg");
        } finally {
            m.release();
            buf.release();
        }
    }

    /** What a JPEG's markers say before its scan data: size, sample precision, components. */
    record JpegHeader(int width, int height, int precision, int components, boolean adobeTransformYcck) {
        /** Parses the markers up to the first start-of-frame; null when the bytes are not such a JPEG. */
        static JpegHeader parse(byte[] b) {
            if (b.length < 4 || (b[0] & 0xFF) != 0xFF || (b[1] & 0xFF) != 0xD8) {
                return null;
            }
            boolean ycck = false;
            int p = 2;
            while (p + 4 <= b.length) {
                if ((b[p] & 0xFF) != 0xFF) {
                    return null;
                }
                int marker = b[p + 1] & 0xFF;
                if (marker == 0xFF) {
                    p++;
                    continue;
                }
                int len = ((b[p + 2] & 0xFF) << 8) | (b[p + 3] & 0xFF);
                if (len < 2 || p + 2 + len > b.length) {
                    return null;
                }
                if (marker == 0xEE
                        && len >= 14
                        && b[p + 4] == 'A'
                        && b[p + 5] == 'd'
                        && b[p + 6] == 'o'
                        && b[p + 7] == 'b'
                        && b[p + 8] == 'e') {
                    ycck = (b[p + 15] & 0xFF) == 2;
                }
                boolean sof = marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
                if (sof) {
                    if (len < 8 || !(marker == 0xC0 || marker == 0xC1 || marker == 0xC2)) {
                        return null; // lossless, arithmetic or hierarchical: left to ImageIO
                    }
                    int precision = b[p + 4] & 0xFF;
                    int height = ((b[p + 5] & 0xFF) << 8) | (b[p + 6] & 0xFF);
                    int width = ((b[p + 7] & 0xFF) << 8) | (b[p + 8] & 0xFF);
                    int comps = b[p + 9] & 0xFF;
                    return width > 0 && height > 0 ? new JpegHeader(width, height, precision, comps, ycck) : null;
                }
                if (marker == 0xDA || marker == 0xD9) {
                    return null;
                }
                p += 2 + len;
            }
            return null;
        }
    }
}
