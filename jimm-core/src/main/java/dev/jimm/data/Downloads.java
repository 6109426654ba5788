package dev.jimm.data;

import dev.jimm.AtomicFiles;
import dev.jimm.StopRequest;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.UnknownHostException;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.UnresolvedAddressException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;

/**
 * Downloads into a cache directory with a checksum: the body streams to a temporary file in the same directory while it
 * is hashed, and only a verified file is renamed into place (atomically where the file system allows), so an
 * interrupted or corrupted download never looks like a cached file.
 */
public final class Downloads {
    private final HttpClient client;
    private final Duration stallTimeout;
    // the client's settings without following redirects, built on first use (see hubSha256)
    private HttpClient noRedirects;

    /**
     * An expected digest.
     *
     * @param algorithm "MD5" or "SHA-256"
     * @param hex lowercase or uppercase hex digest
     */
    public record Checksum(String algorithm, String hex) {
        public static Checksum md5(String hex) {
            return new Checksum("MD5", hex);
        }

        public static Checksum sha256(String hex) {
            return new Checksum("SHA-256", hex);
        }

        /**
         * A SHA-256 given only by its first hex digits, as torchvision's file names carry it
         * ({@code resnet18-f37072fd.pth}); torch.hub checks it the same way.
         */
        public static Checksum sha256Prefix(String hexPrefix) {
            return new Checksum("SHA-256", hexPrefix);
        }

        /** Whether a full hex digest matches: equal, or starting with a shorter expected prefix. */
        public boolean matches(String gotHex) {
            return gotHex.toLowerCase(Locale.ROOT).startsWith(hex.toLowerCase(Locale.ROOT)) && !hex.isEmpty();
        }

        MessageDigest newDigest() {
            try {
                return MessageDigest.getInstance(algorithm);
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalArgumentException("unknown checksum algorithm " + algorithm, e);
            }
        }
    }

    public Downloads() {
        this(HttpClient.newBuilder()
                .followRedirects(HttpClient.Redirect.NORMAL)
                .connectTimeout(Duration.ofSeconds(30))
                .build());
    }

    public Downloads(HttpClient client) {
        this(client, Duration.ofSeconds(60));
    }

    /**
     * Downloads with {@code client}; a {@link #fetchResumable} transfer that receives nothing for {@code stallTimeout}
     * is treated as a broken connection (and resumed).
     */
    public Downloads(HttpClient client, Duration stallTimeout) {
        this.client = client;
        this.stallTimeout = stallTimeout;
    }

