/* get_train.c — the Gaussian-equivalent ODEs set up from a trainer configuration: the
 * class covariances of the NLGP task and the very network hl_train_run starts from, so
 * that an ODE and a simulation can be compared run by run. */
#include "hoclab/theory.h"
#include "hoclab/error.h"
#include "hoclab/rng.h"

#include <stdlib.h>

static int nlgp_task(const hl_train_config *c)
{
    int rc = hl_train_validate(c);
    if (rc)
        return rc;
    if (c->plus_model[0] || c->minus_model[0])
        return hl_error_set(HL_EINVAL, "GET: plus_model / minus_model name a task of two "
                            "models ('%s', '%s'): GET needs the NLGP task's covariances",
                            c->plus_model, c->minus_model);
    return HL_OK;
}

int hl_get_covariance_rows(const hl_train_config *c, double *row_plus, double *row_minus)
{
    int rc;
    if (!c || !row_plus || !row_minus)
        return hl_error_set(HL_EINVAL, "GET rows: config, row_plus and row_minus must not "
                            "be NULL");
    if ((rc = nlgp_task(c)))
        return rc;
    /* as the trainer builds its classes (train.c, class_params) */
    hl_nlgp_params pp = {.dim = c->dim, .L = c->L, .xi = c->xi_plus, .p = c->p,
                         .gain = c->gain, .convention = c->convention,
                         .clone = c->input == HL_INPUT_GP};
    hl_nlgp_params pm = pp;
    pm.xi = c->xi_minus;
    if ((rc = hl_nlgp_covariance_row(&pp, row_plus)) ||
        (rc = hl_nlgp_covariance_row(&pm, row_minus)))
        return rc;
    return HL_OK;
}

int hl_get_initial_network(const hl_train_config *c, double *W0, double *v0, double *b0)
{
    int rc;
    if (!c || !W0 || !v0 || !b0)
        return hl_error_set(HL_EINVAL, "GET initial network: config, W0, v0 and b0 must not "
                            "be NULL");
    if ((rc = hl_train_validate(c)))
        return rc;
    /* the trainer's network: its config with D and max_batch set, drawn by hl_net_init
     * from the stream (seed, HL_STREAM_INIT) before any other draw on it */
    hl_net_config nc = c->net;
    nc.D = (int)hl_train_D(c);
    nc.max_batch = c->batch;
    hl_net *net = hl_net_alloc(&nc);
    gsl_rng *r = hl_rng_alloc(c->seed, HL_STREAM_INIT);
    if (!net || !r) {
        hl_net_free(net);
        hl_rng_free(r);
        return HL_ENOMEM; /* the allocator that failed has set the message */
    }
    hl_net_init(net, r);
    const size_t KD = (size_t)nc.K * nc.D;
    for (size_t i = 0; i < KD; i++)
        W0[i] = net->W[i];
    for (int k = 0; k < nc.K; k++) {
        v0[k] = net->v[k];
        b0[k] = net->b[k];
    }
    hl_net_free(net);
    hl_rng_free(r);
    return HL_OK;
}

void hl_get_setup_free(hl_get_setup *s)
{
    if (!s)
        return;
    free(s->row_plus);
    free(s->row_minus);
    free(s->W0);
    free(s->v0);
    free(s->b0);
    free(s);
}

int hl_get_setup_from_train(const hl_train_config *c, hl_get_setup **out)
{
    int rc;
    if (!out)
        return hl_error_set(HL_EINVAL, "GET setup: out is NULL");
    *out = NULL;
    if (!c)
        return hl_error_set(HL_EINVAL, "GET setup: config is NULL");
    if ((rc = nlgp_task(c)))
        return rc;
    const size_t D = hl_train_D(c), K = c->net.K;
    hl_get_setup *s = calloc(1, sizeof *s);
    if (!s || !(s->row_plus = malloc(sizeof(double) * D)) ||
        !(s->row_minus = malloc(sizeof(double) * D)) ||
        !(s->W0 = malloc(sizeof(double) * K * D)) || !(s->v0 = malloc(sizeof(double) * K)) ||
        !(s->b0 = malloc(sizeof(double) * K))) {
        hl_get_setup_free(s);
        return hl_error_set(HL_ENOMEM, "GET setup: cannot allocate (K = %zu, D = %zu)", K, D);
    }
    if ((rc = hl_get_covariance_rows(c, s->row_plus, s->row_minus)) ||
        (rc = hl_get_initial_network(c, s->W0, s->v0, s->b0))) {
        hl_get_setup_free(s);
        return rc;
    }
    hl_get_params *p = &s->params;
    hl_get_defaults(p);
    p->dim = c->dim;
    p->L = c->L;
    p->row_plus = s->row_plus;
    p->row_minus = s->row_minus;
    p->net = c->net;
    p->net.D = (int)D;
    p->net.max_batch = c->batch;
    p->batch = c->batch;
    p->W0 = s->W0;
    p->v0 = s->v0;
    p->b0 = s->b0;
    *out = s;
    return HL_OK;
}
