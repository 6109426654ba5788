package dev.jimm.cli;

import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * The options that {@code train} and {@code lr-find} share, as a picocli mixin: where named datasets are, the
 * architecture, the batch and input size, and the seed. Both build the same training recipe from them, so they mean the
 * same in both.
 */
final class RecipeOptions {
    @Mixin
    DataRootOption dataRoot;

    @Option(
            names = "--model",
            paramLabel = "NAME",
            defaultValue = "resnet18",
            description = "Architecture (default: ${DEFAULT-VALUE}).")
    String model;

    @Option(
            names = "--batch-size",
            paramLabel = "N",
            defaultValue = "64",
            description = "Batch size (default: ${DEFAULT-VALUE}).")
    int batchSize;

    @Option(names = "--img-size", paramLabel = "N", description = "Input size (default: the dataset's or the model's).")
    Integer imgSize;

    @Option(
            names = "--seed",
            paramLabel = "S",
            defaultValue = "42",
            description = "Seed of the split, order, init and augmentation (default: ${DEFAULT-VALUE}).")
    long seed;
}
