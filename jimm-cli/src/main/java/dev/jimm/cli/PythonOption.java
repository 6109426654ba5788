package dev.jimm.cli;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/** {@code --python}, a picocli mixin of the benchmarks that run a PyTorch script for comparison. */
final class PythonOption {
    @Option(
            names = "--python",
            paramLabel = "PATH",
            defaultValue = "/usr/bin/python3",
            description = "Python for --compare (default: ${DEFAULT-VALUE}).")
    Path path;
}
