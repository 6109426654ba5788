package dev.jimm.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import dev.jimm.layers.Conv2d;
import dev.jimm.layers.Linear;
import dev.jimm.layers.Module;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * A per-layer summary like torchinfo's: each module's output shape and parameter count in the order they run, then
 * totals (parameters, trainable, mult-adds, input/forward/params sizes).
 */
public final class ModelSummary {
    /**
     * One module in the summary.
     *
     * @param name dotted module name
     * @param type module kind ({@code Conv2d}, {@code Bottleneck}, …)
     * @param depth nesting depth (children of the model are 1)
     * @param outputShape shape of its output on the summary input
     * @param params parameters of the module and its children
     * @param trainable whether all of them require gradients
     * @param leaf whether it has no children
     */
    public record Row(
            String name, String type, int depth, Shape outputShape, long params, boolean trainable, boolean leaf) {}

    private final String modelName;
    private final Shape inputShape;
    private final Shape outputShape;
    private final List<Row> rows;
    private final long totalParams;
    private final long trainableParams;
    private final long multAdds;
    private final long leafOutputElements;

    private ModelSummary(
            String modelName,
            Shape inputShape,
            Shape outputShape,
            List<Row> rows,
            long totalParams,
            long trainableParams,
            long multAdds,
            long leafOutputElements) {
        this.modelName = modelName;
        this.inputShape = inputShape;
        this.outputShape = outputShape;
        this.rows = List.copyOf(rows);
        this.totalParams = totalParams;
        this.trainableParams = trainableParams;
        this.multAdds = multAdds;
        this.leafOutputElements = leafOutputElements;
    }

    /** Runs the model once on zeros of {@code inputShape} (eval mode) and records every module. */
    public static ModelSummary of(ImageModel model, Shape inputShape) {
        Map<Module, String> names = new IdentityHashMap<>();
        model.namedModules().forEach((n, m) -> names.put(m, n));
        List<Row> rows = new ArrayList<>();
        long[] macs = {0};
        long[] leafOut = {0};
        List<AutoCloseable> hooks = new ArrayList<>();
        // a module can run before its parent finishes: record in completion order, then sort by start
        Map<Module, Integer> startOrder = new IdentityHashMap<>();
        List<Module> finished = new ArrayList<>();
        List<Shape> finishedShapes = new ArrayList<>();
        for (Map.Entry<String, Module> e : model.namedModules().entrySet()) {
            if (e.getKey().isEmpty()) {
                continue;
            }
            Module m = e.getValue();
            hooks.add(m.addForwardHook((mod, in, out) -> {
                finished.add(mod);
                finishedShapes.add(out.getShape());
                if (mod.children().isEmpty()) {
                    leafOut[0] += out.getShape().size();
                }
                macs[0] += multAdds(mod, out);
            }));
        }
        Shape out;
        boolean wasTraining = model.isTraining();
        model.eval();
        try (NDManager scratch = model.getManager().newSubManager()) {
            NDArray y = model.forward(scratch.zeros(inputShape));
            out = y.getShape();
        } finally {
            model.train(wasTraining);
            for (AutoCloseable h : hooks) {
                try {
                    h.close();
                } catch (Exception ignored) {
                    // removing a hook from a list cannot fail
                }
            }
        }
        // order by module registration order (a parent before its children), as torchinfo prints
        int i = 0;
        for (Module m : model.namedModules().values()) {
            startOrder.put(m, i++);
        }
        List<Integer> idx = new ArrayList<>();
        for (int k = 0; k < finished.size(); k++) {
            idx.add(k);
        }
        idx.sort((a, b) -> Integer.compare(startOrder.get(finished.get(a)), startOrder.get(finished.get(b))));
        Set<Module> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        for (int k : idx) {
            Module m = finished.get(k);
            if (!seen.add(m)) {
                continue;
            }
            String name = names.get(m);
            long params = 0;
            boolean trainable = true;
            for (Parameter p : m.namedParameters().values()) {
                params += p.getShape().size();
                trainable &= p.requiresGradient();
            }
            int depth = name.split("\\.").length;
            rows.add(new Row(
                    name,
                    typeName(m),
                    depth,
                    finishedShapes.get(k),
                    params,
                    trainable,
                    m.children().isEmpty()));
        }
        long total = 0;
        long trainable = 0;
        for (Parameter p : model.namedParameters().values()) {
            total += p.getShape().size();
            if (p.requiresGradient()) {
                trainable += p.getShape().size();
            }
        }
        return new ModelSummary(model.name(), inputShape, out, rows, total, trainable, macs[0], leafOut[0]);
    }

