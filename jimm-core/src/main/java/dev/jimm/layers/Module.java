package dev.jimm.layers;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.BlockList;
import ai.djl.nn.Parameter;
import ai.djl.nn.ParameterList;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import dev.jimm.OneDnn;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SplittableRandom;
import java.util.function.BiConsumer;
import java.util.function.Supplier;

/**
 * A neural-network module in the PyTorch sense, and a DJL {@link ai.djl.nn.Block}.
 *
 * <p>A module declares named parameters, buffers and child modules in its constructor; their dotted names
 * ({@code layer1.0.conv1.weight}) and their order are exactly PyTorch's, so a PyTorch state_dict loads unchanged.
 * Arrays are allocated when the root module is {@link #materialize materialized} in an {@link NDManager}, which then
 * owns every parameter and buffer.
 *
 * <p>Like PyTorch, a module has a train/eval mode of its own ({@link #train}, {@link #eval}); a DJL {@code forward}
 * call runs in that mode whatever its {@code training} flag says, so that a model never switches BatchNorm statistics
 * behind the user's back.
 */
public abstract class Module extends AbstractBlock {
    private final LinkedHashMap<String, Module> modules = new LinkedHashMap<>();
    private final LinkedHashMap<String, Parameter> parameters = new LinkedHashMap<>();
    private final Map<String, Shape> parameterShapes = new LinkedHashMap<>();
    private final LinkedHashMap<String, Buffer> buffers = new LinkedHashMap<>();
    private boolean training;
    private NDManager manager;

    /** A module with nothing declared yet; the first one built in a process settles oneDNN's level first. */
    protected Module() {
        // oneDNN reads its level once, at its first kernel: a model must not run before (OneDnn)
        OneDnn.holdWhereCachesHidden();
    }

    /** A non-trainable state tensor of a module, such as BatchNorm's running statistics. */
    public static final class Buffer {
        private final Shape shape;
        private final DataType dataType;
        private final boolean persistent;
        private NDArray array;

        Buffer(Shape shape, DataType dataType, boolean persistent) {
            this.shape = shape;
            this.dataType = dataType;
            this.persistent = persistent;
        }

        /** The array, once the module is materialized. */
        public NDArray array() {
            if (array == null) {
                throw new IllegalStateException("buffer used before the model was materialized");
            }
            return array;
        }

        public Shape shape() {
            return shape;
        }

        public DataType dataType() {
            return dataType;
        }

        /** Whether the buffer is part of the state_dict (PyTorch's {@code persistent}). */
        public boolean persistent() {
            return persistent;
        }
    }

    private List<ForwardHook> forwardHooks;

    /** Called with a module and its output after each forward; see {@link #addForwardHook}. */
    @FunctionalInterface
    public interface ForwardHook {
        void afterForward(Module module, NDArray input, NDArray output);
    }

    /** Runs the module on one input in its current mode, then its forward hooks. */
    public final NDArray forward(NDArray x) {
        NDArray y = forwardImpl(x);
        if (forwardHooks != null) {
            for (ForwardHook h : List.copyOf(forwardHooks)) {
                h.afterForward(this, x, y);
            }
        }
        return y;
    }

    /** The computation of this module (PyTorch's {@code forward}). */
    protected abstract NDArray forwardImpl(NDArray x);

    /** Adds a hook run after every forward of this module; closing the handle removes it. */
    public AutoCloseable addForwardHook(ForwardHook hook) {
        if (forwardHooks == null) {
            forwardHooks = new ArrayList<>();
        }
        forwardHooks.add(hook);
        return () -> forwardHooks.remove(hook);
    }

    // ---- declaration -------------------------------------------------------------------------

    /**
     * Registers (or replaces, keeping its place in the order) a child module. A replacement in a materialized model is
     * materialized in the same manager and initialized; the old one is closed.
     */
    protected final <M extends Module> M register(String name, M module) {
        Objects.requireNonNull(module, name);
        Module old = modules.put(name, module);
        ((Module) module).training = training;
        if (manager != null) {
            module.materialize(manager);
            module.initialize(new SplittableRandom(name.hashCode()));
        }
        if (old != null && old != module) {
            old.closeArrays();
        }
        return module;
    }

    /** Declares a float32 parameter of the given shape, allocated at materialization. */
    protected final Parameter parameter(String name, long... shape) {
        Parameter p = Parameter.builder()
                .setName(name)
                .setType(Parameter.Type.OTHER)
                .optRequiresGrad(true)
                .build();
        parameters.put(name, p);
        parameterShapes.put(name, new Shape(shape));
        return p;
    }

    /** Declares a buffer saved in the state_dict. */
    protected final Buffer buffer(String name, DataType dataType, long... shape) {
        return buffer(name, dataType, true, shape);
    }

