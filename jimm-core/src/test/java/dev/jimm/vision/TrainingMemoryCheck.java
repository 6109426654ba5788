package dev.jimm.vision;

import ai.djl.ndarray.NDManager;
import dev.jimm.NativeTuning;
import dev.jimm.train.Learner;
import dev.jimm.train.MemoryMonitor;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * The long memory check (not part of the default suite): {@link TrainingMemoryTest}'s training run for many epochs,
 * printing live arrays and RSS per epoch and failing (exit 1) when the RSS grows by 5% or more after the second epoch
 * or the live-array count changes.
 *
 * <pre>
 * mvn -o -q test-compile
 * java -Xms768m -Xmx768m -XX:+AlwaysPreTouch \
 *     -cp "jimm-core/target/test-classes:jimm-core/target/classes:jimm-cli/target/lib/*" \
 *     dev.jimm.vision.TrainingMemoryCheck 10 256
 * </pre>
 *
 * <p>Fix the heap ({@code -Xms} = {@code -Xmx}, pre-touched): otherwise the JVM growing its heap shows as RSS growth
 * that is not a leak (455 to 589 MB over 5 epochs with a growable heap, flat with a fixed one, at a constant 192 live
 * arrays).
 */
public final class TrainingMemoryCheck {
    private TrainingMemoryCheck() {}

    public static void main(String[] args) throws Exception {
        // as the jimm command runs (with JIMM_NATIVE_TUNING=all, freed native memory is kept too)
        System.out.println("native tuning: " + NativeTuning.apply());
        int epochs = args.length > 0 ? Integer.parseInt(args[0]) : 10;
        int nTrain = args.length > 1 ? Integer.parseInt(args[1]) : 512;
        PrintWriter out = new PrintWriter(System.out, true);
        MemoryMonitor monitor = new MemoryMonitor(out);
        Path dir = Files.createTempDirectory("jimm-memcheck");
        try (NDManager data = NDManager.newBaseManager()) {
            Learner l = TrainingMemoryTest.learner(nTrain, nTrain / 4, dir, monitor, data);
            try {
                l.fitOneCycle(epochs, 3e-3);
            } finally {
                l.close();
                ((VisionModel) l.model()).close();
            }
        }
        List<MemoryMonitor.Row> rows = monitor.rows();
        MemoryMonitor.Row second = rows.get(1);
        long maxRss =
                rows.stream().skip(1).mapToLong(MemoryMonitor.Row::rssKb).max().orElseThrow();
        boolean arraysFlat =
                rows.stream().allMatch(r -> r.liveArrays() == rows.get(0).liveArrays());
        double growth = 100.0 * (maxRss - second.rssKb()) / second.rssKb();
        out.printf(
                Locale.ROOT,
                "RSS after epoch 2 %.1f MB, max after %.1f MB (%+.2f%%); live arrays %s%n",
                second.rssKb() / 1024.0,
                maxRss / 1024.0,
                growth,
                arraysFlat ? "constant" : "CHANGED");
        System.exit(growth < 5 && arraysFlat ? 0 : 1);
    }
}
