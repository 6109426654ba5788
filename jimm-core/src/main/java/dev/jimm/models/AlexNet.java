package dev.jimm.models;

import dev.jimm.layers.Activation;
import dev.jimm.layers.Conv2d;
import dev.jimm.layers.Dropout;
import dev.jimm.layers.Linear;
import dev.jimm.layers.Pool2d;
import dev.jimm.layers.Sequential;
import java.util.List;

/**
 * torchvision's AlexNet ({@code tv/alexnet}, the "one weird trick" variant): five convs, an adaptive 6x6 average pool
 * and a three-layer linear classifier, with torchvision's keys ({@code features.N}, {@code classifier.1/4/6}) and
 * PyTorch's default init (torchvision sets none).
 *
 * <p>Feature levels: the activation before each max pool (reductions 4, 8, 16) and the last max pool (32), as for VGG.
 * The head takes the 6x6-pooled maps, not a global pool, so {@code globalPool} is "avg" (that head) or "" (no head,
 * numClasses 0: {@link #forwardHead} returns the maps). Pre-logits are the 4096 features entering {@code classifier.6};
 * numClasses 0 makes {@code classifier.6} an identity. The dropout rate is {@code dropRate} (torchvision's default is
 * 0.5).
 */
public final class AlexNet extends TvClassifierNet {
    private static final int POOL = 6;

    public AlexNet(ModelArgs args) {
        super(args, "AlexNet", POOL);
        Conv2d.Options o = Conv2d.Options.defaults();
        registerFeatures(new Sequential(
                new Conv2d(inChans, 64, 11, o.stride(4).padding(2)),
                Activation.relu(),
                Pool2d.max(3, 2, 0),
                new Conv2d(64, 192, 5, o.padding(2)),
                Activation.relu(),
                Pool2d.max(3, 2, 0),
                new Conv2d(192, 384, 3, o.padding(1)),
                Activation.relu(),
                new Conv2d(384, 256, 3, o.padding(1)),
                Activation.relu(),
                new Conv2d(256, 256, 3, o.padding(1)),
                Activation.relu(),
                Pool2d.max(3, 2, 0)));
        addLevel(1, 64, 4);
        addLevel(4, 192, 8);
        addLevel(11, 256, 16);
        addLevel(12, 256, 32);
        // Dropout-Linear-ReLU twice (VGG has Linear-ReLU-Dropout)
        registerHead(
                256,
                new Dropout((float) dropRate),
                new Linear(256 * POOL * POOL, HIDDEN),
                Activation.relu(),
                new Dropout((float) dropRate),
                new Linear(HIDDEN, HIDDEN),
                Activation.relu());
    }

    /** Registers {@code tv/alexnet}. */
    public static final class Family implements ModelFamily {
        @Override
        public String name() {
            return "alexnet";
        }

        @Override
        public List<ModelEntry> models() {
            return List.of(
                    ModelEntry.untrained("tv/alexnet", "torchvision", AlexNet::new, 224, "features.0", "classifier.6"));
        }
    }
}
