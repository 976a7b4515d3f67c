/* sampler.h — choosing the next token from logits: greedy, or temperature
 * with top-k / top-p / min-p filtering, and a repetition penalty. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "status.h"

typedef struct {
    float    temperature;     /* ≤ 0: greedy (arg-max, ties to the lower id) */
    int      top_k;           /* ≤ 0: off */
    float    top_p;           /* ≥ 1: off */
    float    min_p;           /* ≤ 0: off; keeps tokens with p ≥ min_p · p_max */
    float    repeat_penalty;  /* 1: off; > 1 discourages the last tokens */
    int      repeat_last_n;   /* how many recent tokens the penalty looks at */
    uint64_t seed;
} sq_sampler_params;

sq_sampler_params sq_sampler_default_params(void);   /* greedy */

typedef struct sq_sampler sq_sampler;

sq_status sq_sampler_new(const sq_sampler_params *p, int n_vocab, sq_sampler **out, sq_error *err);
void      sq_sampler_free(sq_sampler *s);

/* Picks a token from logits (n_vocab floats, not modified).  history holds
 * the conversation's recent token ids for the repetition penalty. */
int32_t sq_sampler_sample(sq_sampler *s, const float *logits, const int32_t *history, size_t n_history);

/* The arg-max with ties to the lower id. */
int32_t sq_argmax(const float *logits, int n);
