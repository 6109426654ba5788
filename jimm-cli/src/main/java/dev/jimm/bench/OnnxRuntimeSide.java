package dev.jimm.bench;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtLoggingLevel;
import ai.onnxruntime.OrtSession;
import dev.jimm.JimmException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.Map;

/**
 * ONNX Runtime's side of {@code jimm bench --compare onnxruntime}: one session over an exported model, on the CPU
 * provider, as a Java team serving the model would open it — every graph optimization ({@code ALL_OPT}: constant
 * folding, Conv+BatchNorm and Conv+activation fusion, the NCHWc layout), {@code threads} intra-op threads, one inter-op
 * thread, sequential execution, and denormals flushed to zero as jimm flushes them. The only class that touches ONNX
 * Runtime's API, which is a dependency of the benchmark, never of the library.
 */
public final class OnnxRuntimeSide implements AutoCloseable {
    private final OrtEnvironment env;
    private final OrtSession session;
    private final String input;

    /** Opens {@code onnx} with {@code threads} intra-op threads. */
    public OnnxRuntimeSide(Path onnx, int threads) {
        this(onnx, threads, null);
    }

    /** As {@link #OnnxRuntimeSide(Path, int)}, with ONNX Runtime's profiler writing to files named {@code prefix}. */
    private OnnxRuntimeSide(Path onnx, int threads, Path profilePrefix) {
        env = OrtEnvironment.getEnvironment(OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR);
        try (OrtSession.SessionOptions so = new OrtSession.SessionOptions()) {
            so.setIntraOpNumThreads(threads);
            so.setInterOpNumThreads(1);
            so.setExecutionMode(OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
            so.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            so.addConfigEntry("session.set_denormal_as_zero", "1");
            if (profilePrefix != null) {
                so.enableProfiling(profilePrefix.toString());
            }
            session = env.createSession(onnx.toString(), so);
            input = session.getInputNames().iterator().next();
        } catch (OrtException e) {
            throw new JimmException(onnx + ": ONNX Runtime cannot open it: " + e.getMessage(), e);
        }
    }

    /**
     * ONNX Runtime's profile of {@code forwards} runs of {@code x}, after {@code warmup} runs, in a session of its own
     * opened as this class opens every session; the trace is written as {@code profilePrefix_<time>.json}.
     */
    public static InferenceProfile profile(
            Path onnx, int threads, float[] x, long[] shape, int warmup, int forwards, Path profilePrefix) {
        try (OnnxRuntimeSide side = new OnnxRuntimeSide(onnx, threads, profilePrefix);
                OnnxTensor t = side.tensor(x, shape)) {
            for (int i = 0; i < warmup + forwards; i++) {
                side.runAndFree(t);
            }
            // warm-up runs are in the trace too: only the last forwards model_run events and their nodes count
            Path trace = Path.of(side.session.endProfiling());
            return InferenceProfile.ofOnnxRuntime(trace, warmup, forwards);
        } catch (OrtException e) {
            throw new JimmException(
                    "ONNX Runtime failed on an input of shape " + shapeText(shape) + ": " + e.getMessage(), e);
        }
    }

    /** ONNX Runtime's version, such as 1.23.2. */
    public String version() {
        return env.getVersion();
    }

    /** The model's first output for {@code x} of {@code shape}, flattened. */
    public float[] forward(float[] x, long[] shape) {
        try (OnnxTensor t = tensor(x, shape);
                OrtSession.Result r = session.run(Map.of(input, t))) {
            FloatBuffer out = ((OnnxTensor) r.get(0)).getFloatBuffer();
            float[] a = new float[out.remaining()];
            out.get(a);
            return a;
        } catch (OrtException e) {
            throw new JimmException(
                    "ONNX Runtime failed on an input of shape " + shapeText(shape) + ": " + e.getMessage(), e);
        }
    }

    /**
     * Images/s of {@code iters} runs over the batch after {@code warmup} untimed ones; the input tensor is made once,
     * as jimm's side makes its input array once.
     */
    public double inferThroughput(float[] x, long[] shape, int warmup, int iters) {
        try (OnnxTensor t = tensor(x, shape)) {
            long t0 = System.nanoTime();
            for (int i = 0; i < warmup + iters; i++) {
                if (i == warmup) {
                    t0 = System.nanoTime();
                }
                runAndFree(t);
            }
            return iters * shape[0] / ((System.nanoTime() - t0) / 1e9);
        } catch (OrtException e) {
            throw new JimmException(
                    "ONNX Runtime failed on an input of shape " + shapeText(shape) + ": " + e.getMessage(), e);
        }
    }

    /** Median ms of {@code iters} runs of a batch-1 input, after {@code warmup} untimed ones. */
    public double latencyMs(float[] x1, long[] shape1, int warmup, int iters) {
        double[] ms = new double[iters];
        try (OnnxTensor t = tensor(x1, shape1)) {
            for (int i = 0; i < warmup + iters; i++) {
                long t0 = System.nanoTime();
                runAndFree(t);
                if (i >= warmup) {
                    ms[i - warmup] = (System.nanoTime() - t0) / 1e6;
                }
            }
        } catch (OrtException e) {
            throw new JimmException(
                    "ONNX Runtime failed on an input of shape " + shapeText(shape1) + ": " + e.getMessage(), e);
        }
        return Rounds.median(ms);
    }

    // the output is allocated by ONNX Runtime on each run and freed here, as jimm's NDScope frees its output
    private void runAndFree(OnnxTensor t) throws OrtException {
        try (OrtSession.Result r = session.run(Map.of(input, t))) {
            OnnxValue out = r.get(0);
            if (out == null) {
                throw new JimmException("the ONNX model has no output");
            }
        }
    }

    // a direct buffer in native order, which ONNX Runtime uses in place rather than copying
    private OnnxTensor tensor(float[] x, long[] shape) throws OrtException {
        FloatBuffer b = ByteBuffer.allocateDirect(x.length * Float.BYTES)
                .order(ByteOrder.nativeOrder())
                .asFloatBuffer();
        b.put(x).rewind();
        return OnnxTensor.createTensor(env, b, shape);
    }

    private static String shapeText(long[] shape) {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < shape.length; i++) {
            sb.append(i == 0 ? "" : ", ").append(shape[i]);
        }
        return sb.append(']').toString();
    }

    @Override
    public void close() {
        try {
            session.close();
        } catch (OrtException e) {
            throw new JimmException("closing the ONNX Runtime session: " + e.getMessage(), e);
        }
    }
}
