package dev.jimm.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import dev.jimm.layers.Conv2d;
import dev.jimm.layers.Init;
import dev.jimm.layers.Linear;
import dev.jimm.layers.Module;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * What torchvision's Inception networks (GoogLeNet, Inception v3) share: a trunk of named modules run in order, some of
 * whose outputs are the feature levels; timm's classifier head ({@code global_pool}, dropout, {@code fc});
 * {@code transform_input}; and checkpoints whose auxiliary-classifier keys are dropped, since these models are built
 * without the aux heads.
 */
public abstract class InceptionNet extends ImageModel {

    private final double initStd;
    private final List<String> auxPrefixes;
    private boolean transformInput;

    /**
     * @param initStd std of the normal init of convs and linears
     * @param auxPrefixes key prefixes of the aux heads in pretrained checkpoints
     */
    InceptionNet(ModelArgs args, double initStd, List<String> auxPrefixes) {
        super(args);
        this.initStd = initStd;
        this.auxPrefixes = List.copyOf(auxPrefixes);
    }

    /** Registers a trunk module; a non-zero {@code channels} makes its output a feature level. */
    final <M extends Module> M add(String name, M module, int channels, int reduction) {
        addTrunkStep(register(name, module));
        if (channels > 0) {
            addFeatureInfo(channels, reduction, name);
        }
        return module;
    }

    /** Whether loading pretrained weights switches on {@code transform_input} (torchvision does). */
    abstract boolean transformsPretrainedInput();

    /** Whether ImageNet-normalized input is re-normalized to mean 0.5, std 0.5 first. */
    public boolean transformInput() {
        return transformInput;
    }

    /** Switches torchvision's {@code transform_input} on or off (needs 3 input channels). */
    public void setTransformInput(boolean enable) {
        if (enable && inChans != 3) {
            throw new IllegalArgumentException(
                    "transform_input needs 3 input channels, the model has inChans " + inChans);
        }
        transformInput = enable;
    }

    @Override
    protected Map<String, NDArray> prepareForPretrained(Map<String, NDArray> checkpoint) {
        // the checkpoints carry the aux heads (torchvision loads, then deletes them)
        Map<String, NDArray> out = new LinkedHashMap<>();
        checkpoint.forEach((k, v) -> {
            if (auxPrefixes.stream().noneMatch(k::startsWith)) {
                out.put(k, v);
            }
        });
        if (transformsPretrainedInput() && inChans == 3) {
            transformInput = true;
        }
        return out;
    }

    @Override
    protected void initWeights(SplittableRandom random) {
        // trunc_normal_ with absolute bounds of 20 std or more, which truncates nothing in
        // practice, so a plain normal; BatchNorm 1/0 (its defaults); biases keep PyTorch's default
        for (Module m : namedModules().values()) {
            if (m instanceof Conv2d c) {
                Init.normal(c.weight().getArray(), initStd, random);
            } else if (m instanceof Linear l) {
                Init.normal(l.weight().getArray(), initStd, random);
            }
        }
    }

    private NDArray maybeTransform(NDArray x) {
        return transformInput ? transformImageNetInput(x) : x;
    }

    /** torchvision's _transform_input: from ImageNet mean/std normalization to mean/std 0.5. */
    private static NDArray transformImageNetInput(NDArray x) {
        NDArray s = x.getManager()
                .create(new double[] {0.229 / 0.5, 0.224 / 0.5, 0.225 / 0.5})
                .toType(x.getDataType(), false)
                .reshape(1, 3, 1, 1);
        NDArray b = x.getManager()
                .create(new double[] {(0.485 - 0.5) / 0.5, (0.456 - 0.5) / 0.5, (0.406 - 0.5) / 0.5})
                .toType(x.getDataType(), false)
                .reshape(1, 3, 1, 1);
        return x.mul(s).add(b);
    }

    @Override
    public NDArray forwardFeatures(NDArray x) {
        return forwardTrunk(maybeTransform(x));
    }

    @Override
    public NDList forwardIntermediates(NDArray x, int[] indices) {
        return forwardLevels(maybeTransform(x), indices);
    }
}
