/**
 * Vision applications on top of the library, after fastai's {@code vision}: image data loaders with a data pipeline
 * chosen for the data, the vision learner (a pretrained body, a new head, parameter groups), the training recipe behind
 * {@code jimm train}, interpretation, reports, and the export and loading of trained classifiers.
 */
package dev.jimm.vision;
