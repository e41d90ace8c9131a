/* vecmath.c — the elementwise kernels of the samplers, vectorised.
 *
 * glibc's libmvec has SSE/AVX2/AVX-512 versions of erff, tanhf, logf, sinf and cosf;
 * GCC calls them from loops marked `omp simd` once the scalar functions are declared
 * `declare simd` (glibc only declares them so under -ffast-math, which we avoid).
 * target_clones builds an AVX2 copy next to the baseline one and picks it at load
 * time on machines that have it. The results are deterministic on a given machine. */
#include "sampler_impl.h"

#include <Random123/philox.h>
#include <math.h>

#pragma omp declare simd notinbranch
float erff(float);
#pragma omp declare simd notinbranch
float tanhf(float);
#pragma omp declare simd notinbranch
float logf(float);
#pragma omp declare simd notinbranch
float sinf(float);
#pragma omp declare simd notinbranch
float cosf(float);

#define HL_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))

/* Random123's philox4x32 on nb consecutive counters at once: the rounds are the
 * library's own (inlined), the loop over counters is what vectorises (vpmuludq). */
HL_CLONES void hl_vec_philox(const uint32_t ctr[4], const uint32_t key[2], uint32_t n0,
                             size_t nb, uint32_t *w)
{
    philox4x32_ctr_t c0 = {{ctr[0], ctr[1], ctr[2], ctr[3]}};
    philox4x32_key_t k = {{key[0], key[1]}};
#pragma omp simd
    for (size_t b = 0; b < nb; b++) {
        philox4x32_ctr_t c = c0;
        c.v[3] |= n0 + (uint32_t)b;
        philox4x32_ctr_t x = philox4x32(c, k);
        w[b] = x.v[0];
        w[nb + b] = x.v[1];
        w[2 * nb + b] = x.v[2];
        w[3 * nb + b] = x.v[3];
    }
}

/* A uniform in (0, 1] from 31 bits (so the radius reaches 6.7 sigma), and an angle in
 * [0, 2 pi). */
static inline float u01_open(uint32_t w) { return ((float)(int32_t)(w >> 1) + 0.5f) * 0x1p-31f; }
static inline float angle(uint32_t w) { return (float)(int32_t)(w >> 1) * (float)(2 * M_PI * 0x1p-31); }

/* Vector libm and scalar libm may round differently, so every element goes through
 * the vector path: loops run over lengths padded to a multiple of PAD (the widest
 * vector), and tails are copied into a padded buffer. A number then does not depend
 * on where in an array it was computed. */
enum { PAD = 16, BM_CHUNK = 256 }; /* BM_CHUNK: blocks per pass, work arrays in L1 */

static inline size_t padded(size_t n) { return (n + PAD - 1) / PAD * PAD; }

HL_CLONES void hl_vec_boxmuller(const uint32_t *w, size_t nb, float *out)
{
    for (size_t c = 0; c < nb; c += BM_CHUNK) {
        size_t m = nb - c < BM_CHUNK ? nb - c : BM_CHUNK, n = padded(2 * m);
        const uint32_t *w0 = w + c, *w1 = w0 + nb, *w2 = w1 + nb, *w3 = w2 + nb;
        float u[2 * BM_CHUNK], t[2 * BM_CHUNK], zc[2 * BM_CHUNK], zs[2 * BM_CHUNK];
        for (size_t b = 0; b < m; b++) { /* exact conversions: no libm here */
            u[2 * b] = u01_open(w0[b]);
            t[2 * b] = angle(w1[b]);
            u[2 * b + 1] = u01_open(w2[b]);
            t[2 * b + 1] = angle(w3[b]);
        }
        for (size_t i = 2 * m; i < n; i++)
            u[i] = 1, t[i] = 0;
#pragma omp simd
        for (size_t i = 0; i < n; i++)
            u[i] = sqrtf(-2.0f * logf(u[i]));
#pragma omp simd
        for (size_t i = 0; i < n; i++)
            zc[i] = u[i] * cosf(t[i]);
#pragma omp simd
        for (size_t i = 0; i < n; i++)
            zs[i] = u[i] * sinf(t[i]);
        float *z = out + 4 * c;
        for (size_t i = 0; i < 2 * m; i++) {
            z[2 * i] = zc[i];
            z[2 * i + 1] = zs[i];
        }
    }
}

/* y = f(a x) * s over whole PAD-sized pieces; the tail through a padded copy. */
#define HL_VEC_MAP(fn)                                                                   \
    size_t body = n / PAD * PAD;                                                         \
    _Pragma("omp simd") for (size_t i = 0; i < body; i++) x[i] = fn(a * x[i]) * s;      \
    if (body < n) {                                                                      \
        float tail[PAD] = {0};                                                           \
        for (size_t i = body; i < n; i++)                                                \
            tail[i - body] = x[i];                                                       \
        _Pragma("omp simd") for (size_t i = 0; i < PAD; i++) tail[i] = fn(a * tail[i]) * s; \
        for (size_t i = body; i < n; i++)                                                \
            x[i] = tail[i - body];                                                       \
    }

HL_CLONES void hl_vec_erf(float *x, size_t n, float a, float s) { HL_VEC_MAP(erff) }

HL_CLONES void hl_vec_tanh(float *x, size_t n, float a, float s) { HL_VEC_MAP(tanhf) }

HL_CLONES void hl_vec_sign(float *x, size_t n, float s)
{
#pragma omp simd
    for (size_t i = 0; i < n; i++)
        x[i] = x[i] > 0 ? s : (x[i] < 0 ? -s : 0.0f);
}

HL_CLONES void hl_vec_scale_complex(float *x, const float *s, size_t n)
{
#pragma omp simd
    for (size_t k = 0; k < n; k++) {
        x[2 * k] *= s[k];
        x[2 * k + 1] *= s[k];
    }
}
