package dev.jimm.layers;

import ai.djl.ndarray.NDArray;

/**
 * PyTorch's {@code nn.Upsample(scale_factor=s, mode='nearest')} for a whole-number factor: every pixel of an NCHW map
 * becomes an {@code s x s} block, so an H x W map comes out {@code sH x sW}. No parameters.
 */
public class Upsample extends Module {
    private final int scaleFactor;

    public Upsample(int scaleFactor) {
        if (scaleFactor < 1) {
            throw new IllegalArgumentException("Upsample scaleFactor " + scaleFactor + " must be at least 1");
        }
        this.scaleFactor = scaleFactor;
    }

    public int scaleFactor() {
        return scaleFactor;
    }

    @Override
    protected NDArray forwardImpl(NDArray x) {
        if (x.getShape().dimension() != 4) {
            throw new IllegalArgumentException("Upsample takes NCHW maps, got shape " + x.getShape());
        }
        if (scaleFactor == 1) {
            return x;
        }
        // nearest with a whole factor repeats each row, then each column (libtorch's repeat_interleave)
        return x.repeat(2, scaleFactor).repeat(3, scaleFactor);
    }

    @Override
    protected String extraRepr() {
        return "Upsample(scale_factor=" + scaleFactor + ".0, mode='nearest')";
    }
}
