package dev.jimm.spark;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.Path;

/** The driver's few file operations on a job's output folder, through Hadoop so any store the cluster uses works. */
final class HadoopFiles {
    private HadoopFiles() {}

    static boolean exists(Configuration conf, String path) throws IOException {
        Path p = new Path(path);
        return p.getFileSystem(conf).exists(p);
    }

    static void writeText(Configuration conf, String folder, String name, String text) throws IOException {
        Path file = new Path(folder, name);
        try (FSDataOutputStream s = file.getFileSystem(conf).create(file, true)) {
            s.write(text.getBytes(StandardCharsets.UTF_8));
        }
    }
}
