package dev.jimm.models;

import java.util.List;

/**
 * A model's pretrained configuration as timm defines it (torchvision's weights are described the same way): where the
 * weights are, and how inputs must be prepared for them.
 *
 * @param architecture the model name
 * @param tag the weight tag ({@code a1_in1k}); empty for a name without pretrained weights
 * @param hfHubId the Hugging Face hub repository, or empty
 * @param url a direct download URL, or empty
 * @param inputSize channels, height, width
 * @param interpolation "bilinear" or "bicubic"
 * @param cropPct center crop fraction used at evaluation
 * @param cropMode timm's crop mode ("center")
 * @param mean per-channel normalization mean
 * @param std per-channel normalization std
 * @param numClasses classifier outputs of the weights
 * @param firstConv dotted name of the first convolution (for in_chans adaptation)
 * @param classifier dotted name of the classifier (dropped when num_classes differs); several are comma-separated (the
 *     distilled DeiTs' {@code head,head_dist}), see {@link #classifiers()}
 * @param license the weights' license
 * @param fileSha256 expected SHA-256 of the weight file where known (torchvision URLs carry a prefix)
 */
public record PretrainedCfg(
        String architecture,
        String tag,
        String hfHubId,
        String url,
        List<Integer> inputSize,
        String interpolation,
        double cropPct,
        String cropMode,
        List<Double> mean,
        List<Double> std,
        int numClasses,
        String firstConv,
        String classifier,
        String license,
        String fileSha256) {

    public static final List<Double> IMAGENET_MEAN = List.of(0.485, 0.456, 0.406);
    public static final List<Double> IMAGENET_STD = List.of(0.229, 0.224, 0.225);

    public PretrainedCfg {
        inputSize = List.copyOf(inputSize);
        mean = List.copyOf(mean);
        std = List.copyOf(std);
    }

    /** The classifier names, as timm lists them (one for most models, two for distilled DeiTs); empty for none. */
    public List<String> classifiers() {
        return classifier.isEmpty() ? List.of() : List.of(classifier.split(","));
    }

    /** The full name {@code architecture.tag}, or the architecture when untagged. */
    public String fullName() {
        return tag.isEmpty() ? architecture : architecture + "." + tag;
    }

    /** A config for a model with no pretrained weights: ImageNet statistics at the given size. */
    public static PretrainedCfg untrained(String architecture, int size, String firstConv, String classifier) {
        return new PretrainedCfg(
                architecture,
                "",
                "",
                "",
                List.of(3, size, size),
                "bilinear",
                0.875,
                "center",
                IMAGENET_MEAN,
                IMAGENET_STD,
                1000,
                firstConv,
                classifier,
                "",
                "");
    }

    /** The same config under another architecture name and tag. */
    public PretrainedCfg withName(String newArchitecture, String newTag) {
        return with(newArchitecture, newTag, hfHubId, inputSize, firstConv, classifier);
    }

    /** The same config with another default input size (a square image). */
    public PretrainedCfg withInputSize(int size) {
        return with(architecture, tag, hfHubId, List.of(inputSize.get(0), size, size), firstConv, classifier);
    }

    /** The same config with weights in another Hugging Face hub repository. */
    public PretrainedCfg withHub(String newHfHubId) {
        return with(architecture, tag, newHfHubId, inputSize, firstConv, classifier);
    }

    /** The same config with other head and first-layer names. */
    public PretrainedCfg withLayers(String newFirstConv, String newClassifier) {
        return with(architecture, tag, hfHubId, inputSize, newFirstConv, newClassifier);
    }

    /** This config with the fields the {@code with} methods change set anew, the others kept. */
    private PretrainedCfg with(
            String newArchitecture,
            String newTag,
            String newHfHubId,
            List<Integer> newInputSize,
            String newFirstConv,
            String newClassifier) {
        return new PretrainedCfg(
                newArchitecture,
                newTag,
                newHfHubId,
                url,
                newInputSize,
                interpolation,
                cropPct,
                cropMode,
                mean,
                std,
                numClasses,
                newFirstConv,
                newClassifier,
                license,
                fileSha256);
    }
}
