package dev.jimm.cli;

import ai.djl.ndarray.NDManager;
import dev.jimm.StoppedException;
import dev.jimm.train.Learner;
import dev.jimm.train.LrFinder;
import dev.jimm.vision.RunReport;
import dev.jimm.vision.TrainRecipe;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code jimm lr-find DATA}: fastai's learning-rate range test, with its plot and suggestions. */
@Command(
        name = "lr-find",
        mixinStandardHelpOptions = true,
        description = {
            "Sweep the learning rate exponentially (1e-7 to 10, 100 batches), plot the smoothed loss, suggest valley and steep.",
            "Example: jimm lr-find fashion-mnist-sample --model resnet18 --out /tmp/lrf"
        })
final class LrFindCommand extends JimmCommand {
    @Parameters(paramLabel = "DATA", description = "An image folder or a dataset name (as for train).")
    String data;

    @Option(
            names = "--weights",
            paramLabel = "FILE",
            description = "Start from these weights, body frozen as fine_tune's first phase.")
    Path weights;

    @Option(
            names = "--out",
            paramLabel = "DIR",
            defaultValue = "runs/lr-find",
            description = "Where lr_find.png goes (default: ${DEFAULT-VALUE}).")
    Path out;

    @Mixin
    RecipeOptions recipe;

    @Option(names = "--json", description = "One JSON line with the suggestions.")
    boolean json;

    @Override
    public Integer call() {
        PrintWriter o = out();
        TrainRecipe.Config c = TrainRecipe.Config.builder(data)
                .dataRoot(recipe.dataRoot.dir)
                .model(recipe.model)
                .weights(weights)
                .batchSize(recipe.batchSize)
                .imgSize(recipe.imgSize)
                .seed(recipe.seed)
                .out(out)
                .build();
        try (NDManager manager = NDManager.newBaseManager()) {
            TrainRecipe.Data d = TrainRecipe.prepareData(c, manager);
            try (Learner learner = TrainRecipe.learner(c, d, out, List.of())) {
                if (weights != null) {
                    learner.freeze();
                }
                LrFinder.Result r;
                try {
                    r = learner.lrFind();
                } catch (StoppedException e) {
                    throw e.withState(e.state().replaceFirst(";.*", "") + "; nothing was written");
                }
                Path png = out.resolve("lr_find.png");
                RunReport.writeLrFind(r, png);
                if (json) {
                    Map<String, Object> m = new LinkedHashMap<>();
                    m.put("valley", num(r.valley()));
                    m.put("steep", num(r.steep()));
                    m.put("minimum", num(r.minimum()));
                    m.put("plot", png.toString());
                    printJson(m);
                } else {
                    o.printf(
                            Locale.ROOT,
                            "valley %.2e  steep %.2e  minimum/10 %.2e%nplot: %s%n",
                            r.valley(),
                            r.steep(),
                            r.minimum(),
                            png);
                }
            }
        }
        o.flush();
        return 0;
    }

    private static Double num(double v) {
        return Double.isFinite(v) ? v : null;
    }
}
