package dev.jimm.vision;

import dev.jimm.JimmHome;
import dev.jimm.data.DatasetSources;
import dev.jimm.data.Downloads;
import dev.jimm.data.ImageDataset;
import dev.jimm.transforms.Preprocessing;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A dataset jimm knows by name (as {@code jimm train} takes it): its train and test splits, image size and per-channel
 * statistics on [0, 1]. The full datasets are read from {@code root} (or {@code $JIMM_HOME/datasets/NAME}), downloaded
 * there when missing; the Fashion-MNIST sample (2,000 train and 500 test images) is bundled with the checkout.
 *
 * <pre>{@code
 * NamedDataset fmnist = NamedDataset.fashionMnistSample();
 * ImageDataset train = fmnist.train();                 // 2,000 images, 10 classes
 * Preprocessing pre = fmnist.preprocessing();          // 1 x 28 x 28, mean 0.2860, std 0.3530
 * }</pre>
 *
 * @param name the name {@code jimm train} takes
 * @param train the training split
 * @param test the test split (jimm's recipes validate on it)
 * @param size the images' side in pixels
 * @param mean per-channel mean on [0, 1] of the training images
 * @param std per-channel std on [0, 1]
 * @param flips whether mirror images are plausible members of the classes (not for digits)
 */
public record NamedDataset(
        String name,
        ImageDataset train,
        ImageDataset test,
        int size,
        List<Double> mean,
        List<Double> std,
        boolean flips) {
    /** The names {@link #of} knows. */
    public static final List<String> NAMES =
            List.of("fashion-mnist", "fashion-mnist-sample", "mnist", "cifar10", "cifar100");

    private static final List<Double> FMNIST_MEAN = List.of(0.2860);
    private static final List<Double> FMNIST_STD = List.of(0.3530);
    private static final List<Double> MNIST_MEAN = List.of(0.1307);
    private static final List<Double> MNIST_STD = List.of(0.3081);
    private static final List<Double> CIFAR_MEAN = List.of(0.4914, 0.4822, 0.4465);
    private static final List<Double> CIFAR_STD = List.of(0.2470, 0.2435, 0.2616);

    public NamedDataset {
        mean = List.copyOf(mean);
        std = List.copyOf(std);
    }

    /** The Fashion-MNIST sample bundled in the checkout's {@code samples/fashion-mnist}. */
    public static NamedDataset fashionMnistSample() {
        return of("fashion-mnist-sample", null);
    }

    /** Fashion-MNIST (60,000 + 10,000 images) under {@code root}, or {@code $JIMM_HOME/datasets} when null. */
    public static NamedDataset fashionMnist(Path root) {
        return of("fashion-mnist", root);
    }

    /**
     * A dataset by name ({@link #NAMES}) under {@code root} (its folder, or a folder holding one per name), or
     * {@code $JIMM_HOME/datasets/NAME} when null.
     *
     * @throws IllegalArgumentException for another name
     */
    public static NamedDataset of(String name, Path root) {
        Path dir = folder(root, name);
        return switch (name) {
            case "fashion-mnist", "fashion-mnist-sample" ->
                new NamedDataset(
                        name,
                        DatasetSources.fashionMnist(dir, true, new Downloads()),
                        DatasetSources.fashionMnist(dir, false, new Downloads()),
                        28,
                        FMNIST_MEAN,
                        FMNIST_STD,
                        true);
            case "mnist" ->
                new NamedDataset(
                        name,
                        DatasetSources.mnist(dir, true, new Downloads()),
                        DatasetSources.mnist(dir, false, new Downloads()),
                        28,
                        MNIST_MEAN,
                        MNIST_STD,
                        false);
            case "cifar10" ->
                new NamedDataset(
                        name,
                        DatasetSources.cifar10(dir, true, new Downloads()),
                        DatasetSources.cifar10(dir, false, new Downloads()),
                        32,
                        CIFAR_MEAN,
                        CIFAR_STD,
                        true);
            case "cifar100" ->
                new NamedDataset(
                        name,
                        DatasetSources.cifar100(dir, true, new Downloads()),
                        DatasetSources.cifar100(dir, false, new Downloads()),
                        32,
                        CIFAR_MEAN,
                        CIFAR_STD,
                        true);
            default ->
                throw new IllegalArgumentException(
                        "no dataset named '" + name + "'; the named datasets are " + String.join(", ", NAMES));
        };
    }

    /** Whether {@link #of} knows the name. */
    public static boolean isName(String name) {
        return NAMES.contains(name);
    }

    /** Image channels: 1 for the gray datasets, 3 for CIFAR. */
    public int channels() {
        return mean.size();
    }

    /** The eval preprocessing: the images at their size, normalized with the dataset's statistics. */
    public Preprocessing preprocessing() {
        return new Preprocessing(channels(), size, "bilinear", 1.0, mean, std);
    }

    private static Path folder(Path root, String name) {
        if (name.equals("fashion-mnist-sample")) {
            return TrainRecipe.samplesDir().resolve("fashion-mnist");
        }
        if (root != null) {
            Path p = root.resolve(name);
            return Files.isDirectory(p) ? p : root;
        }
        return JimmHome.fromEnvironment().resolve("datasets").resolve(name);
    }
}
