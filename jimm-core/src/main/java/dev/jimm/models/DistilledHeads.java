package dev.jimm.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import dev.jimm.layers.Scalars;

/**
 * timm's distillation pair of LeViT and EfficientFormer (v1 and v2): a class head {@code head} and a distillation head
 * {@code head_dist} on the same pre-logits, whose logits are averaged at inference and kept apart for distilled
 * training.
 */
final class DistilledHeads {
    private DistilledHeads() {}

    /** The mean of both heads' logits, or the class head's alone when the model has no {@code head_dist}. */
    static NDArray averaged(ImageModel model, NDArray preLogits) {
        NDArray out = model.child("head").forward(preLogits);
        if (model.children().containsKey("head_dist")) {
            out = Scalars.div(out.add(model.child("head_dist").forward(preLogits)), 2);
        }
        return out;
    }

    /**
     * Both heads' logits apart, class head first.
     *
     * @throws IllegalStateException when the model has no distillation head
     */
    static NDList apart(ImageModel model, NDArray preLogits) {
        if (!model.children().containsKey("head_dist")) {
            throw new IllegalStateException(model.name() + " has no distillation head");
        }
        return new NDList(
                model.child("head").forward(preLogits), model.child("head_dist").forward(preLogits));
    }
}
