package dev.jimm.train;

import ai.djl.nn.Parameter;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A group of parameters that share hyper-parameters (a stage of the body, or the head), as in fastai's parameter
 * groups; freezing works a group at a time.
 */
public final class ParamGroup {
    private final String name;
    private final Map<String, Parameter> params;

    public ParamGroup(String name, Map<String, Parameter> params) {
        this.name = name;
        this.params = Collections.unmodifiableMap(new LinkedHashMap<>(params));
    }

    public String name() {
        return name;
    }

    /** Parameters by their dotted names in the model. */
    public Map<String, Parameter> params() {
        return params;
    }

    public long numel() {
        return params.values().stream().mapToLong(p -> p.getArray().size()).sum();
    }
}
