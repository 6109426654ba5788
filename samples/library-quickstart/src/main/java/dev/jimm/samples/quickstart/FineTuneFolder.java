package dev.jimm.samples.quickstart;

// README begin: journey 3
import dev.jimm.train.Callbacks;
import dev.jimm.train.Learner;
import dev.jimm.vision.ImageClassifier;
import dev.jimm.vision.TrainRecipe;
import dev.jimm.vision.VisionLearner;
import java.nio.file.Path;
import java.util.Locale;
// README end

/** Journey 3: an image folder to a fine-tuned classifier: train, export, load and predict. */
public final class FineTuneFolder {
    private FineTuneFolder() {}

    public static void main(String[] args) {
        run(Path.of(args[0]), Path.of(args[1]), Path.of(args[2]));
    }

    static void run(Path folder, Path checkpoint, Path export) {
        // README begin: journey 3
        // fastai's ImageDataLoaders.from_folder + vision_learner: one subfolder per class, a seeded 20%
        // validation split, the data pipeline chosen for the kind of images (VisionLearner.fromFolder(folder,
        // "resnet18") takes every default); the learner owns the model and the data
        TrainRecipe.Config config = TrainRecipe.Config.builder(folder.toString())
                .model("mobilenetv3_small_050").weights(checkpoint)      // start from ImageNet weights
                .imgSize(64).batchSize(64).seed(42).build();
        try (Learner learn = VisionLearner.fromRecipe(config)) {
            learn.addCallback(Callbacks.Progress.console());
            learn.fineTune(1);                                            // fastai's fine_tune(1)
            System.out.printf(Locale.ROOT, "accuracy %.3f%n", learn.validate().metrics().get("accuracy"));
            learn.export(export);                         // weights + architecture + classes + preprocessing
        }
        try (ImageClassifier classifier = ImageClassifier.load(export)) {
            Path letter = folder.resolve("C").resolve("026c2021c46e.png");
            System.out.println(letter.getFileName() + " is " + classifier.predict(letter, 1).get(0).label());
        }
        // README end
    }
}
