package dev.jimm.data;

import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Locates test resources copied from ../shared into jimm-core's src/test/resources/data: the folder
 * {@code -Djimm.testData} names (other modules' tests), else this module's test classpath.
 */
public final class TestFiles {
    private TestFiles() {}

    /** The folder holding the test resources ({@code data/}, {@code fixtures/}, {@code transforms/}). */
    public static Path root() {
        String dir = System.getProperty("jimm.testData");
        if (dir != null) {
            return Path.of(dir);
        }
        try {
            var url = TestFiles.class.getResource("/data");
            if (url == null) {
                throw new IllegalStateException(
                        "missing test resources (data/ on the test classpath or -Djimm.testData)");
            }
            return Path.of(url.toURI()).getParent();
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    public static Path resource(String rel) {
        Path p = root().resolve("data").resolve(rel);
        if (!Files.exists(p)) {
            throw new IllegalStateException("missing test resource data/" + rel + " under " + root());
        }
        return p;
    }
}
