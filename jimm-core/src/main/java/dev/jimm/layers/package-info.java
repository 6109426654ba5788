/**
 * The building blocks of the models, as PyTorch and timm define them: {@link dev.jimm.layers.Module} (named parameters,
 * buffers and children whose dotted names and order are PyTorch's, so a state_dict loads unchanged), convolutions,
 * norms, activations, pooling, attention, MLPs, drop path, the classifier head and weight init.
 */
package dev.jimm.layers;
