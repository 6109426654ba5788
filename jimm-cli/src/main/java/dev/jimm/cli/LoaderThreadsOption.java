package dev.jimm.cli;

import picocli.CommandLine.Option;

/** {@code --threads} of the data loader, a picocli mixin of the commands that train (train, demo transfer). */
final class LoaderThreadsOption {
    @Option(
            names = "--threads",
            paramLabel = "N",
            defaultValue = "0",
            description = "Loader threads (default: one per core).")
    int threads;
}
