/* simplicity_impl.h — private pieces shared by the two-class (simplicity.c) and
 * ten-class (multiclass.c) simplicity-bias runs, so both measure at the same times. */
#ifndef HOCLAB_NET_SIMPLICITY_IMPL_H
#define HOCLAB_NET_SIMPLICITY_IMPL_H

#include <stddef.h>

/* Step 0, then n - 1 log-spaced steps from 1 to S, rounded, repeats dropped; returns
 * how many (steps has room for n + 1). */
int hl_simp_log_steps(long long S, int n, long long *steps);

/* Check a run's time, n_meas (2..10000), n_test (>= 1) and input map (finite, scale
 * nonzero); the message starts with `who` and names the field. */
int hl_simp_check_plan(const char *who, double time, int n_meas, size_t n_test,
                       double shift, double scale);

/* X <- (X - shift) * scale, in place. */
void hl_simp_affine(float *X, size_t n, float shift, float scale);

#endif
