package dev.jimm.transforms;

import static org.junit.jupiter.api.Assertions.*;

import dev.jimm.data.DecodedImage;
import dev.jimm.data.ImageDecoder;
import dev.jimm.data.TestFiles;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class PipelinesTest {
    static DecodedImage chelsea() {
        return new ImageDecoder().decode(TestFiles.resource("images/real/chelsea.png"));
    }

    @Test
    void evalTransformFromConfigMatchesTorchvisionFixture() throws Exception {
        Map<String, byte[]> ref =
                TransformFixturesTest.readU8(TestFiles.resource("fixtures/transforms_u8/chelsea.png.safetensors"));
        // timm's crop_pct 0.875 at 224 resizes to floor(224 / 0.875) = 256: the fixture's pipelines.
        Object[][] cases = {
            {Interpolation.BILINEAR, "tv_resnet_eval"}, {Interpolation.BICUBIC, "timm_bicubic_crop0.875"}
        };
        for (Object[] cs : cases) {
            Preprocessing cfg = Preprocessing.imagenet(224, (Interpolation) cs[0], 0.875);
            TensorImage t = Pipelines.createTransform(cfg, false).apply(chelsea());
            assertEquals(224, t.height());
            byte[] want = ref.get((String) cs[1]);
            double maxErr = 0;
            for (int c = 0; c < 3; c++) {
                for (int i = 0; i < 224 * 224; i++) {
                    float x = ((want[c * 224 * 224 + i] & 0xFF) / 255f
                                    - Preprocessing.floats(Preprocessing.IMAGENET_MEAN)[c])
                            / Preprocessing.floats(Preprocessing.IMAGENET_STD)[c];
                    maxErr = Math.max(maxErr, Math.abs(x - t.data()[c * 224 * 224 + i]));
                }
            }
            assertTrue(maxErr < 1e-5, cs[1] + " max " + maxErr);
        }
    }

    @Test
    void trainTransformIsSeededAndVaries() {
        Preprocessing cfg = Preprocessing.imagenet(64, Interpolation.BICUBIC, 0.875);
        DecodedImage img = chelsea();
        for (TimmAugment aug : new TimmAugment[] {
            TimmAugment.timmDefaults(),
            new TimmAugment(0.5, 0, 2, 9, false, 0.25),
            new TimmAugment(0.5, 0, 0, 9, true, 0)
        }) {
            Transform<DecodedImage, TensorImage> t = Pipelines.createTransform(cfg, true, aug);
            TensorImage a = t.apply(img, new SplittableRandom(5));
            TensorImage b = t.apply(img, new SplittableRandom(5));
            TensorImage c = t.apply(img, new SplittableRandom(6));
            assertEquals(3, a.channels());
            assertEquals(64, a.height());
            assertEquals(64, a.width());
            assertArrayEquals(a.data(), b.data());
            assertFalse(Arrays.equals(a.data(), c.data()));
        }
    }

    @Test
    void grayModelGetsOneChannel() {
        Preprocessing cfg = new Preprocessing(1, 32, "bilinear", 1.0, List.of(0.5), List.of(0.5));
        TensorImage t = Pipelines.createTransform(cfg, false).apply(chelsea());
        assertEquals(1, t.channels());
        assertEquals(32 * 32, t.data().length);
    }
}
