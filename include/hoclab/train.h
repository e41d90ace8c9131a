/* train.h — one online-SGD experiment: task -> network -> measures at log times.
 *
 * A run trains a fresh two-layer network on the binary task "NLGP(xi+) against
 * NLGP(xi-)" (or the same task on their Gaussian clones), drawing a new batch every
 * step, and measures test error, test loss, the IPR of every receptive field and the
 * kurtosis of every preactivation at log-spaced times. Time is t = steps / D.
 * Random streams (see rng.h) depend only on the seed, so a run gives the same
 * numbers whichever thread runs it and however many run beside it. */
#ifndef HOCLAB_TRAIN_H
#define HOCLAB_TRAIN_H

#include "hoclab/data.h"
#include "hoclab/net.h"
#include <signal.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The most threads one run uses (to draw its samples). */
enum { HL_TRAIN_MAX_THREADS = 64 };

typedef enum { HL_INPUT_NLGP = 0, HL_INPUT_GP = 1 } hl_input;

const char *hl_input_name(hl_input in);   /* "nlgp", "gp" */
int hl_input_parse(const char *s);        /* -1 if unknown */

enum { HL_TRAIN_SPEC_MAX = 512 };

typedef struct hl_train_config {
    /* The task is NLGP(xi+) against NLGP(xi-) (or their clones), set by the fields
     * below, unless plus_model and minus_model name any two data models as
     * "name:key=value,..." (see hl_model_new); then dim and L only give the shape of
     * the receptive-field images (L or L x L must equal the models' D). */
    char plus_model[HL_TRAIN_SPEC_MAX], minus_model[HL_TRAIN_SPEC_MAX];
    hl_input input;              /* NLGP or its Gaussian clone */
    int dim, L, p;               /* ring/torus, sites per side, kernel exponent */
    double xi_plus, xi_minus;    /* correlation lengths of class +1 and -1, pixels */
    double gain;
    hl_gain_convention convention;
    hl_net_config net;           /* K, mode, act, bias, lr, ...; D and max_batch are set
                                    from dim, L and batch by the trainer */
    int batch;                   /* samples per SGD step, >= 1 */
    double time;                 /* horizon t = steps / D, > 0 */
    uint64_t seed;
    size_t n_test;               /* held-out test samples, >= 1 */
    int n_meas;                  /* measurement times (t = 0 plus log-spaced), >= 2 */
    int n_snap;                  /* weight snapshots: -1 at every measurement, 0 none,
                                    N at N measurement times spread over the run */
    double max_weight;           /* |w| beyond this counts as divergence, > 0 */
} hl_train_config;

/* The default experiment's settings (see README): L = 100 ring, xi = (2, 6) px,
 * gain 10, K = 8, mode 2layer, erf, trainable biases, lr 0.05, t = 10000. */
hl_train_config hl_train_defaults(void);

/* Check every field; the message names the field and its accepted range. */
int hl_train_validate(const hl_train_config *c);

/* The run's name in files and figures: "nlgp" or "gp" for the NLGP task, "task" for
 * a task of two named models. */
const char *hl_train_run_name(const hl_train_config *c);

/* Input dimension D = L or L*L, and the number of SGD steps round(time * D). */
size_t hl_train_D(const hl_train_config *c);
long long hl_train_steps(const hl_train_config *c);

typedef struct hl_train_result {
    int n_planned;               /* measurement times planned */
    int n_meas;                  /* measurements made (fewer if the run diverged) */
    long long *steps;            /* n_planned: SGD steps at each measurement */
    double *t;                   /* n_planned: steps / D */
    double *test_error, *test_loss;   /* n_meas */
    double *ipr, *kurtosis;      /* n_meas x K, row-major */
    int n_snap;                  /* snapshots taken */
    int *snap_index;             /* n_snap: measurement index of each snapshot */
    float *snapshots;            /* n_snap x K x D */
    float *W, *v, *b;            /* weights when the run stopped: K x D, K, K */
    int status;                  /* HL_OK, or HL_EDIVERGED with `message` */
    long long stop_step;         /* steps done when the run stopped */
    char message[256];
    int n_clipped[2];            /* negative circulant eigenvalues clipped (class +, -) */
    double clipped_fraction[2];  /* their weight relative to sum |lambda| */
    double marginal_kurtosis;    /* analytic excess kurtosis of the inputs' marginal */
    double wall_seconds;
} hl_train_result;

