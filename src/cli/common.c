/* common.c — flags shared by the commands that build an NLGP task. */
#include "commands.h"

#include "hoclab/train.h"

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

data_flags data_flags_defaults(void)
{
    data_flags d = {.inputs = "nlgp,gp", .xis = {2, 6}, .n_xis = 2, .xi_unit = 0,
                    .gain = 10, .convention = HL_GAIN_SEEDS, .dim = 1, .L = 100, .p = 2,
                    .seed = 1};
    return d;
}

int data_specs(data_flags *d, opt_spec *s)
{
    const opt_spec specs[DATA_SPECS] = {
        {"inputs", OPT_STRING, &d->inputs, .help = "input models: nlgp, gp or nlgp,gp"},
        {"xis", OPT_LIST, d->xis, 2, 2, .item_min = 0, .count = &d->n_xis,
         .help = "correlation lengths of class +1 and class -1 (xi+,xi-)"},
        {"xi-unit", OPT_CHOICE, &d->xi_unit, .choices = "px|frac",
         .help = "xi in pixels, or as a fraction of L"},
        {"gain", OPT_DOUBLE, &d->gain, 0, 1e6, .help = "gain g of the non-linearity"},
        {"gain-convention", OPT_CHOICE, &d->convention, .choices = "seeds|authors",
         .help = "seeds: erf(g z)/Z; authors: erf(g z/sqrt 2)/Z"},
        {"dim", OPT_INT, &d->dim, 1, 2, .help = "1: ring of L sites; 2: L x L torus"},
        {"L", OPT_INT, &d->L, 2, 1 << 20, .help = "sites per side (dim 2 allows up to 4096)"},
        {"kernel-p", OPT_INT, &d->p, 1, 2, .help = "latent covariance exp(-(d/xi)^p)"},
        {"seed", OPT_U64, &d->seed, .help = "seed of every random stream"},
    };
    memcpy(s, specs, sizeof specs);
    return DATA_SPECS;
}

int data_flags_finish(const char *cmd, data_flags *d)
{
    d->inputs_mask = 0;
    char buf[64];
    snprintf(buf, sizeof buf, "%s", d->inputs);
    for (char *save, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        int in = hl_input_parse(tok);
        if (in < 0) {
            fprintf(stderr, "hoclab %s: --inputs %s: unknown input '%s'; accepted: nlgp, gp "
                            "or nlgp,gp\n", cmd, d->inputs, tok);
            return 2;
        }
        d->inputs_mask |= 1 << in;
    }
    if (!d->inputs_mask) {
        fprintf(stderr, "hoclab %s: --inputs is empty; accepted: nlgp, gp or nlgp,gp\n", cmd);
        return 2;
    }
    if (d->dim == 2 && d->L > 4096) {
        fprintf(stderr, "hoclab %s: --L %d: out of range for --dim 2; accepted: 2..4096\n", cmd,
                d->L);
        return 2;
    }
    for (int i = 0; i < 2; i++) {
        if (d->xi_unit == 1) {
            if (d->xis[i] > 1) {
                fprintf(stderr, "hoclab %s: --xis %g: a fraction of L must be in (0, 1]\n", cmd,
                        d->xis[i]);
                return 2;
            }
            d->xis[i] *= d->L;
        }
    }
    return 0;
}

void data_flags_apply(const data_flags *d, hl_train_config *c)
{
    c->dim = d->dim;
    c->L = d->L;
    c->p = d->p;
    c->xi_plus = d->xis[0];
    c->xi_minus = d->xis[1];
    c->gain = d->gain;
    c->convention = d->convention;
    c->seed = d->seed;
}

/* ---- stopping long runs: SIGINT and SIGTERM ---------------------------------------- */

/* The signal that asked the runs to stop (0: none). */
volatile sig_atomic_t stop_signal;

static void on_stop_signal(int sig) { stop_signal = sig; }

/* SIGINT and SIGTERM set the stop flag once; SA_RESETHAND restores the default action,
 * so a second signal ends the process at once (while a checkpoint is written, too). A
 * signal ignored when hoclab started (nohup, a background job) stays ignored. */
void catch_stop_signals(struct sigaction *old)
{
    const int sig[2] = {SIGINT, SIGTERM};
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESETHAND;
    for (int i = 0; i < 2; i++)
        if (sigaction(sig[i], NULL, &old[i]) == 0 && old[i].sa_handler != SIG_IGN)
            sigaction(sig[i], &sa, NULL);
}

void restore_signals(const struct sigaction *old)
{
    sigaction(SIGINT, &old[0], NULL);
    sigaction(SIGTERM, &old[1], NULL);
}
