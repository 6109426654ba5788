package dev.jimm.data;

import static org.junit.jupiter.api.Assertions.*;

import com.sun.net.httpserver.HttpServer;
import dev.jimm.AtomicFiles;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DownloadsAndCifarTest {
    /** md5sum of the tiny CIFAR-layout archive made with GNU tar (see src/test/resources/data/cifar). */
    static final String TINY_MD5 = "304ea4eb55cba25c40877b5ec453eaf6";

    HttpServer server;
    AtomicInteger hits = new AtomicInteger();
    byte[] archive;

    @BeforeEach
    void start() throws Exception {
        archive = Files.readAllBytes(TestFiles.resource("cifar/tiny-cifar-10-binary.tar.gz"));
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/cifar-10-binary.tar.gz", ex -> {
            hits.incrementAndGet();
            ex.sendResponseHeaders(200, archive.length);
            try (OutputStream os = ex.getResponseBody()) {
                os.write(archive);
            }
        });
        server.createContext("/missing", ex -> {
            ex.sendResponseHeaders(404, -1);
            ex.close();
        });
        server.start();
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    URI url(String path) {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + path);
    }

    static long partFiles(Path dir) throws Exception {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.toString().endsWith(".part") || AtomicFiles.isTemp(p))
                    .count();
        }
    }

    @Test
    void downloadVerifiesChecksumAndCaches(@TempDir Path cache) throws Exception {
        Downloads d = new Downloads();
        Path f = d.fetch(url("/cifar-10-binary.tar.gz"), cache, "c.tar.gz", Downloads.Checksum.md5(TINY_MD5));
        assertArrayEquals(archive, Files.readAllBytes(f));
        d.fetch(url("/cifar-10-binary.tar.gz"), cache, "c.tar.gz", Downloads.Checksum.md5(TINY_MD5.toUpperCase()));
        assertEquals(1, hits.get(), "a verified cached file is not downloaded again");

        UncheckedIOException bad = assertThrows(
                UncheckedIOException.class,
                () -> d.fetch(
                        url("/cifar-10-binary.tar.gz"),
                        cache,
                        "other.tar.gz",
                        Downloads.Checksum.sha256("00".repeat(32))));
        assertTrue(bad.getMessage().contains("SHA-256 mismatch"), bad.getMessage());
        assertFalse(Files.exists(cache.resolve("other.tar.gz")), "a corrupt download is never renamed into place");
        assertEquals(0, partFiles(cache));

        UncheckedIOException nf = assertThrows(
                UncheckedIOException.class,
                () -> d.fetch(url("/missing"), cache, "m.bin", Downloads.Checksum.md5(TINY_MD5)));
        assertTrue(nf.getMessage().contains("HTTP 404") && nf.getMessage().contains("/missing"), nf.getMessage());
        assertEquals(0, partFiles(cache));

        // A stale file with the wrong content is replaced.
        Files.writeString(cache.resolve("c.tar.gz"), "stale");
        d.fetch(url("/cifar-10-binary.tar.gz"), cache, "c.tar.gz", Downloads.Checksum.md5(TINY_MD5));
        assertArrayEquals(archive, Files.readAllBytes(cache.resolve("c.tar.gz")));
    }

    @Test
    void cifar10DownloadExtractAndRead(@TempDir Path dir) {
        DatasetSources.Remote mirror = new DatasetSources.Remote(
                url("/cifar-10-binary.tar.gz"), "cifar-10-binary.tar.gz", Downloads.Checksum.md5(TINY_MD5));
        CifarDataset train = DatasetSources.cifar10(dir, true, new Downloads(), mirror);
        assertEquals(10, train.size());
        assertEquals(CifarDataset.CIFAR10_CLASSES, train.classes());
        // Record 0 of data_batch_3: label 3, R plane = 30, G = 100, B = 200.
        assertEquals(3, train.label(4));
        DecodedImage im = train.image(4);
        assertEquals(32, im.width());
        assertEquals(30, im.get(5, 7, 0));
        assertEquals(100, im.get(5, 7, 1));
        assertEquals(200, im.get(31, 31, 2));
        assertEquals(6, train.label(5)); // second record of batch 3: label 9 - 3
        CifarDataset test = DatasetSources.cifar10(dir, false, new Downloads(), mirror);
        assertEquals(1, test.size());
        assertEquals(7, test.label(0));
        assertEquals(60, test.image(0).get(0, 0, 1));
        assertEquals(1, hits.get(), "extracted once, then read locally");
    }

    @Test
    void cifar100ReadsCoarseAndFineLabels(@TempDir Path dir) throws Exception {
        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        for (int i = 0; i < 3; i++) {
            bos.write(new byte[] {(byte) (i + 10), (byte) (i * 30 + 5)}); // coarse, fine
            byte[] planes = new byte[3072];
            planes[1024 + 33] = (byte) (200 + i); // green at (x=1, y=1)
            bos.write(planes);
        }
        Files.write(dir.resolve("train.bin"), bos.toByteArray());
        CifarDataset fine = CifarDataset.cifar100(dir, true, false);
        CifarDataset coarse = CifarDataset.cifar100(dir, true, true);
        assertEquals(3, fine.size());
        assertEquals(65, fine.label(2));
        assertEquals(12, coarse.label(2));
        assertEquals(100, fine.classes().size());
        assertEquals(20, coarse.classes().size());
        assertEquals(201, fine.image(1).get(1, 1, 1));
        assertEquals(0, fine.image(1).get(1, 1, 0));
        Files.write(dir.resolve("test.bin"), new byte[3074 + 100]);
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> CifarDataset.cifar100(dir, false, false));
        assertTrue(e.getMessage().contains("test.bin") && e.getMessage().contains("3074"), e.getMessage());
    }
}
