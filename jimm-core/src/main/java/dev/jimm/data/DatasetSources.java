package dev.jimm.data;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where the standard datasets are published, with their official checksums, and helpers that use a local copy when
 * present or download into a cache dir otherwise. A local path is always accepted: pass the folder holding the files
 * (e.g. Debian's dataset-fashion-mnist or /work/shared/datasets).
 */
public final class DatasetSources {
    private DatasetSources() {}

    /**
     * One remote file.
     *
     * @param url where it is published
     * @param fileName the name to store it under
     * @param checksum its official digest
     */
    public record Remote(URI url, String fileName, Downloads.Checksum checksum) {}

    private static Remote r(String base, String name, String md5) {
        return new Remote(URI.create(base + name), name, Downloads.Checksum.md5(md5));
    }

    private static final String FASHION = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/";
    private static final String MNIST = "https://ossci-datasets.s3.amazonaws.com/mnist/";

    /** Fashion-MNIST's four files (torchvision's MD5s). */
    public static final Remote[] FASHION_MNIST = {
        r(FASHION, "train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
        r(FASHION, "train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe"),
        r(FASHION, "t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79"),
        r(FASHION, "t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310"),
    };

    /** MNIST's four files (torchvision's mirror and MD5s). */
    public static final Remote[] MNIST_FILES = {
        r(MNIST, "train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
        r(MNIST, "train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432"),
        r(MNIST, "t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3"),
        r(MNIST, "t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c"),
    };

    /** CIFAR-10 binary archive (the dataset page's MD5). */
    public static final Remote CIFAR10 =
            r("https://www.cs.toronto.edu/~kriz/", "cifar-10-binary.tar.gz", "c32a1d4ab5d03f1284b67883e8d87530");
    /** CIFAR-100 binary archive (the dataset page's MD5). */
    public static final Remote CIFAR100 =
            r("https://www.cs.toronto.edu/~kriz/", "cifar-100-binary.tar.gz", "03b5dce01913d631647c71ecec9e9cb8");

    /** Downloads (or finds cached) every file of {@code files} into {@code cacheDir}. */
    public static Path ensure(Downloads downloads, Path cacheDir, Remote... files) {
        for (Remote f : files) {
            downloads.fetch(f.url(), cacheDir, f.fileName(), f.checksum());
        }
        return cacheDir;
    }

    /** Fashion-MNIST from {@code dir} if its files are there, else downloaded into it. */
    public static IdxDataset fashionMnist(Path dir, boolean train, Downloads downloads) {
        if (!hasIdx(dir, train)) {
            ensure(downloads, dir, FASHION_MNIST);
        }
        return IdxDataset.fashionMnist(dir, train);
    }

    /** MNIST from {@code dir} if its files are there, else downloaded into it. */
    public static IdxDataset mnist(Path dir, boolean train, Downloads downloads) {
        if (!hasIdx(dir, train)) {
            ensure(downloads, dir, MNIST_FILES);
        }
        return IdxDataset.mnist(dir, train);
    }

    /** CIFAR-10 from {@code dir} if extracted there, else downloaded and extracted into it. */
    public static CifarDataset cifar10(Path dir, boolean train, Downloads downloads) {
        return cifar10(dir, train, downloads, CIFAR10);
    }

    /** CIFAR-10 from {@code dir}, else from {@code source} (e.g. a mirror with the same archive). */
    public static CifarDataset cifar10(Path dir, boolean train, Downloads downloads, Remote source) {
        if (!Files.isDirectory(dir.resolve("cifar-10-batches-bin"))
                && !Files.isRegularFile(dir.resolve("test_batch.bin"))) {
            extract(downloads, dir, source);
        }
        return CifarDataset.cifar10(dir, train);
    }

    /** CIFAR-100 (fine labels) from {@code dir} if extracted there, else downloaded and extracted into it. */
    public static CifarDataset cifar100(Path dir, boolean train, Downloads downloads) {
        if (!Files.isDirectory(dir.resolve("cifar-100-binary")) && !Files.isRegularFile(dir.resolve("test.bin"))) {
            extract(downloads, dir, CIFAR100);
        }
        return CifarDataset.cifar100(dir, train, false);
    }

    private static void extract(Downloads downloads, Path dir, Remote archive) {
        Path tgz = downloads.fetch(archive.url(), dir, archive.fileName(), archive.checksum());
        try {
            TarGz.extract(tgz, dir);
        } catch (IOException e) {
            // the message starts with the archive's path
            throw new UncheckedIOException("cannot extract " + e.getMessage(), e);
        }
    }

    private static boolean hasIdx(Path dir, boolean train) {
        String p = train ? "train" : "t10k";
        return (Files.isRegularFile(dir.resolve(p + "-images-idx3-ubyte.gz"))
                        || Files.isRegularFile(dir.resolve(p + "-images-idx3-ubyte")))
                && (Files.isRegularFile(dir.resolve(p + "-labels-idx1-ubyte.gz"))
                        || Files.isRegularFile(dir.resolve(p + "-labels-idx1-ubyte")));
    }
}
