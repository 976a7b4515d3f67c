/* backend.h — the op table every compute backend implements.
 *
 * The models (vision.c, text.c) are written only against this table: they
 * allocate buffers, upload weights and call ops; they never touch device
 * memory directly.  The CPU backend (engine/cpu/) is also the reference the
 * OpenCL backend is tested against.
 *
 * Data model: a buffer (sq_buf) is backend-owned memory; an sq_mat is a 2-D
 * row-major view into one: `rows` rows of `cols` elements of `type`, rows
 * packed (row stride = sq_type_row_size(type, cols)).  Activations are F32,
 * the KV cache F16 or F32, positions and ids I32, weights any ggml type.
 *
 * Ops are enqueued in order on the backend; results are visible to later ops
 * and to sq_backend_read.  A backend is used by one thread at a time.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ggml-type.h"
#include "status.h"

typedef struct sq_backend sq_backend;
typedef struct sq_buf     sq_buf;

typedef struct {
    sq_buf  *buf;
    size_t   offset;   /* bytes from the start of buf */
    sq_type  type;
    int64_t  cols;     /* elements per row (ggml ne0) */
    int64_t  rows;     /* ne1 × ne2 × ne3 */
} sq_mat;

typedef enum {
    SQ_ROPE_MROPE,   /* text M-RoPE: sections over (t, h, w), NEOX pairs */
    SQ_ROPE_VISION,  /* vision 2-D: (row, col), exponent restarts per section */
} sq_rope_mode;

typedef struct {
    sq_rope_mode mode;
    int          n_head;
    int          head_dim;
    int          sections[4];  /* pairs per section; sum = head_dim / 2 */
    float        freq_base;
} sq_rope_params;

typedef enum {
    SQ_MASK_NONE,    /* every query sees every key */
    SQ_MASK_CAUSAL,  /* query i sees keys 0 … q_offset + i */
    SQ_MASK_WINDOW,  /* query i sees keys with the same window id */
} sq_mask_kind;

typedef struct {
    int          n_head;
    int          n_head_kv;    /* grouped-query attention: n_head % n_head_kv == 0 */
    int          head_dim;
    float        scale;
    sq_mask_kind mask;
    int64_t      q_offset;     /* causal: KV index of the first query */
    const sq_mat *window_ids;  /* window: I32, 1 × n (same ids for queries and keys) */
} sq_attn_params;

typedef enum {
    SQ_GELU_ERF,   /* exact: 0.5·x·(1 + erf(x/√2)), what Hugging Face computes */
    SQ_GELU_TANH,  /* the tanh approximation */
} sq_gelu_kind;

typedef struct {
    const char *name;
    void      (*free)(sq_backend *be);

    /* Memory. */
    sq_status (*buf_alloc)(sq_backend *be, size_t size, sq_buf **out, sq_error *err);
    /* Wraps (CPU: without copying) or uploads read-only weight bytes that
     * stay valid as long as the buffer. */
    sq_status (*buf_from_host)(sq_backend *be, const void *data, size_t size, sq_buf **out, sq_error *err);
    void      (*buf_free)(sq_backend *be, sq_buf *buf);
    size_t    (*buf_size)(const sq_buf *buf);
    sq_status (*write)(sq_backend *be, sq_buf *buf, size_t offset, const void *src, size_t size, sq_error *err);
    sq_status (*read)(sq_backend *be, const sq_buf *buf, size_t offset, void *dst, size_t size, sq_error *err);

    /* y[r] = W · x[r] + bias, for every row r.  w: any type, cols = n_in,
     * rows = n_out; x: F32 rows × n_in; bias: F32 1 × n_out or NULL;
     * y: F32 rows × n_out.  Activations are rounded the way llama.cpp's CPU
     * backend rounds them for w's type (F16, Q8_0, Q8_K…). */
    sq_status (*matmul)(sq_backend *be, const sq_mat *w, const sq_mat *x, const sq_mat *bias, sq_mat *y, sq_error *err);
    /* y = x / sqrt(mean(x²) + eps) · w, per row; w F32 1 × cols; y may be x. */
    sq_status (*rmsnorm)(sq_backend *be, const sq_mat *x, const sq_mat *w, float eps, sq_mat *y, sq_error *err);
    /* In place on x (F32 n × n_head·head_dim); pos: I32 4 × n, rows are the
     * (t, h, w, e) components for M-RoPE and (row, col, row, col) for vision. */
    sq_status (*rope)(sq_backend *be, sq_mat *x, const sq_mat *pos, const sq_rope_params *p, sq_error *err);
    /* out[i] = softmax(q[i]·Kᵀ·scale + mask)·V per head.  q: F32 n_q ×
     * n_head·head_dim; k, v: F32 or F16 n_kv × n_head_kv·head_dim. */
    sq_status (*attention)(sq_backend *be, const sq_mat *q, const sq_mat *k, const sq_mat *v,
                           const sq_attn_params *p, sq_mat *out, sq_error *err);
    /* dst rows [row0, row0 + src.rows) = src, converting F32 → dst's type (F32/F16). */
    sq_status (*copy_rows)(sq_backend *be, const sq_mat *src, sq_mat *dst, int64_t row0, sq_error *err);
    /* out = silu(gate) ⊙ up (all F32, same shape). */
    sq_status (*silu_mul)(sq_backend *be, const sq_mat *gate, const sq_mat *up, sq_mat *out, sq_error *err);
    sq_status (*gelu)(sq_backend *be, const sq_mat *x, sq_gelu_kind kind, sq_mat *out, sq_error *err);
    /* out = a + b (F32, same shape; out may alias a or b). */
    sq_status (*add)(sq_backend *be, const sq_mat *a, const sq_mat *b, sq_mat *out, sq_error *err);
    /* out[i] = dequantized row ids[i] of table (any type). */
    sq_status (*get_rows)(sq_backend *be, const sq_mat *table, const int32_t *ids, int64_t n, sq_mat *out, sq_error *err);
    /* Waits until every enqueued op has finished. */
    sq_status (*sync)(sq_backend *be, sq_error *err);
} sq_backend_ops;