/* Progress report, called from the thread running the run: after each measurement
 * and every few thousand steps. Must be thread safe if several runs go at once. */
typedef void (*hl_progress_fn)(void *user, int run, long long step, long long total,
                               double test_error, double mean_ipr);

/* Run one experiment, on the calling thread (BLAS on one thread meanwhile, as in
 * hl_train_runs, so that both give the same numbers), into `res` (which it allocates;
 * free with hl_train_result_free).
 * Returns HL_OK, HL_EDIVERGED (res holds what was measured up to then), or another
 * error code with nothing usable in res. */
int hl_train_run(const hl_train_config *c, hl_train_result *res, int run_index,
                 hl_progress_fn progress, void *user);

/* Run n experiments on up to `threads` threads (0: all cores): runs in parallel, and
 * threads left over (fewer runs than threads) draw the runs' samples in parallel and
 * ahead of the training. The numbers do not depend on `threads`. status[i] gets each
 * run's return code. Returns HL_OK if every run returned HL_OK or HL_EDIVERGED. */
int hl_train_runs(const hl_train_config *c, int n, int threads, hl_train_result *res,
                  int *status, hl_progress_fn progress, void *user);

/* ---- long runs: checkpoints, stopping and resuming ----------------------------------
 *
 * A run's whole state at a step boundary is its weights (W, v, b; SGD keeps no other
 * state), its measurements so far and the step it has reached: the samples come from
 * the step (sample s = step x batch of the run's stream), and the test set is redrawn
 * from its own stream. A run resumed from that state continues bit for bit as if it
 * had never stopped, whatever the thread count (Markov-chain samplers replay their
 * chain up to the current chunk of samples, drawing and discarding). */
typedef struct hl_train_hooks {
    hl_progress_fn progress;      /* as for hl_train_runs, or NULL */
    void *user;                   /* passed to progress and checkpoint */
    /* Called from the run's thread about every `checkpoint_every` wall seconds, at a
     * step boundary after that step's measurement (if any), with the partial result:
     * n_meas measurements and n_snap snapshots so far, stop_step = steps done, W, v, b =
     * current weights, wall_seconds so far. `partial` is valid during the call only.
     * Return 0 to go on, an hl_status to end the run with that code. Thread safe if
     * several runs go at once. */
    int (*checkpoint)(void *user, int run, const hl_train_config *c,
                      const hl_train_result *partial);
    double checkpoint_every;      /* seconds between checkpoint calls; 0: none */
    /* When *stop becomes non-zero (a signal handler sets it), every run stops at its
     * next step boundary after that step's measurement and returns HL_EINTERRUPTED,
     * its result holding the partial state (as given to `checkpoint`, status
     * HL_EINTERRUPTED): that is what to save, and what `resume` takes. */
    volatile sig_atomic_t *stop;
    /* NULL, or one entry per run: a result to continue from. An entry with n_meas == 0
     * starts that run afresh; a partial one (as above) continues from stop_step; a
     * finished one (n_meas == all planned, or status HL_EDIVERGED) is copied into the
     * result. Entries that do not fit the run's plan give HL_EINVAL. */
    const hl_train_result *resume;
} hl_train_hooks;

/* hl_train_runs with hooks (NULL: none). Returns HL_EINTERRUPTED (status[i] says which
 * runs stopped; res[i] of every run, finished or interrupted, is usable) if the stop
 * flag ended a run and no run failed otherwise. */
int hl_train_runs_hooked(const hl_train_config *c, int n, int threads, hl_train_result *res,
                         int *status, const hl_train_hooks *hooks);

void hl_train_result_free(hl_train_result *res);

#ifdef __cplusplus
}
#endif
#endif
