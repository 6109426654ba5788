package dev.jimm.samples.quickstart;

// README begin: journey 2
import dev.jimm.models.ImageModel;
import dev.jimm.models.ModelOptions;
import dev.jimm.models.Models;
import dev.jimm.vision.ImageClassifier;
import dev.jimm.vision.ImageClassifier.ClassScore;
import java.nio.file.Path;
import java.util.Locale;
// README end

/**
 * Journey 2: an image file to its top-5 ImageNet classes, with weights from a local checkpoint. The checkpoint the sample
 * runs with is timm's own file of mobilenetv3_small_050 at its random init (this workplace cannot download ImageNet
 * weights), so its top-5 are the right labels of meaningless scores; with ImageNet weights the same code names the cat.
 */
public final class ClassifyImage {
    private ClassifyImage() {}

    public static void main(String[] args) {
        run(Path.of(args[0]), Path.of(args[1]));
    }

    static void run(Path checkpoint, Path image) {
        // README begin: journey 2
        // ImageNet weights: from a file here; ModelOptions.builder().pretrained(true) fetches timm's default tag
        // from the Hugging Face hub into the cache instead (JIMM_OFFLINE=1: the cache only)
        try (ImageModel model = Models.createModel("mobilenetv3_small_050",
                        ModelOptions.builder().pretrainedFile(checkpoint).build());
                ImageClassifier classifier = ImageClassifier.of(model)) {   // ImageNet's names, the model's preprocessing
            for (ClassScore s : classifier.predict(image, 5)) {
                System.out.printf(Locale.ROOT, "%-20s %5.1f%%%n", s.label(), 100 * s.probability());
            }
        }                                                                   // the classifier frees its own copy
        // README end
    }
}
