package dev.jimm.samples.quickstart;

import dev.jimm.models.ImageModel;
import dev.jimm.models.ModelOptions;
import dev.jimm.models.Models;
import dev.jimm.train.Callbacks;
import dev.jimm.vision.ImageClassifier;
import dev.jimm.vision.TrainRecipe;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * jimm as a library: build a model by name from a checkpoint, fine-tune it for one epoch on the
 * Fashion-MNIST sample bundled with jimm, and classify an image file with the result.
 *
 * <p>Arguments: the jimm checkout (default: the working folder), then optionally a checkpoint, an
 * image and a run folder.
 */
public final class Main {
    private static final String MODEL = "mobilenetv3_small_050";

    private Main() {}

    public static void main(String[] args) throws Exception {
        long start = System.nanoTime();
        Path checkout = Path.of(args.length > 0 ? args[0] : ".").toAbsolutePath().normalize();
        Path resources = checkout.resolve("jimm-core/src/test/resources");
        Path checkpoint = args.length > 1 ? Path.of(args[1])
                : resources.resolve("fixtures/weights/" + MODEL + ".safetensors");
        Path image = args.length > 2 ? Path.of(args[2]) : resources.resolve("data/images/real/chelsea.png");
        Path runDir = args.length > 3 ? Path.of(args[3]) : Files.createTempDirectory("jimm-quickstart-");

        // 1. A model by name, with the weights of a local checkpoint (safetensors or torch.save files)
        try (ImageModel model = Models.createModel(MODEL,
                ModelOptions.builder().pretrained(true).pretrainedFile(checkpoint).build())) {
            System.out.printf(Locale.ROOT, "loaded %s from %s: %,d parameters, %d classes, input %s%n",
                    model.name(), checkpoint.getFileName(), model.numParameters(), model.numClasses(),
                    model.pretrainedCfg().inputSize());
        }

        // 2. Fine-tune that checkpoint for one epoch on the bundled Fashion-MNIST sample (10 classes:
        // a new head, trained with the body); the run folder gets the model, metrics and config
        System.setProperty("jimm.samples", checkout.resolve("samples").toString());
        TrainRecipe.Config config = TrainRecipe.Config.builder("fashion-mnist-sample")
                .model(MODEL).weights(checkpoint)
                .epochs(1).freezeEpochs(0).lr(2e-3).imgSize(64).batchSize(64)
                .seed(42).out(runDir).build();
        TrainRecipe.Result result = TrainRecipe.run(config, List.of(Callbacks.Progress.console()));
        System.out.printf(Locale.ROOT, "fine-tuned 1 epoch: accuracy %.1f%%, valid_loss %.4f, in %.0f s%n",
                100 * result.metrics().getOrDefault("accuracy", Double.NaN), result.validLoss(), result.seconds());

        // 3. Classify an image file with the fine-tuned model (its preprocessing is saved with it)
        try (ImageClassifier classifier = ImageClassifier.load(result.runDir())) {
            ImageClassifier.ClassScore top = classifier.predict(image, 1).get(0);
            System.out.printf(Locale.ROOT, "top class of %s: %s (%.1f%%)%n",
                    image.getFileName(), top.label(), 100 * top.probability());
        }
        System.out.printf(Locale.ROOT, "quickstart done in %.0f s (run folder %s)%n",
                (System.nanoTime() - start) / 1e9, runDir);
    }
}
