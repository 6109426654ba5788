package dev.jimm.layers;

import ai.djl.ndarray.NDArray;
import java.util.List;

/** Children run in order, named "0", "1", … as in PyTorch's {@code nn.Sequential}. */
public class Sequential extends Module {
    public Sequential(Module... layers) {
        this(List.of(layers));
    }

    public Sequential(List<? extends Module> layers) {
        for (int i = 0; i < layers.size(); i++) {
            register(Integer.toString(i), layers.get(i));
        }
    }

    /** Appends a layer under the next index. */
    public Sequential add(Module layer) {
        register(Integer.toString(children().size()), layer);
        return this;
    }

    public int size() {
        return children().size();
    }

    public Module get(int index) {
        return child(Integer.toString(index));
    }

    @Override
    protected NDArray forwardImpl(NDArray x) {
        for (Module m : children().values()) {
            x = m.forward(x);
        }
        return x;
    }

    @Override
    protected String extraRepr() {
        return "Sequential";
    }
}
