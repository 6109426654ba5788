package dev.jimm.vision;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.jimm.data.ClassSubset;
import dev.jimm.data.DataLoaders;
import dev.jimm.data.ImageDataLoaders;
import dev.jimm.data.ImageDataset;
import dev.jimm.train.Learner;
import dev.jimm.train.LrFinder;
import dev.jimm.train.Metric;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * With a seed, two runs give identical lr_find curves, metrics and final weights: a ResNet-10t with fastai's head
 * (dropout) on 300 images of the bundled Fashion-MNIST sample, lr_find then one epoch of fit_one_cycle at its
 * suggestion, on two loader threads, twice in one JVM (so the second run starts from whatever random state the first
 * left).
 */
class ReproducibilityTest {
    record Outcome(
            List<Double> lrFindLosses,
            double lr,
            List<Double> trainLosses,
            double validLoss,
            Map<String, Double> metrics,
            Map<String, float[]> weights) {}

    static Outcome once(long seed) {
        ImageDataset train = TrainRecipe.namedDataset("fashion-mnist-sample", null, true);
        ImageDataset test = TrainRecipe.namedDataset("fashion-mnist-sample", null, false);
        int[] all = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
        DataPipeline tf = DataPipelineTest.fashionMnist();
        try (NDManager manager = NDManager.newBaseManager()) {
            DataLoaders dls = ImageDataLoaders.of(
                    ClassSubset.of(train, 30, seed, all),
                    ClassSubset.of(test, 10, seed, all),
                    tf.trainTransform(),
                    tf.validTransform(),
                    new ImageDataLoaders.Settings(16, seed, 2, 4),
                    manager);
            try (Learner l = VisionLearner.create(
                    dls,
                    VisionLearner.Options.of("resnet10t").inChans(1).seed(seed),
                    b -> b.metrics(Metric.accuracy(), Metric.f1(10)))) {
                LrFinder.Result found = l.lrFind(1e-5, 1, 24);
                double lr = found.valley();
                l.fitOneCycle(1, lr);
                Learner.Validation v = l.validate();
                Map<String, float[]> w = new LinkedHashMap<>();
                l.model()
                        .stateDict()
                        .forEach((k, a) ->
                                w.put(k, a.toType(DataType.FLOAT32, false).toFloatArray()));
                return new Outcome(found.losses(), lr, l.recorder().losses(), v.loss(), v.metrics(), w);
            }
        }
    }

    /** A digest of a run's lr_find curve, losses, metrics and weights (to compare runs in separate processes). */
    static String digest(Outcome o) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        md.update((o.lrFindLosses() + "|" + o.lr() + "|" + o.trainLosses() + "|" + o.validLoss() + "|" + o.metrics())
                .getBytes(StandardCharsets.UTF_8));
        for (Map.Entry<String, float[]> e : o.weights().entrySet()) {
            md.update(e.getKey().getBytes(StandardCharsets.UTF_8));
            ByteBuffer b = ByteBuffer.allocate(4 * e.getValue().length);
            b.asFloatBuffer().put(e.getValue());
            md.update(b.array());
        }
        return HexFormat.of().formatHex(md.digest());
    }

    /** Prints one run's digest and summary: run it in two processes and compare. */
    public static void main(String[] args) throws Exception {
        Outcome o = once(args.length > 0 ? Long.parseLong(args[0]) : 11);
        System.out.println("lr " + o.lr() + " valid_loss " + o.validLoss() + " " + o.metrics());
        System.out.println("lr_find " + o.lrFindLosses());
        System.out.println("digest " + digest(o));
    }

    @Test
    void twoRunsWithOneSeedAreIdentical() {
        Outcome a = once(11);
        Outcome b = once(11);
        assertEquals(a.lrFindLosses(), b.lrFindLosses(), "lr_find's smoothed losses");
        assertEquals(a.lr(), b.lr());
        assertEquals(a.trainLosses(), b.trainLosses(), "every training batch's loss");
        assertEquals(a.validLoss(), b.validLoss(), 0.0);
        assertEquals(a.metrics(), b.metrics());
        assertEquals(a.weights().keySet(), b.weights().keySet());
        for (Map.Entry<String, float[]> e : a.weights().entrySet()) {
            assertArrayEquals(e.getValue(), b.weights().get(e.getKey()), 0f, e.getKey());
        }
    }
}
