package dev.jimm.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jimm.data.TestFiles;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LoaderBenchTest {
    @Test
    void benchReportsImagesThroughThePipeline(@TempDir Path tmp) throws Exception {
        String[][] layout = {{"a", "camera.png"}, {"a", "chelsea.png"}, {"b", "coffee.png"}, {"b", "rocket.jpg"}};
        for (String[] l : layout) {
            Files.createDirectories(tmp.resolve(l[0]));
            Files.copy(
                    TestFiles.resource("images/real/" + l[1]), tmp.resolve(l[0]).resolve(l[1]));
        }
        LoaderBench.Result r = LoaderBench.run(new LoaderBench.Options(tmp, 32, 2, 2, 2));
        assertEquals(4, r.images());
        assertTrue(r.seconds() > 0 && r.imagesPerSecond() > 0);
    }
}
