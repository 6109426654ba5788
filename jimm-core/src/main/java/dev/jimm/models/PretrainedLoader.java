package dev.jimm.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import dev.jimm.layers.Module;
import dev.jimm.layers.StateDictException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Loads a pretrained state dict into a freshly built model the way timm's load_pretrained does: a classifier of another
 * size is left at its init, and a first convolution for another channel count is adapted from the RGB weights.
 */
public final class PretrainedLoader {
    private PretrainedLoader() {}

    /** What loading did beyond copying: the keys left at their init. */
    public record Report(List<String> keptAtInit) {}

    /**
     * Loads {@code checkpoint} into {@code model} through the family's checkpoint filter, with every key and shape
     * matching: no resized head, no input-conv adaptation (what a parity check of given weights needs). A mismatch
     * throws {@link StateDictException} naming every key at fault.
     */
    public static void loadExactly(ImageModel model, Map<String, NDArray> checkpoint) {
        model.loadStateDict(model.prepareForPretrained(checkpoint), true);
    }

    /** Loads {@code checkpoint} into {@code model}; everything but a resized head must match. */
    public static Report load(ImageModel model, Map<String, NDArray> checkpoint) {
        PretrainedCfg cfg = model.pretrainedCfg();
        Map<String, NDArray> sd = new LinkedHashMap<>(model.prepareForPretrained(checkpoint));
        Map<String, NDArray> own = model.stateDict();
        List<String> leftAtInit = new ArrayList<>();

        String firstConv = cfg == null || cfg.firstConv().isEmpty() ? null : cfg.firstConv() + ".weight";
        if (firstConv != null && sd.containsKey(firstConv) && own.containsKey(firstConv)) {
            NDArray w = sd.get(firstConv);
            long have = w.getShape().get(1);
            long want = own.get(firstConv).getShape().get(1);
            if (have != want) {
                sd.put(firstConv, adaptInputConv(w, (int) want));
            }
        }
        List<String> classifiers = new ArrayList<>();
        if (cfg != null) {
            cfg.classifiers().forEach(c -> classifiers.add(c + "."));
        }
        for (String k : new ArrayList<>(sd.keySet())) {
            if (isClassifierKey(k, classifiers)) {
                NDArray mine = own.get(k);
                if (mine == null || !mine.getShape().equals(sd.get(k).getShape())) {
                    sd.remove(k);
                    if (mine != null) {
                        leftAtInit.add(k);
                    }
                }
            }
        }
        Module.LoadResult r = model.loadStateDict(sd, leftAtInit.isEmpty() && classifiers.isEmpty());
        List<String> unexpectedMissing = new ArrayList<>(r.missingKeys());
        unexpectedMissing.removeAll(leftAtInit);
        if (!unexpectedMissing.isEmpty() || !r.unexpectedKeys().isEmpty()) {
            // the head may be absent (numClasses 0): its keys are then "unexpected"; anything else is an error
            List<String> unexpected = new ArrayList<>();
            for (String k : r.unexpectedKeys()) {
                if (!isClassifierKey(k, classifiers)) {
                    unexpected.add(k);
                }
            }
            if (!unexpectedMissing.isEmpty() || !unexpected.isEmpty()) {
                throw StateDictException.of(
                        "checkpoint does not fit " + model.name(), unexpectedMissing, unexpected, List.of(), "");
            }
        }
        return new Report(leftAtInit);
    }

    private static boolean isClassifierKey(String key, List<String> prefixes) {
        for (String p : prefixes) {
            if (key.startsWith(p)) {
                return true;
            }
        }
        return false;
    }

    /**
     * timm's adapt_input_conv: for 1 channel, sum the RGB filters; for more than 3, repeat them and scale by 3/inChans.
     */
    public static NDArray adaptInputConv(NDArray weight, int inChans) {
        Shape s = weight.getShape();
        long o = s.get(0);
        long i = s.get(1);
        if (inChans == 1) {
            if (i > 3) {
                return weight.reshape(o, i / 3, 3, s.get(2), s.get(3)).sum(new int[] {2});
            }
            return weight.sum(new int[] {1}, true);
        }
        if (i != 3) {
            throw new StateDictException("cannot adapt a first conv of " + i + " input channels to " + inChans);
        }
        int repeat = (int) Math.ceil(inChans / 3.0);
        NDArray tiled = weight.tile(new long[] {1, repeat, 1, 1});
        return tiled.get(":, 0:" + inChans).mul(3f / inChans);
    }
}
