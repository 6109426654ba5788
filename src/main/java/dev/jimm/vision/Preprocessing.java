package dev.jimm.vision;

import dev.jimm.models.PretrainedCfg;
import dev.jimm.transforms.Interpolation;
import dev.jimm.transforms.PreprocessConfig;
import java.util.List;

/**
 * How images are prepared for a trained model at evaluation: resize the shorter side to
 * size/cropPct, center-crop to size, scale to [0, 1], normalize per channel.
 *
 * @param channels 1 (grayscale) or 3 (RGB)
 * @param size square input size
 * @param interpolation "bilinear" or "bicubic"
 * @param cropPct center-crop fraction (1: no crop)
 * @param mean per-channel mean
 * @param std per-channel std
 */
public record Preprocessing(int channels, int size, String interpolation, double cropPct, List<Double> mean, List<Double> std) {
    public Preprocessing {
        mean = List.copyOf(mean);
        std = List.copyOf(std);
        if (mean.size() != channels || std.size() != channels) {
            throw new IllegalArgumentException("mean and std need " + channels + " values each, got " + mean + " and " + std);
        }
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
        return new PreprocessConfig(channels, size, size, Interpolation.parse(interpolation), cropPct, meanArray(), stdArray());
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