struct sq_backend {
    const sq_backend_ops *ops;
};

/* ---- convenience ---- */

static inline size_t
sq_mat_bytes(const sq_mat *m)
{
    return sq_type_row_size(m->type, m->cols) * (size_t)m->rows;
}

/* A view of rows [row0, row0 + n) of m. */
static inline sq_mat
sq_mat_rows(const sq_mat *m, int64_t row0, int64_t n)
{
    sq_mat v = *m;
    v.offset += sq_type_row_size(m->type, m->cols) * (size_t)row0;
    v.rows = n;
    return v;
}

/* The same bytes seen with another row length (cols × rows must match). */
static inline sq_mat
sq_mat_reshape(const sq_mat *m, int64_t cols, int64_t rows)
{
    sq_mat v = *m;
    v.cols = cols;
    v.rows = rows;
    return v;
}

/* Allocates a buffer holding one matrix and returns the view of all of it. */
sq_status sq_mat_alloc(sq_backend *be, sq_type type, int64_t cols, int64_t rows, sq_mat *out, sq_error *err);
void      sq_mat_free(sq_backend *be, sq_mat *m);

/* ---- argument checks every backend runs before an op ----
 * Shapes, types and ranges as the op comments above define them; a failure
 * is SQ_ERR_INVALID_ARG with a message.  Kernel availability for a type is
 * each backend's own business. */

/* The view has a buffer, whole-block rows, and lies inside the buffer. */
sq_status sq_check_mat(const sq_backend *be, const sq_mat *m, const char *what, sq_error *err);
sq_status sq_check_matmul(const sq_backend *be, const sq_mat *w, const sq_mat *x, const sq_mat *bias,
                          const sq_mat *y, sq_error *err);
sq_status sq_check_rmsnorm(const sq_backend *be, const sq_mat *x, const sq_mat *w, const sq_mat *y, sq_error *err);
sq_status sq_check_rope(const sq_backend *be, const sq_mat *x, const sq_mat *pos, const sq_rope_params *p,
                        sq_error *err);
sq_status sq_check_attention(const sq_backend *be, const sq_mat *q, const sq_mat *k, const sq_mat *v,
                             const sq_attn_params *p, const sq_mat *out, sq_error *err);
sq_status sq_check_copy_rows(const sq_backend *be, const sq_mat *src, const sq_mat *dst, int64_t row0,
                             sq_error *err);
/* b may be NULL (unary ops). */
sq_status sq_check_elementwise(const sq_backend *be, const sq_mat *a, const sq_mat *b, const sq_mat *out,
                               sq_error *err);
sq_status sq_check_get_rows(const sq_backend *be, const sq_mat *table, const int32_t *ids, int64_t n,
                            const sq_mat *out, sq_error *err);

/* The CPU backend; n_threads ≤ 0 picks the number of cores. */
sq_status sq_backend_cpu_new(int n_threads, sq_backend **out, sq_error *err);
