package dev.jimm.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import dev.jimm.layers.Module;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A model cut to its trunk that returns the feature maps of chosen levels (timm's {@code features_only=True}). Its
 * state_dict keys are the model's, without the classifier.
 */
public final class FeatureExtractor extends Module implements AutoCloseable {
    private final ImageModel model;
    private final int[] indices;

    FeatureExtractor(ImageModel model, int[] outIndices) {
        this.model = model;
        model.resetClassifier(0, "");
        this.indices = outIndices == null ? model.allFeatureIndices() : model.resolveIndices(outIndices);
        for (Map.Entry<String, Module> e : model.children().entrySet()) {
            register(e.getKey(), e.getValue());
        }
        if (model.getManager() != null) {
            materialize(model.getManager());
        }
    }

    /** The feature maps of the chosen levels, shallow to deep. */
    public NDList forwardFeatures(NDArray x) {
        return model.forwardIntermediates(x, indices);
    }

    /** The chosen levels' channels, reductions and module names. */
    public List<FeatureInfo> featureInfo() {
        List<FeatureInfo> all = model.featureInfo();
        List<FeatureInfo> out = new ArrayList<>();
        for (int i : indices) {
            out.add(all.get(i));
        }
        return out;
    }

    /** The model being cut. */
    public ImageModel model() {
        return model;
    }

    @Override
    public Module train(boolean mode) {
        model.train(mode);
        return super.train(mode);
    }

    /** The deepest chosen level (DJL's single-output view); use {@link #forwardFeatures} for all. */
    @Override
    protected NDArray forwardImpl(NDArray x) {
        NDList f = forwardFeatures(x);
        return f.get(f.size() - 1);
    }

    @Override
    protected NDList forwardInternal(
            ParameterStore parameterStore, NDList inputs, boolean training, PairList<String, Object> params) {
        return forwardFeatures(inputs.singletonOrThrow());
    }

    @Override
    public void close() {
        model.close();
    }
}
