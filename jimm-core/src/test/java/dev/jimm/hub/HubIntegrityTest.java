package dev.jimm.hub;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.jimm.data.DownloadException;
import dev.jimm.data.Downloads;
import dev.jimm.models.PretrainedCfg;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hub downloads are checked against the SHA-256 the Hugging Face hub sends with the redirect to its CDN (the LFS
 * {@code X-Linked-Etag} header), on a server on 127.0.0.1 that answers as the hub does: the resolve URL redirects, the
 * CDN URL serves the bytes without any hash.
 */
class HubIntegrityTest {
    @TempDir
    Path home;

    HttpServer server;
    /** The bytes the CDN serves, by repository. */
    final Map<String, byte[]> cdn = new ConcurrentHashMap<>();
    /** The X-Linked-Etag value the resolve URL's redirect carries, by repository (none when absent). */
    final Map<String, String> linkedEtag = new ConcurrentHashMap<>();

    final List<String> requests = new CopyOnWriteArrayList<>();

    @BeforeEach
    void start() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", this::handle);
        server.start();
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    void handle(HttpExchange ex) throws IOException {
        String path = ex.getRequestURI().getPath();
        requests.add(ex.getRequestMethod() + " " + path);
        String[] parts = path.split("/");
        // /timm/REPO/resolve/main/FILE -> 302 to /cdn/REPO, as the hub answers for a file stored with LFS
        if (parts.length == 6 && parts[3].equals("resolve") && parts[5].equals("model.safetensors")) {
            String repo = parts[2];
            if (cdn.containsKey(repo)) {
                ex.getResponseHeaders().add("Location", base() + "/cdn/" + repo);
                String etag = linkedEtag.get(repo);
                if (etag != null) {
                    ex.getResponseHeaders().add("X-Linked-Etag", etag);
                }
                ex.sendResponseHeaders(302, -1);
                ex.close();
                return;
            }
        }
        if (parts.length == 3 && parts[1].equals("cdn") && cdn.containsKey(parts[2])) {
            byte[] data = cdn.get(parts[2]);
            ex.sendResponseHeaders(200, data.length);
            try (OutputStream os = ex.getResponseBody()) {
                os.write(data);
            }
            return;
        }
        ex.sendResponseHeaders(404, -1);
        ex.close();
    }

    String base() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    WeightHub hub() {
        return new WeightHub(new WeightHub.Settings(home, false, base(), base(), null));
    }

    static PretrainedCfg cfg(String repo) {
        return PretrainedCfg.untrained("test_arch", 224, "", "")
                .withName("test_arch", "t")
                .withHub("timm/" + repo);
    }

    static byte[] payload(long seed) {
        byte[] b = new byte[40_000];
        new Random(seed).nextBytes(b);
        return b;
    }

    static String sha256(byte[] data) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
    }

    Path cacheFile(String repo) {
        return home.resolve("hub/huggingface/timm/" + repo + "/model.safetensors");
    }

    long filesUnder(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return 0;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(Files::isRegularFile).count();
        }
    }

    @Test
    void aFileMatchingTheHubsHashIsKept() throws Exception {
        byte[] data = payload(1);
        cdn.put("good.t", data);
        linkedEtag.put("good.t", "\"" + sha256(data) + "\"");
        WeightHub.Fetched f = hub().fetch(cfg("good.t"));
        assertEquals(cacheFile("good.t"), f.file());
        assertArrayEquals(data, Files.readAllBytes(f.file()));
        assertEquals(
                List.of(
                        "HEAD /timm/good.t/resolve/main/model.safetensors",
                        "GET /timm/good.t/resolve/main/model.safetensors",
                        "GET /cdn/good.t"),
                requests,
                "the hash is read from the first response, without following it; the download follows the redirect");
    }

    @Test
    void aCorruptedFileIsRefusedWithOneLineNamingFileAndHashesAndNothingIsCached() throws Exception {
        byte[] data = payload(2);
        String expected = sha256(data);
        byte[] corrupted = data.clone();
        corrupted[12_345] ^= 0x10; // one bit flipped on the way
        String got = sha256(corrupted);
        cdn.put("bad.t", corrupted);
        linkedEtag.put("bad.t", "\"" + expected + "\"");
        DownloadException e = assertThrows(DownloadException.class, () -> hub().fetch(cfg("bad.t")));
        assertEquals(
                base() + "/timm/bad.t/resolve/main/model.safetensors: SHA-256 mismatch for model.safetensors: expected "
                        + expected + ", got " + got + "; the download was deleted",
                e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
        assertFalse(Files.exists(cacheFile("bad.t")));
        assertEquals(0, filesUnder(home.resolve("hub")), "no partial or complete file is left");
        assertFalse(
                requests.contains("GET /timm/bad.t/resolve/main/pytorch_model.bin"),
                "a corrupted file is an error, not a reason to try the next file: " + requests);
        // the next attempt downloads again rather than trusting anything left over, and succeeds once the CDN is fixed
        cdn.put("bad.t", data);
        assertArrayEquals(data, Files.readAllBytes(hub().fetch(cfg("bad.t")).file()));
    }

    @Test
    void aFileWithoutAHashIsAcceptedAsBefore() throws Exception {
        byte[] data = payload(3);
        cdn.put("nohash.t", data);
        WeightHub.Fetched f = hub().fetch(cfg("nohash.t"));
        assertArrayEquals(data, Files.readAllBytes(f.file()));
        // an X-Linked-Etag that is no SHA-256 (a git blob's SHA-1, 40 hex digits) is no hash to check either
        byte[] other = payload(4);
        cdn.put("sha1.t", other);
        linkedEtag.put("sha1.t", "\"" + sha256(other).substring(0, 40) + "\"");
        assertArrayEquals(other, Files.readAllBytes(hub().fetch(cfg("sha1.t")).file()));
    }

    @Test
    void theHashIsReadWithoutFollowingTheRedirect() throws Exception {
        byte[] data = payload(5);
        cdn.put("meta.t", data);
        linkedEtag.put("meta.t", "W/\"" + sha256(data).toUpperCase(Locale.ROOT) + "\"");
        Downloads d = new Downloads();
        assertEquals(
                Downloads.Checksum.sha256(sha256(data)),
                d.hubSha256(URI.create(base() + "/timm/meta.t/resolve/main/model.safetensors"))
                        .orElseThrow());
        assertEquals(List.of("HEAD /timm/meta.t/resolve/main/model.safetensors"), requests, "the CDN is not asked");
        assertTrue(d.hubSha256(URI.create(base() + "/timm/none.t/resolve/main/model.safetensors"))
                .isEmpty());
    }
}
