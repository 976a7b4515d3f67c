/* cpu-ops.h — the CPU backend's numeric kernels on plain arrays.  They are
 * the scalar reference the other backends are tested against, written to
 * round the way llama.cpp's CPU backend rounds. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backend.h"

/* y = x / sqrt(mean(x²) + eps) · w   (x, w, y: n floats; y may be x) */
void sq_cpu_rmsnorm(const float *x, const float *w, float eps, float *y, int64_t n);

/* Rotates every head of one token's row in place; pos = (t, h, w, e) for
 * M-RoPE or (row, col, row, col) for vision. */
void sq_cpu_rope_row(float *x, const int32_t pos[4], const sq_rope_params *p);

/* One query row i, one head h: out (head_dim floats) = softmax(q·Kᵀ·scale)·V
 * over the keys the mask allows.  qi: that head's query (head_dim floats);
 * k, v: n_kv rows of n_head_kv·head_dim elements of kv_type (F32 or F16);
 * scores: room for n_kv floats + head_dim halves of scratch. */
void sq_cpu_attention_head(const float *qi, const void *k, const void *v, sq_type kv_type,
                           const sq_attn_params *p, const int32_t *window_ids, int64_t i, int h,
                           int64_t n_kv, float *scores, float *out);

/* A block of up to SQ_CPU_ATTN_QB queries of one head that see the same
 * keys: out[i] = softmax(q[i]·Kᵀ·scale)·V over keys[0 … n_keys) (row
 * indices into k and v; NULL: 0 … n_keys-1).  With `last`, query i sees
 * only keys[j] for j ≤ last[i] (causal).  k, v point at the head's first
 * element of row 0; rows are kv_row_bytes apart. */
#define SQ_CPU_ATTN_QB 4
typedef struct {
    const float   *q[SQ_CPU_ATTN_QB];
    float         *out[SQ_CPU_ATTN_QB];
    const int64_t *last;
    int            n_q, head_dim;
    float          scale;
    const void    *k, *v;
    sq_type        kv_type;
    size_t         kv_row_bytes;
    const int32_t *keys;
    int64_t        n_keys;
} sq_cpu_attn_block;

/* Whether this CPU runs sq_cpu_attn_run (AVX2, FMA and F16C). */
bool sq_cpu_attn_supported(void);
/* scratch: 2·SQ_CPU_ATTN_QB·head_dim + SQ_CPU_ATTN_QB·n_keys floats. */
void sq_cpu_attn_run(const sq_cpu_attn_block *b, float *scratch);

/* y[i·ldy + j] = Σ_k x[i·ldx + k]·w[j·ldw + k] for i < nx, j < nw (float
 * rows, dot-product form), in 4 × 4 register tiles with AVX-512.  Sums in
 * float; only the summation order differs from a plain loop. */
bool sq_cpu_gemm_supported(void);
void sq_cpu_gemm_f32(const float *x, size_t ldx, int64_t nx, const float *w, size_t ldw, int64_t nw, int64_t n,
                     float *y, size_t ldy);

/* Converts n floats to a row of `type` (F32 or F16). */
void sq_cpu_convert_row(const float *src, void *dst, sq_type type, int64_t n);

void sq_cpu_add(const float *a, const float *b, float *out, int64_t n);
void sq_cpu_silu_mul(const float *gate, const float *up, float *out, int64_t n);
void sq_cpu_gelu_erf(const float *x, float *out, int64_t n);
void sq_cpu_gelu_tanh(const float *x, float *out, int64_t n);
