/* test_perceptron.c — the perceptron view of the simplicity bias: cumulant
 * contractions against analytic values and their own standard errors, the expansion
 * w(0) -> w(1) -> w(3) against the exact stationary point (derivative in beta, beta^2
 * scaling) and against SGD, the mean-then-Fisher ordering of early training, and the
 * error paths. All data are synthetic, x = y mu + noise, drawn here with fixed seeds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "hoclab/theory.h"
#include "hoclab/data.h"
#include "hoclab/error.h"
#include "hoclab/net.h"
#include "hoclab/rng.h"

#include <gsl/gsl_linalg.h>
#include <gsl/gsl_randist.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { D = 10 };

typedef enum { LAT_GAUSS, LAT_LAPLACE, LAT_RADEMACHER } latent;

/* Excess kurtosis of the unit-variance latents. */
static double latent_kappa4(latent l)
{
    return l == LAT_LAPLACE ? 3 : l == LAT_RADEMACHER ? -2 : 0;
}

/* x = y mscale mu + sig .* g + s xi v (+ s2 b v2 for class + only, b a skewed
 * zero-mean unit-variance two-point variable), P(y = +1) = p_plus. mu, v, v2 and sig
 * are fixed shapes: sig from 0.5 to 2 (anisotropic: m and Fisher differ), v and v2
 * unit vectors, mu = mu0 + cv v with mu0 flat. With mirror, every second sample is
 * minus the one before, with the opposite label: an exactly zero global mean. */
typedef struct {
    double mscale, cv, s, s2, p_plus;
    latent lat;
    int mirror;
} model;

static void shapes(double cv, double *mu, double *v, double *v2, double *sig)
{
    double nv = 0, nv2 = 0;
    for (int i = 0; i < D; i++) {
        sig[i] = 0.5 * pow(4.0, (double)i / (D - 1));
        v[i] = (i % 2 ? 1 : -1) * (1.0 + 0.1 * i);
        v2[i] = i < 3 ? 1 : 0;
        nv += v[i] * v[i];
        nv2 += v2[i] * v2[i];
    }
    for (int i = 0; i < D; i++) {
        v[i] /= sqrt(nv);
        v2[i] /= sqrt(nv2);
        mu[i] = 1 / sqrt((double)D) + cv * v[i];
    }
}

static void generate(const model *md, size_t n, uint64_t seed, float *X, float *y)
{
    double mu[D], v[D], v2[D], sig[D];
    shapes(md->cv, mu, v, v2, sig);
    gsl_rng *r = hl_rng_alloc(seed, HL_STREAM_USER + 77);
    assert_non_null(r);
    for (size_t k = 0; k < n; k++) {
        if (md->mirror && k % 2) {
            y[k] = -y[k - 1];
            for (int i = 0; i < D; i++)
                X[k * D + i] = -X[(k - 1) * D + i];
            continue;
        }
        y[k] = gsl_rng_uniform(r) < md->p_plus ? 1 : -1;
        double xi = md->lat == LAT_GAUSS     ? gsl_ran_gaussian(r, 1)
                    : md->lat == LAT_LAPLACE ? gsl_ran_laplace(r, 1 / sqrt(2.0))
                                             : (gsl_rng_uniform(r) < 0.5 ? 1 : -1);
        /* two-point, P(1) = 0.2: skewness 1.5 with light tails */
        double e = y[k] > 0 ? md->s2 * ((gsl_rng_uniform(r) < 0.2) - 0.2) / 0.4 : 0;
        for (int i = 0; i < D; i++)
            X[k * D + i] = (float)(y[k] * md->mscale * mu[i] +
                                   sig[i] * gsl_ran_gaussian(r, 1) + md->s * xi * v[i] +
                                   e * v2[i]);
    }
    hl_rng_free(r);
}

typedef struct {
    size_t n;
    float *X, *y;
    hl_perc_stats *st;
} dataset;

static void dataset_make(dataset *d, const model *md, size_t n, uint64_t seed)
{
    d->n = n;
    d->X = malloc(sizeof(float) * n * D);
    d->y = malloc(sizeof(float) * n);
    assert_non_null(d->X);
    assert_non_null(d->y);
    generate(md, n, seed, d->X, d->y);
    d->st = NULL;
    if (hl_perc_stats_compute(d->X, d->y, n, D, &d->st) != HL_OK)
        fail_msg("stats: %s", hl_error_message());
}

static void dataset_free(dataset *d)
{
    hl_perc_stats_free(d->st);
    free(d->X);
    free(d->y);
}

static hl_perc_expansion *expand(const dataset *d, double beta, int full_se, double ridge)
{
    hl_perc_options o;
    hl_perc_options_default(&o);
    o.beta = beta;
    o.full_se = full_se;
    o.ridge = ridge;
    hl_perc_expansion *e = NULL;
    if (hl_perc_expand(d->st, &o, &e) != HL_OK)
        fail_msg("expand: %s", hl_error_message());
    return e;
}

static double dotv(const double *a, const double *b)
{
    double s = 0;
    for (int i = 0; i < D; i++)
        s += a[i] * b[i];
    return s;
}

static double dist(const double *a, const double *b)
{
    double s = 0;
    for (int i = 0; i < D; i++)
        s += (a[i] - b[i]) * (a[i] - b[i]);
    return sqrt(s);
}

static double one_minus_cos(const double *a, const double *b)
{
    return 1 - hl_perc_cosine(D, a, b);
}

