package dev.jimm.models;

import ai.djl.ndarray.types.Shape;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Which registered architecture a checkpoint was saved from, for the message of a load that does not fit: the name
 * whose state_dict has the most of the checkpoint's keys with the same shapes (a classifier of another class count
 * aside), or a prefix that wraps every key.
 */
final class ArchitectureGuess {
    /** A guess is named only when this share of both key sets agrees. */
    private static final double MIN_AGREEMENT = 0.9;

    private ArchitectureGuess() {}

    /**
     * The hint for a checkpoint that does not fit {@code model}: strip a common prefix, or build the likely
     * architecture; empty when nothing registered fits well.
     */
    static Optional<String> hint(Map<String, Shape> checkpoint, ImageModel model, ModelRegistry registry) {
        Optional<String> prefix =
                wrappingPrefix(checkpoint, model.stateDictShapes().keySet());
        if (prefix.isPresent()) {
            return Optional.of("every checkpoint key starts with '" + prefix.get()
                    + "': load it with ModelOptions.builder().stripPrefix(\"" + prefix.get() + "\")");
        }
        return likely(checkpoint, registry)
                .filter(name -> !name.equals(model.name()))
                .map(name -> "its keys and shapes are those of " + name + ": build that model (Models.createModel(\""
                        + name + "\", ...)) to load it");
    }

    /** The registered name whose keys and shapes agree best with the checkpoint's, if at least 90% of both agree. */
    static Optional<String> likely(Map<String, Shape> checkpoint, ModelRegistry registry) {
        String best = null;
        double bestScore = MIN_AGREEMENT;
        for (String name : registry.list(null)) {
            ModelEntry e = registry.entry(name);
            Map<String, Shape> own;
            try {
                // construction declares every shape without allocating native memory
                own = e.factory()
                        .apply(new ModelArgs(1000, 3, e.defaultGlobalPool(), 0, 0))
                        .stateDictShapes();
            } catch (RuntimeException ex) {
                continue;
            }
            int same = 0;
            for (Map.Entry<String, Shape> k : checkpoint.entrySet()) {
                Shape mine = own.get(k.getKey());
                // a classifier for another class count keeps its key: count it, whatever its shape
                if (mine != null
                        && (mine.equals(k.getValue())
                                || mine.dimension() == k.getValue().dimension())) {
                    same++;
                }
            }
            double score = (double) same / Math.max(checkpoint.size(), own.size());
            if (score > bestScore) {
                bestScore = score;
                best = name;
            }
        }
        return Optional.ofNullable(best);
    }

    /** A first dotted segment (such as {@code backbone.}) that every checkpoint key has and no model key has. */
    static Optional<String> wrappingPrefix(Map<String, Shape> checkpoint, Set<String> modelKeys) {
        Set<String> firsts = new HashSet<>();
        for (String k : checkpoint.keySet()) {
            int dot = k.indexOf('.');
            firsts.add(dot < 0 ? k : k.substring(0, dot + 1));
        }
        if (firsts.size() != 1 || checkpoint.size() < 2) {
            return Optional.empty();
        }
        String prefix = List.copyOf(firsts).get(0);
        boolean ours = modelKeys.stream().anyMatch(k -> k.startsWith(prefix));
        if (!prefix.endsWith(".") || ours) {
            return Optional.empty();
        }
        int fits = 0;
        for (String k : checkpoint.keySet()) {
            if (modelKeys.contains(k.substring(prefix.length()))) {
                fits++;
            }
        }
        return fits * 2 >= checkpoint.size() ? Optional.of(prefix) : Optional.empty();
    }
}