    /** Declares a buffer; a non-persistent one is left out of the state_dict (as in PyTorch). */
    protected final Buffer buffer(String name, DataType dataType, boolean persistent, long... shape) {
        Buffer b = new Buffer(new Shape(shape), dataType, persistent);
        buffers.put(name, b);
        return b;
    }

    // ---- materialization and init --------------------------------------------------------------

    /**
     * Allocates every parameter and buffer of this module and its children in {@code manager} (zeros), after which the
     * module can run. Call {@link #initialize(SplittableRandom)} or load a state dict to give them values.
     */
    public void materialize(NDManager manager) {
        this.manager = manager;
        for (Map.Entry<String, Parameter> e : parameters.entrySet()) {
            Parameter p = e.getValue();
            if (!p.isInitialized()) {
                NDArray a = manager.zeros(parameterShapes.get(e.getKey()), DataType.FLOAT32);
                // parameters outlive any NDScope a layer happens to be built in
                NDScope.unregister(a);
                p.setArray(a);
                a.setRequiresGradient(p.requiresGradient());
            }
        }
        for (Buffer b : buffers.values()) {
            if (b.array == null) {
                b.array = manager.zeros(b.shape, b.dataType);
                NDScope.unregister(b.array);
            }
        }
        for (Module m : modules.values()) {
            m.materialize(manager);
        }
    }

    /** The manager that owns this module's arrays, or null before materialization. */
    public NDManager getManager() {
        return manager;
    }

    /**
     * Gives parameters and buffers their initial values, children first, then {@link #resetParameters} of this module.
     * Models override {@link #initWeights} for their own scheme.
     */
    public final void initialize(SplittableRandom random) {
        for (Module m : modules.values()) {
            m.initialize(random);
        }
        resetParameters(random);
        initWeights(random);
    }

    /** This module's own default init (PyTorch's {@code reset_parameters}); none by default. */
    protected void resetParameters(SplittableRandom random) {}

    /** A model-wide init scheme applied after the children's defaults (timm's init_weights). */
    protected void initWeights(SplittableRandom random) {}

    // ---- mode -----------------------------------------------------------------------------------

    /** Sets train (true) or eval (false) mode on this module and all children. */
    public Module train(boolean mode) {
        training = mode;
        for (Module m : modules.values()) {
            m.train(mode);
        }
        return this;
    }

    /**
     * Runs every convolution of this module and its children in channels-last order (the default) or in the ordinary
     * layout; results agree to float rounding ({@link MemoryFormat}).
     */
    public Module setChannelsLast(boolean on) {
        for (Module m : namedModules().values()) {
            if (m instanceof Conv2d c) {
                c.useChannelsLast(on);
            }
        }
        return this;
    }

    /** Switches to eval mode: BatchNorm uses running statistics, dropout is off. */
    public Module eval() {
        return train(false);
    }

    public boolean isTraining() {
        return training;
    }

    // ---- introspection --------------------------------------------------------------------------

    /** The direct children, in registration order. */
    public Map<String, Module> children() {
        return Collections.unmodifiableMap(modules);
    }

    /** The child of that name, or null. */
    public Module child(String name) {
        return modules.get(name);
    }

    /** Every module below this one (itself first, under the empty name), with dotted names. */
    public LinkedHashMap<String, Module> namedModules() {
        LinkedHashMap<String, Module> out = new LinkedHashMap<>();
        visitModules("", (n, m) -> out.put(n, m));
        return out;
    }

    private void visitModules(String prefix, BiConsumer<String, Module> visitor) {
        visitor.accept(prefix, this);
        for (Map.Entry<String, Module> e : modules.entrySet()) {
            e.getValue().visitModules(join(prefix, e.getKey()), visitor);
        }
    }

    /** This module's own parameters (not its children's), by local name. */
    public Map<String, Parameter> directParameters() {
        return Collections.unmodifiableMap(parameters);
    }

    /** This module's own buffers, by local name. */
    public Map<String, Buffer> directBuffers() {
        return Collections.unmodifiableMap(buffers);
    }

    /** Every parameter with its dotted name, in PyTorch's order. */
    public LinkedHashMap<String, Parameter> namedParameters() {
        LinkedHashMap<String, Parameter> out = new LinkedHashMap<>();
        visitModules("", (prefix, m) -> m.parameters.forEach((n, p) -> out.put(join(prefix, n), p)));
        return out;
    }

    /**
     * The state_dict: parameters then persistent buffers of each module, parents before children, exactly PyTorch's
     * keys and order. The arrays are the live ones, not copies.
     */
    public LinkedHashMap<String, NDArray> stateDict() {
        LinkedHashMap<String, NDArray> out = new LinkedHashMap<>();
        visitState((key, shape, array) -> out.put(key, array.get()));
        return out;
    }