/* Solve M x = b for a small symmetric positive definite M (D x D). */
static void spd_solve(const double *M, const double *b, double *x)
{
    double A[D * D];
    memcpy(A, M, sizeof A);
    gsl_matrix_view Av = gsl_matrix_view_array(A, D, D);
    assert_int_equal(gsl_linalg_cholesky_decomp1(&Av.matrix), 0);
    gsl_vector_const_view bv = gsl_vector_const_view_array(b, D);
    gsl_vector_view xv = gsl_vector_view_array(x, D);
    gsl_linalg_cholesky_solve(&Av.matrix, &bv.vector, &xv.vector);
}

/* Largest |K_est - K_true| / SE over both classes and all sites, and the mean z^2. */
static void k4_zscores(const hl_perc_stats *st, const double *w, const double *k_true,
                       double *zmax, double *z2mean)
{
    double K[D], se[D];
    *zmax = 0;
    *z2mean = 0;
    for (int label = 1; label >= -1; label -= 2) {
        assert_int_equal(hl_perc_cumulants(st, label, w, K, se, NULL), HL_OK);
        for (int i = 0; i < D; i++) {
            assert_true(se[i] > 0);
            double z = (K[i] - k_true[i]) / se[i];
            *zmax = fmax(*zmax, fabs(z));
            *z2mean += z * z / (2 * D);
        }
    }
}

/* ---- (1) Gaussian classes ------------------------------------------------------------ */

static void test_gaussian_classes(void **state)
{
    (void)state;
    /* The cumulant contraction vanishes within its standard error, and so does the
     * fourth cumulant's part of w(3); the SE is calibrated (mean z^2 ~ 1). */
    model md = {.mscale = 0.3, .cv = 1, .s = 1.5, .p_plus = 0.5, .lat = LAT_GAUSS};
    dataset d;
    dataset_make(&d, &md, 100000, 11);
    hl_perc_expansion *e = expand(&d, HL_CUBIC_BETA, 1, 0);
    double zero[D] = {0}, zmax, z2;
    k4_zscores(d.st, e->w1, zero, &zmax, &z2);
    printf("gaussian: K(w1) max |z| = %.2f, mean z^2 = %.2f, chi2(Kbar) = %.1f (D = %d)\n",
           zmax, z2, e->kurt_chi2, D);
    assert_true(zmax < 4.5);
    assert_true(z2 > 0.3 && z2 < 2.5);
    /* Kbar's chi-square with D degrees of freedom: mean D, sd sqrt(2D) */
    assert_true(isfinite(e->kurt_chi2));
    assert_true(e->kurt_chi2 < D + 5 * sqrt(2.0 * D));
    double dz = 0;
    for (int i = 0; i < D; i++) {
        assert_true(e->d_kurt_se[i] > 0);
        dz = fmax(dz, fabs(e->d_kurt[i]) / e->d_kurt_se[i]);
    }
    printf("gaussian: d_kurt max |z| = %.2f, |d_kurt| / |w3 - w1| = %.3g\n", dz,
           sqrt(dotv(e->d_kurt, e->d_kurt)) / dist(e->w3, e->w1));
    assert_true(dz < 4.5);

    /* Over independent Gaussian sets the chi-square averages D and the z-scores of
     * d_kurt have mean square 1 (standard errors of both means from the replicates'
     * own spread would be circular: use the chi2 law, sd sqrt(2D) per set). */
    enum { R = 30 };
    double chi2 = 0, zz = 0;
    for (int rep = 0; rep < R; rep++) {
        dataset g;
        dataset_make(&g, &md, 5000, 200 + rep);
        hl_perc_options o;
        hl_perc_options_default(&o);
        o.full_se = 1;
        o.newton_iter = 0;
        hl_perc_expansion *eg = NULL;
        assert_int_equal(hl_perc_expand(g.st, &o, &eg), HL_OK);
        assert_true(isnan(eg->w_star[0]) && isnan(eg->loss_star));
        chi2 += eg->kurt_chi2 / R;
        for (int i = 0; i < D; i++)
            zz += pow(eg->d_kurt[i] / eg->d_kurt_se[i], 2) / (R * D);
        hl_perc_expansion_free(eg);
        dataset_free(&g);
    }
    printf("gaussian, %d sets: mean chi2 = %.2f (D = %d), mean z^2 of d_kurt = %.2f\n", R,
           chi2, D, zz);
    assert_true(fabs(chi2 - D) < 4 * sqrt(2.0 * D / R));
    assert_true(fabs(zz - 1) < 4 * sqrt(2.0 / R));   /* each z^2 ~ chi2_1, correlated in i */

    /* Symmetric classes with a shared covariance: the Gaussian correction keeps the
     * direction of w1 (its right-hand side lies in span(mu, C w1), which A^-1 maps onto
     * w1), and with an exactly zero global mean w1 is Fisher's direction. */
    assert_true(one_minus_cos(e->w3_clone, e->w1) < 1e-4);
    hl_perc_expansion_free(e);
    dataset_free(&d);

    model mirror = md;
    mirror.mirror = 1;
    dataset dm;
    dataset_make(&dm, &mirror, 20000, 12);
    assert_int_equal(dm.st->count[0], dm.st->count[1]);
    e = expand(&dm, HL_CUBIC_BETA, 0, 0);
    printf("mirrored: 1 - cos(w3_clone, w1) = %.2e, 1 - cos(w1, fisher) = %.2e, "
           "1 - cos(m, fisher) = %.3f\n", one_minus_cos(e->w3_clone, e->w1),
           one_minus_cos(e->w1, e->fisher), one_minus_cos(e->w0, e->fisher));
    assert_true(one_minus_cos(e->w3_clone, e->w1) < 1e-12);
    assert_true(one_minus_cos(e->w1, e->fisher) < 1e-12);
    assert_true(one_minus_cos(e->w0, e->fisher) > 0.1);   /* yet m is not Fisher */
    hl_perc_expansion *er = expand(&dm, HL_CUBIC_BETA, 0, 0.5);   /* with weight decay */
    assert_true(one_minus_cos(er->w1, er->fisher) < 1e-12);
    assert_true(one_minus_cos(er->w1, e->w1) > 1e-6);
    hl_perc_expansion_free(er);
    /* class - is exactly class + negated: opposite third, equal fourth cumulants */
    for (int i = 0; i < D; i++) {
        assert_true(fabs(e->k3w[i] + e->k3w[D + i]) < 1e-9 * fabs(e->k3w[i]) + 1e-14);
        assert_true(fabs(e->k4w[i] - e->k4w[D + i]) < 1e-9 * fabs(e->k4w[i]) + 1e-14);
    }
    hl_perc_expansion_free(e);
    dataset_free(&dm);
}

