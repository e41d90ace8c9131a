/* vecmath.c — the elementwise kernels of the samplers, vectorised.
 *
 * glibc's libmvec has SSE/AVX2/AVX-512 versions of erff, tanhf, logf, sinf and cosf;
 * GCC calls them from loops marked `omp simd` once the scalar functions are declared
 * `declare simd` (glibc only declares them so under -ffast-math, which we avoid).
 * target_clones builds an AVX2+FMA copy next to the baseline one and picks it at load
 * time on machines that have it. The results are deterministic on a given machine. */
#include "sampler_impl.h"

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

#define HL_CLONES __attribute__((target_clones("arch=haswell", "default")))

/* Chunk so that the radius and angle arrays stay in L1. */
enum { BM_CHUNK = 512 };

HL_CLONES void hl_vec_boxmuller(const uint32_t *w, size_t n, float *out)
{
    for (size_t c = 0; c < n; c += BM_CHUNK) {
        size_t m = n - c < BM_CHUNK ? n - c : BM_CHUNK;
        const uint32_t *a = w + 2 * c, *b = a + m;
        float *zc = out + c, *zs = out + n + c;
        float r[BM_CHUNK], t[BM_CHUNK];
        /* u1 in (0, 1] from 31 bits (the tail reaches 6.7 sigma), angle in [0, 2 pi). */
#pragma omp simd
        for (size_t i = 0; i < m; i++) {
            float u1 = ((float)(int32_t)(a[i] >> 1) + 0.5f) * 0x1p-31f;
            r[i] = sqrtf(-2.0f * logf(u1));
            t[i] = (float)(int32_t)(b[i] >> 1) * (float)(2 * M_PI * 0x1p-31);
        }
#pragma omp simd
        for (size_t i = 0; i < m; i++)
            zc[i] = r[i] * cosf(t[i]);
#pragma omp simd
        for (size_t i = 0; i < m; i++)
            zs[i] = r[i] * sinf(t[i]);
    }
}

HL_CLONES void hl_vec_erf(float *x, size_t n, float a, float s)
{
#pragma omp simd
    for (size_t i = 0; i < n; i++)
        x[i] = erff(a * x[i]) * s;
}

HL_CLONES void hl_vec_tanh(float *x, size_t n, float a, float s)
{
#pragma omp simd
    for (size_t i = 0; i < n; i++)
        x[i] = tanhf(a * x[i]) * s;
}

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
