/**
 * The benchmarks behind {@code jimm bench}: training and inference speed and memory of jimm models, of the same model
 * in a bare DJL loop and of PyTorch itself (a child process running {@code scripts/bench_pytorch.py}), the data
 * loader's throughput, FLOP counts and the reports that compare them.
 */
package dev.jimm.bench;