static void test_linear_sgd_converges_to_w1(void **state)
{
    (void)state;
    /* Population: the Gaussian mixture fitted to a pilot set (hl_mixture), sampled
     * fresh by the trainer. w(1) is estimated from n other samples of the same task;
     * the Polyak-averaged linear perceptron (beta = 0) must agree with it up to the
     * sampling errors of both, Cov = A^-1 Cov(psi) A^-1 (1/n + 1/N_avg), psi =
     * alpha (y - alpha w.x) x the per-sample gradient, A = alpha^2 S. */
    model md = {.mscale = 0.3, .cv = 1, .s = 1.5, .p_plus = 0.5, .lat = LAT_GAUSS};
    size_t n_pilot = 20000, n = 50000;
    float *Xp = malloc(sizeof(float) * n_pilot * D), *yp = malloc(sizeof(float) * n_pilot);
    int *lab = malloc(sizeof(int) * n_pilot);
    generate(&md, n_pilot, 21, Xp, yp);
    for (size_t k = 0; k < n_pilot; k++)
        lab[k] = yp[k] > 0 ? 0 : 1;
    hl_mixture *mix = NULL;
    assert_int_equal(hl_mixture_fit(Xp, lab, n_pilot, D, 2, 0, &mix), HL_OK);
    int c0 = 0, c1 = 1;
    hl_task *task =
        hl_task_alloc(hl_mixture_sampler(mix, &c0, 1), hl_mixture_sampler(mix, &c1, 1));
    assert_non_null(task);

    dataset d = {.n = n};
    d.X = malloc(sizeof(float) * n * D);
    d.y = malloc(sizeof(float) * n);
    gsl_rng *r = hl_rng_alloc(22, HL_STREAM_USER + 78);
    assert_int_equal(hl_task_sample(task, n, d.X, d.y, r), HL_OK);
    hl_rng_free(r);
    assert_int_equal(hl_perc_stats_compute(d.X, d.y, n, D, &d.st), HL_OK);
    hl_perc_expansion *e = expand(&d, 0, 0, 0);

    hl_perc_train_params p;
    hl_perc_train_defaults(&p);
    p.beta = 0;
    p.eta = 0.01;
    double times[2] = {0, 200};
    p.times = times;
    p.n_times = 2;
    p.seed = 23;
    hl_perc_run *run = NULL;
    if (hl_perc_train_task(&p, task, e, d.X, d.y, 5000, &run) != HL_OK)
        fail_msg("train: %s", hl_error_message());
    double n_avg = (double)run->steps[1] * (1 - p.average_from);

    /* tolerance from the sandwich covariance, projected orthogonal to w1 */
    double a = HL_CUBIC_ALPHA, A[D * D], Cpsi[D * D] = {0}, V[D * D], col[D], sol[D];
    for (int i = 0; i < D * D; i++)
        A[i] = a * a * d.st->S[i];
    for (size_t k = 0; k < n; k++) {
        const float *x = d.X + k * D;
        double h = 0;
        for (int i = 0; i < D; i++)
            h += e->w1[i] * x[i];
        double g = a * (d.y[k] - a * h);
        for (int i = 0; i < D; i++)
            for (int j = 0; j < D; j++)
                Cpsi[i * D + j] += g * g * x[i] * x[j] / (double)n;
    }
    for (int j = 0; j < D; j++) {           /* V = A^-1 Cpsi A^-1 */
        for (int i = 0; i < D; i++)
            col[i] = Cpsi[i * D + j];
        spd_solve(A, col, sol);
        for (int i = 0; i < D; i++)
            V[i * D + j] = sol[i];
    }
    for (int i = 0; i < D; i++) {
        for (int j = 0; j < D; j++)
            col[j] = V[i * D + j];
        spd_solve(A, col, sol);
        for (int j = 0; j < D; j++)
            V[i * D + j] = sol[j];
    }
    double w2 = dotv(e->w1, e->w1), trPVP = 0, Vw[D];
    for (int i = 0; i < D; i++)
        Vw[i] = dotv(V + i * D, e->w1);
    for (int i = 0; i < D; i++)
        trPVP += V[i * D + i];
    trPVP -= dotv(e->w1, Vw) / w2;
    double expect = trPVP * (1 / (double)n + 1 / n_avg) / (2 * w2);
    double got = one_minus_cos(run->w_avg, e->w1);
    printf("linear SGD: 1 - cos(w_avg, w1) = %.3g, expected %.3g from n = %zu and "
           "N_avg = %.0f; final iterate %.3g\n", got, expect, n, n_avg,
           1 - run->overlap[HL_PERC_N_REFS + HL_PERC_REF_LINEAR]);
    assert_true(got < 6 * expect);
    /* the sandwich error is what SGD noise does: not orders of magnitude below it */
    assert_true(got > expect / 100);
    /* the linear perceptron's minimiser is also the exact stationary point */
    assert_true(dist(e->w_star, e->w1) < 1e-10 * sqrt(w2));
    assert_int_equal(run->epochs, 0);
    hl_perc_run_free(run);
    hl_perc_expansion_free(e);
    dataset_free(&d);
    hl_task_free(task);
    hl_mixture_free(mix);
    free(Xp), free(yp), free(lab);
}

