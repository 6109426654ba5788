package dev.jimm.vision;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jimm.JimmException;
import dev.jimm.data.DecodedImage;
import dev.jimm.data.ImageDataset;
import dev.jimm.models.PretrainedCfg;
import dev.jimm.train.Tta;
import dev.jimm.transforms.AugPolicy;
import dev.jimm.transforms.ResizeMethod;
import dev.jimm.transforms.TensorImage;
import dev.jimm.transforms.TimmAugment;
import dev.jimm.transforms.Transforms;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The data pipeline chosen by regime, the user's overrides on top, and the transforms it builds. */
class DataPipelineTest {
    /** n images of w x h, gray (R = G = B) or colour, with seeded random pixels. */
    static ImageDataset images(int n, int w, int h, boolean gray) {
        return new ImageDataset() {
            @Override
            public int size() {
                return n;
            }

            @Override
            public int label(int index) {
                return index % 2;
            }

            @Override
            public List<String> classes() {
                return List.of("a", "b");
            }

            @Override
            public DecodedImage image(int index) {
                SplittableRandom r = new SplittableRandom(index);
                byte[] px = new byte[w * h * 3];
                for (int i = 0; i < w * h; i++) {
                    int v = r.nextInt(256);
                    px[3 * i] = (byte) v;
                    px[3 * i + 1] = (byte) (gray ? v : r.nextInt(256));
                    px[3 * i + 2] = (byte) (gray ? v : r.nextInt(256));
                }
                return new DecodedImage(w, h, 3, px, "png");
            }
        };
    }

    static final PretrainedCfg WEIGHTS = PretrainedCfg.untrained("resnet18", 224, "conv1", "fc");

    @Test
    void smallGrayImagesFromScratchGetRgbNoFlipsTheirOwnStatisticsAndAMultipleOf32() {
        ImageDataset ds = images(40, 28, 28, true);
        DataPipeline p = DataPipeline.choose(DataPipeline.Request.auto(), ds, 1, null);
        assertEquals(DataPipeline.SMALL_GRAY_POLICY, p.aug());
        assertFalse(p.flip(), "gray glyph-like images are not mirrored by default");
        assertEquals(3, p.channels(), "gray replicated to RGB, as fastai's PILImage does");
        assertEquals(32, p.size());
        assertEquals(ResizeMethod.CROP, p.resize());
        assertTrue(p.regime().contains("small-gray"), p.regime());
        // the normalisation is the mean and std of the training images as the model sees them (resized to 32)
        double sum = 0;
        double sq = 0;
        long n = 0;
        for (int i = 0; i < ds.size(); i++) {
            TensorImage t = Transforms.channels(3)
                    .andThen(Transforms.fastaiResize(32, 32, ResizeMethod.CROP, false))
                    .andThen(Transforms.toTensor())
                    .apply(ds.image(i));
            for (float v : t.data()) {
                sum += v;
                sq += v * v;
                n++;
            }
        }
        double mean = sum / n;
        for (int c = 0; c < 3; c++) {
            assertEquals(mean, p.mean()[c], 1e-5);
            assertEquals(Math.sqrt(sq / n - mean * mean), p.std()[c], 1e-5);
        }
        // a validation image is normalised by them
        TensorImage v = p.validTransform().apply(ds.image(0));
        assertEquals(32, v.height());
        assertEquals(3, v.channels());
    }

    @Test
    void colourPhotosGetFastaisAugmentationWithFlipsAtTheirSizeRoundedUp() {
        DataPipeline p = DataPipeline.choose(DataPipeline.Request.auto(), images(10, 150, 100, false), 1, null);
        assertEquals(AugPolicy.FASTAI, p.aug());
        assertTrue(p.flip());
        assertEquals(3, p.channels());
        assertEquals(128, p.size(), "the median shorter side 100 rounded up to a multiple of 32");
        assertTrue(p.regime().contains("photo"), p.regime());
        // large gray images (scans, X-rays) are photos too, but not flipped
        DataPipeline scans = DataPipeline.choose(DataPipeline.Request.auto(), images(10, 300, 300, true), 1, null);
        assertEquals(AugPolicy.FASTAI, scans.aug());
        assertFalse(scans.flip());
        assertEquals(224, scans.size(), "capped at 224");
    }

    @Test
    void fromWeightsTheWeightsOwnSizeAndStatisticsOnRgb() {
        DataPipeline p = DataPipeline.choose(DataPipeline.Request.auto(), images(10, 28, 28, true), 1, WEIGHTS);
        assertEquals(3, p.channels(), "pretrained weights take RGB");
        assertEquals(224, p.size());
        assertArrayEquals(new float[] {0.485f, 0.456f, 0.406f}, p.mean());
        assertArrayEquals(new float[] {0.229f, 0.224f, 0.225f}, p.std());
        assertFalse(p.flip());
        assertTrue(p.regime().startsWith("from weights"), p.regime());
    }

