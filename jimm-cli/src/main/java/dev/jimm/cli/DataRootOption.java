package dev.jimm.cli;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/** {@code --data-root}, a picocli mixin of the commands that read named datasets (train, lr-find, eval). */
final class DataRootOption {
    @Option(
            names = "--data-root",
            paramLabel = "DIR",
            description = "Where named datasets are (default: $JIMM_HOME/datasets/NAME, downloaded if missing).")
    Path dir;
}
