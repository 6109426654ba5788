package dev.jimm.cli;

import dev.jimm.data.BadImagePolicy;
import picocli.CommandLine.Option;

/** {@code --skip-bad-images}, a picocli mixin of the commands that read an image folder. */
final class BadImageOption {
    @Option(
            names = "--skip-bad-images",
            description =
                    "Leave out images that fail to decode or to transform (a crop larger than the image) and empty class folders, with a warning naming each (default: stop with an error naming the file).")
    boolean skip;

    /** What to do with an image that does not decode. */
    BadImagePolicy policy() {
        return skip ? BadImagePolicy.SKIP : BadImagePolicy.ERROR;
    }
}
