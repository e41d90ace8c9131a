/* moments.h — the marginal moments that the statistical tests compare with exact
 * values, with standard errors that respect the correlation between sites: each
 * sample's site average is one observation, and the error is their spread. */
#ifndef HOCLAB_TEST_MOMENTS_H
#define HOCLAB_TEST_MOMENTS_H

#include <math.h>
#include <stddef.h>

typedef struct {
    double mean, se;
} stat;

/* <x^2> and <x^4> - 3 over n samples of D sites (the excess kurtosis when the exact
 * variance is 1). */
static inline void marginal_moments(const float *x, size_t n, size_t D, stat *var, stat *kurt)
{
    double s2 = 0, s22 = 0, s4 = 0, s44 = 0;
    for (size_t m = 0; m < n; m++) {
        double a2 = 0, a4 = 0;
        for (size_t i = 0; i < D; i++) {
            double v = x[m * D + i];
            a2 += v * v;
            a4 += v * v * v * v;
        }
        a2 /= D;
        a4 /= D;
        s2 += a2;
        s22 += a2 * a2;
        s4 += a4;
        s44 += a4 * a4;
    }
    var->mean = s2 / n;
    var->se = sqrt(fmax(s22 / n - var->mean * var->mean, 0) / (n - 1));
    double m4 = s4 / n;
    kurt->mean = m4 - 3;
    kurt->se = sqrt(fmax(s44 / n - m4 * m4, 0) / (n - 1));
}

#endif
