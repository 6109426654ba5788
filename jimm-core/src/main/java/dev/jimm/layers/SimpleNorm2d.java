package dev.jimm.layers;

import ai.djl.ndarray.NDArray;

/**
 * timm's {@code SimpleNorm2d}: divides each position of an NCHW map by the standard deviation of its channels (unbiased
 * variance, as torch.var's default), then scales by {@code weight}; unlike LayerNorm it does not subtract the mean and
 * has no bias.
 */
public class SimpleNorm2d extends ChannelScaleNorm2d {
    public SimpleNorm2d(int channels, float eps) {
        super("SimpleNorm2d", requireTwo(channels), eps);
    }

    private static int requireTwo(int channels) {
        if (channels < 2) {
            throw new IllegalArgumentException(
                    "SimpleNorm2d needs at least 2 channels for an unbiased variance, got " + channels);
        }
        return channels;
    }

    @Override
    NDArray channelStatistic(NDArray x) {
        NDArray centered = x.sub(x.mean(new int[] {1}, true));
        return Scalars.div(centered.square().sum(new int[] {1}, true), channels - 1);
    }
}
