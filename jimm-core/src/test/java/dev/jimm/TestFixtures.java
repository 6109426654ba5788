package dev.jimm;

import java.nio.file.Files;
import java.nio.file.Path;

/** Where the test fixtures (copied from shared/fixtures) are. */
public final class TestFixtures {
    private TestFixtures() {}

    public static Path root() {
        Path p = Path.of(System.getProperty("jimm.fixtures", "src/test/resources/fixtures"));
        if (!Files.isDirectory(p)) {
            throw new IllegalStateException("test fixtures not found at " + p.toAbsolutePath());
        }
        return p;
    }

    public static Path parity(String kindAndName) {
        return root().resolve("parity").resolve(kindAndName + ".safetensors");
    }

    public static Path grads(String kindAndName) {
        return root().resolve("grads").resolve(kindAndName + ".safetensors");
    }
}
