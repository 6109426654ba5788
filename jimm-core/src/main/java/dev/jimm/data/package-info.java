/**
 * Image data: datasets (image folders, CSV files, IDX and CIFAR files, subsets and splits), image decoding with EXIF
 * orientation and a policy for bad files, downloads of the standard datasets, and the multi-threaded
 * {@link dev.jimm.data.DataLoader} whose batches are bit-identical whatever the thread count.
 */
package dev.jimm.data;
