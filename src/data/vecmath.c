/* vecmath.c — the elementwise kernels of the samplers, vectorised.
 *
 * glibc's libmvec has SSE/AVX2/AVX-512 versions of erff, tanhf, logf, sinf and cosf;
 * GCC calls them from loops marked `omp simd` once the scalar functions are declared
 * `declare simd` (glibc only declares them so under -ffast-math, which we avoid).
 * target_clones builds an AVX2 copy next to the baseline one and picks it at load
 * time on machines that have it. The results are deterministic on a given machine. */
#include "vecmath.h"

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

/* clang (14) emits only NAME.ifunc for target_clones, not NAME itself, so the kernels
 * could not be called from other files: clang builds (the fuzzers) take the baseline. */
#ifdef __clang__
#define HL_CLONES
#else
#define HL_CLONES __attribute__((target_clones("avx512f", "arch=x86-64-v3", "default")))
#endif

/* Random123's philox4x32 (10 rounds) on nb consecutive counters at once. The rounds
 * are Random123's, written out on 64-bit lanes holding 32-bit words: then each
 * 32 x 32 -> 64-bit product is one vpmuludq and the high and low halves are a shift
 * and a mask, with no shuffles (about 1.3x faster than the library's inlined code in
 * the same loop). test_data checks it against philox4x32() bit for bit. */
HL_CLONES void hl_vec_philox(const uint32_t ctr[4], const uint32_t key[2], uint32_t n0,
                             size_t nb, uint32_t *w)
{
    const uint64_t lo32 = 0xffffffffu;
#pragma omp simd
    for (size_t b = 0; b < nb; b++) {
        uint64_t c0 = ctr[0], c1 = ctr[1], c2 = ctr[2], c3 = ctr[3] | (n0 + (uint32_t)b);
        uint64_t k0 = key[0], k1 = key[1];
        for (int r = 0; r < 10; r++) {
            uint64_t p0 = (uint64_t)PHILOX_M4x32_0 * c0, p1 = (uint64_t)PHILOX_M4x32_1 * c2;
            c0 = (p1 >> 32) ^ c1 ^ k0;
            c1 = p1 & lo32;
            c2 = (p0 >> 32) ^ c3 ^ k1;
            c3 = p0 & lo32;
            k0 = (k0 + PHILOX_W32_0) & lo32;
            k1 = (k1 + PHILOX_W32_1) & lo32;
        }
        w[b] = (uint32_t)c0;
        w[nb + b] = (uint32_t)c1;
        w[2 * nb + b] = (uint32_t)c2;
        w[3 * nb + b] = (uint32_t)c3;
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

/* ---- Kernels of the network (src/net) ---------------------------------------------- */

#pragma omp declare simd notinbranch
float expf(float);

HL_CLONES void hl_vec_erf_act(const float *h, size_t n, float *a, float *d)
{
    /* erf(h / sqrt 2) and its derivative sqrt(2/pi) exp(-h^2/2), through the vector
     * path for every element (padded tail, see PAD). */
    const float c = (float)M_SQRT1_2, alpha = 0.79788456080286535588f;
    size_t body = n / PAD * PAD;
#pragma omp simd
    for (size_t i = 0; i < body; i++) {
        a[i] = erff(c * h[i]);
        d[i] = alpha * expf(-0.5f * h[i] * h[i]);
    }
    if (body < n) {
        float th[PAD] = {0}, ta[PAD], td[PAD];
        for (size_t i = body; i < n; i++)
            th[i - body] = h[i];
#pragma omp simd
        for (size_t i = 0; i < PAD; i++) {
            ta[i] = erff(c * th[i]);
            td[i] = alpha * expf(-0.5f * th[i] * th[i]);
        }
        for (size_t i = body; i < n; i++) {
            a[i] = ta[i - body];
            d[i] = td[i - body];
        }
    }
}

HL_CLONES void hl_vec_tanh_act(const float *h, size_t n, float *a, float *d)
{
    size_t body = n / PAD * PAD;
#pragma omp simd
    for (size_t i = 0; i < body; i++) {
        a[i] = tanhf(h[i]);
        d[i] = 1 - a[i] * a[i];
    }
    if (body < n) {
        float th[PAD] = {0}, ta[PAD];
        for (size_t i = body; i < n; i++)
            th[i - body] = h[i];
#pragma omp simd
        for (size_t i = 0; i < PAD; i++)
            ta[i] = tanhf(th[i]);
        for (size_t i = body; i < n; i++) {
            a[i] = ta[i - body];
            d[i] = 1 - a[i] * a[i];
        }
    }
}

HL_CLONES float hl_vec_axpy_dot(float *w, float a, const float *x, const float *xn, size_t n)
{
    float dot = 0;
#pragma omp simd reduction(+ : dot)
    for (size_t i = 0; i < n; i++) {
        float u = w[i] + a * x[i];
        w[i] = u;
        dot += u * xn[i];
    }
    return dot;
}
