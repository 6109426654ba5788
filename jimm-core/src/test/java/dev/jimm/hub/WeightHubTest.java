package dev.jimm.hub;

import static org.junit.jupiter.api.Assertions.*;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.jimm.JimmException;
import dev.jimm.data.DownloadException;
import dev.jimm.data.Downloads;
import dev.jimm.models.ImageModel;
import dev.jimm.models.ModelNotFoundException;
import dev.jimm.models.ModelOptions;
import dev.jimm.models.ModelRegistry;
import dev.jimm.models.Models;
import dev.jimm.models.PretrainedCfg;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The hub against an HTTP server on 127.0.0.1: download, cache, resume, checksums, 404, offline. */
class WeightHubTest {
    @TempDir
    Path home;

    HttpServer server;
    final Map<String, byte[]> files = new ConcurrentHashMap<>();
    final Map<String, AtomicInteger> hits = new ConcurrentHashMap<>();
    final List<String> ranges = new CopyOnWriteArrayList<>();
    /** Paths whose next full (non-Range) response is cut after half the body. */
    final Map<String, Boolean> cutOnce = new ConcurrentHashMap<>();

    final ByteArrayOutputStream progress = new ByteArrayOutputStream();

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
        byte[] data = files.get(path);
        if (ex.getRequestMethod().equals("HEAD")) {
            // the hub is asked for a file's hash first (HubIntegrityTest); these files come without one
            ex.sendResponseHeaders(data == null ? 404 : 200, -1);
            ex.close();
            return;
        }
        hits.computeIfAbsent(path, k -> new AtomicInteger()).incrementAndGet();
        if (data == null) {
            ex.sendResponseHeaders(404, -1);
            ex.close();
            return;
        }
        String range = ex.getRequestHeaders().getFirst("Range");
        ranges.add(path + " " + range);
        if (range != null && range.startsWith("bytes=") && range.endsWith("-")) {
            int from = Integer.parseInt(range.substring(6, range.length() - 1));
            ex.getResponseHeaders().add("Content-Range", "bytes " + from + "-" + (data.length - 1) + "/" + data.length);
            ex.sendResponseHeaders(206, data.length - from);
            try (OutputStream os = ex.getResponseBody()) {
                os.write(data, from, data.length - from);
            }
            return;
        }
        ex.sendResponseHeaders(200, data.length);
        OutputStream os = ex.getResponseBody();
        if (cutOnce.remove(path) != null) {
            os.write(data, 0, data.length / 2);
            os.flush();
            try {
                os.close(); // fewer bytes than Content-Length: the server drops the connection
            } catch (IOException expected) {
                // "insufficient bytes written to stream"
            }
            return;
        }
        os.write(data);
        os.close();
    }

    String base() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    WeightHub hub(boolean offline) {
        return new WeightHub(new WeightHub.Settings(home, offline, base(), base(), new PrintStream(progress, true)));
    }

    static PretrainedCfg hfCfg(String repo) {
        return PretrainedCfg.untrained("test_arch", 224, "", "")
                .withName("test_arch", "t")
                .withHub(repo);
    }

    static byte[] payload(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    long partFiles() throws IOException {
        if (!Files.exists(home)) {
            return 0;
        }
        try (Stream<Path> s = Files.walk(home)) {
            return s.filter(p -> p.toString().endsWith(".part")).count();
        }
    }

    @Test
    void firstDownloadThenCacheHitWithoutARequest() throws Exception {
        byte[] data = payload(300_000, 1);
        files.put("/timm/a.t/resolve/main/model.safetensors", data);
        WeightHub hub = hub(false);
        PretrainedCfg cfg = hfCfg("timm/a.t");
        WeightHub.Fetched f = hub.fetch(cfg);
        assertFalse(f.fromCache());
        assertEquals(home.resolve("hub/huggingface/timm/a.t/model.safetensors"), f.file());
        assertArrayEquals(data, Files.readAllBytes(f.file()));
        assertTrue(
                progress.toString(StandardCharsets.UTF_8).contains("100%"), progress.toString(StandardCharsets.UTF_8));
        WeightHub.Fetched again = hub.fetch(cfg);
        assertTrue(again.fromCache());
        assertEquals(
                1, hits.get("/timm/a.t/resolve/main/model.safetensors").get(), "a cached file is not requested again");
        // offline, the cached file is still used
        assertTrue(hub(true).fetch(cfg).fromCache());
        assertEquals(0, partFiles());
    }

    @Test
    void fallsBackToPytorchModelBinAndNames404s() throws Exception {
        files.put("/timm/b.t/resolve/main/pytorch_model.bin", payload(1000, 2));
        WeightHub.Fetched f = hub(false).fetch(hfCfg("timm/b.t"));
        assertEquals("pytorch_model.bin", f.file().getFileName().toString());
        JimmException e = assertThrows(JimmException.class, () -> hub(false).fetch(hfCfg("timm/missing.t")));
        assertTrue(
                e.getMessage().contains(base() + "/timm/missing.t/resolve/main/model.safetensors")
                        && e.getMessage().contains("pytorch_model.bin")
                        && e.getMessage().contains("404"),
                e.getMessage());
        DownloadException d = assertThrows(
                DownloadException.class,
                () -> new Downloads()
                        .fetchResumable(
                                URI.create(base() + "/nothing/here.bin"),
                                home.resolve("x.bin"),
                                null,
                                Downloads.Progress.none()));
        assertEquals(404, d.status());
        assertTrue(d.getMessage().startsWith(base() + "/nothing/here.bin: HTTP 404"), d.getMessage());
        assertFalse(Files.exists(home.resolve("x.bin")));
        assertEquals(0, partFiles(), "a 404 leaves no partial file");
    }

    /**
     * A bare HTTP/1.1 server on 127.0.0.1 that sends the first full response only half-way and then closes the socket
     * (a real cut, which com.sun.net.httpserver cannot do), and honours Range.
     */
    static final class CuttingServer implements AutoCloseable {
        final ServerSocket socket;
        final List<String> requests = new CopyOnWriteArrayList<>();
        final Thread thread;

        CuttingServer(byte[] data) throws IOException {
            socket = new ServerSocket(0, 5, InetAddress.getByName("127.0.0.1"));
            thread = new Thread(() -> {
                boolean cut = true;
                while (!socket.isClosed()) {
                    try (Socket s = socket.accept()) {
                        BufferedReader in = new BufferedReader(
                                new InputStreamReader(s.getInputStream(), StandardCharsets.ISO_8859_1));
                        String line = in.readLine();
                        boolean head = line != null && line.startsWith("HEAD ");
                        String range = null;
                        while ((line = in.readLine()) != null && !line.isEmpty()) {
                            if (line.toLowerCase(Locale.ROOT).startsWith("range:")) {
                                range = line.substring(6).trim();
                            }
                        }
                        OutputStream os = s.getOutputStream();
                        if (head) {
                            // the hub's hash lookup: no hash here, and no body
                            os.write(("HTTP/1.1 200 OK\r\nContent-Length: " + data.length
                                            + "\r\nConnection: close\r\n\r\n")
                                    .getBytes(StandardCharsets.ISO_8859_1));
                            os.flush();
                            continue;
                        }
                        requests.add(String.valueOf(range));
                        int from = range == null ? 0 : Integer.parseInt(range.replaceAll("bytes=(\\d+)-", "$1"));
                        String status = (range == null
                                        ? "HTTP/1.1 200 OK\r\n"
                                        : "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes " + from + "-"
                                                + (data.length - 1) + "/" + data.length + "\r\n")
                                + "Content-Length: " + (data.length - from) + "\r\nConnection: close\r\n\r\n";
                        os.write(status.getBytes(StandardCharsets.ISO_8859_1));
                        int end = cut && range == null ? data.length / 2 : data.length;
                        cut = false;
                        os.write(data, from, end - from);
                        os.flush();
                    } catch (IOException e) {
                        return;
                    }
                }
            });
            thread.setDaemon(true);
            thread.start();
        }

        String base() {
            return "http://127.0.0.1:" + socket.getLocalPort();
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }

    @Test
    void resumesAfterTheConnectionIsCutMidFile() throws Exception {
        byte[] data = payload(1_000_000, 3);
        try (CuttingServer cs = new CuttingServer(data)) {
            WeightHub hub = new WeightHub(new WeightHub.Settings(home, false, cs.base(), cs.base(), null));
            WeightHub.Fetched f = hub.fetch(hfCfg("timm/c.t"));
            assertArrayEquals(data, Files.readAllBytes(f.file()));
            assertEquals(2, cs.requests.size(), "one cut request, one resumed request: " + cs.requests);
            assertEquals("null", cs.requests.get(0));
            String resumed = cs.requests.get(1);
            assertTrue(resumed.matches("bytes=\\d+-"), "the second request asks for the rest: " + cs.requests);
            long from = Long.parseLong(resumed.replaceAll("bytes=(\\d+)-", "$1"));
            assertTrue(from > 0 && from <= data.length / 2, "resumed from byte " + from);
        }
        assertEquals(0, partFiles());
    }

    @Test
    void aStalledTransferIsResumed() throws Exception {
        byte[] data = payload(400_000, 6);
        String path = "/timm/s.t/resolve/main/model.safetensors";
        files.put(path, data);
        cutOnce.put(path, true); // com.sun.net.httpserver keeps the connection open: the body just stops
        WeightHub hub = new WeightHub(
                new WeightHub.Settings(home, false, base(), base(), null),
                new Downloads(HttpClient.newHttpClient(), Duration.ofMillis(800)));
        WeightHub.Fetched f = hub.fetch(hfCfg("timm/s.t"));
        assertArrayEquals(data, Files.readAllBytes(f.file()));
        assertEquals(2, hits.get(path).get(), ranges.toString());
        assertTrue(ranges.get(1).matches(".* bytes=\\d+-"), ranges.toString());
    }

    @Test
    void resumesAPartialFileLeftByAnEarlierRun() throws Exception {
        byte[] data = payload(200_000, 4);
        String path = "/timm/d.t/resolve/main/model.safetensors";
        files.put(path, data);
        Path target = home.resolve("hub/huggingface/timm/d.t/model.safetensors");
        Files.createDirectories(target.getParent());
        Files.write(target.resolveSibling("model.safetensors.part"), Arrays.copyOf(data, 12_345));
        hub(false).fetch(hfCfg("timm/d.t"));
        assertArrayEquals(data, Files.readAllBytes(target));
        assertEquals(List.of(path + " bytes=12345-"), ranges);
    }

    @Test
    void wrongChecksumIsAnErrorAndLeavesNothingInTheCache() throws Exception {
        byte[] data = payload(50_000, 5);
        String sha = Downloads.digest(writeTemp(data), "SHA-256");
        files.put("/models/good-" + sha.substring(0, 8) + ".pth", data);
        files.put("/models/bad-00000000.pth", data);
        WeightHub hub = hub(false);
        WeightHub.Fetched ok = hub.fetch(tvCfg("good-" + sha.substring(0, 8) + ".pth", sha.substring(0, 8)));
        assertEquals(home.resolve("hub/torchvision/good-" + sha.substring(0, 8) + ".pth"), ok.file());
        DownloadException e =
                assertThrows(DownloadException.class, () -> hub.fetch(tvCfg("bad-00000000.pth", "00000000")));
        assertTrue(
                e.getMessage().contains("SHA-256 mismatch") && e.getMessage().contains("/models/bad-00000000.pth"),
                e.getMessage());
        assertFalse(Files.exists(home.resolve("hub/torchvision/bad-00000000.pth")));
        assertEquals(0, partFiles());
        // torchvision's real table: tv/resnet18's URL carries f37072fd, which our bytes do not match
        files.put("/models/resnet18-f37072fd.pth", data);
        PretrainedCfg tv = ModelRegistry.builtIn().config("tv/resnet18");
        assertEquals("f37072fd", tv.fileSha256());
        assertEquals(
                URI.create(base() + "/models/resnet18-f37072fd.pth"),
                hub.sources(tv).get(0).url());
        assertThrows(DownloadException.class, () -> hub.fetch(tv));
        assertFalse(Files.exists(hub.sources(tv).get(0).cacheFile()));
        assertEquals(0, partFiles());
    }

    Path writeTemp(byte[] data) throws IOException {
        Path t = Files.createTempFile(home, "x", ".bin");
        Files.write(t, data);
        return t;
    }

    static PretrainedCfg tvCfg(String file, String hashPrefix) {
        return new PretrainedCfg(
                "tv/test",
                "IMAGENET1K_V1",
                "",
                WeightHub.TORCHVISION_BASE + "/models/" + file,
                List.of(3, 224, 224),
                "bilinear",
                0.875,
                "center",
                PretrainedCfg.IMAGENET_MEAN,
                PretrainedCfg.IMAGENET_STD,
                1000,
                "",
                "",
                "bsd-3-clause",
                hashPrefix);
    }

    @Test
    void offlineModeAndAnUnreachableHostGiveTheUrlAndThePath() {
        PretrainedCfg cfg = hfCfg("timm/e.t");
        JimmException off = assertThrows(JimmException.class, () -> hub(true).fetch(cfg));
        Path where = home.resolve("hub/huggingface/timm/e.t/model.safetensors").toAbsolutePath();
        assertTrue(
                off.getMessage().contains("offline")
                        && off.getMessage().contains(base() + "/timm/e.t/resolve/main/model.safetensors")
                        && off.getMessage().contains(where.toString()),
                off.getMessage());
        assertTrue(hits.isEmpty(), "offline: no request");
        WeightHub down = new WeightHub(new WeightHub.Settings(home, false, "http://127.0.0.1:1", base(), null));
        JimmException unreachable = assertThrows(JimmException.class, () -> down.fetch(cfg));
        assertTrue(
                unreachable.getMessage().contains("cannot reach 127.0.0.1")
                        && unreachable
                                .getMessage()
                                .contains("http://127.0.0.1:1/timm/e.t/resolve/main/model.safetensors")
                        && unreachable.getMessage().contains(where.toString()),
                unreachable.getMessage());
        WeightHub.Settings env =
                WeightHub.Settings.from(k -> null, Map.of("JIMM_HOME", "/x/y", "JIMM_OFFLINE", "1")::get);
        assertEquals(Path.of("/x/y"), env.home());
        assertTrue(env.offline());
        assertEquals(WeightHub.HF_ENDPOINT, env.hfEndpoint());
        WeightHub.Settings dflt = WeightHub.Settings.from(k -> null, k -> null);
        assertEquals(Path.of(System.getProperty("user.home"), ".cache", "jimm"), dflt.home());
        assertFalse(dflt.offline());
    }

    @Test
    void createModelWithPretrainedTrueLoadsTheDefaultTagFromTheHub() throws Exception {
        Path file = home.resolve("src.safetensors");
        try (ImageModel src =
                Models.createModel("resnet18", ModelOptions.builder().seed(11).build())) {
            SafetensorsWriter.write(file, src.stateDict(), Map.of("format", "pt"));
        }
        PretrainedCfg dflt = ModelRegistry.builtIn().config("resnet18");
        String path = "/" + dflt.hfHubId() + "/resolve/main/model.safetensors";
        files.put(path, Files.readAllBytes(file));
        WeightHub hub = hub(false);
        try (ImageModel ref = Models.createModel(
                        "resnet18", ModelOptions.builder().seed(11).build());
                ImageModel m = Models.createModel(
                        "resnet18",
                        ModelOptions.builder().pretrained(true).hub(hub).build());
                ImageModel ten = Models.createModel(
                        "resnet18",
                        ModelOptions.builder()
                                .pretrained(true)
                                .numClasses(10)
                                .hub(hub)
                                .build())) {
            assertArrayEquals(
                    ref.stateDict().get("conv1.weight").toFloatArray(),
                    m.stateDict().get("conv1.weight").toFloatArray());
            assertArrayEquals(
                    ref.stateDict().get("fc.weight").toFloatArray(),
                    m.stateDict().get("fc.weight").toFloatArray());
            assertArrayEquals(
                    ref.stateDict().get("layer4.1.bn2.running_var").toFloatArray(),
                    ten.stateDict().get("layer4.1.bn2.running_var").toFloatArray());
            assertEquals(10, ten.stateDict().get("fc.weight").getShape().get(0));
        }
        assertEquals(1, hits.get(path).get(), "downloaded once, then cached");
        // a tag picks another repository
        PretrainedCfg a2 = ModelRegistry.builtIn().config("resnet18.a2_in1k");
        assertEquals("timm/resnet18.a2_in1k", a2.hfHubId());
        ModelNotFoundException bad = assertThrows(
                ModelNotFoundException.class,
                () -> Models.createModel(
                        "resnet18.nope",
                        ModelOptions.builder().pretrained(true).hub(hub).build()));
        assertTrue(bad.getMessage().contains("a1_in1k") && bad.getMessage().contains("tv_in1k"), bad.getMessage());
        // the user's prefix option: a checkpoint saved from a wrapper
        Path wrapped = home.resolve("wrapped.safetensors");
        try (NDManager mgr = NDManager.newBaseManager()) {
            Map<String, NDArray> sd = Checkpoints.load(file, mgr);
            Map<String, NDArray> prefixed = new LinkedHashMap<>();
            sd.forEach((k, v) -> prefixed.put("backbone." + k, v));
            SafetensorsWriter.write(wrapped, prefixed, Map.of());
        }
        JimmException unstripped = assertThrows(
                JimmException.class,
                () -> Models.createModel(
                        "resnet18",
                        ModelOptions.builder().pretrainedFile(wrapped).build()));
        assertTrue(unstripped.getMessage().contains("backbone.conv1.weight"), unstripped.getMessage());
        try (ImageModel ref = Models.createModel(
                        "resnet18", ModelOptions.builder().seed(11).build());
                ImageModel m = Models.createModel(
                        "resnet18",
                        ModelOptions.builder()
                                .pretrainedFile(wrapped)
                                .stripPrefix("backbone.")
                                .build())) {
            assertArrayEquals(
                    ref.stateDict().get("layer1.0.conv1.weight").toFloatArray(),
                    m.stateDict().get("layer1.0.conv1.weight").toFloatArray());
        }
    }

    @Test
    void aNameWithoutPretrainedWeightsListsNamesThatHaveSome() {
        ModelRegistry reg = ModelRegistry.builtIn();
        String without = reg.list("*").stream()
                .filter(n -> reg.pretrainedTags(n).isEmpty())
                .findFirst()
                .orElse(null);
        Assumptions.assumeTrue(without != null, "every registered name has weights");
        JimmException e = assertThrows(
                JimmException.class,
                () -> Models.createModel(
                        without,
                        ModelOptions.builder().pretrained(true).hub(hub(true)).build()));
        assertTrue(e.getMessage().contains(without + " has no pretrained weights"), e.getMessage());
    }
}
