/* sampler.c — the sampling chain: penalty → temperature → top-k → softmax →
 * top-p → min-p → draw.  The random generator is per sampler (a 64-bit
 * PCG-style LCG with an xorshift output), so results depend only on the seed. */
#include "sampler.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    int32_t id;
    float   logit;
    float   p;
} candidate;

struct sq_sampler {
    sq_sampler_params p;
    int               n_vocab;
    uint64_t          rng;
    candidate        *cand;
};

sq_sampler_params
sq_sampler_default_params(void)
{
    return (sq_sampler_params){ .temperature = 0.0f, .top_k = 40, .top_p = 0.95f, .min_p = 0.05f,
                                .repeat_penalty = 1.0f, .repeat_last_n = 64, .seed = 0x5157494e54ull };
}

sq_status
sq_sampler_new(const sq_sampler_params *p, int n_vocab, sq_sampler **out, sq_error *err)
{
    if (n_vocab <= 0)
        return sq_error_set(err, SQ_ERR_INVALID_ARG, "sampler: empty vocabulary");
    sq_sampler *s = calloc(1, sizeof *s);
    if (s)
        s->cand = malloc((size_t)n_vocab * sizeof *s->cand);
    if (!s || !s->cand) {
        free(s);
        return sq_error_set(err, SQ_ERR_NOMEM, "out of memory creating the sampler");
    }
    s->p = *p;
    s->n_vocab = n_vocab;
    s->rng = p->seed * 6364136223846793005ull + 1442695040888963407ull;
    *out = s;
    return SQ_OK;
}

void
sq_sampler_free(sq_sampler *s)
{
    if (s) {
        free(s->cand);
        free(s);
    }
}

int32_t
sq_argmax(const float *logits, int n)
{
    int32_t best = 0;
    for (int i = 1; i < n; i++)
        if (logits[i] > logits[best])
            best = i;
    return best;
}

static double
next_uniform(sq_sampler *s)
{
    s->rng = s->rng * 6364136223846793005ull + 1442695040888963407ull;
    uint64_t x = s->rng;
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    return (double)(x >> 11) * (1.0 / 9007199254740992.0);
}

static int
by_logit_desc(const void *a, const void *b)
{
    const candidate *x = a, *y = b;
    if (x->logit != y->logit)
        return x->logit < y->logit ? 1 : -1;
    return x->id < y->id ? -1 : x->id > y->id;
}

/* Penalizes recently seen tokens the way llama.cpp does: positive logits are
 * divided by the penalty, negative ones multiplied. */
static void
apply_penalty(sq_sampler *s, const int32_t *history, size_t n)
{
    if (s->p.repeat_penalty == 1.0f || !history)
        return;
    size_t start = n > (size_t)s->p.repeat_last_n ? n - (size_t)s->p.repeat_last_n : 0;
    for (size_t i = start; i < n; i++) {
        int32_t id = history[i];
        if (id < 0 || id >= s->n_vocab)
            continue;
        /* only once per token id, even if it appears several times */
        bool seen = false;
        for (size_t j = start; j < i && !seen; j++)
            seen = history[j] == id;
        if (seen)
            continue;
        candidate *c = &s->cand[id];
        c->logit = c->logit > 0 ? c->logit / s->p.repeat_penalty : c->logit * s->p.repeat_penalty;
    }
}

int32_t
sq_sampler_sample(sq_sampler *s, const float *logits, const int32_t *history, size_t n_history)
{
    int n = s->n_vocab;
    for (int i = 0; i < n; i++)
        s->cand[i] = (candidate){ i, logits[i], 0.0f };
    apply_penalty(s, history, n_history);
    if (s->p.temperature <= 0.0f) {
        int32_t best = 0;
        for (int i = 1; i < n; i++)
            if (s->cand[i].logit > s->cand[best].logit)
                best = i;
        return best;
    }
    qsort(s->cand, (size_t)n, sizeof *s->cand, by_logit_desc);
    if (s->p.top_k > 0 && s->p.top_k < n)
        n = s->p.top_k;
    double sum = 0.0;
    float max = s->cand[0].logit;
    for (int i = 0; i < n; i++) {
        s->cand[i].p = expf((s->cand[i].logit - max) / s->p.temperature);
        sum += s->cand[i].p;
    }
    for (int i = 0; i < n; i++)
        s->cand[i].p = (float)(s->cand[i].p / sum);
    if (s->p.top_p < 1.0f) {
        double acc = 0.0;
        int keep = n;
        for (int i = 0; i < n; i++) {
            acc += s->cand[i].p;
            if (acc >= s->p.top_p) {
                keep = i + 1;
                break;
            }
        }
        n = keep;
    }
    if (s->p.min_p > 0.0f) {
        int keep = 1;
        while (keep < n && s->cand[keep].p >= s->p.min_p * s->cand[0].p)
            keep++;
        n = keep;
    }
    double total = 0.0;
    for (int i = 0; i < n; i++)
        total += s->cand[i].p;
    double r = next_uniform(s) * total;
    for (int i = 0; i < n; i++) {
        r -= s->cand[i].p;
        if (r <= 0.0)
            return s->cand[i].id;
    }
    return s->cand[n - 1].id;
}
