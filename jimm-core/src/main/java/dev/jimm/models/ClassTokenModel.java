package dev.jimm.models;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Parameter;
import dev.jimm.layers.Init;
import dev.jimm.layers.LayerNorm;
import dev.jimm.layers.Module;
import java.util.List;
import java.util.SplittableRandom;

/**
 * What CaiT and XCiT share around their blocks: a class token that joins the patch tokens only for the last
 * (class-attention) blocks, a final LayerNorm, and a head that pools the class token, the patch mean or nothing.
 */
abstract class ClassTokenModel extends ImageModel {

    ClassTokenModel(ModelArgs args) {
        // ImageModel would check the pool against the conv pools; these models have their own three
        super(new ModelArgs(args.numClasses(), args.inChans(), "", args.dropRate(), args.dropPathRate()));
        this.globalPool = validateClassTokenPool(args.globalPool());
    }

    /** Registers the final {@code norm} and then the classifier, in timm's order; returns the norm. */
    final Module registerNormAndHead(int dim) {
        Module norm = register("norm", new LayerNorm(dim, 1e-6f));
        registerTokenClassifier(dim);
        return norm;
    }

    /** timm: trunc_normal(.02) class token and linear weights, zero linear biases (in that order of draws). */
    final void initClassTokenAndLinears(Parameter clsToken, SplittableRandom random) {
        Init.truncNormal(clsToken.getArray(), 0.02, random);
        Init.truncNormalLinears(this, random);
    }

    /** Pools [B, 1 + N, C] tokens as timm's CaiT and XCiT heads: the class token, the patch mean, or no pooling. */
    @Override
    public NDArray forwardHead(NDArray x, boolean preLogits) {
        NDArray pooled = switch (globalPool) {
            case "token" -> x.get(":, 0");
            case "avg" -> x.get(":, 1:").mean(new int[] {1});
            default -> x;
        };
        return tokenClassifier(pooled, preLogits);
    }

    @Override
    public void resetClassifier(int newNumClasses, String newGlobalPool) {
        resetTokenClassifier(newNumClasses, validateClassTokenPool(newGlobalPool));
    }

    private static String validateClassTokenPool(String pool) {
        String p = pool == null ? "token" : pool;
        if (!List.of("", "token", "avg").contains(p)) {
            throw new IllegalArgumentException("globalPool '" + pool + "' is not one of token, avg or '' (no pooling)");
        }
        return p;
    }
}
