/* cpu-backend.c — the native CPU backend: buffers are host memory, weights
 * are used in place from the mapped GGUF, ops run on a persistent thread pool
 * with the SIMD dot products of quant.h.
 *
 * Numerics follow llama.cpp's CPU backend on purpose, so that our logits
 * reproduce its reference outputs: activations are converted to the weight's
 * "vec_dot type" (F16 for F16 weights, Q8_0 for Q4_0/Q8_0, Q8_K for K-quants)
 * before the dot products, and an F16 KV cache rounds Q and the softmax
 * weights to F16 inside attention.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend.h"
#include "cpu-ops.h"
#include "quant.h"
#include "threadpool.h"

struct sq_buf {
    void *data;
    size_t size;
    bool  owned;   /* false: wraps caller memory (mapped weights) */
};

typedef struct {
    sq_backend             base;
    sq_pool               *pool;
    const sq_quant_kernels *k;
    /* Scratch for quantized activations, grown on demand. */
    void                  *scratch;
    size_t                 scratch_size;
} cpu_backend;

static inline void *
mat_ptr(const sq_mat *m)
{
    return (char *)m->buf->data + m->offset;
}

static sq_status
check_mat(const sq_mat *m, const char *what, sq_error *err)
{
    if (!m || !m->buf)
        return sq_error_set(err, SQ_ERR_INVALID_ARG, "%s: no buffer", what);
    size_t bytes = sq_mat_bytes(m);
    if (m->offset > m->buf->size || bytes > m->buf->size - m->offset)
        return sq_error_set(err, SQ_ERR_INVALID_ARG, "%s: view [%zu, +%zu) exceeds its %zu-byte buffer",
                            what, m->offset, bytes, m->buf->size);
    return SQ_OK;
}

#define CHECK(m, what)                                      \
    do {                                                    \
        sq_status st_ = check_mat((m), (what), err);        \
        if (st_ != SQ_OK)                                   \
            return st_;                                     \
    } while (0)

/* ---- memory ---- */

static sq_status
cpu_buf_alloc(sq_backend *be, size_t size, sq_buf **out, sq_error *err)
{
    (void)be;
    sq_buf *b = calloc(1, sizeof *b);
    /* 64-byte alignment for the SIMD loads; zeroed so stale data never leaks. */
    size_t rounded = (size + 63) & ~(size_t)63;
    if (b)
        b->data = aligned_alloc(64, rounded ? rounded : 64);
    if (!b || !b->data) {
        free(b);
        return sq_error_set(err, SQ_ERR_NOMEM, "out of memory allocating %zu bytes", size);
    }
    memset(b->data, 0, rounded);
    b->size = size;
    b->owned = true;
    *out = b;
    return SQ_OK;
}

static sq_status
cpu_buf_from_host(sq_backend *be, const void *data, size_t size, sq_buf **out, sq_error *err)
{
    (void)be;
    sq_buf *b = calloc(1, sizeof *b);
    if (!b)
        return sq_error_set(err, SQ_ERR_NOMEM, "out of memory");
    b->data = (void *)data;
    b->size = size;
    *out = b;
    return SQ_OK;
}

static void
cpu_buf_free(sq_backend *be, sq_buf *b)
{
    (void)be;
    if (!b)
        return;
    if (b->owned)
        free(b->data);
    free(b);
}

static sq_status
cpu_write(sq_backend *be, sq_buf *b, size_t offset, const void *src, size_t size, sq_error *err)
{
    (void)be;
    if (!b->owned || offset > b->size || size > b->size - offset)
        return sq_error_set(err, SQ_ERR_INVALID_ARG, "write of %zu bytes at %zu outside a %zu-byte buffer",
                            size, offset, b->size);
    memcpy((char *)b->data + offset, src, size);
    return SQ_OK;
}

static sq_status
cpu_read(sq_backend *be, const sq_buf *b, size_t offset, void *dst, size_t size, sq_error *err)
{
    (void)be;
    if (offset > b->size || size > b->size - offset)
        return sq_error_set(err, SQ_ERR_INVALID_ARG, "read of %zu bytes at %zu outside a %zu-byte buffer",
                            size, offset, b->size);
    memcpy(dst, (const char *)b->data + offset, size);
    return SQ_OK;
}

static void *
scratch(cpu_backend *cb, size_t size)
{
    if (size > cb->scratch_size) {
        free(cb->scratch);
        size_t rounded = (size + 63) & ~(size_t)63;
        cb->scratch = aligned_alloc(64, rounded);
        cb->scratch_size = cb->scratch ? size : 0;
    }
    return cb->scratch;
}

