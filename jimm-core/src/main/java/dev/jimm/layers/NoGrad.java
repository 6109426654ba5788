package dev.jimm.layers;

import ai.djl.engine.Engine;
import ai.djl.pytorch.jni.JniUtils;

/**
 * PyTorch's {@code torch.no_grad()} for the current thread: while open, operations record no autograd graph even on
 * arrays that require a gradient. libtorch's grad mode is per thread and on by default in every thread but the one that
 * loaded the engine, so inference on a worker thread would otherwise build (and keep alive) a graph it never uses.
 *
 * <pre>{@code
 * try (NoGrad g = NoGrad.enter()) {
 *     NDArray logits = model.forward(x);
 * }
 * }</pre>
 */
public final class NoGrad implements AutoCloseable {
    private static final boolean PYTORCH = "PyTorch".equals(Engine.getInstance().getEngineName());

    private final boolean previous;

    private NoGrad(boolean previous) {
        this.previous = previous;
    }

    /** Turns grad mode off on this thread until {@link #close}, which restores what it was. */
    public static NoGrad enter() {
        if (!PYTORCH) {
            return new NoGrad(false);
        }
        boolean was = JniUtils.isGradMode();
        if (was) {
            JniUtils.setGradMode(false);
        }
        return new NoGrad(was);
    }

    /** Whether this thread records autograd graphs now. */
    public static boolean isGradEnabled() {
        return PYTORCH && JniUtils.isGradMode();
    }

    @Override
    public void close() {
        if (previous) {
            JniUtils.setGradMode(true);
        }
    }
}
