package dev.jimm.spark;

import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.apache.spark.executor.TaskMetrics;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerStageSubmitted;
import org.apache.spark.scheduler.SparkListenerTaskEnd;

/**
 * A line per finished task that wrote rows, while a job runs ({@code stage 3: partition 5 of 8 done, 250 rows in 4.1
 * s}), beside Spark's own UI. Register with {@code spark.sparkContext().addSparkListener(new
 * PartitionProgress(System.err::println))}.
 */
public final class PartitionProgress extends SparkListener {
    private final Consumer<String> out;
    private final Map<Integer, Integer> tasksPerStage = new ConcurrentHashMap<>();
    private final Map<Integer, AtomicInteger> donePerStage = new ConcurrentHashMap<>();

    /** Sends each line to {@code out} (called on Spark's listener thread). */
    public PartitionProgress(Consumer<String> out) {
        this.out = out;
    }

    @Override
    public void onStageSubmitted(SparkListenerStageSubmitted event) {
        tasksPerStage.put(event.stageInfo().stageId(), event.stageInfo().numTasks());
    }

    @Override
    public void onTaskEnd(SparkListenerTaskEnd event) {
        int stage = event.stageId();
        TaskMetrics m = event.taskMetrics();
        if (!"Success".equals(event.reason().toString()) || m == null) {
            out.accept(String.format(
                    Locale.ROOT,
                    "stage %d: partition %d attempt %d did not finish (%s); Spark runs it again",
                    stage,
                    event.taskInfo().partitionId(),
                    event.taskInfo().attemptNumber(),
                    event.reason()));
            return;
        }
        long rows = m.outputMetrics().recordsWritten();
        if (rows == 0) {
            return; // a listing, shuffle or counting task: not what the user waits for
        }
        int done = donePerStage.computeIfAbsent(stage, s -> new AtomicInteger()).incrementAndGet();
        out.accept(String.format(
                Locale.ROOT,
                "stage %d: partition %d done (%d of %d), %d rows in %.1f s",
                stage,
                event.taskInfo().partitionId(),
                done,
                tasksPerStage.getOrDefault(stage, 0),
                rows,
                event.taskInfo().duration() / 1000.0));
    }
}
