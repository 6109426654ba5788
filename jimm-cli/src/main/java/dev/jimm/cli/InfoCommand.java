package dev.jimm.cli;

import dev.jimm.models.FeatureInfo;
import dev.jimm.models.ImageModel;
import dev.jimm.models.ModelEntry;
import dev.jimm.models.ModelRegistry;
import dev.jimm.models.Models;
import dev.jimm.models.PretrainedCfg;
import java.util.Locale;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code jimm info NAME}: parameters, preprocessing, feature levels and pretrained tags. */
@Command(
        name = "info",
        description =
                "Describe a model: parameters, input, feature levels, pretrained tags. Example: jimm info resnet50",
        mixinStandardHelpOptions = true)
final class InfoCommand extends JimmCommand {
    @Parameters(paramLabel = "NAME", description = "Model name, optionally with a tag (resnet50.a1_in1k).")
    String name;

    @Override
    public Integer call() {
        ModelRegistry registry = ModelRegistry.builtIn();
        var out = out();
        ModelEntry entry = registry.entry(ModelRegistry.baseName(name));
        PretrainedCfg cfg = registry.config(name);
        try (ImageModel model = Models.createModel(ModelRegistry.baseName(name))) {
            out.printf(Locale.ROOT, "%-14s %s%n", "model", entry.name());
            out.printf(Locale.ROOT, "%-14s %s%n", "family", entry.family());
            out.printf(Locale.ROOT, "%-14s %,d%n", "parameters", model.numParameters());
            out.printf(Locale.ROOT, "%-14s %d%n", "num_features", model.numFeatures());
            out.printf(Locale.ROOT, "%-14s %s%n", "input_size", cfg.inputSize());
            out.printf(Locale.ROOT, "%-14s %s, crop_pct %.3f%n", "interpolation", cfg.interpolation(), cfg.cropPct());
            out.printf(Locale.ROOT, "%-14s %s%n", "mean", cfg.mean());
            out.printf(Locale.ROOT, "%-14s %s%n", "std", cfg.std());
            out.printf(Locale.ROOT, "%-14s %s / %s%n", "first conv/head", cfg.firstConv(), cfg.classifier());
            out.println("feature levels (channels, reduction, module):");
            int i = 0;
            for (FeatureInfo f : model.featureInfo()) {
                out.printf(Locale.ROOT, "  %d  %5d  %3d  %s%n", i++, f.numChs(), f.reduction(), f.module());
            }
        }
        var tags = registry.pretrainedTags(entry.name());
        out.println("pretrained tags (" + tags.size() + (tags.isEmpty() ? ")" : ", default first):"));
        for (PretrainedCfg t : tags) {
            String source = !t.hfHubId().isEmpty() ? "hf-hub:" + t.hfHubId() : t.url();
            out.printf(
                    Locale.ROOT,
                    "  %-28s %-10s %s%n",
                    t.tag(),
                    t.inputSize().get(1) + "x" + t.inputSize().get(2),
                    source);
        }
        return 0;
    }
}
