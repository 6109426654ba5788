package dev.jimm.layers;

import ai.djl.ndarray.NDArray;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Predicate;

/**
 * Carries chosen trained weights of a module over to the module that replaces it, as timm's {@code reset_classifier}
 * keeps a head's norm (or pre-logits) while it builds a new classifier. The values are copied out before the old module
 * is replaced, since registering the new one may release the old one's arrays.
 */
public final class KeptWeights {
    private KeptWeights() {}

    /** A copy of {@code module}'s state_dict values whose keys {@code keep} accepts. */
    public static Map<String, float[]> snapshot(Module module, Predicate<String> keep) {
        Map<String, float[]> kept = new LinkedHashMap<>();
        module.stateDict().forEach((k, v) -> {
            if (keep.test(k)) {
                kept.put(k, v.toFloatArray());
            }
        });
        return kept;
    }

    /** Writes a {@link #snapshot} back into the same keys of {@code module}. */
    public static void restore(Module module, Map<String, float[]> kept) {
        Map<String, NDArray> sd = module.stateDict();
        kept.forEach((k, v) -> Module.assign(sd.get(k), v));
    }
}
