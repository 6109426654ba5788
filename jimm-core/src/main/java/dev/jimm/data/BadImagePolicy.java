package dev.jimm.data;

/**
 * What a dataset or loader does with an image it cannot use: an empty class folder, an entry named like an image that
 * is no readable file (a dangling link), a file that fails to decode (truncated, corrupt, not an image, too many
 * pixels, vanished since the scan), an image on which a step of the loader's transform fails (a crop that refuses an
 * image smaller than itself): {@link ImageDecodeException} and {@link ImageTransformException}.
 *
 * <p>Files without an image extension ({@code .txt}, {@code Thumbs.db}) and hidden files ({@code .DS_Store},
 * {@code ._x.jpg}) are never images: they are skipped and counted under both policies, as torchvision's ImageFolder
 * skips them.
 */
public enum BadImagePolicy {
    /** Fail at first use with an error naming the file or folder (the default, as timm and torchvision). */
    ERROR,
    /** Leave the image (or empty class) out, with a warning naming it, counted; like fastai's verify_images. */
    SKIP
}
