package dev.jimm.transforms;

import static org.junit.jupiter.api.Assertions.*;

import dev.jimm.data.DecodedImage;
import dev.jimm.data.ImageDecoder;
import dev.jimm.data.TestFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Parity with torchvision 0.14 + Pillow 9.4 on the shared reference images. The fixtures are the shared float32 files
 * re-encoded losslessly as uint8 (scripts/fixtures_to_u8.py): the values were k/255 before ImageNet normalization, so
 * 8-bit levels compare exactly what ToTensor would.
 */
class TransformFixturesTest {
    static final String[] IMAGES = {"camera.png", "chelsea.png", "coffee.png", "rocket.jpg"};

    /** Reads the U8 tensors of a safetensors file: name to bytes (shape is implied by the test). */
    static Map<String, byte[]> readU8(Path p) throws IOException {
        byte[] all = Files.readAllBytes(p);
        long n = 0;
        for (int i = 7; i >= 0; i--) {
            n = (n << 8) | (all[i] & 0xFF);
        }
        String header = new String(all, 8, (int) n, StandardCharsets.UTF_8);
        Map<String, byte[]> out = new LinkedHashMap<>();
        Matcher m = Pattern.compile(
                        "\"([^\"]+)\": \\{\"dtype\": \"U8\", \"shape\": \\[[^]]*\\], \"data_offsets\": \\[(\\d+), (\\d+)\\]\\}")
                .matcher(header);
        while (m.find()) {
            int a = Integer.parseInt(m.group(2)), b = Integer.parseInt(m.group(3));
            byte[] d = new byte[b - a];
            System.arraycopy(all, (int) (8 + n + a), d, 0, b - a);
            out.put(m.group(1), d);
        }
        return out;
    }

    /** Our result in CHW bytes, the fixture's layout. */
    static byte[] chw(DecodedImage img) {
        int c = img.channels(), n = img.width() * img.height();
        byte[] out = new byte[c * n];
        for (int ch = 0; ch < c; ch++) {
            for (int i = 0; i < n; i++) {
                out[ch * n + i] = img.pixels()[i * c + ch];
            }
        }
        return out;
    }

    /** [mean, max] absolute difference on the [0, 1] scale. */
    static double[] diff(byte[] a, byte[] b) {
        assertEquals(b.length, a.length);
        long sum = 0;
        int max = 0;
        for (int i = 0; i < a.length; i++) {
            int d = Math.abs((a[i] & 0xFF) - (b[i] & 0xFF));
            sum += d;
            max = Math.max(max, d);
        }
        return new double[] {sum / 255.0 / a.length, max / 255.0};
    }

    @Test
    void evalPipelinesMatchTorchvisionPillow() throws IOException {
        Transform<DecodedImage, DecodedImage> tvEval =
                Transforms.resize(256, Interpolation.BILINEAR).andThen(Transforms.centerCrop(224));
        Transform<DecodedImage, DecodedImage> timmBicubic =
                Transforms.resize(256, Interpolation.BICUBIC).andThen(Transforms.centerCrop(224));
        Transform<DecodedImage, DecodedImage> tiny = Transforms.resize(32, 32, Interpolation.BILINEAR);
        Map<String, Transform<DecodedImage, DecodedImage>> pipelines = new LinkedHashMap<>();
        pipelines.put("tv_resnet_eval", tvEval);
        pipelines.put("timm_bicubic_crop0.875", timmBicubic);
        pipelines.put("resize_32x32_to_tensor", tiny);
        pipelines.put("to_tensor", Transforms.identity());
        ImageDecoder decoder = new ImageDecoder();
        Map<String, double[]> worst = new LinkedHashMap<>();
        for (String name : IMAGES) {
            DecodedImage img =
                    decoder.decode(TestFiles.resource("images/real/" + name)).toRgb();
            Map<String, byte[]> ref = readU8(TestFiles.resource("fixtures/transforms_u8/" + name + ".safetensors"));
            for (var e : pipelines.entrySet()) {
                byte[] want = ref.get(e.getKey());
                if (want == null) {
                    continue;
                }
                double[] d = diff(chw(e.getValue().apply(img)), want);
                System.out.printf("transform parity %-24s %-12s mean %.6f max %.6f%n", e.getKey(), name, d[0], d[1]);
                worst.merge(e.getKey(), d, (x, y) -> new double[] {Math.max(x[0], y[0]), Math.max(x[1], y[1])});
                if (name.endsWith(".png")) {
                    // PNG pixels are exact on both sides and our resampling is Pillow's fixed-point
                    // arithmetic, so every level must agree.
                    assertEquals(0.0, d[1], e.getKey() + " " + name + " max");
                }
                assertTrue(d[0] < 0.005, e.getKey() + " " + name + " mean " + d[0]);
            }
        }
        worst.forEach(
                (k, d) -> System.out.printf("transform parity %-24s worst mean %.6f worst max %.6f%n", k, d[0], d[1]));
        assertEquals(4, worst.size());
    }

    @Test
    void normalizeMatchesImageNetFormula() {
        DecodedImage one = new DecodedImage(1, 1, 3, new byte[] {(byte) 255, 0, (byte) 128}, "test");
        TensorImage t = Transforms.toTensor()
                .andThen(Transforms.normalize(
                        new float[] {0.485f, 0.456f, 0.406f}, new float[] {0.229f, 0.224f, 0.225f}))
                .apply(one);
        assertEquals((1f - 0.485f) / 0.229f, t.get(0, 0, 0), 0f);
        assertEquals((0f - 0.456f) / 0.224f, t.get(1, 0, 0), 0f);
        assertEquals((128 / 255f - 0.406f) / 0.225f, t.get(2, 0, 0), 0f);
    }

    @Test
    void centerCropPadsSmallImagesAndRoundsHalfToEven() {
        byte[] px = new byte[5 * 3];
        for (int i = 0; i < px.length; i++) {
            px[i] = (byte) (i + 1);
        }
        DecodedImage img = new DecodedImage(5, 3, 1, px, "test");
        DecodedImage c = Transforms.centerCrop(2, 2).apply(img);
        // left = round(1.5) = 2, top = round(0.5) = 0 (Python rounds half to even)
        assertEquals(3, c.get(0, 0, 0));
        DecodedImage p = Transforms.centerCrop(5, 7).apply(img);
        assertEquals(0, p.get(0, 0, 0));
        assertEquals(1, p.get(1, 1, 0));
        assertEquals(0, p.get(6, 4, 0));
    }
}
