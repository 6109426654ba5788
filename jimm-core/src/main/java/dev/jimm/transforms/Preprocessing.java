package dev.jimm.transforms;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.jimm.data.DecodeOptions;
import dev.jimm.data.DecodedImage;
import dev.jimm.data.ImageDecoder;
import dev.jimm.layers.OwnedArrays;
import dev.jimm.models.ImageModel;
import dev.jimm.models.PretrainedCfg;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * What a model expects of its input and how images are prepared for it at evaluation (timm's pretrained_cfg input
 * settings, and what an export carries): either timm's (resize the shorter side to size/cropPct, center-crop to size)
 * or, when {@code resize} names one, fastai's item resize at its validation setting (squish, centre crop or pad to
 * size); then scale to [0, 1] and normalize per channel.
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
    /** ImageNet's per-channel mean, as timm's IMAGENET_DEFAULT_MEAN. */
    public static final List<Double> IMAGENET_MEAN = List.of(0.485, 0.456, 0.406);
    /** ImageNet's per-channel std, as timm's IMAGENET_DEFAULT_STD. */
    public static final List<Double> IMAGENET_STD = List.of(0.229, 0.224, 0.225);

    public Preprocessing {
        if (channels != 1 && channels != 3) {
            throw new IllegalArgumentException("channels must be 1 or 3, got " + channels);
        }
        if (size <= 0) {
            throw new IllegalArgumentException("input size must be positive, got " + size);
        }
        if (!(cropPct > 0 && cropPct <= 1)) {
            throw new IllegalArgumentException("cropPct must be in (0, 1], got " + cropPct);
        }
        Interpolation.parse(interpolation);
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
            return Pipelines.createTransform(this, false);
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

    /** Doubles as floats. */
    public static float[] floats(List<Double> v) {
        float[] f = new float[v.size()];
        for (int i = 0; i < f.length; i++) {
            f[i] = v.get(i).floatValue();
        }
        return f;
    }

    /** timm's ImageNet preprocessing at {@code size}: RGB, ImageNet mean and std. */
    public static Preprocessing imagenet(int size, Interpolation interpolation, double cropPct) {
        return new Preprocessing(
                3, size, interpolation.name().toLowerCase(Locale.ROOT), cropPct, IMAGENET_MEAN, IMAGENET_STD);
    }

    /** The resize filter, parsed. */
    public Interpolation interpolationFilter() {
        return Interpolation.parse(interpolation);
    }

    /**
     * The eval preprocessing of a model: its pretrained config (input size, interpolation, crop, mean and std) at its
     * input channels; a one-channel model takes the mean of the RGB statistics, as its adapted first conv sums them.
     */
    public static Preprocessing of(ImageModel model) {
        PretrainedCfg cfg = model.pretrainedCfg();
        if (cfg == null) {
            throw new IllegalArgumentException(model.name()
                    + " has no pretrained config to take its preprocessing from: build it with Models.createModel,"
                    + " or give the Preprocessing yourself");
        }
        if (model.inChans() == 3) {
            return of(cfg);
        }
        if (model.inChans() != 1) {
            throw new IllegalArgumentException(model.name() + " takes " + model.inChans()
                    + " channels; image preprocessing gives 1 (gray) or 3 (RGB)");
        }
        double mean =
                cfg.mean().stream().mapToDouble(Double::doubleValue).average().orElse(0.5);
        double std =
                cfg.std().stream().mapToDouble(Double::doubleValue).average().orElse(0.5);
        return new Preprocessing(
                1, cfg.inputSize().get(1), cfg.interpolation(), cfg.cropPct(), List.of(mean), List.of(std));
    }

    /** A decoder giving images of this preprocessing's channel count (EXIF orientation applied). */
    public ImageDecoder decoder() {
        return new ImageDecoder(DecodeOptions.builder().channels(channels).build());
    }

    /**
     * Image files as one batch {@code [N, channels, size, size]} of float32, ready for the model, owned by
     * {@code manager}.
     *
     * @throws dev.jimm.data.ImageDecodeException naming a file that is not a readable image
     */
    public NDArray batch(NDManager manager, Path... files) {
        ImageDecoder decoder = decoder();
        List<DecodedImage> images = new ArrayList<>();
        for (Path f : files) {
            images.add(decoder.decode(f));
        }
        return batch(manager, images);
    }

    /** Images in memory as one batch, as {@link #batch(NDManager, Path...)}. */
    public NDArray batch(NDManager manager, BufferedImage... images) {
        ImageDecoder decoder = decoder();
        List<DecodedImage> decoded = new ArrayList<>();
        for (BufferedImage i : images) {
            decoded.add(decoder.decode(i));
        }
        return batch(manager, decoded);
    }

    /** Decoded images as one batch, through {@link #evalTransform()}. */
    public NDArray batch(NDManager manager, List<DecodedImage> images) {
        if (images.isEmpty()) {
            throw new IllegalArgumentException("no images to batch");
        }
        Transform<DecodedImage, TensorImage> transform = evalTransform();
        int n = channels * size * size;
        float[] data = new float[images.size() * n];
        for (int i = 0; i < images.size(); i++) {
            System.arraycopy(transform.apply(images.get(i)).data(), 0, data, i * n, n);
        }
        return OwnedArrays.of(manager, data, new Shape(images.size(), channels, size, size));
    }

    /** The eval preprocessing of a model's pretrained config. */
    public static Preprocessing of(PretrainedCfg cfg) {
        return new Preprocessing(3, cfg.inputSize().get(1), cfg.interpolation(), cfg.cropPct(), cfg.mean(), cfg.std());
    }
}
