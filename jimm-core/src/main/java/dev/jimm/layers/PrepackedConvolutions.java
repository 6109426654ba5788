package dev.jimm.layers;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.engine.PtSymbolBlock;
import ai.djl.pytorch.jni.IValue;
import java.io.IOException;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * oneDNN's pre-packed convolutions for a model that only predicts: each convolution's weight is reordered once into the
 * blocked layout oneDNN's kernel reads, where libtorch's {@code convolution} reorders it from the stored layout on
 * every call ({@code ONEDNN_VERBOSE} shows a {@code reorder} before each of resnet18's convolutions: a quarter of its
 * batch-1 convolution time). This is what TorchScript freezing does for PyTorch
 * ({@code mkldnn_prepacked::conv2d_prepack} and {@code conv2d_run}, libtorch's own operators, reached through two
 * one-method TorchScript modules since DJL has no binding for them).
 *
 * <p>{@link #pack} traces the model once on a sample to learn each convolution's input, packs the weights of those that
 * run channels-last on 4-D inputs, and checks that the outputs are unchanged (else it undoes the packing: the model
 * then runs as before); the packed copies are freed by {@link #close}. Off with {@code -Djimm.prepackedConv=false}.
 */
public final class PrepackedConvolutions implements AutoCloseable {
    /** Largest output difference, relative to the largest output, accepted after packing. */
    public static final double TOLERANCE = 1e-4;

    private static final String PACK = String.join(
            "\n",
            "class PackConv(Module):",
            "  __parameters__ = []",
            "  __buffers__ = []",
            "  training : bool",
            "  def forward(self: __torch__.PackConv,",
            "    weight: Tensor,",
            "    bias: Tensor,",
            "    has_bias: bool,",
            "    stride: List[int],",
            "    padding: List[int],",
            "    dilation: List[int],",
            "    groups: int,",
            "    input_size: List[int]) -> __torch__.torch.classes.mkldnn.ConvOpContext:",
            "    if has_bias:",
            "      ctx = ops.mkldnn_prepacked.conv2d_prepack(weight, bias, stride, padding, dilation, groups,"
                    + " input_size, \"none\")",
            "    else:",
            "      ctx = ops.mkldnn_prepacked.conv2d_prepack(weight, None, stride, padding, dilation, groups,"
                    + " input_size, \"none\")",
            "    return ctx",
            "");

    private static final String RUN = String.join(
            "\n",
            "class RunConv(Module):",
            "  __parameters__ = []",
            "  __buffers__ = []",
            "  training : bool",
            "  def forward(self: __torch__.RunConv, x: Tensor,"
                    + " ctx: __torch__.torch.classes.mkldnn.ConvOpContext) -> Tensor:",
            "    return ops.mkldnn_prepacked.conv2d_run(x, ctx)",
            "");

    private final PtSymbolBlock packModule;
    private final PtSymbolBlock runModule;
    private final List<Conv2d> packed = new ArrayList<>();
    private final List<IValue> contexts = new ArrayList<>();

    private PrepackedConvolutions(PtSymbolBlock packModule, PtSymbolBlock runModule) {
        this.packModule = packModule;
        this.runModule = runModule;
    }

    /**
     * Packs {@code model}'s convolutions (eval mode, folded, weights stored channels-last) after tracing it on a random
     * input of {@code sampleShape}; empty, with the model unchanged, when the engine is not PyTorch, libtorch lacks the
     * operators, {@code -Djimm.prepackedConv=false}, no convolution qualifies, or the packed model would not compute
     * what it did.
     */
    public static Optional<PrepackedConvolutions> pack(Module model, Shape sampleShape) {
        if (!Boolean.parseBoolean(System.getProperty("jimm.prepackedConv", "true"))
                || !"PyTorch".equals(Engine.getInstance().getEngineName())) {
            return Optional.empty();
        }
        List<Conv2d> convs = new ArrayList<>();
        for (Module m : model.namedModules().values()) {
            if (m instanceof Conv2d c && c.canPrepack()) {
                convs.add(c);
            }
        }
        if (convs.isEmpty() || !(convs.get(0).weight().getArray().getManager() instanceof PtNDManager pt)) {
            return Optional.empty();
        }
        PrepackedConvolutions p;
        try {
            p = new PrepackedConvolutions(
                    TorchScriptModules.load(pt, "PackConv", PACK), TorchScriptModules.load(pt, "RunConv", RUN));
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
        try {
            p.packAll(model, convs, sampleShape);
        } catch (RuntimeException e) {
            p.close();
            throw e;
        }
        if (p.packed.isEmpty()) {
            p.close();
            return Optional.empty();
        }
        return Optional.of(p);
    }

    private void packAll(Module model, List<Conv2d> convs, Shape sampleShape) {
        Map<Conv2d, Shape> inputs = new IdentityHashMap<>();
        List<AutoCloseable> hooks = new ArrayList<>();
        float[] before;
        try (NDManager scratch = model.getManager().newSubManager();
                NoGrad g = NoGrad.enter()) {
            for (Conv2d c : convs) {
                // a convolution called twice with different shapes keeps its first; packing only chooses the layout
                hooks.add(c.addForwardHook((mod, in, out) -> inputs.putIfAbsent(c, in.getShape())));
            }
            NDArray x = scratch.randomNormal(sampleShape);
            try {
                before = model.forward(x).toFloatArray();
            } finally {
                for (AutoCloseable h : hooks) {
                    try {
                        h.close();
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                }
            }
            for (Conv2d c : convs) {
                Shape in = inputs.get(c);
                if (in != null && in.dimension() == 4 && !c.seesWholeInput(in)) {
                    c.usePrepacked(this, pack(c, in));
                    packed.add(c);
                }
            }
            float[] after = model.forward(x).toFloatArray();
            double maxAbs = 0;
            double maxDiff = 0;
            for (int i = 0; i < before.length; i++) {
                maxAbs = Math.max(maxAbs, Math.abs(before[i]));
                maxDiff = Math.max(maxDiff, Math.abs(before[i] - after[i]));
            }
            if (!(maxDiff <= TOLERANCE * Math.max(maxAbs, 1e-6))) {
                // an optimization, not a requirement: the model keeps libtorch's convolutions
                unpackAll();
            }
        }
    }

    private IValue pack(Conv2d c, Shape input) {
        PtNDArray w = (PtNDArray) c.weight().getArray();
        PtNDArray b = c.bias() == null ? w : (PtNDArray) c.bias().getArray();
        IValue[] args = {
            IValue.from(w),
            IValue.from(b),
            IValue.from(c.bias() != null),
            IValue.listFrom(c.stride()),
            IValue.listFrom(c.padding()),
            IValue.listFrom(c.dilation()),
            IValue.from((long) c.groups()),
            IValue.listFrom(input.getShape())
        };
        try {
            IValue ctx = packModule.forward(args);
            contexts.add(ctx);
            return ctx;
        } finally {
            for (IValue a : args) {
                a.close();
            }
        }
    }

    /** The convolution of {@code x} (4-D, channels-last) with a packed weight; the result lives in x's manager. */
    NDArray run(NDArray x, IValue context) {
        try (IValue in = IValue.from((PtNDArray) x);
                IValue out = runModule.forward(in, context)) {
            return out.toTensor((PtNDManager) x.getManager());
        }
    }

    /** How many convolutions run packed. */
    public int size() {
        return packed.size();
    }

    private void unpackAll() {
        for (Conv2d c : packed) {
            c.usePrepacked(null, null);
        }
        packed.clear();
    }

    /** Returns the convolutions to libtorch's ordinary path and frees the packed weights. */
    @Override
    public void close() {
        unpackAll();
        contexts.forEach(IValue::close);
        contexts.clear();
        packModule.close();
        runModule.close();
    }
}