    @Test
    void theUsersChoicesWinOverTheRegime() {
        ImageDataset gray = images(10, 28, 28, true);
        DataPipeline p = DataPipeline.choose(
                new DataPipeline.Request(AugPolicy.FASTAI, true, ResizeMethod.PAD, 48, false, null, false, null, false),
                gray,
                1,
                null);
        assertEquals(AugPolicy.FASTAI, p.aug());
        assertTrue(p.flip());
        assertEquals(ResizeMethod.PAD, p.resize());
        assertEquals(48, p.size());
        assertArrayEquals(new float[] {0f, 0f, 0f}, p.mean(), "--no-normalize");
        assertArrayEquals(new float[] {1f, 1f, 1f}, p.std());
        // the timm policy uses timm's resize and crop_pct, and no policy but "none" stays without flips by default
        DataPipeline timm = DataPipeline.choose(
                new DataPipeline.Request(AugPolicy.TIMM, null, null, null, null, null, false, null, false),
                images(10, 150, 100, false),
                1,
                null);
        assertNull(timm.resize());
        assertEquals(0.875, timm.cropPct(), 0.0);
        assertNull(timm.preprocessing().resize());
        DataPipeline none = DataPipeline.choose(
                new DataPipeline.Request(AugPolicy.NONE, null, null, null, null, null, false, null, false),
                images(10, 150, 100, false),
                1,
                null);
        assertFalse(none.flip(), "--aug none means no augmentation at all");
    }

    /** The pipeline jimm train gives Fashion-MNIST: pad-and-crop and flips, its own statistics. */
    static DataPipeline fashionMnist() {
        return DataPipeline.named(
                DataPipeline.Request.auto(),
                "fashion-mnist",
                1,
                28,
                new float[] {0.2860f},
                new float[] {0.3530f},
                true);
    }

    @Test
    void namedDatasetsFlipOnlyWhereTheirClassesAreMirrorSymmetric() {
        DataPipeline fashion = fashionMnist();
        DataPipeline mnist = DataPipeline.named(
                DataPipeline.Request.auto(), "mnist", 1, 28, new float[] {0.1307f}, new float[] {0.3081f}, false);
        assertEquals(AugPolicy.SMALL, fashion.aug());
        assertTrue(fashion.flip());
        assertFalse(mnist.flip(), "a mirrored 2 is not a 2");
        assertEquals(28, mnist.size());
    }

    /** The largest shift (px) of a single bright pixel at the centre of a 28x28 image over many training draws. */
    private static int largestShift(DataPipeline p) {
        byte[] px = new byte[28 * 28];
        px[14 * 28 + 14] = (byte) 255;
        DecodedImage dot = new DecodedImage(28, 28, 1, px, "png");
        int largest = 0;
        for (int s = 0; s < 200; s++) {
            float[] t = p.trainTransform().apply(dot, new SplittableRandom(s)).data();
            int at = 0;
            for (int i = 1; i < t.length; i++) {
                at = t[i] > t[at] ? i : at;
            }
            int dy = Math.abs(at / 28 - 14);
            int dx = Math.min(Math.abs(at % 28 - 14), Math.abs(at % 28 - 13)); // a flip mirrors column 14 to 13
            largest = Math.max(largest, Math.max(dx, dy));
        }
        return largest;
    }

