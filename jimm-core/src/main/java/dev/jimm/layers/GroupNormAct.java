package dev.jimm.layers;

import ai.djl.ndarray.NDArray;

/**
 * timm's {@code GroupNormAct}: group norm then an activation, keeping the norm's own state_dict keys. timm sizes the
 * groups either by count or, as EfficientNet's GN variants do, by group size.
 */
public class GroupNormAct extends GroupNorm {
    private final Activation.Kind act;

    public GroupNormAct(int numGroups, int numChannels, float eps, Activation.Kind act) {
        super(numGroups, numChannels, eps);
        this.act = act;
    }

    /** Groups of {@code groupSize} channels each (timm's {@code group_size} argument). */
    public static GroupNormAct withGroupSize(int groupSize, int numChannels, float eps, Activation.Kind act) {
        if (groupSize <= 0 || numChannels % groupSize != 0) {
            throw new IllegalArgumentException(
                    "GroupNormAct: " + numChannels + " channels are not divisible by group size " + groupSize);
        }
        return new GroupNormAct(numChannels / groupSize, numChannels, eps, act);
    }

    @Override
    protected NDArray forwardImpl(NDArray x) {
        return Activation.apply(act, super.forwardImpl(x));
    }
}
