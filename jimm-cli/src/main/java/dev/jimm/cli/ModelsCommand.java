package dev.jimm.cli;

import dev.jimm.models.ModelEntry;
import dev.jimm.models.ModelRegistry;
import dev.jimm.models.PretrainedCfg;
import dev.jimm.models.TimmNames;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code jimm models}: the registered names, one per line, or a table with {@code --long}. */
@Command(
        name = "models",
        description = "List model names (timm's list_models). Example: jimm models 'resnet*' --pretrained",
        mixinStandardHelpOptions = true)
final class ModelsCommand extends JimmCommand {
    @Parameters(arity = "0..1", paramLabel = "PATTERN", description = "Wildcard pattern such as 'resnet*'.")
    String pattern;

    @Option(names = "--pretrained", description = "Pretrained weights as name.tag (with --long: names that have some).")
    boolean pretrained;

    @Option(
            names = {"-l", "--long"},
            description = "A table: family, default input size, pretrained tags.")
    boolean longFormat;

    @Option(names = "--counts", description = "Number of names per family, beside timm's.")
    boolean counts;

    @Override
    public Integer call() {
        ModelRegistry registry = ModelRegistry.builtIn();
        var out = out();
        if (counts) {
            // jimm's names per family beside timm's own count (torchvision's tv/ names are not timm's)
            Map<String, List<String>> timm = TimmNames.byFamily();
            out.printf("%-24s %5s %5s%n", "family", "jimm", "timm");
            int covered = 0;
            for (Map.Entry<String, Integer> e : new TreeMap<>(registry.countsByFamily()).entrySet()) {
                List<String> theirs = timm.get(e.getKey());
                out.printf(
                        "%-24s %5d %5s%s%n",
                        e.getKey(),
                        e.getValue(),
                        theirs == null ? "-" : String.valueOf(theirs.size()),
                        theirs != null && theirs.size() != e.getValue() ? "  (differs)" : "");
                covered += theirs != null ? 1 : 0;
            }
            out.printf("%-24s %5d%n", "total", registry.size());
            out.printf("timm families covered: %d of %d%n", covered, timm.size());
            return 0;
        }
        if (pretrained && !longFormat) {
            // as timm's list_models(pretrained=True): every weight as name.tag
            List<String> tagged = registry.listPretrained(pattern);
            tagged.forEach(out::println);
            return tagged.isEmpty() && pattern != null ? 1 : 0;
        }
        List<String> names = registry.list(pattern, pretrained);
        if (!longFormat) {
            names.forEach(out::println);
            return names.isEmpty() && pattern != null ? 1 : 0;
        }
        out.printf("%-36s %-14s %-12s %5s  %s%n", "name", "family", "input", "tags", "default tag");
        for (String n : names) {
            ModelEntry e = registry.entry(n);
            PretrainedCfg cfg = registry.config(n);
            List<PretrainedCfg> tags = registry.pretrainedTags(n);
            out.printf(
                    "%-36s %-14s %-12s %5d  %s%n",
                    n,
                    e.family(),
                    cfg.inputSize().get(1) + "x" + cfg.inputSize().get(2),
                    tags.size(),
                    tags.isEmpty() ? "-" : tags.get(0).tag());
        }
        return 0;
    }
}
