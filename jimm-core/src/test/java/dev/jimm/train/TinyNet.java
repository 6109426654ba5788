package dev.jimm.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.jimm.layers.Activation;
import dev.jimm.layers.BatchNorm2d;
import dev.jimm.layers.Dropout;
import dev.jimm.layers.Linear;
import dev.jimm.layers.Module;
import java.util.SplittableRandom;

/** A small MLP over flattened 1x4x4 inputs, for learner tests; optionally with dropout before its last layer. */
final class TinyNet extends Module {
    private final Module fc1;
    private final Module bn;
    private final Module fc2;
    private final float dropout;

    TinyNet(int classes, long seed) {
        this(classes, seed, 0f);
    }

    TinyNet(int classes, long seed, float dropout) {
        this.dropout = dropout;
        fc1 = register("fc1", new Linear(16, 32));
        bn = register("bn", new BatchNorm2d(32));
        register("act", Activation.relu());
        fc2 = register("fc2", new Linear(32, classes));
        materialize(NDManager.newBaseManager());
        initialize(new SplittableRandom(seed));
    }

    @Override
    protected NDArray forwardImpl(NDArray x) {
        NDArray h = fc1.forward(x.reshape(x.getShape().get(0), -1));
        NDArray a = Activation.apply(Activation.Kind.RELU, bn.forward(h));
        return fc2.forward(Dropout.apply(a, dropout, isTraining()));
    }
}
