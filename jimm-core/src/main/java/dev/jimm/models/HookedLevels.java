package dev.jimm.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import dev.jimm.layers.Module;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Feature levels taken from modules inside the trunk's steps, by forward hooks on the modules
 * {@link FeatureInfo#module} names: what timm's {@code feature_cls='hook'} does for the Xceptions, whose levels are
 * activations within a block ({@code blocks.1.stack.act3}, {@code block2.rep.0}) rather than the output of one.
 */
final class HookedLevels {
    private HookedLevels() {}

    /**
     * Runs {@code model}'s trunk up to the step of its deepest chosen level ({@link ImageModel#forwardLevels}) and
     * returns what the chosen levels' modules produced, in the order of {@code indices}. Each level must be declared
     * with the trunk step that runs its module.
     */
    static NDList forward(ImageModel model, NDArray x, int[] indices) {
        int[] take = model.resolveIndices(indices);
        List<FeatureInfo> info = model.featureInfo();
        Map<String, Module> modules = model.namedModules();
        NDArray[] maps = new NDArray[take.length];
        List<AutoCloseable> hooks = new ArrayList<>();
        try {
            for (int j = 0; j < take.length; j++) {
                String name = info.get(take[j]).module();
                Module m = modules.get(name);
                if (m == null) {
                    throw new IllegalStateException(model.getClass().getSimpleName() + " has no module " + name
                            + " for feature level " + take[j]);
                }
                int slot = j;
                hooks.add(m.addForwardHook((mod, in, out) -> maps[slot] = out));
            }
            model.forwardLevels(x, take);
        } finally {
            for (AutoCloseable h : hooks) {
                try {
                    h.close();
                } catch (Exception e) {
                    throw new IllegalStateException("removing a feature hook failed", e);
                }
            }
        }
        for (int j = 0; j < maps.length; j++) {
            if (maps[j] == null) {
                throw new IllegalStateException("feature level " + take[j] + " ("
                        + info.get(take[j]).module() + ") did not run before the step its level is declared to end at");
            }
        }
        return new NDList(maps);
    }
}
