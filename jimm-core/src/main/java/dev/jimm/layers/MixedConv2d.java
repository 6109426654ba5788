package dev.jimm.layers;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * timm's {@code MixedConv2d} (MixNet's MDConv and grouped pointwise conv): the channels are split into as many groups
 * as kernel sizes (the first group takes the remainder), each convolved with its own kernel, and the results
 * concatenated. The convs are children {@code 0}, {@code 1}, … as in timm's ModuleDict.
 */
public class MixedConv2d extends Module {
    private final long[] splitPoints;
    private final List<Conv2d> convs = new ArrayList<>();
    private final int outChannels;

    /**
     * @param depthwise each group is a depthwise conv (else a dense conv within its group)
     * @param padSame TensorFlow "same" padding (see {@link Conv2dSame#create})
     */
    public MixedConv2d(
            int inChannels, int outChannels, List<Integer> kernels, int stride, boolean depthwise, boolean padSame) {
        if (kernels.isEmpty()) {
            throw new IllegalArgumentException("MixedConv2d needs at least one kernel size");
        }
        int[] in = splitChannels(inChannels, kernels.size());
        int[] out = splitChannels(outChannels, kernels.size());
        this.outChannels = outChannels;
        splitPoints = new long[kernels.size() - 1];
        long acc = 0;
        for (int i = 0; i < kernels.size(); i++) {
            if (i > 0) {
                splitPoints[i - 1] = acc;
            }
            acc += in[i];
            convs.add(register(
                    Integer.toString(i),
                    Conv2dSame.create(
                            in[i], out[i], kernels.get(i), stride, 1, depthwise ? in[i] : 1, false, padSame)));
        }
    }

    /** timm's _split_channels: equal parts, the first one taking what does not divide. */
    static int[] splitChannels(int channels, int groups) {
        int[] s = new int[groups];
        Arrays.fill(s, channels / groups);
        s[0] += channels - (channels / groups) * groups;
        return s;
    }

    public int outChannels() {
        return outChannels;
    }

    @Override
    protected NDArray forwardImpl(NDArray x) {
        NDList parts = x.split(splitPoints, 1);
        NDList outs = new NDList();
        for (int i = 0; i < convs.size(); i++) {
            outs.add(convs.get(i).forward(parts.get(i)));
        }
        return NDArrays.concat(outs, 1);
    }

    @Override
    protected String extraRepr() {
        return "MixedConv2d";
    }
}
