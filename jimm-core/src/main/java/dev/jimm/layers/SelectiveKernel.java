package dev.jimm.layers;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import java.util.ArrayList;
import java.util.List;

/**
 * Selective kernel convolution (timm's {@code SelectiveKernel} of SKNet): parallel conv-norm-act paths of different
 * receptive fields (3x3 and a dilated 3x3 standing for 5x5, timm's {@code keep_3x3}), each optionally on its own split
 * of the input channels ({@code split_input}), mixed by a softmax attention across the paths ({@code attn}) computed
 * from their pooled sum. State_dict keys: {@code paths.N.conv}, {@code paths.N.bn}, {@code attn.fc_reduce},
 * {@code attn.bn}, {@code attn.fc_select}.
 */
public class SelectiveKernel extends Module {
    private final int inChannels;
    private final boolean splitInput;
    private final List<Module> paths = new ArrayList<>();
    private final Module attn;

    /**
     * timm's SelectiveKernel with its default kernels (3 and 5, kept as 3x3 with dilation) and BatchNorm/ReLU.
     *
     * @param in input channels
     * @param out output channels
     * @param stride stride of every path
     * @param dilation the module's dilation (the second path has twice this)
     * @param groups conv groups of every path (at most {@code out})
     * @param rdRatio width of the attention's bottleneck relative to {@code out}
     * @param rdDivisor the bottleneck width is a multiple of this
     * @param splitInput each path takes its own share of the input channels
     */
    public SelectiveKernel(
            int in, int out, int stride, int dilation, int groups, double rdRatio, int rdDivisor, boolean splitInput) {
        int[] kernels = {3, 5};
        int numPaths = kernels.length;
        if (splitInput && in % numPaths != 0) {
            throw new IllegalArgumentException(
                    "split input: " + in + " input channels do not divide among " + numPaths + " paths");
        }
        this.inChannels = in;
        this.splitInput = splitInput;
        int pathIn = splitInput ? in / numPaths : in;
        int g = Math.min(out, groups);
        Sequential pathList = register("paths", new Sequential());
        for (int k : kernels) {
            // keep_3x3: a k x k kernel becomes a 3x3 one dilated to the same reach
            ConvNormAct path =
                    ConvNormAct.batchNorm(pathIn, out, 3, stride, dilation * (k - 1) / 2, g, Activation.Kind.RELU);
            pathList.add(path);
            paths.add(path);
        }
        attn = register("attn", new Attn(out, numPaths, Layers.makeDivisible(out * rdRatio, rdDivisor)));
    }

    @Override
    protected NDArray forwardImpl(NDArray x) {
        NDList outs = new NDList();
        if (splitInput) {
            NDList parts = x.split(paths.size(), 1);
            for (int i = 0; i < paths.size(); i++) {
                outs.add(paths.get(i).forward(parts.get(i)));
            }
        } else {
            for (Module p : paths) {
                outs.add(p.forward(x));
            }
        }
        NDArray stacked = NDArrays.stack(outs, 1);
        return stacked.mul(attn.forward(stacked)).sum(new int[] {1});
    }

    @Override
    protected String extraRepr() {
        return "SelectiveKernel(in_channels=" + inChannels + ", paths=" + paths.size() + ", split_input=" + splitInput
                + ")";
    }

    /**
     * timm's SelectiveKernelAttn: from the paths stacked on axis 1, the softmax weights of each path per channel
     * ({@code [N, paths, C, 1, 1]}).
     */
    static final class Attn extends Module {
        private final int numPaths;
        private final Module fcReduce;
        private final Module bn;
        private final Module fcSelect;

        Attn(int channels, int numPaths, int attnChannels) {
            this.numPaths = numPaths;
            fcReduce = register(
                    "fc_reduce",
                    new Conv2d(
                            channels, attnChannels, 1, Conv2d.Options.defaults().bias(false)));
            bn = register("bn", new BatchNorm2d(attnChannels));
            register("act", Activation.relu());
            fcSelect = register(
                    "fc_select",
                    new Conv2d(
                            attnChannels,
                            channels * numPaths,
                            1,
                            Conv2d.Options.defaults().bias(false)));
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            if (x.getShape().get(1) != numPaths) {
                throw new IllegalArgumentException(
                        "selective kernel attention takes " + numPaths + " paths on axis 1, got " + x.getShape());
            }
            NDArray pooled = Layers.spatialMean(x.sum(new int[] {1}), true);
            NDArray a = fcSelect.forward(Activation.apply(Activation.Kind.RELU, bn.forward(fcReduce.forward(pooled))));
            long n = a.getShape().get(0);
            return a.reshape(n, numPaths, -1, 1, 1).softmax(1);
        }
    }
}