/* ---- (2) Mean first, then Fisher -------------------------------------------------- */

static void test_mean_then_fisher(void **state)
{
    (void)state;
    model md = {.mscale = 0.5, .cv = 0, .s = 0, .p_plus = 0.5, .lat = LAT_GAUSS};
    dataset d, t;
    dataset_make(&d, &md, 50000, 31);
    dataset_make(&t, &md, 10000, 32);
    hl_perc_expansion *e = expand(&d, 0, 0, 0);
    double cmf = hl_perc_cosine(D, e->w0, e->fisher);
    hl_perc_train_params p;
    hl_perc_train_defaults(&p);
    p.beta = 0;
    p.eta = 5e-5;
    double times[8] = {0.1, 0.3, 1, 3, 10, 20, 50, 100};
    p.times = times;
    p.n_times = 8;
    p.seed = 33;
    hl_perc_run *run = NULL;
    if (hl_perc_train_array(&p, d.X, d.y, d.n, D, e, t.X, t.y, t.n, &run) != HL_OK)
        fail_msg("train: %s", hl_error_message());
    printf("cos(m, fisher) = %.3f\n", cmf);
    for (size_t j = 0; j < 8; j++) {
        const double *ov = run->overlap + j * HL_PERC_N_REFS;
        printf("t = %6.2f: cos(w, m) = %.3f, cos(w, fisher) = %.3f, test error %.4f\n",
               run->t[j], ov[HL_PERC_REF_MEAN], ov[HL_PERC_REF_FISHER], run->test_error[j]);
    }
    assert_true(cmf < 0.8);   /* the covariance is anisotropic enough to matter */
    /* early (w ~ alpha t m + noise, |noise|^2 / |alpha t m|^2 ~ tr S / (steps |m|^2) =
     * 0.03 at t = 0.1): the mean wins by far more than that */
    for (size_t j = 0; j < 2; j++) {
        const double *ov = run->overlap + j * HL_PERC_N_REFS;
        assert_true(ov[HL_PERC_REF_MEAN] > 0.9);
        assert_true(ov[HL_PERC_REF_MEAN] - ov[HL_PERC_REF_FISHER] > 0.1);
    }
    /* late: Fisher's direction wins, the test error falls to Fisher's own */
    for (size_t j = 6; j < 8; j++) {
        const double *ov = run->overlap + j * HL_PERC_N_REFS;
        assert_true(ov[HL_PERC_REF_FISHER] > 0.98);
        assert_true(ov[HL_PERC_REF_FISHER] - ov[HL_PERC_REF_MEAN] > 0.1);
    }
    double se = sqrt(0.25 / (double)t.n);   /* binomial SE of an error near 1/2 */
    assert_true(run->test_error[7] < run->ref_test_error[HL_PERC_REF_FISHER] + 4 * se);
    assert_true(run->ref_test_error[HL_PERC_REF_FISHER] <
                run->ref_test_error[HL_PERC_REF_MEAN] - 4 * se);
    assert_true(run->test_error[0] > run->test_error[7] + 4 * se);
    hl_perc_run_free(run);
    hl_perc_expansion_free(e);
    dataset_free(&d);
    dataset_free(&t);
}

/* ---- (3) Non-Gaussian classes -------------------------------------------------------- */