    /** The declared shape of every state_dict entry (works before materialization). */
    public LinkedHashMap<String, Shape> stateDictShapes() {
        LinkedHashMap<String, Shape> out = new LinkedHashMap<>();
        visitState((key, shape, array) -> out.put(key, shape));
        return out;
    }

    /** Receives a state_dict entry: its dotted key, declared shape and (on demand) live array. */
    @FunctionalInterface
    private interface StateVisitor {
        void visit(String key, Shape shape, Supplier<NDArray> array);
    }

    // the one definition of the state_dict's order: parameters then persistent buffers of each
    // module, parents before children (the array is only fetched on demand: before
    // materialization there is none)
    private void visitState(StateVisitor visitor) {
        visitModules("", (prefix, m) -> {
            m.parameters.forEach((n, p) -> visitor.visit(join(prefix, n), m.parameterShapes.get(n), p::getArray));
            m.buffers.forEach((n, b) -> {
                if (b.persistent) {
                    visitor.visit(join(prefix, n), b.shape, b::array);
                }
            });
        });
    }

    /** What a non-strict load left out: keys the module has but the source lacked, and the reverse. */
    public record LoadResult(List<String> missingKeys, List<String> unexpectedKeys) {
        public LoadResult {
            missingKeys = List.copyOf(missingKeys);
            unexpectedKeys = List.copyOf(unexpectedKeys);
        }

        public boolean isClean() {
            return missingKeys.isEmpty() && unexpectedKeys.isEmpty();
        }
    }

    /**
     * Copies values from {@code source} into this module's arrays. A shape mismatch is always an error naming the key
     * and both shapes; when {@code strict}, so are missing and unexpected keys (the message summarises them, the
     * exception lists them all). Values are converted to each entry's dtype.
     */
    public LoadResult loadStateDict(Map<String, NDArray> source, boolean strict) {
        LinkedHashMap<String, NDArray> own = stateDict();
        List<String> missing = new ArrayList<>();
        List<String> unexpected = new ArrayList<>();
        List<String> mismatched = new ArrayList<>();
        for (Map.Entry<String, NDArray> e : own.entrySet()) {
            NDArray src = source.get(e.getKey());
            if (src == null) {
                missing.add(e.getKey());
            } else if (!src.getShape().equals(e.getValue().getShape())) {
                mismatched.add(e.getKey() + ": checkpoint " + src.getShape() + ", model "
                        + e.getValue().getShape());
            }
        }
        for (String k : source.keySet()) {
            if (!own.containsKey(k)) {
                unexpected.add(k);
            }
        }
        if (!mismatched.isEmpty() || (strict && (!missing.isEmpty() || !unexpected.isEmpty()))) {
            throw StateDictException.of(
                    "cannot load state dict",
                    strict ? missing : List.of(),
                    strict ? unexpected : List.of(),
                    mismatched,
                    "");
        }
        for (Map.Entry<String, NDArray> e : own.entrySet()) {
            NDArray src = source.get(e.getKey());
            if (src != null) {
                copyInto(e.getValue(), src);
            }
        }
        return new LoadResult(missing, unexpected);
    }

    /** Copies {@code src} into {@code dst} in place, converting the dtype. */
    public static void copyInto(NDArray dst, NDArray src) {
        // an indexed put rather than NDArray.set(Buffer): libtorch's storage swap behind the
        // latter prints a deprecation warning and replaces the tensor's storage
        // without autograd: grad mode is per thread and on by default in a thread DJL did not start
        try (NoGrad g = NoGrad.enter()) {
            NDArray converted = src.getDataType() == dst.getDataType() ? src : src.toType(dst.getDataType(), false);
            dst.set(new NDIndex("..."), converted);
            if (converted != src) {
                converted.close();
            }
        }
    }

    /** Writes float values (row-major) into {@code dst} in place. */
    public static void assign(NDArray dst, float[] values) {
        try (NDArray tmp = dst.getManager().create(values, dst.getShape())) {
            copyInto(dst, tmp);
        }
    }

    /** Sets requires-grad on every parameter of this module and its children. */
    public void setRequiresGrad(boolean requiresGrad) {
        namedParameters().values().forEach(p -> p.freeze(!requiresGrad));
    }

    /** Total number of elements over all parameters. */
    public long numParameters() {
        return stateDictShapesOfParameters().stream().mapToLong(Shape::size).sum();
    }

    private List<Shape> stateDictShapesOfParameters() {
        List<Shape> out = new ArrayList<>();
        visitModules("", (prefix, m) -> out.addAll(m.parameterShapes.values()));
        return out;
    }

