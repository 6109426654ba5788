package dev.jimm.vision;

import ai.djl.ndarray.NDArray;
import dev.jimm.layers.Activation;
import dev.jimm.layers.BatchNorm2d;
import dev.jimm.layers.Dropout;
import dev.jimm.layers.GlobalPool;
import dev.jimm.layers.Init;
import dev.jimm.layers.Linear;
import dev.jimm.layers.Module;
import dev.jimm.layers.Sequential;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * fastai's create_head: concat pooling (average and max), flatten, then for each hidden size a BatchNorm1d, Dropout and
 * bias-free Linear (with ReLU between), ending in the class count. With no hidden sizes and pooling "avg" it is a plain
 * linear classifier.
 *
 * @param linFtrs hidden sizes (fastai's default [512]); empty for a single linear layer
 * @param ps dropout of the last layer; the earlier ones get ps/2 (fastai's rule)
 * @param concatPool concatenate average and max pooling (doubling the features)
 * @param batchNorm BatchNorm1d before each linear layer (fastai's bn); off gives biased Linears
 */
public record FastaiHead(List<Integer> linFtrs, double ps, boolean concatPool, boolean batchNorm) {
    public FastaiHead {
        linFtrs = List.copyOf(linFtrs);
        if (ps < 0 || ps >= 1) {
            throw new IllegalArgumentException("head dropout ps " + ps + " is not in [0, 1)");
        }
    }

    /** fastai's default: concat pool, BN, dropout 0.25 and 0.5, one hidden layer of 512. */
    public static FastaiHead defaults() {
        return new FastaiHead(List.of(512), 0.5, true, true);
    }

    /** A plain head: average pooling and one linear layer with bias. */
    public static FastaiHead linear() {
        return new FastaiHead(List.of(), 0, false, false);
    }

    /** Builds the head for {@code numFeatures} body channels and {@code numClasses} outputs. */
    public Sequential build(int numFeatures, int numClasses) {
        int nf = concatPool ? numFeatures * 2 : numFeatures;
        List<Integer> sizes = new ArrayList<>();
        sizes.add(nf);
        sizes.addAll(linFtrs);
        sizes.add(numClasses);
        int nLayers = sizes.size() - 1;
        List<Module> layers = new ArrayList<>();
        layers.add(new GlobalPool(concatPool ? "catavgmax" : "avg", true));
        layers.add(new Flatten());
        for (int i = 0; i < nLayers; i++) {
            double p = i == nLayers - 1 ? ps : ps / 2;
            if (batchNorm) {
                layers.add(new BatchNorm2d(sizes.get(i)));
            }
            if (p != 0) {
                layers.add(new Dropout((float) p));
            }
            layers.add(new Linear(sizes.get(i), sizes.get(i + 1), !batchNorm));
            if (i < nLayers - 1) {
                layers.add(Activation.relu());
            }
        }
        return new KaimingSequential(layers);
    }

    /** fastai's Flatten: [N, C, 1, 1] or [N, C] to [N, C]. */
    static final class Flatten extends Module {
        @Override
        protected NDArray forwardImpl(NDArray x) {
            return x.reshape(x.getShape().get(0), -1);
        }
    }

    /** The head, with fastai's apply_init(kaiming_normal_) on its linear layers. */
    static final class KaimingSequential extends Sequential {
        KaimingSequential(List<Module> layers) {
            super(layers);
        }

        @Override
        protected void initWeights(SplittableRandom random) {
            for (Module m : children().values()) {
                if (m instanceof Linear l) {
                    Init.normal(l.weight().getArray(), Math.sqrt(2.0 / l.inFeatures()), random);
                    if (l.bias() != null) {
                        Init.constant(l.bias().getArray(), 0f);
                    }
                }
            }
        }
    }
}
