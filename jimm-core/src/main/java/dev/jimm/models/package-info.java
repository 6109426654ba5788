/**
 * The model families (ResNet, EfficientNet, ConvNeXt, ViT, Swin and the rest of timm's and torchvision's classifiers),
 * their registry of names and pretrained configs, and {@link dev.jimm.models.Models}, the entry point that builds a
 * model by name with or without pretrained weights. Every model is an {@link dev.jimm.models.ImageModel} with timm's
 * interface (features, head, feature levels).
 */
package dev.jimm.models;