    /**
     * Adds a parameter that already has its value to a materialized module, after the ones it declared (folding gives a
     * bias-free convolution a bias this way). The module takes {@code value} over; it does not require a gradient.
     */
    protected final Parameter addParameter(String name, NDArray value) {
        if (manager == null) {
            throw new IllegalStateException("parameter '" + name + "' added before the model was materialized");
        }
        if (parameters.containsKey(name)) {
            throw new IllegalArgumentException("parameter '" + name + "' already exists in " + extraRepr());
        }
        Parameter p = adopt(name, Parameter.Type.OTHER, value);
        parameterShapes.put(name, value.getShape());
        return p;
    }

    /**
     * Gives the parameter {@code name} a new array of the same shape (the module takes {@code value} over and frees the
     * old one), keeping its place in the state_dict; the new parameter does not require a gradient.
     */
    protected final Parameter replaceParameter(String name, NDArray value) {
        Parameter old = parameters.get(name);
        if (old == null) {
            throw new IllegalArgumentException("no parameter '" + name + "' in " + extraRepr());
        }
        if (!old.getArray().getShape().equals(value.getShape())) {
            throw new IllegalArgumentException("parameter '" + name + "' has shape "
                    + old.getArray().getShape() + ", the replacement " + value.getShape());
        }
        Parameter p = adopt(name, old.getType(), value);
        old.close();
        return p;
    }

    // a gradient-free parameter holding value, which this module's manager takes over from any scope
    private Parameter adopt(String name, Parameter.Type type, NDArray value) {
        Parameter p = Parameter.builder()
                .setName(name)
                .setType(type)
                .optRequiresGrad(false)
                .build();
        NDScope.unregister(value);
        value.attach(manager);
        p.setArray(value);
        parameters.put(name, p);
        return p;
    }

    /**
     * Frees and forgets this module's own parameters and buffers (not its children's), so that they leave the
     * state_dict: what folding does to a BatchNorm whose affine map moved into the convolution before it.
     */
    protected final void dropOwnState() {
        parameters.values().forEach(Parameter::close);
        parameters.clear();
        parameterShapes.clear();
        for (Buffer b : buffers.values()) {
            if (b.array != null) {
                b.array.close();
            }
        }
        buffers.clear();
    }

    /** Frees the native arrays of this module and its children. */
    protected void closeArrays() {
        visitModules("", (prefix, m) -> {
            m.parameters.values().forEach(Parameter::close);
            m.buffers.values().forEach(b -> {
                if (b.array != null) {
                    b.array.close();
                }
            });
        });
    }

    static String join(String prefix, String name) {
        return prefix.isEmpty() ? name : prefix + "." + name;
    }

    // ---- DJL Block integration -------------------------------------------------------------------

    @Override
    protected NDList forwardInternal(
            ParameterStore parameterStore, NDList inputs, boolean training, PairList<String, Object> params) {
        return new NDList(forward(inputs.singletonOrThrow()));
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        if (manager == null) {
            throw new IllegalStateException("model is not materialized");
        }
        try (NDManager scratch = manager.newSubManager()) {
            return new Shape[] {forward(scratch.zeros(inputShapes[0])).getShape()};
        }
    }

    @Override
    public BlockList getChildren() {
        BlockList list = new BlockList();
        modules.forEach(list::add);
        return list;
    }

    @Override
    public ParameterList getDirectParameters() {
        ParameterList list = new ParameterList();
        parameters.forEach(list::add);
        return list;
    }

    /** DJL's view of the parameters, with PyTorch's dotted names. */
    @Override
    public ParameterList getParameters() {
        ParameterList list = new ParameterList();
        namedParameters().forEach(list::add);
        return list;
    }

    @Override
    public boolean isInitialized() {
        return manager != null;
    }

    @Override
    public void initialize(NDManager manager, DataType dataType, Shape... inputShapes) {
        if (this.manager == null) {
            materialize(manager);
            initialize(new SplittableRandom(0));
        }
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder();
        describe(sb, "", 0);
        return sb.toString();
    }

    private void describe(StringBuilder sb, String name, int depth) {
        sb.append("  ".repeat(depth));
        if (!name.isEmpty()) {
            sb.append('(').append(name).append("): ");
        }
        sb.append(extraRepr());
        if (!modules.isEmpty()) {
            sb.append(" (\n");
            modules.forEach((n, m) -> m.describe(sb, n, depth + 1));
            sb.append("  ".repeat(depth)).append(")");
        }
        sb.append('\n');
    }

    /** A one-line description such as {@code Conv2d(3, 64, kernel_size=7, stride=2)}. */
    protected String extraRepr() {
        return getClass().getSimpleName();
    }

    /** Formats a shape like PyTorch does, for messages. */
    protected static String shapeString(long... dims) {
        return Arrays.toString(dims);
    }
}
