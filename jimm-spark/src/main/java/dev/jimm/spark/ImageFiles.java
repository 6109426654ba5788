package dev.jimm.spark;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.io.Serializable;
import java.io.UncheckedIOException;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * Reads image files on an executor through Hadoop's file systems, so a path column may hold local paths, {@code file:}
 * URIs (as Spark's {@code binaryFile} source gives them) or any store the cluster reaches ({@code hdfs://},
 * {@code s3a://}, {@code abfs://}...) with the driver's Hadoop settings.
 */
final class ImageFiles implements Serializable {
    private static final long serialVersionUID = 1L;

    /** The driver's Hadoop configuration, as bytes: {@link Configuration} is Writable but not Serializable. */
    private final byte[] hadoopConf;

    /** Larger files are refused before reading: no image a model takes is 2 GB, and an array cannot hold it. */
    private final long maxBytes;

    private transient Configuration conf;

    ImageFiles(Configuration driverConf, long maxBytes) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (DataOutputStream data = new DataOutputStream(out)) {
            driverConf.write(data);
        } catch (IOException e) {
            throw new UncheckedIOException("serialising the Hadoop configuration", e);
        }
        this.hadoopConf = out.toByteArray();
        this.maxBytes = maxBytes;
    }

    /**
     * The bytes of the file at {@code path}.
     *
     * @throws IOException naming the path and what is wrong (missing, a folder, too large, unreadable)
     */
    byte[] read(String path) throws IOException {
        Path p = new Path(path);
        FileSystem fs = p.getFileSystem(conf());
        FileStatus status;
        try {
            status = fs.getFileStatus(p);
        } catch (FileNotFoundException e) {
            throw new IOException("no such file", e);
        }
        if (status.isDirectory()) {
            throw new IOException("a folder, not an image file");
        }
        if (status.getLen() > maxBytes) {
            throw new IOException(status.getLen() + " bytes, more than the " + maxBytes + " an image may have here");
        }
        try (InputStream in = fs.open(p)) {
            return in.readAllBytes();
        }
    }

    private Configuration conf() {
        if (conf == null) {
            Configuration c = new Configuration(false);
            try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(hadoopConf))) {
                c.readFields(in);
            } catch (IOException e) {
                throw new UncheckedIOException("reading the driver's Hadoop configuration", e);
            }
            conf = c;
        }
        return conf;
    }
}
