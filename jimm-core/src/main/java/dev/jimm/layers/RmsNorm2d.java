package dev.jimm.layers;

import ai.djl.ndarray.NDArray;

/**
 * timm's {@code RmsNorm2d}: divides each position of an NCHW map by the root mean square over its channels, then scales
 * by {@code weight} (no bias, no mean subtraction).
 */
public class RmsNorm2d extends ChannelScaleNorm2d {
    public RmsNorm2d(int channels, float eps) {
        super("RmsNorm2d", channels, eps);
    }

    @Override
    NDArray channelStatistic(NDArray x) {
        return x.square().mean(new int[] {1}, true);
    }
}
