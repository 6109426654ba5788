package dev.jimm.cli;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * The options that {@code demo} and {@code demo transfer} share, as a picocli mixin: the architecture, the seed and the
 * run folder, whose default is named after the command.
 */
final class DemoOptions {
    @Option(
            names = "--model",
            paramLabel = "NAME",
            defaultValue = "resnet10t",
            description = "Architecture (default: ${DEFAULT-VALUE}).")
    String model;

    @Option(
            names = "--seed",
            paramLabel = "S",
            defaultValue = "42",
            description = "Seed of the sampling, order, init and augmentation (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--out", paramLabel = "DIR", description = "Run folder (default: runs/<time>-${COMMAND-NAME}).")
    Path out;
}
