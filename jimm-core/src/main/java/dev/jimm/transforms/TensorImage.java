package dev.jimm.transforms;

/**
 * A float32 image in CHW layout, plain Java memory (no native tensor), as produced by ToTensor.
 *
 * @param channels C
 * @param height H
 * @param width W
 * @param data C*H*W values, channel planes one after another
 */
public record TensorImage(int channels, int height, int width, float[] data) {
    public TensorImage {
        if ((long) channels * height * width != data.length) {
            throw new IllegalArgumentException(
                    "data has " + data.length + " floats, expected " + channels + "x" + height + "x" + width);
        }
    }

    /** Value at channel c, row y, column x. */
    public float get(int c, int y, int x) {
        return data[(c * height + y) * width + x];
    }
}
