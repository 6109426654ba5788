package dev.jimm.layers;

import ai.djl.ndarray.NDArray;

/**
 * timm's {@code PatchEmbed}: a {@code proj} convolution with kernel and stride equal to the patch size, flattened to
 * tokens [B, H/p * W/p, C] (or kept NCHW with {@code flatten} false). The input size is checked as timm's
 * {@code strict_img_size} does, since position embeddings depend on it.
 */
public class PatchEmbed extends Module {
    private final int imgSize;
    private final int patchSize;
    private final int embedDim;
    private final boolean flatten;
    private final boolean strictImgSize;
    private final Conv2d proj;
    private final Module norm;

    /**
     * @param imgSize the (square) input size the model is built for
     * @param patchSize side of a patch
     * @param inChans input channels
     * @param embedDim token width
     * @param bias whether the projection has a bias (CLIP-style pre-norm models have none)
     * @param norm a norm on the tokens, or null
     * @param flatten tokens out (true) or an NCHW map (false)
     * @param strictImgSize refuse inputs of another size than {@code imgSize}
     */
    public PatchEmbed(
            int imgSize,
            int patchSize,
            int inChans,
            int embedDim,
            boolean bias,
            Module norm,
            boolean flatten,
            boolean strictImgSize) {
        if (imgSize < patchSize) {
            throw new IllegalArgumentException("imgSize " + imgSize + " is smaller than patchSize " + patchSize);
        }
        this.imgSize = imgSize;
        this.patchSize = patchSize;
        this.embedDim = embedDim;
        this.flatten = flatten;
        this.strictImgSize = strictImgSize;
        this.proj = register(
                "proj",
                new Conv2d(
                        inChans,
                        embedDim,
                        patchSize,
                        Conv2d.Options.defaults().stride(patchSize).bias(bias)));
        this.norm = register("norm", norm == null ? new Identity() : norm);
    }

    /** A flattening patch embedding with a biased projection and no norm (ViT's). */
    public PatchEmbed(int imgSize, int patchSize, int inChans, int embedDim) {
        this(imgSize, patchSize, inChans, embedDim, true, null, true, true);
    }

    @Override
    protected NDArray forwardImpl(NDArray x) {
        long h = x.getShape().get(2);
        long w = x.getShape().get(3);
        if (strictImgSize && (h != imgSize || w != imgSize)) {
            throw new IllegalArgumentException(
                    "input size " + h + "x" + w + " does not match the model's " + imgSize + "x" + imgSize);
        }
        // as timm: a built-size input may leave a remainder (384 / 14), the strided conv drops it
        if (!strictImgSize && (h % patchSize != 0 || w % patchSize != 0)) {
            throw new IllegalArgumentException(
                    "input size " + h + "x" + w + " is not divisible by the patch size " + patchSize);
        }
        x = proj.forward(x);
        if (flatten) {
            long b = x.getShape().get(0);
            x = x.reshape(b, embedDim, -1).transpose(0, 2, 1);
        }
        return norm.forward(x);
    }

    public int imgSize() {
        return imgSize;
    }

    public int patchSize() {
        return patchSize;
    }

    /** Patches per side at the built input size. */
    public int gridSize() {
        return imgSize / patchSize;
    }

    public int numPatches() {
        return gridSize() * gridSize();
    }

    public Conv2d proj() {
        return proj;
    }

    @Override
    protected String extraRepr() {
        return "PatchEmbed(img_size=" + imgSize + ", patch_size=" + patchSize + ")";
    }
}
