package dev.jimm.models;

import dev.jimm.layers.Activation;
import dev.jimm.layers.Dropout;
import dev.jimm.layers.Linear;
import java.util.SplittableRandom;

/**
 * torchvision's VGG ({@code tv/vgg11} … {@code tv/vgg19_bn}, registered by {@link Vgg.Family}): timm's VGG trunk
 * ({@code features.N}, the same feature levels) with torchvision's head, an adaptive 7x7 average pool and
 * Linear-ReLU-Dropout twice, then {@code classifier.6} (see {@link TvClassifierNet}).
 */
public final class TvVgg extends TvClassifierNet {
    private static final int POOL = 7;

    private final Vgg.Config cfg;

    public TvVgg(Vgg.Config cfg, ModelArgs args) {
        super(args, "VGG", POOL);
        this.cfg = cfg;
        registerFeatures(Vgg.features(cfg, inChans, this::addLevel));
        int channels = featureInfo().get(featureInfo().size() - 1).numChs();
        registerHead(
                channels,
                new Linear(channels * POOL * POOL, HIDDEN),
                Activation.relu(),
                new Dropout((float) dropRate),
                new Linear(HIDDEN, HIDDEN),
                Activation.relu(),
                new Dropout((float) dropRate));
    }

    /** The variant this model was built from. */
    public Vgg.Config config() {
        return cfg;
    }

    @Override
    protected void initWeights(SplittableRandom random) {
        Vgg.initVgg(this, random);
    }
}
