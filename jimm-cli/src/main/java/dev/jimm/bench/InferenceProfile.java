package dev.jimm.bench;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import dev.jimm.JimmException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Where one runtime's forward passes spent their time, read from its own profiler's trace: libtorch's (the Chrome trace
 * of {@code torch.autograd.profiler}, which DJL writes) or ONNX Runtime's ({@code SessionOptions.enableProfiling}). For
 * libtorch an op is a call jimm makes into it (the outermost events of each thread, so that a convolution's inner
 * oneDNN events count once; a TorchScript method such as a pre-packed convolution is named {@link #SCRIPT} and its
 * first call); for ONNX Runtime it is a graph node's kernel, by operator type. The time between the ops of a forward,
 * {@link #msBetweenOps()}, is the caller's: Java and JNI on jimm's side, the session's own work on ONNX Runtime's.
 *
 * @param runtime "jimm" or "ONNX Runtime"
 * @param msPerForward wall time of one forward pass while profiling
 * @param opsPerForward ops (calls or kernels) per forward pass
 * @param ops per op name, the most time first
 */
public record InferenceProfile(String runtime, double msPerForward, double opsPerForward, List<OpTime> ops) {
    /** The prefix of a TorchScript method's op, before the name of the first call it makes. */
    public static final String SCRIPT = "script > ";

    /** One op name's calls and time, per forward pass. */
    public record OpTime(String op, double callsPerForward, double msPerForward) {}

    public InferenceProfile {
        ops = List.copyOf(ops);
    }

    /** The ops' time per forward pass. */
    public double msInOps() {
        return ops.stream().mapToDouble(OpTime::msPerForward).sum();
    }

    /** The wall time of a forward pass outside the ops. */
    public double msBetweenOps() {
        return Math.max(0, msPerForward - msInOps());
    }

    /**
     * The profile of {@code forwards} passes that took {@code wallMs} in all, from libtorch's Chrome trace: the
     * outermost complete ({@code "ph": "X"}) events of each thread, grouped by name.
     */
    public static InferenceProfile ofLibtorch(Path trace, int forwards, double wallMs) {
        List<Event> events = new ArrayList<>();
        for (JsonElement e : events(trace)) {
            JsonObject o = e.getAsJsonObject();
            if (o.has("dur") && "X".equals(str(o, "ph"))) {
                events.add(new Event(
                        str(o, "name"),
                        str(o, "tid"),
                        o.get("ts").getAsDouble(),
                        o.get("dur").getAsDouble()));
            }
        }
        events.sort(Comparator.comparing(Event::thread)
                .thenComparingDouble(Event::start)
                .thenComparing(Comparator.comparingDouble(Event::micros).reversed()));
        Map<String, double[]> byName = new LinkedHashMap<>();
        Deque<Double> open = new ArrayDeque<>();
        String thread = null;
        Event script = null;
        for (Event ev : events) {
            if (!ev.thread().equals(thread)) {
                open.clear();
                thread = ev.thread();
            }
            while (!open.isEmpty() && open.peek() <= ev.start()) {
                open.pop();
            }
            if (open.isEmpty()) {
                if (script != null) {
                    add(byName, SCRIPT + "(empty)", script.micros());
                    script = null;
                }
                // a TorchScript method is named after itself; its first call (below any nested forward) says what it
                // runs
                if (ev.name().equals("forward")) {
                    script = ev;
                } else {
                    add(byName, ev.name(), ev.micros());
                }
            } else if (script != null && !ev.name().equals("forward")) {
                add(byName, SCRIPT + ev.name(), script.micros());
                script = null;
            }
            open.push(ev.start() + ev.micros());
        }
        if (script != null) {
            add(byName, SCRIPT + "(empty)", script.micros());
        }
        return of("jimm", byName, forwards, wallMs);
    }

    /**
     * The profile of the last {@code forwards} of {@code warmup + forwards} runs in ONNX Runtime's trace (a session
     * profiles from its start, so the warm-up runs are in it too): each node's {@code _kernel_time} event inside those
     * runs' {@code model_run} events, under its operator type ({@code args.op_name}), and the runs' wall time.
     */
    public static InferenceProfile ofOnnxRuntime(Path trace, int warmup, int forwards) {
        List<double[]> runs = new ArrayList<>();
        List<JsonObject> kernels = new ArrayList<>();
        for (JsonElement e : events(trace)) {
            JsonObject o = e.getAsJsonObject();
            if (!o.has("dur") || !o.has("ts")) {
                continue;
            }
            String name = str(o, "name");
            if ("Session".equals(str(o, "cat")) && "model_run".equals(name)) {
                double ts = o.get("ts").getAsDouble();
                runs.add(new double[] {ts, ts + o.get("dur").getAsDouble()});
            } else if ("Node".equals(str(o, "cat")) && name.endsWith("_kernel_time")) {
                kernels.add(o);
            }
        }
        if (runs.size() != warmup + forwards) {
            throw new JimmException(
                    trace + ": expected " + (warmup + forwards) + " model_run events, found " + runs.size());
        }
        runs.sort(Comparator.comparingDouble(r -> r[0]));
        List<double[]> timed = runs.subList(warmup, runs.size());
        double wallMicros = timed.stream().mapToDouble(r -> r[1] - r[0]).sum();
        Map<String, double[]> byOp = new LinkedHashMap<>();
        for (JsonObject o : kernels) {
            double ts = o.get("ts").getAsDouble();
            if (timed.stream().anyMatch(r -> ts >= r[0] && ts <= r[1])) {
                JsonObject args = o.has("args") ? o.getAsJsonObject("args") : new JsonObject();
                add(
                        byOp,
                        args.has("op_name") ? args.get("op_name").getAsString() : str(o, "name"),
                        o.get("dur").getAsDouble());
            }
        }
        return of("ONNX Runtime", byOp, forwards, wallMicros / 1000);
    }

    private static InferenceProfile of(String runtime, Map<String, double[]> byName, int forwards, double wallMs) {
        if (forwards < 1) {
            throw new IllegalArgumentException("forwards must be at least 1, got " + forwards);
        }
        List<OpTime> ops = new ArrayList<>();
        double calls = 0;
        for (Map.Entry<String, double[]> e : byName.entrySet()) {
            double[] v = e.getValue();
            ops.add(new OpTime(e.getKey(), v[0] / forwards, v[1] / 1000 / forwards));
            calls += v[0];
        }
        ops.sort(Comparator.comparingDouble(OpTime::msPerForward).reversed());
        return new InferenceProfile(runtime, wallMs / forwards, calls / forwards, ops);
    }

    private static void add(Map<String, double[]> byName, String name, double micros) {
        double[] v = byName.computeIfAbsent(name, k -> new double[2]);
        v[0]++;
        v[1] += micros;
    }

    /** The trace's events: a bare JSON array, or the {@code traceEvents} of an object. */
    private static JsonArray events(Path trace) {
        try {
            JsonElement root = JsonParser.parseString(Files.readString(trace));
            if (root.isJsonObject() && root.getAsJsonObject().has("traceEvents")) {
                return root.getAsJsonObject().getAsJsonArray("traceEvents");
            }
            if (root.isJsonArray()) {
                return root.getAsJsonArray();
            }
            throw new JimmException(trace + ": not a Chrome trace (expected an array of events or traceEvents)");
        } catch (IOException e) {
            throw new JimmException(trace + ": cannot read the profiler's trace: " + e.getMessage(), e);
        } catch (JsonParseException | IllegalStateException e) {
            // not JSON, or traceEvents that is not an array
            throw new JimmException(trace + ": not a Chrome trace: " + e.getMessage(), e);
        }
    }

    private static String str(JsonObject o, String key) {
        JsonElement e = o.get(key);
        return e == null || e.isJsonNull() ? "" : e.getAsString();
    }

    private record Event(String name, String thread, double start, double micros) {}

    /**
     * The two runtimes side by side for one row: each one's ms per forward, ops per forward, time between ops, and its
     * {@code top} most expensive ops.
     */
    public static String table(String model, String measure, InferenceProfile jimm, InferenceProfile other, int top) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "%s %s%n", model, measure));
        for (InferenceProfile p : List.of(jimm, other)) {
            sb.append(String.format(
                    Locale.ROOT,
                    "  %-13s %8.2f ms a forward: %5.0f ops %8.2f ms, between them %6.2f ms%n",
                    p.runtime(),
                    p.msPerForward(),
                    p.opsPerForward(),
                    p.msInOps(),
                    p.msBetweenOps()));
            for (OpTime op : p.ops().subList(0, Math.min(top, p.ops().size()))) {
                sb.append(String.format(
                        Locale.ROOT,
                        "    %-40s %5.0f x %8.2f ms  %5.1f%%%n",
                        op.op(),
                        op.callsPerForward(),
                        op.msPerForward(),
                        100 * op.msPerForward() / p.msPerForward()));
            }
        }
        return sb.toString();
    }
}
