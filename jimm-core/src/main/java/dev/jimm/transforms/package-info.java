/**
 * Image transforms with the semantics of their Python originals: torchvision's and Pillow's resizes and crops, fastai's
 * batch augmentations, timm's RandAugment, random erasing and Mixup/CutMix, normalization, and the preprocessing that a
 * model's pretrained config asks for.
 */
package dev.jimm.transforms;