    private static String typeName(Module m) {
        String s = m.getClass().getSimpleName();
        return s.isEmpty() ? "Module" : s;
    }

    private static long multAdds(Module m, NDArray out) {
        if (m instanceof Conv2d c) {
            long perOutput = c.weight().getShape().size() / c.outChannels();
            return out.getShape().size() * perOutput;
        }
        if (m instanceof Linear l) {
            return out.getShape().size() * l.inFeatures();
        }
        return 0;
    }

    public List<Row> rows() {
        return rows;
    }

    public long totalParams() {
        return totalParams;
    }

    public long trainableParams() {
        return trainableParams;
    }

    public long multAdds() {
        return multAdds;
    }

    public Shape outputShape() {
        return outputShape;
    }

    /** Input size in MB (float32). */
    public double inputMegabytes() {
        return inputShape.size() * 4 / 1e6;
    }

    /** Activations kept for backward: twice the leaf outputs (values and gradients), in MB. */
    public double forwardBackwardMegabytes() {
        return leafOutputElements * 4 * 2 / 1e6;
    }

    public double paramsMegabytes() {
        return totalParams * 4 / 1e6;
    }

    /** The table, with rows down to {@code maxDepth}. */
    public String format(int maxDepth) {
        int nameWidth = 40;
        for (Row r : rows) {
            if (r.depth() <= maxDepth) {
                nameWidth = Math.max(
                        nameWidth,
                        2 * (r.depth() - 1) + r.type().length() + r.name().length() + 3);
            }
        }
        nameWidth = Math.min(nameWidth, 70);
        String line = "=".repeat(nameWidth + 44);
        StringBuilder sb = new StringBuilder();
        sb.append(line).append('\n');
        sb.append(String.format(
                Locale.ROOT, "%-" + nameWidth + "s %-28s %14s%n", "Layer (type (name))", "Output Shape", "Param #"));
        sb.append(line).append('\n');
        sb.append(String.format(
                Locale.ROOT, "%-" + nameWidth + "s %-28s %14s%n", modelName, shapeText(outputShape), "--"));
        for (Row r : rows) {
            if (r.depth() > maxDepth) {
                continue;
            }
            String label = "  ".repeat(r.depth() - 1) + "└─" + r.type() + " (" + r.name() + ")";
            if (label.length() > nameWidth) {
                label = label.substring(0, nameWidth - 1) + "…";
            }
            String params = r.params() == 0 ? "--" : String.format(Locale.ROOT, "%,d", r.params());
            sb.append(String.format(
                    Locale.ROOT, "%-" + nameWidth + "s %-28s %14s%n", label, shapeText(r.outputShape()), params));
        }
        sb.append(line).append('\n');
        sb.append(String.format(Locale.ROOT, "Total params: %,d%n", totalParams));
        sb.append(String.format(Locale.ROOT, "Trainable params: %,d%n", trainableParams));
        sb.append(String.format(Locale.ROOT, "Non-trainable params: %,d%n", totalParams - trainableParams));
        sb.append(String.format(Locale.ROOT, "Total mult-adds (G): %.2f%n", multAdds / 1e9));
        sb.append(line).append('\n');
        sb.append(String.format(Locale.ROOT, "Input size (MB): %.2f%n", inputMegabytes()));
        sb.append(String.format(Locale.ROOT, "Forward/backward pass size (MB): %.2f%n", forwardBackwardMegabytes()));
        sb.append(String.format(Locale.ROOT, "Params size (MB): %.2f%n", paramsMegabytes()));
        sb.append(String.format(
                Locale.ROOT,
                "Estimated Total Size (MB): %.2f%n",
                inputMegabytes() + forwardBackwardMegabytes() + paramsMegabytes()));
        sb.append(line).append('\n');
        return sb.toString();
    }

    private static String shapeText(Shape s) {
        return Arrays.toString(s.getShape());
    }
}
