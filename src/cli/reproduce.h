/* reproduce.h — what the experiment files of `hoclab reproduce` share: the options
 * every experiment takes, the sweep runner, and the list of experiments defined in
 * their own files (reproduce_*.c). */
#ifndef HOCLAB_CLI_REPRODUCE_H
#define HOCLAB_CLI_REPRODUCE_H

#include "hoclab/io.h"
#include "hoclab/train.h"

typedef struct reproduce_opts {
    const char *dir;        /* output folder (exists, with points/ inside) */
    int seeds, threads, full, quiet;
    double time;            /* training time (the experiment's default unless given) */
    int L, K;               /* ring size and hidden units (idem) */
    int kernel;             /* conv: the CNN's kernel size (0: the experiment's default) */
    int dim;                /* 1 or 2 (conv) */
} reproduce_opts;

/* Train cfg[0..n) into DIR/points/NAME.h5 (resuming existing points) and summarise
 * each into pts; prints the error and returns the exit status on failure. */
int reproduce_run_points(const char *cmd, const reproduce_opts *o, hl_train_config *cfg,
                         char (*names)[128], int n, const char *cmdline, hl_sweep_point *pts);

/* Experiments in their own files: each prints its verdict and writes its files. */
int reproduce_conv(const reproduce_opts *o, const char *cmdline);
int reproduce_simplicity(const reproduce_opts *o, const char *cmdline);
int reproduce_spiked(const reproduce_opts *o, const char *cmdline);
int reproduce_pruning(const reproduce_opts *o, const char *cmdline);

/* Their rows of the experiments table in reproduce.c: name, function, summary, default
 * L, K, time, --full time, --full L. */
#define REPRODUCE_MORE                                                                     \
    {"conv", reproduce_conv, "fully connected RFs against convolutional filters; tiling",  \
     100, 8, 10000, 30000, 400},                                                           \
    {"simplicity-bias", reproduce_simplicity,                                              \
     "Fashion-MNIST: accuracy on the real data and on its clones over time",               \
     784, 16, 100, 1000, 784},                                                             \
    {"spiked-cumulant", reproduce_spiked,                                                  \
     "spiked cumulant vs Wishart: network vs random features against n = d^theta",        \
     32, 16, 1, 1, 64},                                                                    \
    {"pruning", reproduce_pruning, "iterative magnitude pruning: IPR and kurtosis per round", \
     100, 8, 3000, 10000, 400},
#endif
