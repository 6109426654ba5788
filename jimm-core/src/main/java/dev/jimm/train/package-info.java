/**
 * Training, after fastai: the {@link dev.jimm.train.Learner} (one training loop with callbacks, fit and one-cycle
 * schedules, fine-tuning with frozen parameter groups, checkpoints that resume exactly), optimizers (AdamW with
 * libtorch's fused kernel, SGD), losses, metrics, the learning-rate finder and test-time augmentation.
 */
package dev.jimm.train;
