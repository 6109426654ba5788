package dev.jimm.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import dev.jimm.layers.Scalars;

/** A loss over a batch's logits and targets, averaged over the batch. */
@FunctionalInterface
public interface Loss {
    /** The mean loss (a scalar) of {@code logits} [N, C] against {@code targets}. */
    NDArray compute(NDArray logits, NDArray targets);

    /** Cross-entropy against class indices [N] (PyTorch's F.cross_entropy). */
    static Loss crossEntropy() {
        return crossEntropy(0);
    }

    /**
     * Cross-entropy with label smoothing ε: (1 − ε)·NLL + ε·mean over classes of −log p, as PyTorch's
     * {@code label_smoothing}. Soft targets [N, C] (Mixup/CutMix) are accepted too.
     */
    static Loss crossEntropy(double labelSmoothing) {
        if (labelSmoothing < 0 || labelSmoothing >= 1) {
            throw new IllegalArgumentException("label smoothing " + labelSmoothing + " is not in [0, 1)");
        }
        return (logits, targets) -> {
            if (targets.getShape().dimension() == 2) {
                return softTargetCrossEntropy().compute(logits, targets);
            }
            NDArray logp = logits.logSoftmax(1);
            NDArray onehot = targets.toType(DataType.INT64, false)
                    .oneHot((int) logits.getShape().get(1))
                    .toType(logp.getDataType(), false);
            NDArray nll = logp.mul(onehot).sum(new int[] {1}).neg();
            if (labelSmoothing == 0) {
                return nll.mean();
            }
            NDArray smooth = logp.mean(new int[] {1}).neg();
            return Scalars.mul(nll, 1 - labelSmoothing)
                    .add(Scalars.mul(smooth, labelSmoothing))
                    .mean();
        };
    }

    /** Cross-entropy against probability targets [N, C] (timm's SoftTargetCrossEntropy). */
    static Loss softTargetCrossEntropy() {
        return (logits, targets) ->
                logits.logSoftmax(1).mul(targets).sum(new int[] {1}).neg().mean();
    }

    /** Binary cross-entropy with logits for multi-label targets [N, C] in {0, 1}. */
    static Loss bceWithLogits() {
        return (x, t) -> {
            // max(x, 0) − x·t + log(1 + e^{−|x|}): stable for large |x|
            NDArray relu = x.getNDArrayInternal().relu();
            return relu.sub(x.mul(t)).add(x.abs().neg().exp().add(1f).log()).mean();
        };
    }
}
