package dev.jimm.bench;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import dev.jimm.layers.Attention;
import dev.jimm.layers.Conv2d;
import dev.jimm.layers.Linear;
import dev.jimm.layers.Module;
import java.util.ArrayList;
import java.util.List;

/**
 * Counts a model's forward multiply-accumulates from the shapes seen in one forward pass: every {@link Conv2d} (output
 * elements × input channels per group × kernel area), every {@link Linear} (output elements × input features) and the
 * two matrix products of every {@link Attention} (q·kᵀ and attn·v, 2·B·N²·C). Norms, activations and pooling are left
 * out, as in torchvision's tables (resnet50 4.09, resnet18 1.81 GMACs at 224; timm's 4.11 and 1.82 count them too), so
 * FLOPs = 2 × MACs and a training step ≈ 3 × forward.
 */
public final class FlopCounter {
    private FlopCounter() {}

    /** Forward MACs of {@code model} for one input of {@code shape} (eval mode; the batch is in the shape). */
    public static long forwardMacs(Module model, Shape shape) {
        long[] total = new long[1];
        List<AutoCloseable> handles = new ArrayList<>();
        boolean wasTraining = model.isTraining();
        model.eval();
        try {
            for (Module m : model.namedModules().values()) {
                if (m instanceof Conv2d c) {
                    handles.add(m.addForwardHook(
                            (mod, in, out) -> total[0] += out.getShape().size()
                                    * (c.inChannels() / c.groups())
                                    * c.kernelSize()[0]
                                    * c.kernelSize()[1]));
                } else if (m instanceof Linear l) {
                    handles.add(m.addForwardHook(
                            (mod, in, out) -> total[0] += out.getShape().size() * l.inFeatures()));
                } else if (m instanceof Attention) {
                    handles.add(m.addForwardHook((mod, in, out) -> {
                        Shape s = in.getShape();
                        long n = s.get(s.dimension() - 2);
                        total[0] += 2 * (s.size() / s.get(s.dimension() - 1)) * n * s.get(s.dimension() - 1);
                    }));
                }
            }
            NDManager manager = model.getManager();
            try (NDScope scope = new NDScope()) {
                scope.suppressNotUsedWarning();
                NDArray x = manager.zeros(shape);
                model.forward(x);
            }
        } finally {
            for (AutoCloseable h : handles) {
                try {
                    h.close();
                } catch (Exception e) {
                    throw new IllegalStateException("removing a FLOP-counting hook failed", e);
                }
            }
            model.train(wasTraining);
        }
        return total[0];
    }
}
