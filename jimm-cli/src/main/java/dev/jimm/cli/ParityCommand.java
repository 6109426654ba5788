package dev.jimm.cli;

import dev.jimm.parity.ParityFixture;
import dev.jimm.parity.ParityRunner;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code jimm parity}: checks models against Python reference fixtures, a line per fixture with the worst relative
 * error, then {@code N passed, M failed}.
 */
@Command(
        name = "parity",
        description =
                "Check models against reference fixtures (timm/torchvision outputs). Example: jimm parity ../shared/fixtures/parity",
        mixinStandardHelpOptions = true)
final class ParityCommand extends JimmCommand {
    @Parameters(
            arity = "1..*",
            paramLabel = "FILE_OR_DIR",
            description = "Fixture files or folders of *.safetensors fixtures.")
    List<Path> paths;

    @Option(names = "--json", description = "One JSON object per fixture instead of text.")
    boolean json;

    @Override
    public Integer call() throws IOException {
        List<Path> files = new ArrayList<>();
        for (Path p : paths) {
            if (Files.isDirectory(p)) {
                List<Path> found = new ArrayList<>();
                try (Stream<Path> s = Files.list(p)) {
                    s.filter(f -> f.getFileName().toString().endsWith(".safetensors"))
                            .sorted()
                            .forEach(found::add);
                }
                // checkpoints that a fixture names in meta.weights sit beside it: they are not fixtures
                Set<Path> weights = new HashSet<>();
                for (Path f : found) {
                    try {
                        Path w = ParityFixture.read(f).weights();
                        if (w != null) {
                            weights.add(w.toAbsolutePath().normalize());
                        }
                    } catch (RuntimeException notAFixture) {
                        // reported when the file is run
                    }
                }
                found.stream()
                        .filter(f -> !weights.contains(f.toAbsolutePath().normalize()))
                        .forEach(files::add);
            } else if (Files.isRegularFile(p)) {
                files.add(p);
            } else {
                throw new IllegalArgumentException("FILE_OR_DIR '" + p + "' does not exist");
            }
        }
        if (files.isEmpty()) {
            throw new IllegalArgumentException("no *.safetensors fixtures in " + paths);
        }
        var out = out();
        ParityRunner runner = new ParityRunner();
        int passed = 0;
        int failed = 0;
        for (Path f : files) {
            ParityRunner.Result r = runner.run(f);
            if (r.passed()) {
                passed++;
            } else {
                failed++;
            }
            if (json) {
                out.printf(
                        Locale.ROOT,
                        "{\"fixture\":\"%s\",\"model\":\"%s\",\"passed\":%b,\"worst\":%s,\"seconds\":%.2f,\"message\":\"%s\"}%n",
                        esc(f.getFileName().toString()),
                        esc(r.model()),
                        r.passed(),
                        Double.isFinite(r.worstRelativeError())
                                ? String.format(Locale.ROOT, "%.3e", r.worstRelativeError())
                                : "null",
                        r.seconds(),
                        esc(r.message()));
            } else {
                String err = Double.isNaN(r.worstRelativeError())
                        ? "        -"
                        : String.format(Locale.ROOT, "%9.2e", r.worstRelativeError());
                out.printf(
                        Locale.ROOT,
                        "%-4s %-44s %-34s worst %s  %5.1fs%s%n",
                        r.passed() ? "ok" : "FAIL",
                        f.getFileName(),
                        r.model(),
                        err,
                        r.seconds(),
                        r.passed() ? "" : "  " + r.message());
            }
            out.flush();
        }
        out.println(passed + " passed, " + failed + " failed");
        return failed == 0 ? 0 : 1;
    }

    private static String esc(String s) {
        return s.replace("\\", "\\\\").replace("\"", "\\\"");
    }
}
