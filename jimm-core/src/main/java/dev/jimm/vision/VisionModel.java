package dev.jimm.vision;

import ai.djl.ndarray.NDArray;
import dev.jimm.layers.Linear;
import dev.jimm.layers.Module;
import dev.jimm.layers.Sequential;
import dev.jimm.models.ImageModel;
import dev.jimm.models.InferenceModel;

/**
 * A backbone cut at its pooling (child {@code 0}) followed by a new head (child {@code 1}), as fastai's vision_learner
 * builds it: state_dict keys are {@code 0.layer1.0.conv1.weight} … and {@code 1.8.weight}.
 */
public final class VisionModel extends Module implements AutoCloseable, InferenceModel.PreLogits {
    private final ImageModel body;
    private final Module head;

    VisionModel(ImageModel body, Module head) {
        this.body = register("0", body);
        this.head = register("1", head);
    }

    public ImageModel body() {
        return body;
    }

    public Module head() {
        return head;
    }

    @Override
    protected NDArray forwardImpl(NDArray x) {
        body.checkInput(x);
        return head.forward(body.forwardFeatures(x));
    }

    /**
     * The input of the head's last linear layer (timm's {@code forward_head(x, pre_logits=True)}): for fastai's head
     * the 512 features after its hidden layer, BatchNorm and (eval-mode) dropout; for a linear head the pooled body
     * features.
     *
     * @throws IllegalStateException when the head does not end in a linear layer
     */
    @Override
    public NDArray forwardPreLogits(NDArray x) {
        body.checkInput(x);
        NDArray h = body.forwardFeatures(x);
        if (!(head instanceof Sequential layers) || !(layers.get(layers.size() - 1) instanceof Linear)) {
            throw new IllegalStateException(
                    "the head (" + head.getClass().getSimpleName() + ") does not end in a linear layer");
        }
        for (int i = 0; i < layers.size() - 1; i++) {
            h = layers.get(i).forward(h);
        }
        return h;
    }

    @Override
    public void close() {
        body.close();
    }
}
