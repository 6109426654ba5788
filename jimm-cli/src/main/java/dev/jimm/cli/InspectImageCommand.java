package dev.jimm.cli;

import dev.jimm.data.DecodeOptions;
import dev.jimm.data.DecodedImage;
import dev.jimm.data.ImageDecodeException;
import dev.jimm.data.ImageDecoder;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code jimm inspect-image FILE...}: one line per file with its decoded size, channels and format. */
@Command(
        name = "inspect-image",
        mixinStandardHelpOptions = true,
        description = {
            "Decode images and print width, height, channels and format (after EXIF orientation),"
                    + " or the reason a file cannot be decoded. Exit status 1 if any file failed.",
            "Example: jimm inspect-image ../shared/images/odd/*"
        })
public final class InspectImageCommand extends JimmCommand {
    @Parameters(arity = "1..*", paramLabel = "FILE", description = "image files")
    List<Path> files;

    @Option(names = "--max-pixels", description = "refuse images larger than this (default: ${DEFAULT-VALUE})")
    long maxPixels = DecodeOptions.PILLOW_MAX_PIXELS;

    @Option(names = "--gray", description = "decode to one channel")
    boolean gray;

    @Override
    public Integer call() {
        PrintWriter out = out();
        ImageDecoder decoder = new ImageDecoder(DecodeOptions.builder()
                .maxPixels(maxPixels)
                .channels(gray ? 1 : 3)
                .build());
        int failed = 0;
        for (Path f : files) {
            try {
                DecodedImage img = decoder.decode(f);
                out.printf(
                        "%s\t%dx%d\t%d channel%s\t%s%n",
                        f, img.width(), img.height(), img.channels(), img.channels() == 1 ? "" : "s", img.format());
            } catch (ImageDecodeException e) {
                failed++;
                out.printf("%s\tERROR\t%s%n", f, Main.oneLine(e));
            }
        }
        out.flush();
        return failed == 0 ? 0 : 1;
    }
}
