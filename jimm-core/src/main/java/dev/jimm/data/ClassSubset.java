package dev.jimm.data;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The samples of some classes of another dataset, relabelled 0..k-1 in the order the classes are given (for transfer
 * between disjoint label sets: train on classes 0–4, fine-tune on 5–9). Optionally at most {@code perClass} samples of
 * each class, chosen by a seed.
 */
public final class ClassSubset extends LabelledDataset {
    private final ImageDataset base;
    private final int[] indices;

    private ClassSubset(ImageDataset base, int[] indices, int[] labels, List<String> classes) {
        super(labels, classes);
        this.base = base;
        this.indices = indices;
    }

    /** Every sample of {@code keep} (class indices of {@code base}), in the base order. */
    public static ClassSubset of(ImageDataset base, int... keep) {
        return of(base, -1, 0, keep);
    }

    /**
     * At most {@code perClass} samples of each class in {@code keep} (all when negative), drawn without replacement
     * with {@code seed} and kept in the base order.
     */
    public static ClassSubset of(ImageDataset base, int perClass, long seed, int... keep) {
        if (keep.length == 0) {
            throw new IllegalArgumentException("a class subset needs at least one class");
        }
        int[] newLabel = new int[base.classes().size()];
        Arrays.fill(newLabel, -1);
        List<String> names = new ArrayList<>();
        for (int k = 0; k < keep.length; k++) {
            int c = keep[k];
            if (c < 0 || c >= newLabel.length) {
                throw new IllegalArgumentException(
                        "class " + c + " is outside [0, " + newLabel.length + ") of the dataset's classes");
            }
            if (newLabel[c] >= 0) {
                throw new IllegalArgumentException("class " + c + " is given twice");
            }
            newLabel[c] = k;
            names.add(base.classes().get(c));
        }
        List<List<Integer>> byClass = new ArrayList<>();
        for (int k = 0; k < keep.length; k++) {
            byClass.add(new ArrayList<>());
        }
        for (int i = 0; i < base.size(); i++) {
            int k = newLabel[base.label(i)];
            if (k >= 0) {
                byClass.get(k).add(i);
            }
        }
        boolean[] chosen = new boolean[base.size()];
        for (int k = 0; k < keep.length; k++) {
            List<Integer> members = byClass.get(k);
            if (perClass >= 0 && members.size() < perClass) {
                throw new IllegalArgumentException("class " + keep[k] + " (" + names.get(k) + ") has " + members.size()
                        + " samples, fewer than the " + perClass + " asked for");
            }
            if (perClass < 0) {
                members.forEach(i -> chosen[i] = true);
            } else {
                // each class draws from its own stream, so one class's count does not move another's picks
                int[] perm = Split.permutation(members.size(), new SplittableRandom(Seeds.derive(seed, keep[k], -3)));
                for (int j = 0; j < perClass; j++) {
                    chosen[members.get(perm[j])] = true;
                }
            }
        }
        int n = 0;
        for (boolean b : chosen) {
            n += b ? 1 : 0;
        }
        int[] idx = new int[n];
        int[] lab = new int[n];
        int j = 0;
        for (int i = 0; i < chosen.length; i++) {
            if (chosen[i]) {
                idx[j] = i;
                lab[j] = newLabel[base.label(i)];
                j++;
            }
        }
        return new ClassSubset(base, idx, lab, names);
    }

    /** Indices into the base dataset (a copy). */
    public int[] indices() {
        return indices.clone();
    }

    @Override
    public DecodedImage image(int index) {
        return base.image(indices[index]);
    }

    @Override
    public String describe(int index) {
        return base.describe(indices[index]);
    }
}