static void test_cumulant_analytic(void **state)
{
    (void)state;
    /* noise s xi v: dT = s^4 kappa4 v^4 in both classes, K(w) = s^4 kappa4 (v.w)^3 v */
    double mu[D], v[D], v2[D], sig[D];
    shapes(1, mu, v, v2, sig);
    latent lats[2] = {LAT_LAPLACE, LAT_RADEMACHER};
    for (int l = 0; l < 2; l++) {
        model md = {.mscale = 0.3, .cv = 1, .s = 1.5, .p_plus = 0.5, .lat = lats[l]};
        dataset d;
        dataset_make(&d, &md, 100000, 41 + l);
        double w[D], kt[D], zmax, z2;
        for (int i = 0; i < D; i++)
            w[i] = 0.5 * v[i] + 0.1 * sig[i];
        double wv = dotv(w, v), k4 = pow(md.s, 4) * latent_kappa4(md.lat);
        for (int i = 0; i < D; i++)
            kt[i] = k4 * wv * wv * wv * v[i];
        k4_zscores(d.st, w, kt, &zmax, &z2);
        printf("%s: K vs analytic max |z| = %.2f, mean z^2 = %.2f\n",
               l ? "rademacher" : "laplace", zmax, z2);
        assert_true(zmax < 4.5);
        assert_true(z2 > 0.3 && z2 < 2.5);
        /* and the contraction is far from zero: a factor 2 in K would show as |z| > 5 */
        double K[D], se[D];
        assert_int_equal(hl_perc_cumulants(d.st, 1, w, K, se, NULL), HL_OK);
        double zk = 0;
        for (int i = 0; i < D; i++)
            zk = fmax(zk, fabs(kt[i]) / se[i]);
        printf("  largest |K| / SE = %.1f\n", zk);
        assert_true(zk > 10);
        dataset_free(&d);
    }

    /* Calibration of the standard error itself: its mean over R independent sets
     * against the spread of the estimates (relative SE of an sd from R sets:
     * 1 / sqrt(2 (R - 1))), on skewed and heavy-tailed classes. */
    enum { R = 40 };
    model md = {.mscale = 0.3, .cv = 1, .s = 1.5, .s2 = 1, .p_plus = 0.5, .lat = LAT_LAPLACE};
    double w[D], sum[D] = {0}, sum2[D] = {0}, se_mean[D] = {0};
    for (int i = 0; i < D; i++)
        w[i] = 0.3 * v[i] + 0.2 * v2[i] + 0.1 * sig[i];
    for (int rep = 0; rep < R; rep++) {
        dataset d;
        dataset_make(&d, &md, 4000, 100 + rep);
        double K[D], se[D];
        assert_int_equal(hl_perc_cumulants(d.st, 1, w, K, se, NULL), HL_OK);
        for (int i = 0; i < D; i++) {
            sum[i] += K[i];
            sum2[i] += K[i] * K[i];
            se_mean[i] += se[i] / R;
        }
        dataset_free(&d);
    }
    double ratio = 0;
    for (int i = 0; i < D; i++) {
        double sd = sqrt((sum2[i] - sum[i] * sum[i] / R) / (R - 1));
        ratio += sd / se_mean[i] / D;
    }
    double tol = 3 / sqrt(2.0 * (R - 1));
    printf("SE calibration: <sd over %d sets / mean SE> = %.3f (tolerance %.2f)\n", R, ratio,
           tol);
    assert_true(fabs(ratio - 1) < tol);

    /* The same along a single site of Gaussian classes with a diagonal covariance, w =
     * e_0: there K_0 is the sample kurtosis of site 0, whose SE (variance 24 q^4 / n)
     * needs every Gaussian-part term of the influence function. */
    enum { R1 = 400 };
    model g = {.mscale = 0.3, .cv = 0, .s = 0, .p_plus = 0.5, .lat = LAT_GAUSS};
    double e0[D] = {1}, s1 = 0, s2 = 0, se2 = 0;
    for (int rep = 0; rep < R1; rep++) {
        dataset d;
        dataset_make(&d, &g, 2000, 1000 + rep);
        double K[D], se[D];
        assert_int_equal(hl_perc_cumulants(d.st, -1, e0, K, se, NULL), HL_OK);
        s1 += K[0];
        s2 += K[0] * K[0];
        se2 += se[0] * se[0] / R1;
        dataset_free(&d);
    }
    /* the rms SE: the mean of SE^2 is unbiased where the mean SE is not (Jensen) */
    double sd = sqrt((s2 - s1 * s1 / R1) / (R1 - 1)), tol1 = 3 / sqrt(2.0 * (R1 - 1));
    double q = sig[0] * sig[0], n_minus = 1000;   /* about half of the 2000 samples */
    printf("site kurtosis: sd over %d sets / rms SE = %.3f (tolerance %.2f); rms SE / "
           "sqrt(24 q^4 / n_-) = %.2f\n", R1, sd / sqrt(se2), tol1,
           sqrt(se2 / (24 * q * q * q * q / n_minus)));
    assert_true(fabs(sd / sqrt(se2) - 1) < tol1);
}

static void test_cumulant_se_jackknife(void **state)
{
    (void)state;
    /* The influence-function SE against the jackknife of the same estimate, recomputed
     * without each sample of the class in turn: both are first-order expansions of the
     * same statistic and agree to O(1/n) (0.8% here), on a strongly skewed, light-tailed
     * class where the centring terms -k3 z - 3 u T3 w^2 carry 20-70% of the SE. */
    double mu[D], v[D], v2[D], sig[D];
    shapes(1, mu, v, v2, sig);
    model md = {.mscale = 0.3, .cv = 1, .s = 0.5, .s2 = 1.5, .p_plus = 0.5,
                .lat = LAT_LAPLACE};
    size_t n = 2000;
    dataset d;
    dataset_make(&d, &md, n, 5);
    float *Xl = malloc(sizeof(float) * n * D), *yl = malloc(sizeof(float) * n);
    double w[D], K[D], se[D], sum[D] = {0}, sum2[D] = {0};
    for (int i = 0; i < D; i++)
        w[i] = v2[i] + 0.1 * v[i] + 0.05 * sig[i];
    assert_int_equal(hl_perc_cumulants(d.st, 1, w, K, se, NULL), HL_OK);
    double m = 0;
    for (size_t k = 0; k < n; k++) {
        if (d.y[k] < 0)
            continue;
        size_t r = 0;
        for (size_t j = 0; j < n; j++)
            if (j != k) {
                memcpy(Xl + r * D, d.X + j * D, sizeof(float) * D);
                yl[r++] = d.y[j];
            }
        hl_perc_stats *sl = NULL;
        assert_int_equal(hl_perc_stats_compute(Xl, yl, n - 1, D, &sl), HL_OK);
        double Kl[D];
        assert_int_equal(hl_perc_cumulants(sl, 1, w, Kl, NULL, NULL), HL_OK);
        for (int i = 0; i < D; i++) {
            sum[i] += Kl[i];
            sum2[i] += Kl[i] * Kl[i];
        }
        m++;
        hl_perc_stats_free(sl);
    }
    double worst = 0;
    for (int i = 0; i < D; i++) {
        double jack = sqrt((sum2[i] - sum[i] * sum[i] / m) * (m - 1) / m);
        worst = fmax(worst, fabs(jack / se[i] - 1));
    }
    printf("jackknife: largest |SE_jack / SE - 1| = %.4f over %d sites\n", worst, D);
    assert_true(worst < 0.02);
    free(Xl);
    free(yl);
    dataset_free(&d);
}