    /**
     * The SHA-256 the Hugging Face hub gives for a file stored with Git LFS (weights are): the {@code X-Linked-Etag}
     * header of the first response to its resolve URL, the redirect to the CDN, whose own response carries no hash of
     * the content. A HEAD request that does not follow redirects reads it, as huggingface_hub reads a file's metadata.
     * Empty when that response has no such header (a file kept in git itself, whose ETag is a git SHA-1; a server that
     * is not the hub) or when the request fails: the download that follows reports the failure.
     */
    public Optional<Checksum> hubSha256(URI url) {
        HttpResponse<Void> resp;
        try {
            resp = noRedirectClient()
                    .send(
                            HttpRequest.newBuilder(url)
                                    .method("HEAD", HttpRequest.BodyPublishers.noBody())
                                    .timeout(Duration.ofSeconds(60))
                                    .build(),
                            HttpResponse.BodyHandlers.discarding());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
        if (resp.statusCode() >= 400) {
            return Optional.empty();
        }
        return resp.headers()
                .firstValue("X-Linked-Etag")
                .map(v -> v.replaceFirst("^W/", "").replace("\"", "").trim().toLowerCase(Locale.ROOT))
                .filter(v -> SHA256_HEX.matcher(v).matches())
                .map(Checksum::sha256);
    }

    private static final Pattern SHA256_HEX = Pattern.compile("[0-9a-f]{64}");

    private synchronized HttpClient noRedirectClient() {
        if (client.followRedirects() == HttpClient.Redirect.NEVER) {
            return client;
        }
        if (noRedirects == null) {
            HttpClient.Builder b = HttpClient.newBuilder()
                    .followRedirects(HttpClient.Redirect.NEVER)
                    .sslContext(client.sslContext())
                    .sslParameters(client.sslParameters());
            client.connectTimeout().ifPresent(b::connectTimeout);
            client.proxy().ifPresent(b::proxy);
            client.authenticator().ifPresent(b::authenticator);
            noRedirects = b.build();
        }
        return noRedirects;
    }

    /** Hex digest of a file. */
    public static String digest(Path file, String algorithm) throws IOException {
        MessageDigest md = new Checksum(algorithm, "").newDigest();
        try (InputStream in = new DigestInputStream(Files.newInputStream(file), md)) {
            in.transferTo(OutputStream.nullOutputStream());
        }
        return HexFormat.of().formatHex(md.digest());
    }

    /**
     * Returns {@code cacheDir/fileName}, downloading it from {@code url} unless a file with the right checksum is
     * already there. Throws with the URL and reason when the download or check fails.
     */
    public Path fetch(URI url, Path cacheDir, String fileName, Checksum expected) {
        Path target = cacheDir.resolve(fileName);
        try {
            if (Files.isRegularFile(target) && expected.matches(digest(target, expected.algorithm()))) {
                return target;
            }
            // the body runs inside AtomicFiles: a failed or mismatched download never replaces the target
            AtomicFiles.writeStream(target, out -> {
                MessageDigest md = expected.newDigest();
                HttpResponse<InputStream> resp;
                try {
                    resp = client.send(
                            HttpRequest.newBuilder(url).GET().build(), HttpResponse.BodyHandlers.ofInputStream());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new InterruptedIOException("download interrupted");
                }
                try (InputStream body = resp.body()) {
                    if (resp.statusCode() != 200) {
                        throw new IOException("HTTP " + resp.statusCode());
                    }
                    // chunk by chunk, so that a stop request ends it; the temporary file is then removed
                    InputStream in = new DigestInputStream(body, md);
                    byte[] buf = new byte[1 << 16];
                    long done = 0;
                    for (int n; (n = in.read(buf)) > 0; done += n) {
                        StopRequest.process()
                                .throwIfRequested("stopped the download of " + url + " after " + done
                                        + " bytes; nothing is kept, the next run downloads it again");
                        out.write(buf, 0, n);
                    }
                }
                String got = HexFormat.of().formatHex(md.digest());
                if (!expected.matches(got)) {
                    throw new IOException(expected.algorithm() + " mismatch: expected "
                            + expected.hex().toLowerCase(Locale.ROOT) + ", got " + got);
                }
            });
            return target;
        } catch (InterruptedIOException e) {
            throw new IllegalStateException(url + ": download interrupted", e);
        } catch (IOException e) {
            throw new UncheckedIOException(url + ": download to " + target + " failed: " + e.getMessage(), e);
        }
    }

    /** Progress of a download: bytes so far and the total, -1 when unknown. */
    public interface Progress {
        /** Called as bytes arrive (and once at the start, with what a resumed file already holds). */
        void update(long done, long total);

        /** Called once when the transfer ends, successfully or not. */
        default void finish() {}

        /** A listener that ignores everything. */
        static Progress none() {
            return (done, total) -> {};
        }
    }

    /** Attempts of one {@link #fetchResumable} call; each after the first resumes where the last stopped. */
    static final int ATTEMPTS = 3;

    /**
     * Downloads {@code url} to {@code target} so that a broken connection loses nothing: bytes go to
     * {@code target.part}, which stays when the transfer breaks; the next attempt (in this call, up to
     * {@value #ATTEMPTS} times, or in a later one) asks only for the rest with an HTTP Range request. The finished file
     * is checked against {@code expected} (null: no check), and then renamed onto {@code target} atomically; on a
     * mismatch the partial file is deleted. Errors are {@link DownloadException}s naming the URL.
     */
    public Path fetchResumable(URI url, Path target, Checksum expected, Progress progress) {
        Path part = target.resolveSibling(target.getFileName() + ".part");
        try {
            Path parent = target.toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            try (FileChannel ch = FileChannel.open(part, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
                FileLock lock = ch.tryLock();
                if (lock == null) {
                    throw new DownloadException(url, 0, false, "another download into " + part + " is running");
                }
                try {
                    transfer(url, ch, part, progress);
                    ch.force(true); // the rename below must not publish bytes still in the page cache
                } catch (DownloadException e) {
                    if (ch.size() == 0) {
                        lock.release();
                        Files.deleteIfExists(part); // nothing to resume from
                    }
                    throw e;
                } finally {
                    progress.finish();
                }
            }
            if (expected != null) {
                String got = digest(part, expected.algorithm());
                if (!expected.matches(got)) {
                    Files.deleteIfExists(part);
                    throw new DownloadException(
                            url,
                            0,
                            false,
                            expected.algorithm() + " mismatch for " + target.getFileName()
                                    + ": expected " + expected.hex().toLowerCase(Locale.ROOT)
                                    + (expected.hex().length() < 64 ? "…" : "")
                                    + ", got " + got + "; the download was deleted");
                }
            }
            try {
                Files.move(part, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(part, target, StandardCopyOption.REPLACE_EXISTING);
            }
            return target;
        } catch (IOException e) {
            throw new DownloadException(url, 0, false, "cannot write " + part + ": " + e.getMessage());
        }
    }

    private void transfer(URI url, FileChannel ch, Path part, Progress progress) throws IOException {
        IOException last = null;
        for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
            long have = ch.size();
            HttpRequest.Builder rb = HttpRequest.newBuilder(url).GET().timeout(Duration.ofMinutes(5));
            if (have > 0) {
                rb.header("Range", "bytes=" + have + "-");
            }
            HttpResponse<InputStream> resp;
            try {
                resp = client.send(rb.build(), HttpResponse.BodyHandlers.ofInputStream());
            } catch (ConnectException
                    | UnknownHostException
                    | HttpConnectTimeoutException
                    | UnresolvedAddressException e) {
                throw new DownloadException(url, 0, true, "cannot reach the host: " + e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new DownloadException(url, 0, false, "download interrupted");
            } catch (IOException e) {
                if (e.getCause() instanceof ConnectException || e.getCause() instanceof UnresolvedAddressException) {
                    throw new DownloadException(url, 0, true, "cannot reach the host: " + e.getCause());
                }
                last = e;
                continue;
            }
            try (InputStream body = resp.body()) {
                int status = resp.statusCode();
                long length = resp.headers().firstValueAsLong("Content-Length").orElse(-1);
                if (status == 416 && have > 0) {
                    // what we hold is not a prefix the server knows: start over
                    ch.truncate(0);
                    continue;
                }
                if (status == 206) {
                    String range = resp.headers().firstValue("Content-Range").orElse("");
                    if (!range.startsWith("bytes " + have + "-")) {
                        ch.truncate(0);
                        continue;
                    }
                } else if (status == 200) {
                    ch.truncate(0);
                    have = 0;
                } else {
                    throw new DownloadException(url, status, false, "HTTP " + status);
                }
                long total = length < 0 ? -1 : have + length;
                progress.update(have, total);
                byte[] buf = new byte[1 << 16];
                long done = have;
                // a stalled body never ends by itself: a watchdog closes it, which ends the read
                AtomicLong lastData = new AtomicLong(System.nanoTime());
                AtomicBoolean stalled = new AtomicBoolean();
                Thread watchdog = new Thread(
                        () -> {
                            try {
                                while (!Thread.currentThread().isInterrupted()) {
                                    Thread.sleep(Math.max(10, stallTimeout.toMillis() / 4));
                                    if (System.nanoTime() - lastData.get() > stallTimeout.toNanos()) {
                                        stalled.set(true);
                                        body.close();
                                        return;
                                    }
                                }
                            } catch (InterruptedException | IOException ignored) {
                                // the transfer ended
                            }
                        },
                        "jimm-download-watchdog");
                watchdog.setDaemon(true);
                watchdog.start();
                try {
                    int n;
                    while ((n = body.read(buf)) > 0) {
                        if (StopRequest.process().isRequested()) {
                            ch.force(false);
                            StopRequest.process()
                                    .throwIfRequested("stopped the download of " + url + "; " + done
                                            + " bytes are kept in " + part + " and the next run resumes from there");
                        }
                        lastData.set(System.nanoTime());
                        ByteBuffer bb = ByteBuffer.wrap(buf, 0, n);
                        while (bb.hasRemaining()) {
                            done += ch.write(bb, done);
                        }
                        progress.update(done, total);
                    }
                } catch (IOException e) {
                    last = stalled.get() ? new IOException("no data for " + stallTimeout.toSeconds() + " s") : e;
                    ch.force(false); // keep what arrived; the next attempt resumes from it
                    continue;
                } finally {
                    watchdog.interrupt();
                }
                if (stalled.get()) {
                    last = new IOException("no data for " + stallTimeout.toSeconds() + " s");
                    ch.force(false);
                    continue;
                }
                if (total >= 0 && done != total) {
                    last = new IOException("connection closed after " + done + " of " + total + " bytes");
                    continue;
                }
                ch.force(false);
                return;
            }
        }
        throw new DownloadException(
                url,
                0,
                false,
                "the transfer broke " + ATTEMPTS + " times (" + (last == null ? "" : last.getMessage()) + "); "
                        + ch.size() + " bytes are kept in " + part + " and the next attempt resumes from there");
    }
}
