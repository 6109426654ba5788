package dev.jimm.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.management.ThreadMXBean;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Mutated dataset files (idx, CIFAR binary batches, CSV label files, tar.gz archives) each read completely or fail with
 * the reader's exception naming the file: an {@link IllegalArgumentException} from the dataset readers, an
 * {@link IOException} from {@link TarGz#extract}. No other exception, no more than 2 s of CPU and 64 MB of allocation
 * per file (a header declaring gigabytes must not be believed), nothing written outside the extraction folder. Fixed
 * seeds; {@code -Djimm.fuzz.idx}, {@code .cifar}, {@code .csv}, {@code .tar} (the fuzz profile) run more.
 */
class DatasetFilesFuzzTest {
    private static final long CPU_LIMIT_NANOS = 2_000_000_000L;
    private static final long ALLOCATION_LIMIT = 64L << 20;
    private static final long SEED = 20261201L;

    /** What one mutated input did. */
    private enum Outcome {
        READ,
        REFUSED
    }

    /** Reads one mutated input: returns normally, or throws the reader's typed exception. */
    @FunctionalInterface
    private interface Trial {
        void run(int trial, Random r) throws Exception;
    }

    /**
     * Runs {@code trials} trials, each within the CPU and allocation limits; counts those that read and those refused
     * with {@code refusal} whose message names the file ({@code fileOf} of the trial's failure); anything else fails.
     */
    private static int[] fuzz(String what, int trials, Class<? extends Exception> refusal, Trial trial) {
        ThreadMXBean mx = (ThreadMXBean) ManagementFactory.getThreadMXBean();
        int[] outcome = new int[Outcome.values().length];
        Random r = new Random(SEED);
        assertTimeoutPreemptively(Duration.ofSeconds(Math.max(120, trials / 20)), () -> {
            for (int t = 0; t < trials; t++) {
                long cpu0 = mx.getCurrentThreadCpuTime();
                long alloc0 = mx.getCurrentThreadAllocatedBytes();
                try {
                    trial.run(t, r);
                    outcome[Outcome.READ.ordinal()]++;
                } catch (Exception e) {
                    if (!refusal.isInstance(e) || e instanceof MisnamedException) {
                        throw new AssertionError(what + " trial " + t + " (seed " + SEED + ") escaped with " + e, e);
                    }
                    outcome[Outcome.REFUSED.ordinal()]++;
                } catch (Throwable e) {
                    throw new AssertionError(what + " trial " + t + " (seed " + SEED + ") escaped with " + e, e);
                }
                long cpu = mx.getCurrentThreadCpuTime() - cpu0;
                long alloc = mx.getCurrentThreadAllocatedBytes() - alloc0;
                assertTrue(cpu < CPU_LIMIT_NANOS, what + " trial " + t + " took " + cpu / 1e6 + " ms of CPU");
                assertTrue(alloc < ALLOCATION_LIMIT, what + " trial " + t + " allocated " + (alloc >> 20) + " MB");
            }
        });
        System.out.println("DatasetFilesFuzzTest " + what + ": " + trials + " mutations, "
                + outcome[Outcome.READ.ordinal()] + " read, " + outcome[Outcome.REFUSED.ordinal()] + " refused ("
                + refusal.getSimpleName() + ")");
        assertEquals(trials, outcome[0] + outcome[1]);
        return outcome;
    }

    /** The reader's exception, but its message does not name the file: a failure of the trial. */
    private static final class MisnamedException extends IllegalArgumentException {
        private static final long serialVersionUID = 1L;

        MisnamedException(Exception e) {
            super("the message does not name the file: " + e.getMessage(), e);
        }
    }

    /** Rethrows {@code e} when its message names one of {@code files}, else wraps it as a failure. */
    private static <E extends Exception> E named(E e, Path... files) {
        String m = String.valueOf(e.getMessage());
        for (Path f : files) {
            if (m.contains(f.toString())) {
                return e;
            }
        }
        throw new MisnamedException(e);
    }

    static byte[] gzip(byte[] b) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
            gz.write(b);
        }
        return out.toByteArray();
    }

    static byte[] gunzip(byte[] b) throws IOException {
        try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(b))) {
            return in.readAllBytes();
        }
    }

    static byte[] idx(int magic, int[] dims, byte[] data) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int v : concat(magic, dims)) {
            out.write(v >>> 24);
            out.write(v >>> 16);
            out.write(v >>> 8);
            out.write(v);
        }
        out.writeBytes(data);
        return out.toByteArray();
    }

    private static int[] concat(int first, int[] rest) {
        int[] all = new int[rest.length + 1];
        all[0] = first;
        System.arraycopy(rest, 0, all, 1, rest.length);
        return all;
    }

    /** A mutation of the first 32 bytes, where the idx header lies: a dimension or the magic set to an extreme. */
    static byte[] mutateHeader(byte[] src, Random r) {
        byte[] m = src.clone();
        int at = r.nextInt(Math.min(m.length, 32) / 4) * 4;
        int[] extremes = {0, 0x7fffffff, 0x80000000, 0x00ffffff, 0x10000, 0x4000, 1, -1};
        int v = r.nextBoolean() ? extremes[r.nextInt(extremes.length)] : r.nextInt();
        for (int i = 0; i < 4 && at + i < m.length; i++) {
            m[at + i] = (byte) (v >>> (24 - 8 * i));
        }
        return m;
    }

    @Test
    void mutatedIdxFilesReadOrFailNamingTheFile(@TempDir Path dir) throws Exception {
        int trials = Integer.getInteger("jimm.fuzz.idx", 300);
        byte[] pixels = new byte[5 * 4 * 3];
        new Random(1).nextBytes(pixels);
        byte[] images = idx(0x803, new int[] {5, 4, 3}, pixels);
        byte[] labels = idx(0x801, new int[] {5}, new byte[] {0, 3, 9, 1, 0});
        int[] outcome = fuzz("idx", trials, IllegalArgumentException.class, (t, r) -> {
            Path d = Files.createDirectories(dir.resolve("t" + t));
            byte[] img = images, lab = labels;
            switch (r.nextInt(3)) {
                case 0 -> img = r.nextBoolean() ? ImageFuzzTest.mutate(img, r) : mutateHeader(img, r);
                case 1 -> lab = r.nextBoolean() ? ImageFuzzTest.mutate(lab, r) : mutateHeader(lab, r);
                default -> {
                    img = r.nextBoolean() ? ImageFuzzTest.mutate(img, r) : mutateHeader(img, r);
                    lab = r.nextBoolean() ? ImageFuzzTest.mutate(lab, r) : mutateHeader(lab, r);
                }
            }
            boolean gz = r.nextBoolean();
            if (gz) {
                // mutated before compression (the idx reader sees the change), or after (gzip sees it)
                img = r.nextInt(4) == 0 ? ImageFuzzTest.mutate(gzip(images), r) : gzip(img);
                lab = gzip(lab);
            }
            Path ip = d.resolve("train-images-idx3-ubyte" + (gz ? ".gz" : ""));
            Path lp = d.resolve("train-labels-idx1-ubyte" + (gz ? ".gz" : ""));
            Files.write(ip, img);
            Files.write(lp, lab);
            try {
                IdxDataset ds = IdxDataset.mnist(d, true);
                for (int i = 0; i < ds.size(); i++) {
                    DecodedImage im = ds.image(i);
                    assertEquals(ds.height() * ds.width(), im.pixels().length);
                    assertTrue(ds.label(i) < 10);
                }
            } catch (IllegalArgumentException e) {
                throw named(e, ip, lp);
            } finally {
                delete(d);
            }
        });
        assertTrue(outcome[1] > trials / 4 && outcome[0] > 0, "both outcomes occur: " + Arrays.toString(outcome));
    }

    @Test
    void mutatedCifarBatchesReadOrFailNamingTheFile(@TempDir Path dir) throws Exception {
        int trials = Integer.getInteger("jimm.fuzz.cifar", 300);
        byte[] cifar10 = new byte[3 * 3073];
        byte[] cifar100 = new byte[2 * 3074];
        Random seedData = new Random(2);
        seedData.nextBytes(cifar10);
        seedData.nextBytes(cifar100);
        for (int k = 0; k < 3; k++) {
            cifar10[k * 3073] = (byte) (k * 4);
        }
        for (int k = 0; k < 2; k++) {
            cifar100[k * 3074] = (byte) (k * 7);
            cifar100[k * 3074 + 1] = (byte) (k * 41);
        }
        byte[] meta = String.join("\n", CifarDataset.CIFAR10_CLASSES).getBytes(StandardCharsets.UTF_8);
        int[] outcome = fuzz("cifar", trials, IllegalArgumentException.class, (t, r) -> {
            Path d = Files.createDirectories(dir.resolve("t" + t));
            boolean hundred = r.nextInt(3) == 0;
            Path batch = d.resolve(hundred ? "test.bin" : "test_batch.bin");
            Path names = d.resolve("batches.meta.txt");
            byte[] b = hundred ? cifar100 : cifar10;
            boolean mutateNames = !hundred && r.nextInt(4) == 0;
            Files.write(batch, mutateNames ? b : ImageFuzzTest.mutate(b, r));
            if (!hundred) {
                Files.write(names, mutateNames ? ImageFuzzTest.mutate(meta, r) : meta);
            }
            try {
                CifarDataset ds = hundred ? CifarDataset.cifar100(d, false, false) : CifarDataset.cifar10(d, false);
                for (int i = 0; i < ds.size(); i++) {
                    assertEquals(32 * 32 * 3, ds.image(i).pixels().length);
                    assertTrue(ds.label(i) < ds.classes().size());
                }
            } catch (IllegalArgumentException e) {
                throw named(e, batch, names);
            } finally {
                delete(d);
            }
        });
        assertTrue(outcome[1] > trials / 4 && outcome[0] > 0, "both outcomes occur: " + Arrays.toString(outcome));
    }

    @Test
    void mutatedCsvLabelFilesReadOrFailNamingTheFile(@TempDir Path dir) throws Exception {
        int trials = Integer.getInteger("jimm.fuzz.csv", 500);
        byte[] csv = ("fname,label,is_valid\na.png,zebra,False\n\"b, c.png\",ant,True\nsub/d.png,\"zeb\"\"ra\",0\n"
                        + "e.png,ant,yes\n\n")
                .getBytes(StandardCharsets.UTF_8);
        int[] outcome = fuzz("csv", trials, IllegalArgumentException.class, (t, r) -> {
            Path f = dir.resolve("labels" + t + ".csv");
            byte[] m = ImageFuzzTest.mutate(csv, r);
            if (r.nextInt(5) == 0) {
                // a byte that is no UTF-8 text
                m[r.nextInt(m.length)] = (byte) (0x80 + r.nextInt(0x80));
            }
            Files.write(f, m);
            try {
                Split s = CsvImageDataset.split(f, dir, "fname", "label", "is_valid", new ImageDecoder());
                CsvImageDataset all = CsvImageDataset.of(f, dir, "fname", "label", new ImageDecoder());
                assertEquals(all.size(), s.train().size() + s.valid().size());
                for (int i = 0; i < all.size(); i++) {
                    assertTrue(all.label(i) >= 0 && all.label(i) < all.classes().size());
                }
            } catch (IllegalArgumentException e) {
                throw named(e, f);
            } finally {
                Files.delete(f);
            }
        });
        assertTrue(outcome[1] > trials / 10 && outcome[0] > trials / 10, "both: " + Arrays.toString(outcome));
    }

    /** A tar with a GNU long name, a ustar prefix, a folder, a link and plain files. */
    static byte[] handMadeTar() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        String longName = "a/" + "long_directory_name_".repeat(6) + "file.txt";
        entry(out, "././@LongLink", 'L', (longName + "\0").getBytes(StandardCharsets.US_ASCII), "");
        entry(out, longName.substring(0, 99), '0', "long\n".getBytes(StandardCharsets.US_ASCII), "");
        entry(out, "b/", '5', new byte[0], "");
        entry(out, "c.bin", '0', new byte[700], "prefix/dir");
        entry(out, "link", '2', new byte[0], "");
        entry(out, "d.txt", 0, "zero type\n".getBytes(StandardCharsets.US_ASCII), "");
        out.writeBytes(new byte[1024]);
        return out.toByteArray();
    }

    private static void entry(ByteArrayOutputStream out, String name, int type, byte[] data, String prefix) {
        byte[] h = new byte[512];
        put(h, 0, name);
        put(h, 100, "0000644");
        put(h, 124, String.format(Locale.ROOT, "%011o", data.length));
        h[156] = (byte) type;
        put(h, 257, "ustar");
        put(h, 263, "00");
        put(h, 345, prefix);
        long sum = 0;
        Arrays.fill(h, 148, 156, (byte) ' ');
        for (byte b : h) {
            sum += b & 0xFF;
        }
        put(h, 148, String.format(Locale.ROOT, "%06o", sum));
        out.writeBytes(h);
        out.writeBytes(data);
        out.writeBytes(new byte[(512 - data.length % 512) % 512]);
    }

    private static void put(byte[] h, int at, String s) {
        byte[] b = s.getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(b, 0, h, at, b.length);
    }

    /** A mutation aimed at a tar header: one of its fields (name, size, type, prefix) set to odd bytes. */
    static byte[] mutateTarHeader(byte[] tar, Random r) {
        byte[] m = tar.clone();
        int header = 512 * r.nextInt(m.length / 512);
        int[][] fields = {{0, 100}, {124, 12}, {156, 1}, {345, 155}, {257, 6}};
        int[] f = fields[r.nextInt(fields.length)];
        String[] odd = {"", "../../escape", "/abs/path", "77777777777", "-1", "9", "zz", "\u00ff", "L", "x/\0y"};
        byte[] v = odd[r.nextInt(odd.length)].getBytes(StandardCharsets.ISO_8859_1);
        Arrays.fill(m, header + f[0], header + f[0] + f[1], (byte) 0);
        System.arraycopy(v, 0, m, header + f[0], Math.min(v.length, f[1]));
        if (f[0] == 156) {
            m[header + 156] = (byte) "0125LxK\0".charAt(r.nextInt(8));
        }
        return m;
    }

    @Test
    void mutatedTarGzArchivesExtractInsideTheFolderOrFailNamingTheArchive(@TempDir Path dir) throws Exception {
        int trials = Integer.getInteger("jimm.fuzz.tar", 300);
        List<byte[]> tars = List.of(
                gunzip(Files.readAllBytes(TestFiles.resource("cifar/tiny-cifar-10-binary.tar.gz"))), handMadeTar());
        int[] outcome = fuzz("tar", trials, IOException.class, (t, r) -> {
            Path d = Files.createDirectories(dir.resolve("t" + t));
            Path out = d.resolve("out");
            Path archive = d.resolve("archive.tar.gz");
            byte[] tar = tars.get(r.nextInt(tars.size()));
            byte[] gz = switch (r.nextInt(4)) {
                case 0 -> ImageFuzzTest.mutate(gzip(tar), r);
                case 1 -> gzip(ImageFuzzTest.mutate(tar, r));
                default -> gzip(mutateTarHeader(tar, r));
            };
            Files.write(archive, gz);
            try {
                int n = TarGz.extract(archive, out);
                assertTrue(n >= 0);
            } catch (IOException e) {
                throw named(e, archive);
            } finally {
                try (Stream<Path> s = Files.list(d);
                        Stream<Path> above = Files.list(dir)) {
                    List<Path> left = s.map(Path::getFileName).sorted().toList();
                    assertTrue(
                            List.of(Path.of("archive.tar.gz"), Path.of("out")).containsAll(left),
                            "trial " + t + " wrote outside the extraction folder: " + left);
                    List<Path> others = above.filter(p -> !p.equals(d)).toList();
                    assertTrue(others.isEmpty(), "trial " + t + " wrote outside the extraction folder: " + others);
                }
                delete(d);
            }
        });
        assertTrue(outcome[1] > trials / 10 && outcome[0] > trials / 10, "both: " + Arrays.toString(outcome));
    }

    private static void delete(Path d) throws IOException {
        if (!Files.exists(d)) {
            return;
        }
        try (Stream<Path> s = Files.walk(d)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