static void test_expansion_matches_exact_stationary_point(void **state)
{
    (void)state;
    /* Skewed class +, heavy tails in both, unequal classes (non-zero global mean): every
     * part of d = w3 - w1 is exercised. d is the derivative of w_star(beta) at 0:
     * central differences agree to O(beta^2), and |w_star - w3| scales as beta^2. */
    model md = {.mscale = 0.3, .cv = 1, .s = 1.5, .s2 = 1, .p_plus = 0.6, .lat = LAT_LAPLACE};
    dataset d;
    dataset_make(&d, &md, 20000, 51);
    double beta = 0.02;
    hl_perc_expansion *ep = expand(&d, beta, 0, 0), *em = expand(&d, -beta, 0, 0);
    hl_perc_expansion *eh = expand(&d, beta / 2, 0, 0);
    assert_true(ep->star_converged && em->star_converged && eh->star_converged);
    /* Newton from w3, whose error is O(beta^2), converges quadratically */
    assert_true(ep->star_iter <= 4 && em->star_iter <= 4 && eh->star_iter <= 4);
    double fd[D], dd[D];
    for (int i = 0; i < D; i++) {
        fd[i] = 0.5 * (ep->w_star[i] - em->w_star[i]);
        dd[i] = ep->w3[i] - ep->w1[i];
    }
    double nd = sqrt(dotv(dd, dd));
    double rel = dist(fd, dd) / nd;
    double e1 = dist(ep->w_star, ep->w3), e2 = dist(eh->w_star, eh->w3);
    printf("beta = %g: |d_gauss| %.3g |d_skew| %.3g |d_kurt| %.3g; |fd - d| / |d| = %.2e; "
           "|w* - w3|: %.3g (beta), %.3g (beta/2), ratio %.2f\n", beta,
           sqrt(dotv(ep->d_gauss, ep->d_gauss)), sqrt(dotv(ep->d_skew, ep->d_skew)),
           sqrt(dotv(ep->d_kurt, ep->d_kurt)), rel, e1, e2, e1 / e2);
    /* each part is well above the tolerance, so an error in any one would show */
    assert_true(sqrt(dotv(ep->d_skew, ep->d_skew)) > 0.05 * nd);
    assert_true(sqrt(dotv(ep->d_kurt, ep->d_kurt)) > 0.05 * nd);
    assert_true(rel < 1e-3);
    assert_true(e1 / e2 > 3.5 && e1 / e2 < 4.5);
    assert_true(one_minus_cos(ep->w1, ep->fisher) > 1e-6);   /* global mean != 0 */
    /* the loss at w3 is below that at w1 and above the minimum */
    assert_true(ep->loss_star <= ep->loss_w3 && ep->loss_w3 < ep->loss_w1);
    assert_true(ep->star_grad < 1e-10);
    hl_perc_expansion_free(ep);
    hl_perc_expansion_free(em);
    hl_perc_expansion_free(eh);

    /* beta = 0 with weight decay: w_star is alpha (alpha^2 S + lambda)^-1 m */
    hl_perc_expansion *e0 = expand(&d, 0, 0, 0.5), *e00 = expand(&d, 0, 0, 0);
    double A[D * D], w1[D];
    for (int i = 0; i < D * D; i++)
        A[i] = HL_CUBIC_ALPHA * HL_CUBIC_ALPHA * d.st->S[i] + (i % (D + 1) == 0 ? 0.5 : 0);
    spd_solve(A, d.st->m, w1);
    for (int i = 0; i < D; i++)
        w1[i] *= HL_CUBIC_ALPHA;
    assert_true(dist(e0->w1, w1) < 1e-12 * sqrt(dotv(w1, w1)));
    assert_true(dist(e0->w_star, w1) < 1e-9 * sqrt(dotv(w1, w1)));
    assert_true(dist(e0->w1, e00->w1) > 0.1 * sqrt(dotv(w1, w1)));
    /* SGD with the same weight decay goes there, not to the undecayed w1 */
    hl_perc_train_params p;
    hl_perc_train_defaults(&p);
    p.beta = 0;
    p.ridge = 0.5;
    double times[2] = {0, 1000};
    p.times = times;
    p.n_times = 2;
    hl_perc_run *run = NULL;
    assert_int_equal(hl_perc_train_array(&p, d.X, d.y, d.n, D, e0, NULL, NULL, 0, &run),
                     HL_OK);
    printf("ridge SGD: |w_avg - w1(ridge)| = %.3g, |w1(ridge) - w1(0)| = %.3g\n",
           dist(run->w_avg, w1), dist(w1, e00->w1));
    assert_true(dist(run->w_avg, w1) < 0.1 * dist(w1, e00->w1));
    hl_perc_run_free(run);
    hl_perc_expansion_free(e0);
    hl_perc_expansion_free(e00);
    dataset_free(&d);
}

