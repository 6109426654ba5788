package dev.jimm.layers;

import java.util.Map;

/**
 * A module with a training-time form of several branches (convolution/BatchNorm pairs, identity and 1x1 shortcuts) and
 * an inference-time form that computes the same eval-mode function with fewer layers: timm's {@code fuse()} (RepViT,
 * LeViT) and {@code reparameterize()} (RepVGG, MobileOne, FastViT). {@link Reparameterization#apply} swaps every such
 * module of a model for its inference form, as timm's {@code reparameterize_model}.
 */
public interface Reparameterizable {
    /**
     * The inference form of this module: a new, unmaterialized module computing what this one computes in eval mode
     * (running BatchNorm statistics), and the values of its state_dict. This module is only read.
     */
    Reparameterized reparameterized();

    /**
     * Whether this module is already in its inference form (built so, as timm's {@code inference_mode=True}), so that
     * {@link Reparameterization#apply} leaves it as it is.
     */
    default boolean isInferenceForm() {
        return false;
    }

    /**
     * A module built in its inference form and the values its state_dict must take once it is materialized.
     *
     * @param module the replacement, not yet materialized
     * @param values every floating-point state_dict entry of {@code module}, row-major, by key
     */
    record Reparameterized(Module module, Map<String, float[]> values) {
        public Reparameterized {
            values = Map.copyOf(values);
        }
    }
}
