/* rng.h — reproducible random streams: Random123's Philox4x32 as a GSL generator.
 *
 * A stream is named by (seed, stream id); every GSL distribution (gsl_ran_*) can
 * draw from it. Streams are independent of each other and of the order in which
 * threads run, which is what makes results independent of the thread count: each
 * piece of work owns its stream. A stream is divided into substreams of 2^34
 * 32-bit words each (the counter space of Random123's GSL micro-RNG); long runs
 * move to a new substream at fixed points with hl_rng_substream(). */
#ifndef HOCLAB_RNG_H
#define HOCLAB_RNG_H

#include <gsl/gsl_rng.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Stream ids used by the trainer; other modules pick ids above HL_STREAM_USER. */
enum hl_stream {
    HL_STREAM_INIT = 1,   /* network initialisation */
    HL_STREAM_TRAIN = 2,  /* online training samples */
    HL_STREAM_TEST = 3,   /* held-out test set */
    HL_STREAM_USER = 1000
};

/* A gsl_rng positioned at the start of substream 0 of stream (seed, stream).
 * Returns NULL on allocation failure (hl_error_message() says so). */
gsl_rng *hl_rng_alloc(uint64_t seed, uint64_t stream);

/* Restart `r` at the beginning of substream `sub` of its stream. */
void hl_rng_substream(gsl_rng *r, uint32_t sub);

void hl_rng_free(gsl_rng *r);

/* A N(0, sigma^2) draw (GSL's ziggurat). Provided here so that code using OpenBLAS's
 * cblas.h need not include gsl_randist.h, whose gsl_cblas.h clashes with it. */
double hl_rng_gaussian(gsl_rng *r, double sigma);

/* n independent N(0, 1) draws into out: Box–Muller on whole Philox blocks, with
 * vectorised logarithm, sine and cosine (glibc's libmvec). This is what the samplers
 * use; it consumes the stream in blocks, so its numbers differ from n calls of
 * hl_rng_gaussian(). */
void hl_rng_normals(gsl_rng *r, size_t n, float *out);

#ifdef __cplusplus
}
#endif
#endif