    @Test
    void cropPadSetsTheLargestShiftOfThePadAndCrop() {
        assertEquals(3, largestShift(fashionMnist()), "1/8 of 28 px by default");
        DataPipeline.Request two = new DataPipeline.Request(null, null, null, null, null, null, false, 2, false);
        DataPipeline p =
                DataPipeline.named(two, "fashion-mnist", 1, 28, new float[] {0.2860f}, new float[] {0.3530f}, true);
        assertEquals(2, p.cropPad());
        assertEquals(2, largestShift(p));
        assertEquals(2, p.toJson().get("crop_pad"));
        assertTrue(p.describe().contains("augmentation: small (pad-and-crop by 2 px), flips on"), p.describe());
        DataPipeline.Request noAug =
                new DataPipeline.Request(AugPolicy.NONE, null, null, null, null, null, false, 2, false);
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> DataPipeline.named(
                        noAug, "fashion-mnist", 1, 28, new float[] {0.2860f}, new float[] {0.3530f}, true));
        assertTrue(e.getMessage().contains("--crop-pad belongs to --aug small"), e.getMessage());
    }

    @Test
    void randomErasingFillsOneBoxOfTheSmallPolicysImagesWithNoise() {
        TimmAugment always = new TimmAugment(0, 0, 0, 9, false, 1.0);
        DataPipeline.Request asked =
                new DataPipeline.Request(AugPolicy.SMALL, false, null, null, null, always, false, 0, false);
        DataPipeline p =
                DataPipeline.named(asked, "fashion-mnist", 1, 28, new float[] {0.2860f}, new float[] {0.3530f}, true);
        assertTrue(
                p.describe().contains("augmentation: small (pad-and-crop by 0 px, random erasing p 1.0), flips off"),
                p.describe());
        assertEquals(1.0, p.toJson().get("reprob"));
        byte[] px = new byte[28 * 28];
        Arrays.fill(px, (byte) 200);
        DecodedImage flat = new DecodedImage(28, 28, 1, px, "png");
        float normalised = (200 / 255f - 0.2860f) / 0.3530f;
        for (int s = 0; s < 50; s++) {
            float[] t = p.trainTransform().apply(flat, new SplittableRandom(s)).data();
            int top = 28, bottom = -1, left = 28, right = -1, erased = 0;
            for (int i = 0; i < t.length; i++) {
                if (Math.abs(t[i] - normalised) > 1e-5f) {
                    erased++;
                    top = Math.min(top, i / 28);
                    bottom = Math.max(bottom, i / 28);
                    left = Math.min(left, i % 28);
                    right = Math.max(right, i % 28);
                }
            }
            int box = (bottom - top + 1) * (right - left + 1);
            // timm's scale (0.02, 1/3) of 784 pixels, with the box sides rounded
            assertTrue(box >= 12 && box <= 300, "seed " + s + ": a box of " + box + " pixels");
            assertTrue(erased > box * 0.9, "seed " + s + ": noise fills the box, " + erased + " of " + box);
        }
        DataPipeline.Request never =
                new DataPipeline.Request(AugPolicy.SMALL, false, null, null, null, null, false, 0, false);
        DataPipeline plain =
                DataPipeline.named(never, "fashion-mnist", 1, 28, new float[] {0.2860f}, new float[] {0.3530f}, true);
        for (float v :
                plain.trainTransform().apply(flat, new SplittableRandom(1)).data()) {
            assertEquals(normalised, v, 1e-5f);
        }
        DataPipeline.Request none =
                new DataPipeline.Request(AugPolicy.NONE, false, null, null, null, always, false, null, false);
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> DataPipeline.named(
                        none, "fashion-mnist", 1, 28, new float[] {0.2860f}, new float[] {0.3530f}, true));
        assertTrue(e.getMessage().contains("belongs to the timm or small augmentation, got none"), e.getMessage());
    }

    @Test
    void theTrainTransformAugmentsAndTheValidOneIsTheExportsEvalTransform() {
        ImageDataset ds = images(10, 150, 100, false);
        DataPipeline p = DataPipeline.choose(DataPipeline.Request.auto(), ds, 1, null);
        DecodedImage img = ds.image(3);
        TensorImage valid = p.validTransform().apply(img);
        assertArrayEquals(
                valid.data(), p.preprocessing().evalTransform().apply(img).data());
        int differ = 0;
        for (int s = 0; s < 8; s++) {
            TensorImage t = p.trainTransform().apply(img, new SplittableRandom(s));
            assertEquals(valid.height(), t.height());
            if (!Arrays.equals(valid.data(), t.data())) {
                differ++;
            }
        }
        assertTrue(differ >= 6, "fastai's augmentation changes most draws, changed " + differ + " of 8");
    }

    @Test
    void ttaThatTrainingDidNotUseIsRefused() {
        DataPipeline gray = DataPipeline.choose(DataPipeline.Request.auto(), images(10, 28, 28, true), 1, null);
        JimmException flip = assertThrows(JimmException.class, () -> TrainRecipe.checkTta(Tta.FLIP, gray));
        assertTrue(flip.getMessage().contains("training used no flips"), flip.getMessage());
        if (gray.aug() == AugPolicy.NONE) {
            JimmException aug = assertThrows(JimmException.class, () -> TrainRecipe.checkTta(Tta.AUG, gray));
            assertTrue(aug.getMessage().contains("no augmentation"), aug.getMessage());
        }
        DataPipeline photos = DataPipeline.choose(DataPipeline.Request.auto(), images(10, 150, 100, false), 1, null);
        TrainRecipe.checkTta(Tta.FLIP, photos);
        TrainRecipe.checkTta(Tta.AUG, photos);
    }
}
