package dev.jimm.vision;

import dev.jimm.models.PretrainedCfg;
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

    /** The eval preprocessing of a model's pretrained config. */
    public static Preprocessing of(PretrainedCfg cfg) {
        return new Preprocessing(3, cfg.inputSize().get(1), cfg.interpolation(), cfg.cropPct(), cfg.mean(), cfg.std());
    }
}
