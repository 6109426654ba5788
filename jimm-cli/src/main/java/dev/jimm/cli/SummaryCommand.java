package dev.jimm.cli;

import ai.djl.ndarray.types.Shape;
import dev.jimm.models.ImageModel;
import dev.jimm.models.ModelOptions;
import dev.jimm.models.ModelRegistry;
import dev.jimm.models.ModelSummary;
import dev.jimm.models.Models;
import dev.jimm.models.PretrainedCfg;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code jimm summary NAME}: a torchinfo-style table of layers, shapes and parameters. */
@Command(
        name = "summary",
        description = "Layer-by-layer summary of a model. Example: jimm summary resnet50 --input 1,3,224,224",
        mixinStandardHelpOptions = true)
final class SummaryCommand extends JimmCommand {
    @Parameters(paramLabel = "NAME", description = "Model name.")
    String name;

    @Option(
            names = "--input",
            paramLabel = "N,C,H,W",
            description = "Input shape (default: 1 and the model's input size).")
    String input;

    @Option(names = "--num-classes", paramLabel = "N", description = "Classifier outputs (default: the model's).")
    Integer numClasses;

    @Option(
            names = "--depth",
            paramLabel = "D",
            defaultValue = "3",
            description = "Deepest level of modules shown (default: ${DEFAULT-VALUE}).")
    int depth;

    @Override
    public Integer call() {
        PretrainedCfg cfg = ModelRegistry.builtIn().config(name);
        Shape shape = input == null
                ? new Shape(
                        1,
                        cfg.inputSize().get(0),
                        cfg.inputSize().get(1),
                        cfg.inputSize().get(2))
                : parseShape(input);
        ModelOptions.Builder b = ModelOptions.builder().inChans((int) shape.get(1));
        if (numClasses != null) {
            b.numClasses(numClasses);
        }
        try (ImageModel model = Models.createModel(name, b.build())) {
            out().print(ModelSummary.of(model, shape).format(depth));
        }
        return 0;
    }

    static Shape parseShape(String text) {
        String[] parts = text.split("[,x ]+");
        if (parts.length != 4) {
            throw new IllegalArgumentException("--input '" + text + "' must be N,C,H,W, for example 1,3,224,224");
        }
        long[] dims = new long[4];
        for (int i = 0; i < 4; i++) {
            try {
                dims[i] = Long.parseLong(parts[i].trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("--input '" + text + "' must be four positive integers N,C,H,W");
            }
            if (dims[i] <= 0) {
                throw new IllegalArgumentException("--input '" + text + "' must be four positive integers N,C,H,W");
            }
        }
        return new Shape(dims);
    }
}
