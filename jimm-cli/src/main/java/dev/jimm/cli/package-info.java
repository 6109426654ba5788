/**
 * The {@code jimm} command line (picocli): models, summary, train, lr-find, predict, eval, bench, parity, demo and the
 * inspect commands. Each command is a thin layer that parses its options and calls the library.
 */
package dev.jimm.cli;
