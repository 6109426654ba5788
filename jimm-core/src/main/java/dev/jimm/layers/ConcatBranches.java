package dev.jimm.layers;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import java.util.ArrayList;
import java.util.List;

/**
 * Parallel branches on one input whose outputs are concatenated along the channels, in the order the branches were
 * added: the Inception modules whose {@code forward} is {@code torch.cat((self.branch0(x), self.branch1(x), ...), 1)}.
 * Each branch keeps its own name ({@code branch0}, {@code conv}, {@code maxpool}, …), so the state_dict keys are the
 * reference's.
 */
public class ConcatBranches extends Module {
    /** Adds a branch under {@code name}, after the others; returns this, for chaining. */
    public ConcatBranches add(String name, Module branch) {
        register(name, branch);
        return this;
    }

    @Override
    protected NDArray forwardImpl(NDArray x) {
        List<NDArray> outs = new ArrayList<>();
        for (Module branch : children().values()) {
            outs.add(branch.forward(x));
        }
        if (outs.isEmpty()) {
            throw new IllegalStateException("ConcatBranches has no branches to concatenate");
        }
        return NDArrays.concat(new NDList(outs), 1);
    }

    @Override
    protected String extraRepr() {
        return "ConcatBranches" + children().keySet();
    }
}
