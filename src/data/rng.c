/* rng.c — Philox4x32 streams behind the gsl_rng interface.
 *
 * Random123 ships GSL_MICRORNG, which turns a counter-based generator into a GSL
 * generator type; we only decide how (seed, stream, substream) map onto its key and
 * counter: key = seed, counter words 0-1 = stream id, word 2 = substream. Word 3 is
 * the position inside the substream, advanced by the micro-RNG itself. */
#include "hoclab/rng.h"
#include "hoclab/error.h"
#include "sampler_impl.h"

#include <Random123/philox.h>
#include <Random123/gsl_microrng.h>
#include <gsl/gsl_randist.h>
#include <stdlib.h>
#include <string.h>

GSL_MICRORNG(hl_philox, philox4x32);

/* The stream identity, kept so that substreams can be re-derived. */
typedef struct {
    uint64_t seed, stream;
} stream_id;

static void reset(gsl_rng *r, const stream_id *id, uint32_t sub)
{
    philox4x32_ctr_t c = {{(uint32_t)id->stream, (uint32_t)(id->stream >> 32), sub, 0}};
    philox4x32_key_t k = {{(uint32_t)id->seed, (uint32_t)(id->seed >> 32)}};
    hl_philox_reset(r, c, k);
}

/* gsl_rng has no field for user data, so the generator is embedded as the first
 * member of a larger block that also holds the stream identity. */
typedef struct {
    gsl_rng rng;
    stream_id id;
} hl_rng_block;

gsl_rng *hl_rng_alloc(uint64_t seed, uint64_t stream)
{
    gsl_rng *g = gsl_rng_alloc(gsl_rng_hl_philox);
    if (!g) {
        hl_error_set(HL_ENOMEM, "cannot allocate a random stream");
        return NULL;
    }
    hl_rng_block *b = malloc(sizeof *b);
    if (!b) {
        gsl_rng_free(g);
        hl_error_set(HL_ENOMEM, "cannot allocate a random stream");
        return NULL;
    }
    b->rng = *g;         /* take over type and state pointer */
    free(g);             /* the shell only; the state now belongs to b->rng */
    b->id.seed = seed;
    b->id.stream = stream;
    reset(&b->rng, &b->id, 0);
    return &b->rng;
}

void hl_rng_substream(gsl_rng *r, uint32_t sub)
{
    hl_rng_block *b = (hl_rng_block *)r;
    reset(r, &b->id, sub);
}

void hl_rng_free(gsl_rng *r)
{
    if (!r)
        return;
    free(r->state);
    free(r);
}

double hl_rng_gaussian(gsl_rng *r, double sigma)
{
    return gsl_ran_gaussian_ziggurat(r, sigma);
}

/* 4 nb words of the stream: the next nb Philox blocks, generated together (see
 * hl_vec_philox). Words left over from gsl_rng_get() calls are skipped, so the result
 * depends only on how many blocks the stream has used. */
static void fill_blocks(gsl_rng *g, size_t nb, uint32_t *w)
{
    hl_philox_state *st = g->state;
    uint32_t key[2] = {st->key.v[0], st->key.v[1]};
    hl_vec_philox(st->ctr.v, key, (uint32_t)st->n, nb, w);
    st->n += nb;
    st->elem = 0;
}

enum { NORMAL_CHUNK = 1024 }; /* normals per pass, a multiple of 4 */

void hl_rng_normals(gsl_rng *r, size_t n, float *out)
{
    /* Normal k of a call comes from Philox block k / 4 after the stream's position, so
     * the first m of n draws are the m draws of a call asking for m. */
    uint32_t w[NORMAL_CHUNK];
    float z[NORMAL_CHUNK];
    for (size_t done = 0; done < n;) {
        size_t m = n - done < NORMAL_CHUNK ? n - done : NORMAL_CHUNK, nb = (m + 3) / 4;
        fill_blocks(r, nb, w);
        if (m == 4 * nb) {
            hl_vec_boxmuller(w, nb, out + done);
        } else { /* the last block's spare normals are dropped */
            hl_vec_boxmuller(w, nb, z);
            memcpy(out + done, z, sizeof(float) * m);
        }
        done += m;
    }
}
