package dev.jimm.bench;

import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.function.ToDoubleFunction;
import java.util.stream.IntStream;

/**
 * Medians over repeated, alternating runs of a benchmark ({@code --rounds N}). This project's 2-core VM drifts by
 * 10-25% within minutes, so one jimm run followed by one PyTorch run can land on different speeds of the machine; the
 * median of several alternating rounds cannot be moved by one slow phase.
 */
public final class Rounds {
    private Rounds() {}

    /** The median of the values that are not NaN; NaN when there are none. */
    public static double median(double[] values) {
        double[] v =
                Arrays.stream(values).filter(d -> !Double.isNaN(d)).sorted().toArray();
        if (v.length == 0) {
            return Double.NaN;
        }
        int m = v.length / 2;
        return v.length % 2 == 1 ? v[m] : (v[m - 1] + v[m]) / 2;
    }

    /**
     * One result of jimm's rounds: the median of each figure, the largest peak memory, and the training profile of the
     * round whose training throughput is the median one.
     */
    public static ModelBench.Result medianOf(List<ModelBench.Result> rounds) {
        ModelBench.Result first = rounds.get(0);
        ModelBench.Result mid = rounds.get(medianIndex(
                rounds.stream().mapToDouble(ModelBench.Result::trainImgS).toArray()));
        return new ModelBench.Result(
                first.model(),
                first.params(),
                first.forwardMacs(),
                median(rounds, ModelBench.Result::trainImgS),
                median(rounds, ModelBench.Result::bareImgS),
                median(rounds, ModelBench.Result::inferImgS),
                median(rounds, ModelBench.Result::latencyMs),
                rounds.stream().mapToLong(ModelBench.Result::peakRssBytes).max().orElse(0),
                rounds.stream().mapToLong(ModelBench.Result::nativeBytes).max().orElse(0),
                mid.trainPhases(),
                mid.barePhases());
    }

    /** The same for PyTorch's rounds. */
    public static PytorchReference.Result medianOfPytorch(List<PytorchReference.Result> rounds) {
        PytorchReference.Result first = rounds.get(0);
        PytorchReference.Result mid = rounds.get(medianIndex(
                rounds.stream().mapToDouble(PytorchReference.Result::trainImgS).toArray()));
        return new PytorchReference.Result(
                first.model(),
                first.params(),
                median(rounds, PytorchReference.Result::trainImgS),
                median(rounds, PytorchReference.Result::inferImgS),
                median(rounds, PytorchReference.Result::latencyMs),
                rounds.stream()
                        .mapToLong(PytorchReference.Result::peakRssBytes)
                        .max()
                        .orElse(0),
                first.version(),
                mid.trainPhases());
    }

    private static <T> double median(List<T> rounds, ToDoubleFunction<T> figure) {
        return median(rounds.stream().mapToDouble(figure).toArray());
    }

    // the round at the (lower) median of the values, NaNs last; round 0 when all are NaN
    private static int medianIndex(double[] values) {
        Integer[] order = IntStream.range(0, values.length).boxed().toArray(Integer[]::new);
        Arrays.sort(
                order, Comparator.comparingDouble(i -> Double.isNaN(values[i]) ? Double.POSITIVE_INFINITY : values[i]));
        long valid = Arrays.stream(values).filter(d -> !Double.isNaN(d)).count();
        return valid == 0 ? 0 : order[(int) ((valid - 1) / 2)];
    }
}
