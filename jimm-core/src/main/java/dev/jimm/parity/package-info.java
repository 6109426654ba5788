/**
 * The parity checks against PyTorch: the reference init and input that jimm and the Python reference build identically,
 * and the comparison of a model with a fixture (state_dict keys, their order and shapes, feature levels, outputs and
 * one training step's gradients). Used by the tests and by {@code jimm parity}.
 */
package dev.jimm.parity;
