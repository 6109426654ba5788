package dev.jimm.vision;

import ai.djl.ndarray.NDArray;
import dev.jimm.layers.Module;
import dev.jimm.models.ImageModel;

/**
 * A backbone cut at its pooling (child {@code 0}) followed by a new head (child {@code 1}), as fastai's vision_learner
 * builds it: state_dict keys are {@code 0.layer1.0.conv1.weight} … and {@code 1.8.weight}.
 */
public final class VisionModel extends Module implements AutoCloseable {
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

    @Override
    public void close() {
        body.close();
    }
}
