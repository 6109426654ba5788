package dev.jimm.data;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Locale;

/**
 * Downloads into a cache directory with a checksum: the body streams to a temporary file in the same
 * directory while it is hashed, and only a verified file is renamed into place (atomically where the
 * file system allows), so an interrupted or corrupted download never looks like a cached file.
 */
public final class Downloads {
    private final HttpClient client;

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

        MessageDigest newDigest() {
            try {
                return MessageDigest.getInstance(algorithm);
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalArgumentException("unknown checksum algorithm " + algorithm, e);
            }
        }
    }

    public Downloads() {
        this(HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NORMAL)
                .connectTimeout(Duration.ofSeconds(30)).build());
    }

    public Downloads(HttpClient client) {
        this.client = client;
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
     * Returns {@code cacheDir/fileName}, downloading it from {@code url} unless a file with the right
     * checksum is already there. Throws with the URL and reason when the download or check fails.
     */
    public Path fetch(URI url, Path cacheDir, String fileName, Checksum expected) {
        Path target = cacheDir.resolve(fileName);
        try {
            if (Files.isRegularFile(target)
                    && digest(target, expected.algorithm()).equalsIgnoreCase(expected.hex())) {
                return target;
            }
            Files.createDirectories(cacheDir);
            Path tmp = Files.createTempFile(cacheDir, fileName + ".", ".part");
            try {
                MessageDigest md = expected.newDigest();
                HttpResponse<InputStream> resp = client.send(HttpRequest.newBuilder(url).GET().build(),
                        HttpResponse.BodyHandlers.ofInputStream());
                try (InputStream body = resp.body()) {
                    if (resp.statusCode() != 200) {
                        throw new IOException("HTTP " + resp.statusCode());
                    }
                    try (InputStream in = new DigestInputStream(body, md);
                         OutputStream out = Files.newOutputStream(tmp)) {
                        in.transferTo(out);
                    }
                }
                String got = HexFormat.of().formatHex(md.digest());
                if (!got.equalsIgnoreCase(expected.hex())) {
                    throw new IOException(expected.algorithm() + " mismatch: expected "
                            + expected.hex().toLowerCase(Locale.ROOT) + ", got " + got);
                }
                try {
                    Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                } catch (AtomicMoveNotSupportedException e) {
                    Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
                }
                return target;
            } finally {
                Files.deleteIfExists(tmp);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(url + ": download interrupted", e);
        } catch (IOException e) {
            throw new UncheckedIOException(url + ": download to " + target + " failed: " + e.getMessage(), e);
        }
    }
}
