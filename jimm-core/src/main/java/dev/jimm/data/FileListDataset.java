package dev.jimm.data;

import java.nio.file.Path;
import java.util.List;

/** A dataset of image files, one label each, decoded on each read by one decoder (an image folder, a CSV list). */
abstract class FileListDataset extends LabelledDataset {
    private final List<Path> files;
    private final ImageDecoder decoder;

    FileListDataset(List<Path> files, int[] labels, List<String> classes, ImageDecoder decoder) {
        super(labels, classes);
        if (files.size() != labels.length) {
            throw new IllegalArgumentException(files.size() + " files but " + labels.length + " labels");
        }
        this.files = List.copyOf(files);
        this.decoder = decoder;
    }

    /** The image file of sample i. */
    public Path file(int index) {
        return files.get(index);
    }

    @Override
    public DecodedImage image(int index) {
        return decoder.decode(files.get(index));
    }

    @Override
    public String describe(int index) {
        return files.get(index).toString();
    }
}