/* ---- matmul ---- */

typedef struct {
    const cpu_backend *cb;
    sq_type            wtype;
    const uint8_t     *w;        /* n_out rows of w_row bytes */
    size_t             w_row;
    const uint8_t     *xq;       /* n_rows rows of x_row bytes, in vec_dot type */
    size_t             x_row;
    const float       *bias;
    float             *y;
    int64_t            n_in, n_out, n_rows;
} matmul_job;

/* Quantizes rows of x into the weight's vec_dot type. */
typedef struct {
    sq_quantize_fn quantize;
    const float   *x;
    uint8_t       *xq;
    size_t         x_row;
    int64_t        n_in;
} quantize_job;

static void
quantize_rows(void *ctx, int64_t first, int64_t last, int thread)
{
    (void)thread;
    const quantize_job *j = ctx;
    for (int64_t r = first; r < last; r++)
        j->quantize(j->x + r * j->n_in, j->xq + (size_t)r * j->x_row, j->n_in);
}

/* Output rows [first, last): the weight block stays in cache while every
 * activation row streams past it. */
static void
matmul_rows(void *ctx, int64_t first, int64_t last, int thread)
{
    (void)thread;
    const matmul_job *j = ctx;
    sq_vec_dot_fn dot = j->cb->k->vec_dot[j->wtype];
    for (int64_t r = 0; r < j->n_rows; r++) {
        const uint8_t *xr = j->xq + (size_t)r * j->x_row;
        float *yr = j->y + r * j->n_out;
        for (int64_t o = first; o < last; o++) {
            float v = dot(j->n_in, j->w + (size_t)o * j->w_row, xr);
            yr[o] = j->bias ? v + j->bias[o] : v;
        }
    }
}

static sq_status
cpu_matmul(sq_backend *be, const sq_mat *w, const sq_mat *x, const sq_mat *bias, sq_mat *y, sq_error *err)
{
    cpu_backend *cb = (cpu_backend *)be;
    CHECK(w, "matmul weight");
    CHECK(x, "matmul input");
    CHECK(y, "matmul output");
    if (bias)
        CHECK(bias, "matmul bias");
    if (x->type != SQ_TYPE_F32 || y->type != SQ_TYPE_F32 || x->cols != w->cols || y->cols != w->rows ||
        y->rows != x->rows || (bias && (bias->type != SQ_TYPE_F32 || bias->cols * bias->rows != w->rows)))
        return sq_error_set(err, SQ_ERR_INVALID_ARG,
                            "matmul shapes: W %lld×%lld, x %lld×%lld, y %lld×%lld",
                            (long long)w->rows, (long long)w->cols, (long long)x->rows,
                            (long long)x->cols, (long long)y->rows, (long long)y->cols);
    sq_vec_dot_fn dot = cb->k->vec_dot[w->type];
    sq_type vt = sq_vec_dot_type(w->type);
    if (!dot)
        return sq_error_set(err, SQ_ERR_UNSUPPORTED, "no matmul kernel for %s weights",
                            sq_type_get(w->type)->name);
    if (w->cols % sq_type_get(vt)->block_size != 0)
        return sq_error_set(err, SQ_ERR_INVALID_ARG, "matmul: row length %lld is not a multiple of the %s block",
                            (long long)w->cols, sq_type_get(vt)->name);

    matmul_job j = {
        .cb = cb, .wtype = w->type, .w = mat_ptr(w), .w_row = sq_type_row_size(w->type, w->cols),
        .bias = bias ? mat_ptr(bias) : NULL, .y = mat_ptr(y),
        .n_in = w->cols, .n_out = w->rows, .n_rows = x->rows,
    };
    if (vt == SQ_TYPE_F32) {
        j.xq = mat_ptr(x);
        j.x_row = (size_t)x->cols * sizeof(float);
    } else {
        j.x_row = sq_type_row_size(vt, x->cols);
        uint8_t *xq = scratch(cb, j.x_row * (size_t)x->rows);
        if (!xq)
            return sq_error_set(err, SQ_ERR_NOMEM, "out of memory for quantized activations");
        quantize_job q = { cb->k->quantize[vt], mat_ptr(x), xq, j.x_row, x->cols };
        sq_pool_run(cb->pool, quantize_rows, &q, x->rows, 1);
        j.xq = xq;
    }
    sq_pool_run(cb->pool, matmul_rows, &j, w->rows, 8);
    return SQ_OK;
}

