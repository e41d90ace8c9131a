/* commands.h — the sub-commands of the hoclab CLI. Each parses its flags, calls the
 * library, and reports; none computes. Each returns the process exit status:
 * 0 success, 1 the computation failed or diverged, 2 bad input. */
#ifndef HOCLAB_CLI_COMMANDS_H
#define HOCLAB_CLI_COMMANDS_H

#include "hoclab/data.h"
#include "options.h"
#include <signal.h>
#include <stddef.h>

int cmd_train(int argc, char **argv);
int cmd_sample(int argc, char **argv);
int cmd_plot(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_theory(int argc, char **argv);
int cmd_reproduce(int argc, char **argv);
int cmd_sweep(int argc, char **argv);

/* "results/run.h5" -> "results/run" (the base name of the figures). */
void figure_base(const char *h5_path, char *base, size_t size);

/* Report a library failure on stderr ("hoclab CMD: MESSAGE") and return 1 (2 for
 * invalid input). */
int report_error(const char *cmd, int status);



/* ---- stopping long runs (train, sweep) --------------------------------------------------
 * catch_stop_signals makes SIGINT and SIGTERM set stop_signal (to the signal's number)
 * once: SA_RESETHAND restores the default action, so a second signal ends the process at
 * once. A signal ignored when hoclab started (nohup) stays ignored. old[2] gets the
 * previous actions for restore_signals. */
extern volatile sig_atomic_t stop_signal;
void catch_stop_signals(struct sigaction *old);
void restore_signals(const struct sigaction *old);

/* ---- flags shared by the commands that build NLGP tasks (train, sample) ---------- */

typedef struct data_flags {
    int inputs_mask;          /* bit 0: nlgp, bit 1: gp */
    const char *inputs;       /* "nlgp,gp" as given */
    double xis[2];
    int n_xis;
    int xi_unit;              /* 0: pixels, 1: fraction of L */
    double gain;
    int convention;
    int dim, L, p;
    uint64_t seed;
} data_flags;

data_flags data_flags_defaults(void);

/* Append the shared flags to specs (room for DATA_SPECS entries); returns the count. */
enum { DATA_SPECS = 9 };
int data_specs(data_flags *d, opt_spec *specs);

/* Check what the table cannot (input names, xi against L); converts xi to pixels.
 * Prints the error and returns 2 on failure. */
int data_flags_finish(const char *cmd, data_flags *d);

/* The NLGP task's fields of a trainer configuration (dim, L, p, xis, gain, convention,
 * seed) from finished flags. */
struct hl_train_config;
void data_flags_apply(const data_flags *d, struct hl_train_config *c);
#endif
