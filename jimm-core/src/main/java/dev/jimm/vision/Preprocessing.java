package dev.jimm.vision;

import dev.jimm.data.DecodedImage;
import dev.jimm.models.PretrainedCfg;
import dev.jimm.transforms.Interpolation;
import dev.jimm.transforms.Pipelines;
import dev.jimm.transforms.PreprocessConfig;
import dev.jimm.transforms.ResizeMethod;
import dev.jimm.transforms.TensorImage;
import dev.jimm.transforms.Transform;
import dev.jimm.transforms.Transforms;
import java.util.List;

/**
 * How images are prepared for a trained model at evaluation: either timm's (resize the shorter side to size/cropPct,
 * center-crop to size) or, when {@code resize} names one, fastai's item resize at its validation setting (squish,
 * centre crop or pad to size); then scale to [0, 1] and normalize per channel.
 *
 * @param channels 1 (grayscale) or 3 (RGB)
 * @param size square input size
 * @param interpolation "bilinear" or "bicubic"
 * @param cropPct center-crop fraction (1: no crop)
 * @param mean per-channel mean
 * @param std per-channel std
 * @param resize fastai's resize method ({@code squish}, {@code crop}, {@code pad}) or null for timm's
 */
public record Preprocessing(
        int channels,
        int size,
        String interpolation,
        double cropPct,
        List<Double> mean,
        List<Double> std,
        String resize) {
    public Preprocessing {
        mean = List.copyOf(mean);
        std = List.copyOf(std);
        if (mean.size() != channels || std.size() != channels) {
            throw new IllegalArgumentException(
                    "mean and std need " + channels + " values each, got " + mean + " and " + std);
        }
        if (resize != null) {
            ResizeMethod.parse(resize);
        }
    }

    /** timm's eval preprocessing (resize the shorter side, centre crop). */
    public Preprocessing(
            int channels, int size, String interpolation, double cropPct, List<Double> mean, List<Double> std) {
        this(channels, size, interpolation, cropPct, mean, std, null);
    }

    /** The eval transform: image to normalised tensor, exactly as the model was validated in training. */
    public Transform<DecodedImage, TensorImage> evalTransform() {
        if (resize == null) {
            return Pipelines.createTransform(toConfig(), false);
        }
        return Transforms.channels(channels)
                .andThen(Transforms.fastaiResize(size, size, ResizeMethod.parse(resize), false))
                .andThen(Transforms.toNormalizedTensor(meanArray(), stdArray()));
    }

    /** The per-channel mean as floats (for Normalize and for undoing it in pictures). */
    public float[] meanArray() {
        return floats(mean);
    }

    /** The per-channel std as floats. */
    public float[] stdArray() {
        return floats(std);
    }

    /** As the transforms' config, from which timm's eval pipeline is built. */
    public PreprocessConfig toConfig() {
        return new PreprocessConfig(
                channels, size, size, Interpolation.parse(interpolation), cropPct, meanArray(), stdArray());
    }

    static float[] floats(List<Double> v) {
        float[] f = new float[v.size()];
        for (int i = 0; i < f.length; i++) {
            f[i] = v.get(i).floatValue();
        }
        return f;
    }

    /** The eval preprocessing of a model's pretrained config. */
    public static Preprocessing of(PretrainedCfg cfg) {
        return new Preprocessing(3, cfg.inputSize().get(1), cfg.interpolation(), cfg.cropPct(), cfg.mean(), cfg.std());
    }
}
