package dev.jimm.parity;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jimm.TestFixtures;
import java.io.IOException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every parity fixture in the test resources, as timm's and torchvision's outputs decide: state_dict keys, order and
 * shapes, eval-mode logits, pre-logits and feature maps under the reference init; and the train-mode fixtures (one
 * step's logits, loss and every gradient norm). {@code -Djimm.parity=GLOB} picks fixtures by file name, e.g.
 * {@code -Djimm.parity='timm__resnet*'}.
 */
class FixtureParityTest {
    /** How many eval-mode fixtures the copy in the test resources holds (../shared/fixtures/parity). */
    private static final int PARITY_FIXTURES = 88;

    /** Train-mode fixtures checked with their own rule (EfficientNetGradParityTest: noise-level biases). */
    private static final Set<String> OWN_GRAD_TESTS = Set.of("timm__mobilenetv3_small_100", "timm__efficientnet_b0");

    /** The eval-mode fixtures of both waves, as {@code folder/name}. */
    static Stream<String> parityFixtures() throws IOException {
        return Stream.concat(fixtures("parity"), fixtures("parity-wave2"));
    }

    /** The train-mode fixtures of both waves, as {@code folder/name}. */
    static Stream<String> gradFixtures() throws IOException {
        return Stream.concat(fixtures("grads"), fixtures("grads-wave2"))
                .filter(f -> !OWN_GRAD_TESTS.contains(f.substring(f.indexOf('/') + 1)));
    }

    private static Path file(String folderAndName) {
        return TestFixtures.root().resolve(folderAndName + ".safetensors");
    }

    /** The fixtures of one folder (none when the copy has no such folder), as {@code folder/name}. */
    private static Stream<String> fixtures(String kind) throws IOException {
        String glob = System.getProperty("jimm.parity", "*");
        PathMatcher chosen = FileSystems.getDefault().getPathMatcher("glob:" + glob);
        Path folder = TestFixtures.root().resolve(kind);
        if (!Files.isDirectory(folder)) {
            return Stream.empty();
        }
        try (Stream<Path> files = Files.list(folder)) {
            List<String> names = files.map(p -> p.getFileName().toString())
                    .filter(n -> n.endsWith(".safetensors"))
                    .map(n -> n.substring(0, n.length() - ".safetensors".length()))
                    .filter(n -> chosen.matches(Path.of(n)))
                    .sorted()
                    .map(n -> kind + "/" + n)
                    .toList();
            return names.stream();
        }
    }

    @Test
    void theCopyHoldsEveryFixture() throws IOException {
        if (System.getProperty("jimm.parity") == null) {
            long n = fixtures("parity").count();
            assertTrue(
                    n >= PARITY_FIXTURES,
                    "the test resources hold " + n + " parity fixtures, expected " + PARITY_FIXTURES
                            + " (copy ../shared/fixtures/parity)");
        }
    }

    @ParameterizedTest(name = "{0}", allowZeroInvocations = true)
    @MethodSource("parityFixtures")
    void matchesReference(String fixture) {
        ParityRunner.Result r = new ParityRunner().run(file(fixture));
        System.out.printf(
                "%s %s worst %.3g in %.1fs %s%n",
                fixture, r.passed(), r.worstRelativeError(), r.seconds(), r.message());
        assertTrue(r.passed(), r.message());
    }

    @ParameterizedTest(name = "{0}", allowZeroInvocations = true)
    @MethodSource("gradFixtures")
    void trainStepMatchesReference(String fixture) {
        ParityRunner.Result r = new ParityRunner().run(file(fixture));
        System.out.printf("grads %s %s %s %s%n", fixture, r.passed(), r.errors(), r.message());
        assertTrue(r.passed(), r.message());
        assertTrue(r.errors().containsKey("grad_norms"), "the train step ran");
        assertTrue(r.errors().containsKey("train_loss"), "the loss was compared");
    }
}
