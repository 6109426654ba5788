package dev.jimm.data;

/**
 * A step of a loader's per-sample transform failed on an image (a crop larger than the image, a user function that
 * throws); the message names the image, the step and the reason. Under {@link BadImagePolicy#SKIP} the image is left
 * out instead, as one that fails to decode.
 */
public class ImageTransformException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final String image;
    private final String step;

    public ImageTransformException(String image, String step, RuntimeException cause) {
        super(image + ": transform " + step + " failed: " + reason(cause), cause);
        this.image = image;
        this.step = step;
    }

    private static String reason(Throwable cause) {
        String m = cause.getMessage();
        return m == null || m.isBlank() ? cause.getClass().getSimpleName() : m;
    }

    /** The image (its file, or its place in a dataset) the step failed on. */
    public String image() {
        return image;
    }

    /** The step that failed, as {@link dev.jimm.transforms.Transform#describe} names it. */
    public String step() {
        return step;
    }
}
