package dev.jimm.layers;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * Folds every eval-mode BatchNorm that directly follows a convolution into that convolution ({@code w' = w * gamma /
 * sqrt(var + eps)}, {@code b' = beta + (b - mean) * gamma / sqrt(var + eps)}), for any module tree: one forward pass on
 * a sample input, watched by forward hooks, finds the pairs, so ResNet's {@code conv1}/{@code bn1}, timm's ConvBnAct
 * and BatchNormAct2d (the norm goes, the activation stays), torchvision's Conv2dNormActivation and Inception's
 * BasicConv2d are all covered without per-family code.
 *
 * <p>A pair is folded only when the norm's input is the very array the convolution returned, each runs once per
 * forward, and no other module reads the convolution's output. Code that reads it outside any module (a residual sum of
 * a pre-norm value) is caught by comparing the outputs before and after on the sample: a mismatch is an error. The
 * model is changed in place; {@code dev.jimm.models.InferenceModel} works on a copy.
 */
public final class BatchNormFolding {
    /** Largest output difference, relative to the largest output, accepted after folding. */
    public static final double TOLERANCE = 1e-3;

    private BatchNormFolding() {}

    /** One folded pair, by dotted module names. */
    public record Pair(String conv, String norm) {}

    /**
     * Puts {@code model} in eval mode and folds its conv/BatchNorm pairs, found by running it on zeros-and-noise of
     * {@code sampleShape} (e.g. [1, 3, 224, 224]).
     *
     * @return the pairs folded, in forward order
     * @throws IllegalStateException when the folded model no longer computes what it did
     */
    public static List<Pair> fold(Module model, Shape sampleShape) {
        model.eval();
        Map<Module, String> names = new IdentityHashMap<>();
        model.namedModules().forEach((n, m) -> names.put(m, n));
        Map<NDArray, Conv2d> producedBy = new IdentityHashMap<>();
        Map<Module, Integer> calls = new IdentityHashMap<>();
        Map<Conv2d, Integer> readers = new IdentityHashMap<>();
        List<BatchNorm2d> normOrder = new ArrayList<>();
        Map<BatchNorm2d, Conv2d> candidate = new IdentityHashMap<>();
        List<AutoCloseable> hooks = new ArrayList<>();
        float[] before;
        try (NDManager scratch = model.getManager().newSubManager();
                NoGrad g = NoGrad.enter()) {
            for (Module m : names.keySet()) {
                if (m instanceof Conv2d conv) {
                    hooks.add(m.addForwardHook((mod, in, out) -> {
                        calls.merge(mod, 1, Integer::sum);
                        countReader(producedBy, readers, in);
                        producedBy.put(out, conv);
                    }));
                } else if (m instanceof BatchNorm2d bn && !bn.isFolded()) {
                    hooks.add(m.addForwardHook((mod, in, out) -> {
                        calls.merge(mod, 1, Integer::sum);
                        Conv2d conv = producedBy.get(in);
                        if (conv != null) {
                            candidate.put(bn, conv);
                            normOrder.add(bn);
                        }
                    }));
                } else if (m.children().isEmpty()) {
                    hooks.add(m.addForwardHook((mod, in, out) -> {
                        // a pass-through (Identity, eval-mode Dropout) hands the array on unread
                        if (out != in) {
                            countReader(producedBy, readers, in);
                        }
                    }));
                }
            }
            NDArray x = scratch.randomNormal(sampleShape);
            try {
                before = model.forward(x).toFloatArray();
            } finally {
                closeAll(hooks);
            }
            List<Pair> folded = new ArrayList<>();
            for (BatchNorm2d bn : normOrder) {
                Conv2d conv = candidate.get(bn);
                if (calls.get(bn) == 1
                        && calls.get(conv) == 1
                        && !readers.containsKey(conv)
                        && conv.outChannels() == bn.numFeatures()) {
                    bn.foldInto(conv);
                    folded.add(new Pair(names.get(conv), names.get(bn)));
                }
            }
            float[] after = model.forward(x).toFloatArray();
            double maxAbs = 0;
            double maxDiff = 0;
            for (int i = 0; i < before.length; i++) {
                maxAbs = Math.max(maxAbs, Math.abs(before[i]));
                maxDiff = Math.max(maxDiff, Math.abs(before[i] - after[i]));
            }
            if (!(maxDiff <= TOLERANCE * Math.max(maxAbs, 1e-6))) {
                throw new IllegalStateException("folding " + folded.size()
                        + " BatchNorms into their convolutions changed the "
                        + "output of " + model.extraRepr() + " on a " + sampleShape + " sample by up to " + maxDiff
                        + " (outputs up to " + maxAbs + "): some convolution output is read besides its norm");
            }
            return folded;
        }
    }

    private static void countReader(Map<NDArray, Conv2d> producedBy, Map<Conv2d, Integer> readers, NDArray in) {
        Conv2d src = producedBy.get(in);
        if (src != null) {
            readers.merge(src, 1, Integer::sum);
        }
    }

    private static void closeAll(List<AutoCloseable> hooks) {
        for (AutoCloseable h : hooks) {
            try {
                h.close();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }
    }
}
