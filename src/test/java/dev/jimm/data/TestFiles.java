package dev.jimm.data;

import java.net.URISyntaxException;
import java.nio.file.Path;

/** Locates test resources copied from /work/shared into src/test/resources/data. */
public final class TestFiles {
    private TestFiles() {}

    public static Path resource(String rel) {
        try {
            var url = TestFiles.class.getResource("/data/" + rel);
            if (url == null) {
                throw new IllegalStateException("missing test resource data/" + rel);
            }
            return Path.of(url.toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }
}
