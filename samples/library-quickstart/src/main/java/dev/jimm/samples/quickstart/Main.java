package dev.jimm.samples.quickstart;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * jimm as a library, the three journeys of the README's "Library" section: a model by name and its features; an image
 * file to its top-5 ImageNet classes; an image folder to a fine-tuned, exported classifier.
 *
 * <p>Arguments: the jimm checkout (default: the working folder), then optionally a checkpoint of
 * mobilenetv3_small_050's ImageNet weights, an image and an image folder.
 */
public final class Main {
    private Main() {}

    public static void main(String[] args) throws Exception {
        long start = System.nanoTime();
        Path checkout = Path.of(args.length > 0 ? args[0] : ".").toAbsolutePath().normalize();
        Path resources = checkout.resolve("jimm-core/src/test/resources");
        Path checkpoint = args.length > 1 ? Path.of(args[1])
                : resources.resolve("fixtures/weights/mobilenetv3_small_050.safetensors");
        Path image = args.length > 2 ? Path.of(args[2]) : resources.resolve("data/images/real/chelsea.png");
        Path folder = args.length > 3 ? Path.of(args[3]) : checkout.resolve("samples/font-letters");

        System.out.println("== 1. a model by name");
        ModelByName.run();
        System.out.println("== 2. top-5 of " + image.getFileName());
        ClassifyImage.run(checkpoint, image);
        System.out.println("== 3. fine-tune on " + folder.getFileName());
        Path export = Files.createTempDirectory("jimm-quickstart-").resolve("letters.safetensors");
        FineTuneFolder.run(folder, checkpoint, export);
        System.out.printf(Locale.ROOT, "quickstart done in %.0f s%n", (System.nanoTime() - start) / 1e9);
    }
}