static void test_cubic_sgd_follows_cumulant(void **state)
{
    (void)state;
    /* Laplace noise along v, which also carries part of the mean: the fourth cumulant
     * turns the cubic perceptron's weight away from w1. Symmetric classes with a shared
     * covariance: the Gaussian correction alone would keep w1's direction. */
    model md = {.mscale = 0.2, .cv = 3, .s = 1.2, .p_plus = 0.5, .lat = LAT_LAPLACE};
    enum { Q = 4 };
    dataset d, t;
    size_t n = 1000000, nq = n / Q;
    dataset_make(&d, &md, n, 61);
    dataset_make(&t, &md, 20000, 63);
    hl_perc_expansion *e = expand(&d, HL_CUBIC_BETA, 1, 0);
    /* the cumulant's part is significant */
    printf("laplace: chi2(Kbar) = %.1f (D = %d)\n", e->kurt_chi2, D);
    assert_true(e->kurt_chi2 > D + 10 * sqrt(2.0 * D));
    assert_true(e->star_converged && e->star_iter <= 8);
    double star_w1 = one_minus_cos(e->w_star, e->w1);
    double star_w3 = one_minus_cos(e->w_star, e->w3);
    double star_clone = one_minus_cos(e->w_star, e->w3_clone);
    /* Sampling error of the prediction's direction: the scatter of the unit vectors
     * w3 / |w3| of the Q quarters of the set, sum_k |u_k - u_mean|^2 / (Q - 1), is the
     * angular variance at n / Q samples; Q times less at n. The effect: the angle
     * between w1 and w3, theta^2 = 2 (1 - cos). */
    double u[Q][D], ubar[D] = {0}, scatter = 0;
    for (int k = 0; k < Q; k++) {
        dataset h = {.n = nq, .X = d.X + k * nq * D, .y = d.y + k * nq};
        assert_int_equal(hl_perc_stats_compute(h.X, h.y, nq, D, &h.st), HL_OK);
        hl_perc_expansion *eq = expand(&h, HL_CUBIC_BETA, 0, 0);
        double nw = sqrt(dotv(eq->w3, eq->w3));
        for (int i = 0; i < D; i++) {
            u[k][i] = eq->w3[i] / nw;
            ubar[i] += u[k][i] / Q;
        }
        hl_perc_expansion_free(eq);
        hl_perc_stats_free(h.st);
    }
    for (int k = 0; k < Q; k++)
        for (int i = 0; i < D; i++)
            scatter += (u[k][i] - ubar[i]) * (u[k][i] - ubar[i]) / (Q - 1);
    double theta_se = sqrt(scatter / Q), effect = one_minus_cos(e->w1, e->w3);
    double theta = sqrt(2 * effect);
    printf("1 - cos: (w*, w1) %.3g, (w*, w3) %.3g, (w*, clone) %.3g, (w1, w3) %.3g: "
           "angle(w1, w3) = %.4f = %.1f SE\n", star_w1, star_w3, star_clone, effect, theta,
           theta / theta_se);
    assert_true(star_w3 < 0.1 * star_w1);
    assert_true(star_w3 < 0.1 * star_clone);
    assert_true(theta > 5 * theta_se);

    /* SGD on the array, Polyak-averaged, two seeds: their disagreement is the SGD noise */
    hl_perc_train_params p;
    hl_perc_train_defaults(&p);
    p.eta = 0.001;
    double times[3] = {0, 10, 3000};
    p.times = times;
    p.n_times = 3;
    hl_perc_run *r1 = NULL, *r2 = NULL;
    p.seed = 64;
    if (hl_perc_train_array(&p, d.X, d.y, d.n, D, e, t.X, t.y, t.n, &r1) != HL_OK)
        fail_msg("train: %s", hl_error_message());
    p.seed = 65;
    assert_int_equal(hl_perc_train_array(&p, d.X, d.y, d.n, D, e, t.X, t.y, t.n, &r2),
                     HL_OK);
    double noise = one_minus_cos(r1->w_avg, r2->w_avg);
    double to_w1 = 1 - r1->avg_overlap[HL_PERC_REF_LINEAR];
    double to_w3 = 1 - r1->avg_overlap[HL_PERC_REF_W3];
    double to_clone = 1 - r1->avg_overlap[HL_PERC_REF_CLONE];
    printf("SGD (%llu epochs): 1 - cos(w_avg, .): w1 %.3g, w3 %.3g, clone %.3g, w* %.3g; "
           "two seeds %.3g; test error %.4f (w1 %.4f, w3 %.4f)\n", r1->epochs, to_w1, to_w3,
           to_clone, 1 - r1->avg_overlap[HL_PERC_REF_STAR], noise, r1->avg_test_error,
           r1->ref_test_error[HL_PERC_REF_LINEAR], r1->ref_test_error[HL_PERC_REF_W3]);
    assert_true(to_w3 < 0.15 * to_w1);
    assert_true(to_w3 < 0.15 * to_clone);
    assert_true(to_w1 - to_w3 > 20 * noise);
    /* and SGD lands on the exact stationary point, within its own noise */
    assert_true(1 - r1->avg_overlap[HL_PERC_REF_STAR] < 0.05 * to_w1);
    assert_true(1 - r1->avg_overlap[HL_PERC_REF_STAR] < 5 * noise);
    assert_int_equal(r1->epochs, 3);   /* 3 M steps over 1 M samples */
    hl_perc_run_free(r1);
    hl_perc_run_free(r2);
    hl_perc_expansion_free(e);
    dataset_free(&d);
    dataset_free(&t);
}

/* ---- (4) Error paths ---------------------------------------------------------------- */

static void expect_einval(int rc, const char *word)
{
    assert_int_equal(rc, HL_EINVAL);
    if (!strstr(hl_error_message(), word))
        fail_msg("message '%s' does not name '%s'", hl_error_message(), word);
}

