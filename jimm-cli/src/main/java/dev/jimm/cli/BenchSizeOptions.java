package dev.jimm.cli;

import picocli.CommandLine.Option;

/**
 * The batch and image size of {@code bench} and {@code bench data}, as a picocli mixin: both measure at the same
 * defaults, those of the PyTorch comparison scripts.
 */
final class BenchSizeOptions {
    @Option(
            names = "--batch-size",
            paramLabel = "N",
            defaultValue = "32",
            description = "Images per batch (default: ${DEFAULT-VALUE}).")
    int batchSize;

    @Option(
            names = "--img-size",
            paramLabel = "S",
            defaultValue = "224",
            description = "Input (crop) size (default: ${DEFAULT-VALUE}).")
    int imgSize;
}
