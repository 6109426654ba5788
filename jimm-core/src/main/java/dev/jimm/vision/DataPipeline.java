package dev.jimm.vision;

import dev.jimm.data.BatchTransform;
import dev.jimm.data.DecodedImage;
import dev.jimm.data.ImageDataset;
import dev.jimm.data.Split;
import dev.jimm.models.PretrainedCfg;
import dev.jimm.transforms.AugPolicy;
import dev.jimm.transforms.Augmentations;
import dev.jimm.transforms.FastaiAugment;
import dev.jimm.transforms.Interpolation;
import dev.jimm.transforms.MixupCutmix;
import dev.jimm.transforms.Pipelines;
import dev.jimm.transforms.Preprocessing;
import dev.jimm.transforms.RandomCrop;
import dev.jimm.transforms.ResizeMethod;
import dev.jimm.transforms.TensorImage;
import dev.jimm.transforms.TimmAugment;
import dev.jimm.transforms.Transform;
import dev.jimm.transforms.Transforms;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * How a training run turns images into tensors: the augmentation policy, flips, the item resize, the channels, the size
 * and the normalisation. {@link #choose} picks them by the data's regime, the way a careful fastai user would, unless
 * the user chose; {@link #describe()} says what was chosen and why.
 *
 * <p>The regimes, from a survey of up to {@value #SURVEY_IMAGES} training images:
 *
 * <ul>
 *   <li><b>small gray images</b> (all sampled images gray, median shorter side at most {@value #SMALL_NATIVE} px:
 *       letters, digits, symbols, icons): trained from scratch at the native size rounded up to a multiple of 32 (at
 *       least 32), {@link #SMALL_GRAY_POLICY}, no flips.
 *   <li><b>photos</b> (colour, or larger images): fastai's {@code aug_transforms}, with flips for colour images.
 *   <li><b>from weights</b>: RGB at the weights' input size with the weights' mean and std; the augmentation of the
 *       image kind as above.
 * </ul>
 *
 * Images are RGB (gray replicated), as fastai's {@code PILImage} makes them: on one channel the first convolution has a
 * third of the weights, and Adam's steps then move it a third as fast (the plain-PyTorch reference lost 1-1.5 points on
 * Fashion-MNIST folders that way). Flips are on by default only for colour images: a mirrored photo of a dog is a dog,
 * but gray folders are mostly glyphs, documents and scans, where a mirror image is another symbol (b and d) or another
 * side of a body. From scratch the images are normalised with their own mean and std (computed on the survey, saved
 * with the export); from weights with the weights' own.
 *
 * @param aug the augmentation policy
 * @param flip whether training flips images left-right
 * @param alternatingFlip whether the flips alternate by epoch ({@link Transforms#alternatingFlip()}) instead of falling
 *     at random; only with flips, under the small or none policy
 * @param resize how images are brought to {@code size} (null: timm's resize-shorter-side and centre crop)
 * @param channels 1 or 3
 * @param size the square training size
 * @param cropPad the padding (px) of {@link AugPolicy#SMALL}'s pad-and-crop, whose crops shift the image by up to that
 * @param interpolation the resize filter of timm's pipeline (the fastai resize is bilinear)
 * @param cropPct timm's eval crop fraction (1 outside the timm policy)
 * @param mean per-channel mean of the normalisation
 * @param std per-channel std
 * @param timm timm's augmentation options (RandAugment, TrivialAugment, erasing) for {@link AugPolicy#TIMM}; its
 *     erasing probability also applies to {@link AugPolicy#SMALL}
 * @param mixup Mixup/CutMix with timm's defaults on training batches
 * @param regime the regime's description, for the run's log, config.json and report
 */
public record DataPipeline(
        AugPolicy aug,
        boolean flip,
        boolean alternatingFlip,
        ResizeMethod resize,
        int channels,
        int size,
        int cropPad,
        Interpolation interpolation,
        double cropPct,
        float[] mean,
        float[] std,
        TimmAugment timm,
        boolean mixup,
        String regime) {
    /** How many training images the regime survey and the normalisation statistics read. */
    public static final int SURVEY_IMAGES = 512;
    /** The largest median shorter side (px) of the small-image regime. */
    public static final int SMALL_NATIVE = 64;
    /** The policy of the small-gray regime, chosen by the public recipe suite (README). */
    public static final AugPolicy SMALL_GRAY_POLICY = AugPolicy.NONE;

    public DataPipeline {
        if (channels != 1 && channels != 3) {
            throw new IllegalArgumentException("channels must be 1 or 3, got " + channels);
        }
        if (size < 8) {
            throw new IllegalArgumentException("the training size must be at least 8 px, got " + size);
        }
        if (cropPad < 0 || cropPad >= size) {
            throw new IllegalArgumentException(
                    "the pad-and-crop padding must be 0 to " + (size - 1) + " px at size " + size + ", got " + cropPad);
        }
        if (timm != null && timm.reProb() > 0 && !aug.allowsRandomErasing()) {
            throw new IllegalArgumentException("random erasing (--reprob " + timm.reProb()
                    + ") belongs to the timm or small augmentation, got " + aug.cliName());
        }
        if (alternatingFlip && !(flip && aug.allowsAlternatingFlip())) {
            throw new IllegalArgumentException("alternating flips (--alternating-flip) need flips on and the small or"
                    + " none augmentation, got --aug " + aug.cliName() + " with flips " + (flip ? "on" : "off"));
        }
        if (mean.length != channels || std.length != channels) {
            throw new IllegalArgumentException(
                    "mean and std need " + channels + " values, got " + mean.length + " and " + std.length);
        }
        if (aug == AugPolicy.TIMM ? resize != null : resize == null) {
            throw new IllegalArgumentException("the timm policy uses timm's resize and the others a fastai resize, got "
                    + aug.cliName() + " with resize " + resize);
        }
        mean = mean.clone();
        std = std.clone();
    }

    @Override
    public float[] mean() {
        return mean.clone();
    }

    @Override
    public float[] std() {
        return std.clone();
    }

    /**
     * What the user asked for; each null field is chosen by the regime.
     *
     * @param aug the policy
     * @param flip flips on or off
     * @param resize the item resize (ignored by the timm policy)
     * @param size the training size
     * @param normalize whether to normalise from scratch (with the data's own statistics)
     * @param timm timm's options, used by the timm policy (null: colour jitter 0.4, as timm's defaults)
     * @param mixup Mixup/CutMix on training batches
     * @param cropPad the padding (px) of {@link AugPolicy#SMALL}'s pad-and-crop (null: 1/8 of the size)
     * @param alternatingFlip flips alternating by epoch instead of at random ({@link Transforms#alternatingFlip()})
     */
    public record Request(
            AugPolicy aug,
            Boolean flip,
            ResizeMethod resize,
            Integer size,
            Boolean normalize,
            TimmAugment timm,
            boolean mixup,
            Integer cropPad,
            boolean alternatingFlip) {
        /** Everything by regime. */
        public static Request auto() {
            return new Request(null, null, null, null, null, null, false, null, false);
        }
    }

    /**
     * What a sample of training images looks like.
     *
     * @param sampled images read
     * @param medianWidth median width (px)
     * @param medianHeight median height (px)
     * @param gray whether every sampled image is gray (one channel, or R = G = B everywhere)
     */
    public record Survey(int sampled, int medianWidth, int medianHeight, boolean gray) {
        /** The median shorter side. */
        public int nativeSize() {
            return Math.min(medianWidth, medianHeight);
        }

        /** Reads up to {@code max} images of {@code ds}, a seeded random choice when there are more. */
        public static Survey of(ImageDataset ds, int max, long seed) {
            int[] idx = sampleIndices(ds.size(), max, seed);
            int[] w = new int[idx.length];
            int[] h = new int[idx.length];
            boolean gray = true;
            for (int i = 0; i < idx.length; i++) {
                DecodedImage img = ds.image(idx[i]);
                w[i] = img.width();
                h[i] = img.height();
                gray = gray && isGray(img);
            }
            Arrays.sort(w);
            Arrays.sort(h);
            return new Survey(idx.length, w[idx.length / 2], h[idx.length / 2], gray);
        }

        static boolean isGray(DecodedImage img) {
            if (img.channels() == 1) {
                return true;
            }
            byte[] p = img.pixels();
            for (int i = 0; i < p.length; i += 3) {
                if (p[i] != p[i + 1] || p[i] != p[i + 2]) {
                    return false;
                }
            }
            return true;
        }
    }

    /**
     * The pipeline for an image folder: by regime, then the user's choices on top. {@code weights} is the pretrained
     * config when training starts from weights (its size, mean and std), else null.
     */
    public static DataPipeline choose(Request req, ImageDataset train, long seed, PretrainedCfg weights) {
        Survey s = Survey.of(train, SURVEY_IMAGES, seed);
        boolean fromWeights = weights != null;
        boolean smallGray = s.gray() && s.nativeSize() <= SMALL_NATIVE;
        int channels = 3;
        int size = req.size() != null
                ? req.size()
                : fromWeights ? weights.inputSize().get(1) : defaultSize(s.nativeSize());
        AugPolicy aug = req.aug() != null ? req.aug() : smallGray ? SMALL_GRAY_POLICY : AugPolicy.FASTAI;
        int cropPad = cropPadFor(req, aug, size);
        boolean flip = flipFor(aug, req.flip(), !s.gray());
        ResizeMethod resize = aug == AugPolicy.TIMM ? null : req.resize() != null ? req.resize() : ResizeMethod.CROP;
        String kind = String.format(
                Locale.ROOT,
                "%s images of %dx%d px (median of %d)",
                s.gray() ? "gray" : "colour",
                s.medianWidth(),
                s.medianHeight(),
                s.sampled());
        String regime = (fromWeights ? "from weights; " : "from scratch; ")
                + kind
                + (smallGray && !fromWeights ? ": the small-gray regime" : ": the photo regime");
        Interpolation interp = fromWeights ? Interpolation.parse(weights.interpolation()) : Interpolation.BICUBIC;
        double cropPct = aug != AugPolicy.TIMM ? 1.0 : fromWeights ? weights.cropPct() : 0.875;
        float[] mean;
        float[] std;
        if (fromWeights) {
            mean = Preprocessing.floats(weights.mean());
            std = Preprocessing.floats(weights.std());
        } else {
            mean = new float[channels];
            std = new float[channels];
            Arrays.fill(std, 1f);
        }
        DataPipeline p = new DataPipeline(
                aug,
                flip,
                req.alternatingFlip(),
                resize,
                channels,
                size,
                cropPad,
                interp,
                cropPct,
                mean,
                std,
                timmOptions(req, flip),
                req.mixup(),
                regime);
        if (!fromWeights && !Boolean.FALSE.equals(req.normalize())) {
            float[][] stats = p.statistics(train, SURVEY_IMAGES, seed);
            p = p.withNormalization(stats[0], stats[1]);
        }
        return p;
    }

    /** The pipeline for a named dataset at its size and statistics, flips where its classes allow them. */
    public static DataPipeline named(Request req, NamedDataset d) {
        return named(
                req,
                d.name(),
                d.channels(),
                d.size(),
                Preprocessing.floats(d.mean()),
                Preprocessing.floats(d.std()),
                d.flips());
    }

    /**
     * The pipeline of a named dataset (Fashion-MNIST, MNIST, CIFAR): its known statistics and native size,
     * pad-and-crop, and flips where the classes are mirror-symmetric ({@code flipSafe}).
     */
    public static DataPipeline named(
            Request req, String name, int channels, int nativeSize, float[] mean, float[] std, boolean flipSafe) {
        AugPolicy aug = req.aug() != null ? req.aug() : AugPolicy.SMALL;
        boolean flip = flipFor(aug, req.flip(), flipSafe);
        ResizeMethod resize = aug == AugPolicy.TIMM ? null : req.resize() != null ? req.resize() : ResizeMethod.SQUISH;
        int size = req.size() != null ? req.size() : nativeSize;
        int cropPad = cropPadFor(req, aug, size);
        boolean normalize = !Boolean.FALSE.equals(req.normalize());
        float[] ones = new float[channels];
        Arrays.fill(ones, 1f);
        return new DataPipeline(
                aug,
                flip,
                req.alternatingFlip(),
                resize,
                channels,
                size,
                cropPad,
                Interpolation.BILINEAR,
                aug == AugPolicy.TIMM ? 0.875 : 1.0,
                normalize ? mean : new float[channels],
                normalize ? std : ones,
                timmOptions(req, flip),
                req.mixup(),
                "named dataset " + name + " (" + nativeSize + "x" + nativeSize + (channels == 1 ? " gray" : " colour")
                        + ")");
    }

    /** The asked pad-and-crop padding, or 1/8 of the size; refused for another policy than small. */
    private static int cropPadFor(Request req, AugPolicy aug, int size) {
        if (req.cropPad() == null) {
            return size / 8;
        }
        if (aug != AugPolicy.SMALL) {
            throw new IllegalArgumentException(
                    "--crop-pad belongs to --aug small (pad-and-crop), got --aug " + aug.cliName());
        }
        return req.cropPad();
    }

    private static boolean flipFor(AugPolicy aug, Boolean asked, boolean safe) {
        if (asked != null) {
            return asked;
        }
        return aug != AugPolicy.NONE && safe;
    }

    private static TimmAugment timmOptions(Request req, boolean flip) {
        TimmAugment t = req.timm() != null ? req.timm() : TimmAugment.timmDefaults();
        return new TimmAugment(
                flip ? 0.5 : 0,
                t.colorJitter(),
                t.randAugmentOps(),
                t.randAugmentMagnitude(),
                t.trivialAugment(),
                t.reProb());
    }

    /** The native size rounded up to a multiple of 32 (ResNet-style bodies downsample 32 times), 32 to 224. */
    static int defaultSize(int nativeSize) {
        return Math.max(32, Math.min(224, (nativeSize + 31) / 32 * 32));
    }

    /** This pipeline normalising with {@code newMean} and {@code newStd}. */
    public DataPipeline withNormalization(float[] newMean, float[] newStd) {
        return new DataPipeline(
                aug,
                flip,
                alternatingFlip,
                resize,
                channels,
                size,
                cropPad,
                interpolation,
                cropPct,
                newMean,
                newStd,
                timm,
                mixup,
                regime);
    }

    /** The transform of training images. */
    public Transform<DecodedImage, TensorImage> trainTransform() {
        if (aug == AugPolicy.TIMM) {
            return Pipelines.createTransform(preprocessing(), true, timm);
        }
        Transform<DecodedImage, DecodedImage> px =
                Transforms.channels(channels).andThen(Transforms.fastaiResize(size, size, resize, true));
        if (aug == AugPolicy.SMALL) {
            px = px.andThen(new RandomCrop(size, size, cropPad));
        }
        if (flip && aug != AugPolicy.FASTAI) {
            px = px.andThen(alternatingFlip ? Transforms.alternatingFlip() : Transforms.horizontalFlip(0.5));
        }
        Transform<DecodedImage, TensorImage> t = px.andThen(Transforms.toTensor());
        if (aug == AugPolicy.FASTAI) {
            t = t.andThen(FastaiAugment.of(FastaiAugment.Options.defaults().withFlip(flip)));
        }
        t = t.andThen(Transforms.normalize(mean, std));
        if (smallPolicyErasing() > 0) {
            t = t.andThen(Augmentations.timmRandomErasing(smallPolicyErasing()));
        }
        return t;
    }

    /** The small policy's random erasing probability (0 for another policy, which erases by its own rules or not). */
    private double smallPolicyErasing() {
        return aug == AugPolicy.SMALL && timm != null ? timm.reProb() : 0;
    }

    /** The transform of validation images: the exported model's own eval preprocessing. */
    public Transform<DecodedImage, TensorImage> validTransform() {
        return preprocessing().evalTransform();
    }

    /** Mixup/CutMix for training batches, or null. */
    public BatchTransform batchTransform() {
        return mixup ? MixupCutmix.timmDefaults() : null;
    }

    /** The eval preprocessing an export of this run carries. */
    public Preprocessing preprocessing() {
        List<Double> m = new ArrayList<>();
        List<Double> s = new ArrayList<>();
        for (int i = 0; i < channels; i++) {
            m.add((double) mean[i]);
            s.add((double) std[i]);
        }
        if (aug == AugPolicy.TIMM) {
            return new Preprocessing(channels, size, interpolation.name().toLowerCase(Locale.ROOT), cropPct, m, s);
        }
        return new Preprocessing(channels, size, "bilinear", 1.0, m, s, resize.cliName());
    }

    /**
     * The per-channel mean and std of up to {@code max} training images (a seeded choice) after the eval resize, on [0,
     * 1]: the statistics of the images the model will see.
     */
    public float[][] statistics(ImageDataset ds, int max, long seed) {
        Transform<DecodedImage, TensorImage> t = Transforms.channels(channels)
                .andThen(
                        resize == null
                                ? Transforms.resize(size, size, interpolation)
                                : Transforms.fastaiResize(size, size, resize, false))
                .andThen(Transforms.toTensor());
        double[] sum = new double[channels];
        double[] sq = new double[channels];
        long n = 0;
        for (int i : sampleIndices(ds.size(), max, seed)) {
            TensorImage x = t.apply(ds.image(i));
            int plane = x.height() * x.width();
            for (int c = 0; c < channels; c++) {
                for (int k = c * plane; k < (c + 1) * plane; k++) {
                    double v = x.data()[k];
                    sum[c] += v;
                    sq[c] += v * v;
                }
            }
            n += plane;
        }
        float[] m = new float[channels];
        float[] s = new float[channels];
        for (int c = 0; c < channels; c++) {
            double mu = sum[c] / n;
            m[c] = (float) mu;
            // a constant channel would divide by zero: leave its scale alone
            double var = Math.max(0, sq[c] / n - mu * mu);
            s[c] = var > 1e-12 ? (float) Math.sqrt(var) : 1f;
        }
        return new float[][] {m, s};
    }

    static int[] sampleIndices(int n, int max, long seed) {
        if (n <= max) {
            int[] all = new int[n];
            Arrays.setAll(all, i -> i);
            return all;
        }
        int[] perm = Split.permutation(n, new SplittableRandom(seed ^ 0x5EEDL));
        int[] pick = Arrays.copyOf(perm, max);
        Arrays.sort(pick);
        return pick;
    }

    /** One line per choice, for the run's log and report. */
    public String describe() {
        String normalisation =
                isIdentityNormalization() ? "none" : String.format(Locale.ROOT, "mean %s std %s", fmt(mean), fmt(std));
        return String.format(
                Locale.ROOT,
                "data: %s%naugmentation: %s%s, flips %s; resize %s to %d px, %d channel%s; " + "normalisation %s%s",
                regime,
                aug.cliName(),
                aug == AugPolicy.SMALL
                        ? " (pad-and-crop by " + cropPad + " px"
                                + (smallPolicyErasing() > 0 ? ", random erasing p " + smallPolicyErasing() : "") + ")"
                        : "",
                alternatingFlip ? "alternating by epoch" : flip ? "on" : "off",
                resize == null ? "timm (crop_pct " + cropPct + ")" : resize.cliName(),
                size,
                channels,
                channels == 1 ? "" : "s",
                normalisation,
                mixup ? "; Mixup/CutMix" : "");
    }

    /** The choices as config.json fields. */
    public Map<String, Object> toJson() {
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("aug", aug.cliName());
        o.put("flip", flip);
        o.put("alternating_flip", alternatingFlip);
        o.put("resize", resize == null ? "timm" : resize.cliName());
        o.put("channels", channels);
        o.put("img_size", size);
        if (aug == AugPolicy.SMALL) {
            o.put("crop_pad", cropPad);
            o.put("reprob", smallPolicyErasing());
        }
        o.put("mean", toList(mean));
        o.put("std", toList(std));
        o.put("mixup", mixup);
        o.put("regime", regime);
        return o;
    }

    private boolean isIdentityNormalization() {
        for (int i = 0; i < channels; i++) {
            if (mean[i] != 0f || std[i] != 1f) {
                return false;
            }
        }
        return true;
    }

    private static List<Double> toList(float[] v) {
        List<Double> l = new ArrayList<>();
        for (float f : v) {
            l.add(Math.round(f * 1e4) / 1e4);
        }
        return l;
    }

    private static String fmt(float[] v) {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < v.length; i++) {
            sb.append(i > 0 ? ", " : "").append(String.format(Locale.ROOT, "%.4f", v[i]));
        }
        return sb.append(']').toString();
    }
}