static void test_errors(void **state)
{
    (void)state;
    model md = {.mscale = 0.3, .cv = 1, .s = 1, .p_plus = 0.5, .lat = LAT_GAUSS};
    enum { N = 200 };
    float X[N * D], y[N];
    generate(&md, N, 71, X, y);
    hl_perc_stats *st = NULL;
    expect_einval(hl_perc_stats_compute(NULL, y, N, D, &st), "X");
    expect_einval(hl_perc_stats_compute(X, y, N, 0, &st), "D");
    float bad = y[5];
    y[5] = 0.5f;
    expect_einval(hl_perc_stats_compute(X, y, N, D, &st), "y[5]");
    y[5] = bad;
    expect_einval(hl_perc_stats_compute(X, y, 1, D, &st), "class");
    float keep = X[17];
    X[17] = NAN;
    expect_einval(hl_perc_stats_compute(X, y, N, D, &st), "X[17]");
    X[17] = keep;
    assert_null(st);
    assert_int_equal(hl_perc_stats_compute(X, y, N, D, &st), HL_OK);

    double w[D] = {1}, K[D];
    expect_einval(hl_perc_cumulants(st, 2, w, K, NULL, NULL), "label");
    w[3] = INFINITY;
    expect_einval(hl_perc_cumulants(st, 1, w, K, NULL, NULL), "w[3]");

    hl_perc_options o;
    hl_perc_expansion *e = NULL;
    const char *words[] = {"alpha", "beta", "ridge", "full_se", "newton_iter", "newton_tol"};
    for (size_t c = 0; c < sizeof words / sizeof *words; c++) {
        hl_perc_options_default(&o);
        switch (c) {
        case 0: o.alpha = 0; break;
        case 1: o.beta = NAN; break;
        case 2: o.ridge = -1; break;
        case 3: o.full_se = 2; break;
        case 4: o.newton_iter = -1; break;
        default: o.newton_tol = 0; break;
        }
        expect_einval(hl_perc_expand(st, &o, &e), words[c]);
        assert_null(e);
    }
    /* a constant pixel: S is singular (HL_ENUMERIC naming ridge); ridge repairs it */
    float Xc[N * D];
    memcpy(Xc, X, sizeof Xc);
    for (int k = 0; k < N; k++)
        Xc[k * D + 4] = 0;
    hl_perc_stats *sc = NULL;
    assert_int_equal(hl_perc_stats_compute(Xc, y, N, D, &sc), HL_OK);
    hl_perc_options_default(&o);
    assert_int_equal(hl_perc_expand(sc, &o, &e), HL_ENUMERIC);
    assert_non_null(strstr(hl_error_message(), "ridge"));
    o.ridge = 1e-3;
    assert_int_equal(hl_perc_expand(sc, &o, &e), HL_OK);
    assert_true(fabs(e->w1[4]) < 1e-12 && fabs(e->w3[4]) < 1e-12);
    hl_perc_expansion_free(e);
    hl_perc_stats_free(sc);

    hl_perc_options_default(&o);
    assert_int_equal(hl_perc_expand(st, &o, &e), HL_OK);
    hl_perc_train_params p;
    double times[3] = {0, 1, 2};
    hl_perc_run *run = NULL;
#define TRAIN() hl_perc_train_array(&p, X, y, N, D, e, X, y, N, &run)
    hl_perc_train_defaults(&p);
    p.times = times;
    p.n_times = 3;
    p.eta = 0;
    expect_einval(TRAIN(), "eta");
    hl_perc_train_defaults(&p);
    p.times = times;
    p.n_times = 3;
    times[1] = 5;
    expect_einval(TRAIN(), "times");
    times[1] = 1;
    p.average_from = 1;
    expect_einval(TRAIN(), "average_from");
    p.average_from = 0.5;
    p.std0 = -1;
    expect_einval(TRAIN(), "std0");
    p.std0 = 0;
    p.ridge = -1;
    expect_einval(TRAIN(), "ridge");
    p.ridge = 0;
    p.n_times = 0;
    expect_einval(TRAIN(), "times");
    p.n_times = 3;
    expect_einval(hl_perc_train_array(&p, X, y, N, D - 1, e, NULL, NULL, 0, &run), "D");
    y[3] = 2;
    expect_einval(hl_perc_train_array(&p, X, y, N, D, e, NULL, NULL, 0, &run), "y[3]");
    expect_einval(hl_perc_train_array(&p, X, y + 3 - 3, N, D, NULL, X, y, N, &run), "y");
    y[3] = 1;
    float yt[4] = {1, -1, 0, 1};
    expect_einval(hl_perc_train_array(&p, X, y, N, D, e, X, yt, 4, &run), "ytest[2]");
    expect_einval(hl_perc_train_task(&p, NULL, e, NULL, NULL, 0, &run), "task");
    assert_null(run);
    /* a learning rate far past stability diverges, and says so */
    p.eta = 50;
    times[1] = 1000, times[2] = 2000;
    assert_int_equal(TRAIN(), HL_EDIVERGED);
    assert_non_null(strstr(hl_error_message(), "diverged"));
    assert_null(run);
    /* without an expansion or a test set the overlaps and errors are NaN */
    p.eta = 0.01;
    times[1] = 1, times[2] = 2;
    assert_int_equal(hl_perc_train_array(&p, X, y, N, D, NULL, NULL, NULL, 0, &run), HL_OK);
    assert_true(isnan(run->overlap[HL_PERC_N_REFS]) && isnan(run->test_error[1]));
    assert_true(run->norm[1] > 0 && run->norm[0] == 0);
    hl_perc_run_free(run);
#undef TRAIN
    assert_string_equal(hl_perc_ref_name(HL_PERC_REF_W3), "w3");
    assert_null(hl_perc_ref_name(HL_PERC_N_REFS));
    assert_true(isnan(hl_perc_cosine(D, w, (double[D]){0})));
    hl_perc_expansion_free(e);
    hl_perc_stats_free(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gaussian_classes),
        cmocka_unit_test(test_linear_sgd_converges_to_w1),
        cmocka_unit_test(test_mean_then_fisher),
        cmocka_unit_test(test_cumulant_analytic),
        cmocka_unit_test(test_cumulant_se_jackknife),
        cmocka_unit_test(test_expansion_matches_exact_stationary_point),
        cmocka_unit_test(test_cubic_sgd_follows_cumulant),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
