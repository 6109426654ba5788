package dev.jimm.models;

/**
 * One feature level of a model (timm's feature_info entry).
 *
 * @param numChs channels of the feature map
 * @param reduction stride relative to the input
 * @param module dotted name of the module that produces it
 */
public record FeatureInfo(int numChs, int reduction, String module) {}
