package dev.jimm.layers;

import ai.djl.ndarray.NDArray;

/**
 * Children run in order under their own names, as PyTorch's {@code nn.Sequential} built from an OrderedDict or with
 * {@code add_module} (timm's stages, torchvision's heads); {@link Sequential} numbers its children instead.
 */
public class NamedSequential extends Module {
    /** Adds a child under the name (its state_dict prefix) after the others; returns this, for chaining. */
    public NamedSequential add(String name, Module module) {
        register(name, module);
        return this;
    }

    @Override
    protected NDArray forwardImpl(NDArray x) {
        for (Module m : children().values()) {
            x = m.forward(x);
        }
        return x;
    }
}