/* ---- row-wise ops ---- */

typedef struct {
    const float *x, *w;
    float       *y;
    int64_t      cols;
    float        eps;
} rmsnorm_job;

static void
rmsnorm_rows(void *ctx, int64_t first, int64_t last, int thread)
{
    (void)thread;
    const rmsnorm_job *j = ctx;
    for (int64_t r = first; r < last; r++)
        sq_cpu_rmsnorm(j->x + r * j->cols, j->w, j->eps, j->y + r * j->cols, j->cols);
}

static sq_status
cpu_rmsnorm(sq_backend *be, const sq_mat *x, const sq_mat *w, float eps, sq_mat *y, sq_error *err)
{
    cpu_backend *cb = (cpu_backend *)be;
    CHECK(x, "rmsnorm input");
    CHECK(w, "rmsnorm weight");
    CHECK(y, "rmsnorm output");
    if (x->type != SQ_TYPE_F32 || w->type != SQ_TYPE_F32 || y->type != SQ_TYPE_F32 ||
        w->cols * w->rows != x->cols || y->cols != x->cols || y->rows != x->rows)
        return sq_error_set(err, SQ_ERR_INVALID_ARG, "rmsnorm shapes do not match");
    rmsnorm_job j = { mat_ptr(x), mat_ptr(w), mat_ptr(y), x->cols, eps };
    sq_pool_run(cb->pool, rmsnorm_rows, &j, x->rows, 4);
    return SQ_OK;
}

typedef struct {
    float                *x;
    const int32_t        *pos;
    int64_t               n;
    const sq_rope_params *p;
} rope_job;

static void
rope_rows(void *ctx, int64_t first, int64_t last, int thread)
{
    (void)thread;
    const rope_job *j = ctx;
    int64_t stride = (int64_t)j->p->n_head * j->p->head_dim;
    for (int64_t r = first; r < last; r++) {
        int32_t pos[4] = { j->pos[r], j->pos[j->n + r], j->pos[2 * j->n + r], j->pos[3 * j->n + r] };
        sq_cpu_rope_row(j->x + r * stride, pos, j->p);
    }
}

static sq_status
cpu_rope(sq_backend *be, sq_mat *x, const sq_mat *pos, const sq_rope_params *p, sq_error *err)
{
    cpu_backend *cb = (cpu_backend *)be;
    CHECK(x, "rope input");
    CHECK(pos, "rope positions");
    int sum = p->sections[0] + p->sections[1] + p->sections[2] + p->sections[3];
    if (x->type != SQ_TYPE_F32 || pos->type != SQ_TYPE_I32 || pos->cols * pos->rows != 4 * x->rows ||
        x->cols != (int64_t)p->n_head * p->head_dim || p->head_dim % 2 != 0 || sum != p->head_dim / 2)
        return sq_error_set(err, SQ_ERR_INVALID_ARG, "rope: shapes or sections do not match");
    rope_job j = { mat_ptr(x), mat_ptr(pos), x->rows, p };
    sq_pool_run(cb->pool, rope_rows, &j, x->rows, 4);
    return SQ_OK;
}

typedef struct {
    const sq_mat         *q, *k, *v;
    const sq_attn_params *p;
    const int32_t        *win;
    float                *out;
    int64_t               n_kv;
    float                *scratch;   /* per thread: scratch_floats */
    size_t                scratch_floats;
} attn_job;

/* One task = one (query row, head) pair. */
static void
attn_tasks(void *ctx, int64_t first, int64_t last, int thread)
{
    const attn_job *j = ctx;
    const sq_attn_params *p = j->p;
    float *scores = j->scratch + (size_t)thread * j->scratch_floats;
    for (int64_t t = first; t < last; t++) {
        int64_t i = t / p->n_head;
        int h = (int)(t % p->n_head);
        const float *qi = (const float *)mat_ptr(j->q) + i * j->q->cols + (int64_t)h * p->head_dim;
        sq_cpu_attention_head(qi, mat_ptr(j->k), mat_ptr(j->v), j->k->type, p, j->win, i, h, j->n_kv, scores,
                              j->out + i * (int64_t)p->n_head * p->head_dim + (int64_t)h * p->head_dim);
    }
}

