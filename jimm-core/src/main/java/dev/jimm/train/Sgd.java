package dev.jimm.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * SGD with momentum (PyTorch's form: {@code buf ← μ·buf + g}, {@code p ← p − lr·buf}), optional Nesterov ({@code p ← p
 * − lr·(g + μ·buf)}) and decoupled weight decay.
 */
public final class Sgd extends Optimizer {
    private final boolean nesterov;
    private final Map<String, NDArray> buffers = new LinkedHashMap<>();

    public Sgd(List<ParamGroup> groups, NDManager parent, double momentum, boolean nesterov, double wd) {
        super(groups, parent, momentum, wd, false);
        this.nesterov = nesterov;
    }

    @Override
    protected void update(String name, NDArray w, NDArray grad, Hyper h, double wd) {
        if (wd != 0) {
            w.muli((float) (1 - h.lr * wd));
        }
        if (h.mom == 0) {
            try (NDArray step = grad.mul((float) h.lr)) {
                w.subi(step);
            }
        } else {
            NDArray buf = buffers.get(name);
            if (buf == null) {
                buf = persistent(grad.duplicate());
                buf.attach(manager);
                buffers.put(name, buf);
            } else {
                buf.muli((float) h.mom).addi(grad);
            }
            if (nesterov) {
                try (NDArray d = buf.mul((float) h.mom);
                        NDArray step = d.addi(grad).muli((float) h.lr)) {
                    w.subi(step);
                }
            } else {
                try (NDArray step = buf.mul((float) h.lr)) {
                    w.subi(step);
                }
            }
        }
        grad.subi(grad);
    }

    @Override
    protected Map<String, NDArray> state() {
        Map<String, NDArray> out = new LinkedHashMap<>();
        buffers.forEach((k, v) -> out.put(k + ".momentum_buffer", v));
        return out;
    }

    @Override
    protected NDArray createSlot(String key, NDArray like) {
        NDArray slot = manager.zeros(like.getShape(), like.getDataType());
        buffers.put(key.substring(0, key.lastIndexOf(".momentum_buffer")), slot);
        return slot;
    }
}
