/**
 * jimm on Apache Spark: batch prediction, embeddings and evaluation of a jimm export over a DataFrame of images.
 *
 * <p>{@link dev.jimm.spark.ImageInference} is the entry point. The driver broadcasts the export's bytes once; each
 * executor JVM loads the model once and shares it between its tasks; a task decodes its partition's images and runs
 * them in fixed-size batches; an image that cannot be read or decoded becomes a row with an {@code error} column, never
 * a failed job. Spark itself is a {@code provided} dependency: the cluster's under {@code spark-submit}, the launcher's
 * in the embedded local mode of {@code jimm spark}.
 */
package dev.jimm.spark;