static sq_status
cpu_attention(sq_backend *be, const sq_mat *q, const sq_mat *k, const sq_mat *v, const sq_attn_params *p,
              sq_mat *out, sq_error *err)
{
    cpu_backend *cb = (cpu_backend *)be;
    CHECK(q, "attention q");
    CHECK(k, "attention k");
    CHECK(v, "attention v");
    CHECK(out, "attention output");
    int64_t qw = (int64_t)p->n_head * p->head_dim, kw = (int64_t)p->n_head_kv * p->head_dim;
    if (p->n_head_kv <= 0 || p->n_head % p->n_head_kv != 0 || q->type != SQ_TYPE_F32 || q->cols != qw ||
        k->cols != kw || v->cols != kw || k->rows != v->rows || k->type != v->type ||
        (k->type != SQ_TYPE_F32 && k->type != SQ_TYPE_F16) || out->type != SQ_TYPE_F32 ||
        out->cols != qw || out->rows != q->rows)
        return sq_error_set(err, SQ_ERR_INVALID_ARG, "attention: shapes or types do not match");
    const int32_t *win = NULL;
    if (p->mask == SQ_MASK_WINDOW) {
        if (!p->window_ids || p->window_ids->type != SQ_TYPE_I32 ||
            p->window_ids->cols * p->window_ids->rows != k->rows || q->rows != k->rows)
            return sq_error_set(err, SQ_ERR_INVALID_ARG, "attention: window ids do not match the sequence");
        CHECK(p->window_ids, "attention window ids");
        win = mat_ptr(p->window_ids);
    }
    if (p->mask == SQ_MASK_CAUSAL && p->q_offset + q->rows > k->rows)
        return sq_error_set(err, SQ_ERR_INVALID_ARG, "attention: queries run past the keys");
    /* scores for every key, then head_dim halves for the rounded query */
    size_t per_thread = ((size_t)k->rows + (size_t)p->head_dim + 16) & ~(size_t)15;
    float *scr = scratch(cb, per_thread * sizeof(float) * (size_t)sq_pool_size(cb->pool));
    if (!scr)
        return sq_error_set(err, SQ_ERR_NOMEM, "out of memory for attention scores");
    attn_job j = { q, k, v, p, win, mat_ptr(out), k->rows, scr, per_thread };
    sq_pool_run(cb->pool, attn_tasks, &j, q->rows * p->n_head, 1);
    return SQ_OK;
}

typedef struct {
    const float *src;
    uint8_t     *dst;
    sq_type      type;
    int64_t      cols;
} copy_job;

static void
copy_rows_task(void *ctx, int64_t first, int64_t last, int thread)
{
    (void)thread;
    const copy_job *j = ctx;
    size_t row = sq_type_row_size(j->type, j->cols);
    for (int64_t r = first; r < last; r++)
        sq_cpu_convert_row(j->src + r * j->cols, j->dst + (size_t)r * row, j->type, j->cols);
}

static sq_status
cpu_copy_rows(sq_backend *be, const sq_mat *src, sq_mat *dst, int64_t row0, sq_error *err)
{
    cpu_backend *cb = (cpu_backend *)be;
    CHECK(src, "copy source");
    CHECK(dst, "copy destination");
    if (src->type != SQ_TYPE_F32 || src->cols != dst->cols || row0 < 0 || row0 + src->rows > dst->rows ||
        (dst->type != SQ_TYPE_F32 && dst->type != SQ_TYPE_F16))
        return sq_error_set(err, SQ_ERR_INVALID_ARG, "copy_rows: shapes or types do not match");
    copy_job j = { mat_ptr(src), (uint8_t *)mat_ptr(dst) + sq_type_row_size(dst->type, dst->cols) * (size_t)row0,
                   dst->type, src->cols };
    sq_pool_run(cb->pool, copy_rows_task, &j, src->rows, 16);
    return SQ_OK;
}

/* ---- element-wise ---- */

typedef struct {
    const float *a, *b;
    float       *out;
    int          op;   /* 0 add, 1 silu_mul, 2 gelu erf, 3 gelu tanh */
} elem_job;

static void
elem_task(void *ctx, int64_t first, int64_t last, int thread)
{
    (void)thread;
    const elem_job *j = ctx;
    int64_t n = last - first;
    switch (j->op) {
    case 0: sq_cpu_add(j->a + first, j->b + first, j->out + first, n); break;
    case 1: sq_cpu_silu_mul(j->a + first, j->b + first, j->out + first, n); break;
    case 2: sq_cpu_gelu_erf(j->a + first, j->out + first, n); break;
    default: sq_cpu_gelu_tanh(j->a + first, j->out + first, n); break;
    }
}

