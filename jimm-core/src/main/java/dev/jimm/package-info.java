/**
 * jimm (Java Image Models): timm and torchvision image models on DJL's PyTorch engine, with their checkpoints, data
 * pipelines and a fastai-style Learner. This root package holds what the other packages share: the base exception
 * {@link dev.jimm.JimmException}, the cache folder ({@code JIMM_HOME}), atomic writes of the files a user keeps, and
 * the native allocator and libtorch settings of the process.
 *
 * <p>Start with {@link dev.jimm.models.Models#createModel} for a model by its timm name, and with the
 * {@code dev.jimm.vision} package to train one.
 */
package dev.jimm;
