/**
 * Checkpoints and pretrained weights: reading PyTorch {@code torch.save} files (a restricted unpickler that runs no
 * code) and safetensors, writing safetensors, mapping torchvision's and timm's state_dict keys, and the
 * {@link dev.jimm.hub.WeightHub} that downloads, verifies and caches weights from the Hugging Face hub and
 * torchvision's URLs.
 */
package dev.jimm.hub;