static sq_status
run_elementwise(cpu_backend *cb, const sq_mat *a, const sq_mat *b, sq_mat *out, int op, sq_error *err)
{
    CHECK(a, "element-wise input");
    CHECK(out, "element-wise output");
    if (b)
        CHECK(b, "element-wise input");
    int64_t n = a->cols * a->rows;
    if (a->type != SQ_TYPE_F32 || out->type != SQ_TYPE_F32 || out->cols * out->rows != n ||
        (b && (b->type != SQ_TYPE_F32 || b->cols * b->rows != n)))
        return sq_error_set(err, SQ_ERR_INVALID_ARG, "element-wise op: shapes or types do not match");
    elem_job j = { mat_ptr(a), b ? mat_ptr(b) : NULL, mat_ptr(out), op };
    sq_pool_run(cb->pool, elem_task, &j, n, 4096);
    return SQ_OK;
}

static sq_status
cpu_add(sq_backend *be, const sq_mat *a, const sq_mat *b, sq_mat *out, sq_error *err)
{
    return run_elementwise((cpu_backend *)be, a, b, out, 0, err);
}

static sq_status
cpu_silu_mul(sq_backend *be, const sq_mat *gate, const sq_mat *up, sq_mat *out, sq_error *err)
{
    return run_elementwise((cpu_backend *)be, gate, up, out, 1, err);
}

static sq_status
cpu_gelu(sq_backend *be, const sq_mat *x, sq_gelu_kind kind, sq_mat *out, sq_error *err)
{
    return run_elementwise((cpu_backend *)be, x, NULL, out, kind == SQ_GELU_ERF ? 2 : 3, err);
}

static sq_status
cpu_get_rows(sq_backend *be, const sq_mat *table, const int32_t *ids, int64_t n, sq_mat *out, sq_error *err)
{
    cpu_backend *cb = (cpu_backend *)be;
    CHECK(table, "embedding table");
    CHECK(out, "get_rows output");
    sq_dequant_fn deq = cb->k->dequantize[table->type];
    if (!deq)
        return sq_error_set(err, SQ_ERR_UNSUPPORTED, "cannot read rows of a %s table",
                            sq_type_get(table->type)->name);
    if (out->type != SQ_TYPE_F32 || out->cols != table->cols || out->rows != n)
        return sq_error_set(err, SQ_ERR_INVALID_ARG, "get_rows: shapes do not match");
    size_t row = sq_type_row_size(table->type, table->cols);
    for (int64_t i = 0; i < n; i++) {
        if (ids[i] < 0 || ids[i] >= table->rows)
            return sq_error_set(err, SQ_ERR_INVALID_ARG, "token id %d outside the vocabulary of %lld",
                                ids[i], (long long)table->rows);
        deq((const uint8_t *)mat_ptr(table) + row * (size_t)ids[i], (float *)mat_ptr(out) + i * out->cols,
            table->cols);
    }
    return SQ_OK;
}

static sq_status
cpu_sync(sq_backend *be, sq_error *err)
{
    (void)be;
    (void)err;
    return SQ_OK;
}

static void
cpu_free(sq_backend *be)
{
    cpu_backend *cb = (cpu_backend *)be;
    if (!cb)
        return;
    sq_pool_free(cb->pool);
    free(cb->scratch);
    free(cb);
}

static const sq_backend_ops cpu_ops = {
    .name = "cpu",
    .free = cpu_free,
    .buf_alloc = cpu_buf_alloc,
    .buf_from_host = cpu_buf_from_host,
    .buf_free = cpu_buf_free,
    .write = cpu_write,
    .read = cpu_read,
    .matmul = cpu_matmul,
    .rmsnorm = cpu_rmsnorm,
    .rope = cpu_rope,
    .attention = cpu_attention,
    .copy_rows = cpu_copy_rows,
    .silu_mul = cpu_silu_mul,
    .gelu = cpu_gelu,
    .add = cpu_add,
    .get_rows = cpu_get_rows,
    .sync = cpu_sync,
};

sq_status
sq_backend_cpu_new(int n_threads, sq_backend **out, sq_error *err)
{
    if (n_threads <= 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        n_threads = n > 0 ? (int)n : 1;
    }
    cpu_backend *cb = calloc(1, sizeof *cb);
    if (!cb)
        return sq_error_set(err, SQ_ERR_NOMEM, "out of memory creating the CPU backend");
    cb->base.ops = &cpu_ops;
    cb->k = sq_quant_kernels_get();
    sq_status st = sq_pool_new(n_threads, &cb->pool, err);
    if (st != SQ_OK) {
        free(cb);
        return st;
    }
    *out = &cb->base;
    return SQ_OK;
}
