/* cpu-ops.h — the CPU backend's numeric kernels on plain arrays.  They are
 * the scalar reference the other backends are tested against, written to
 * round the way llama.cpp's CPU backend rounds. */
#pragma once

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

/* Converts n floats to a row of `type` (F32 or F16). */
void sq_cpu_convert_row(const float *src, void *dst, sq_type type, int64_t n);

void sq_cpu_add(const float *a, const float *b, float *out, int64_t n);
void sq_cpu_silu_mul(const float *gate, const float *up, float *out, int64_t n);
void sq_cpu_gelu_erf(const float *x, float *out, int64_t n);
void sq_cpu_gelu_tanh(const float *x, float *out, int64_t n);
