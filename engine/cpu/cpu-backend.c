/* cpu-backend.c — the native CPU backend: buffers are host memory, weights
 * are used in place from the mapped GGUF, ops run on a persistent thread pool
 * with the SIMD dot products of quant.h.
 *
 * Numerics follow llama.cpp's CPU backend on purpose, so that our logits
 * reproduce its reference outputs: activations are converted to the weight's
 * "vec_dot type" (F16 for F16 weights, Q8_0 for Q4_0/Q8_0, Q8_K for K-quants)
 * before the dot products, and an F16 KV cache rounds Q and the softmax
 * weights to F16 inside attention.
 *
 * Speed: a matmul of one or a few rows (decode) streams each weight row once
 * through quant.h's vec_dot; one of GEMM_MIN_ROWS rows or more (prefill,
 * vision) runs a blocked float GEMM on dequantized weights and rounded
 * activations (same products, other summation order).  Attention works on
 * blocks of queries that share their keys, and a windowed mask visits only
 * the query's window.  With SQ_SIMD=scalar both fall back to the plain
 * per-row code.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "backend.h"
#include "cpu-ops.h"
#include "quant.h"
#include "threadpool.h"

struct sq_buf {
    void *data;
    size_t size;
    bool  owned;   /* false: wraps caller memory (mapped weights) */
    bool  mapped;  /* owned anonymous mapping (large buffers) */
};

/* Buffers from this size on are anonymous mappings: zeroed by the kernel
 * page by page on first touch, so the slots of a KV cache or the rows of a
 * batch buffer that are never used never become resident. */
#define MAP_THRESHOLD ((size_t)1 << 20)

typedef struct {
    sq_backend             base;
    sq_pool               *pool;
    const sq_quant_kernels *k;
    /* Scratch for quantized activations, grown on demand. */
    void                  *scratch;
    size_t                 scratch_size;
    bool                   simd_attn;   /* sq_cpu_attn_run (not with SQ_SIMD=scalar) */
    bool                   gemm;        /* sq_cpu_gemm_f32 for many rows (AVX-512 kernels only) */
} cpu_backend;

static inline void *
mat_ptr(const sq_mat *m)
{
    return (char *)m->buf->data + m->offset;
}

#define TRY(call)                   \
    do {                            \
        sq_status st_ = (call);     \
        if (st_ != SQ_OK)           \
            return st_;             \
    } while (0)

/* ---- memory ---- */

static sq_status
cpu_buf_alloc(sq_backend *be, size_t size, sq_buf **out, sq_error *err)
{
    (void)be;
    sq_buf *b = calloc(1, sizeof *b);
    /* 64-byte alignment for the SIMD loads; zeroed so stale data never leaks. */
    size_t rounded = (size + 63) & ~(size_t)63;
    if (b && rounded >= MAP_THRESHOLD) {
        void *p = mmap(NULL, rounded, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        b->data = p == MAP_FAILED ? NULL : p;
        b->mapped = b->data != NULL;
    } else if (b) {
        b->data = aligned_alloc(64, rounded ? rounded : 64);
        if (b->data)
            memset(b->data, 0, rounded);
    }
    if (!b || !b->data) {
        free(b);
        return sq_error_set(err, SQ_ERR_NOMEM, "out of memory allocating %zu bytes", size);
    }
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
    if (b->mapped)
        munmap(b->data, (b->size + 63) & ~(size_t)63);
    else if (b->owned)
        free(b->data);
    free(b);
}

static size_t
cpu_buf_size(const sq_buf *b)
{
    return b->size;
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
    sq_vec_dot_fn      dot;
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
    sq_vec_dot_fn dot = j->dot;
    for (int64_t r = 0; r < j->n_rows; r++) {
        const uint8_t *xr = j->xq + (size_t)r * j->x_row;
        float *yr = j->y + r * j->n_out;
        for (int64_t o = first; o < last; o++) {
            float v = dot(j->n_in, j->w + (size_t)o * j->w_row, xr);
            yr[o] = j->bias ? v + j->bias[o] : v;
        }
    }
}

/* Many activation rows (prefill, vision): a blocked float GEMM.  A panel of
 * up to GEMM_XB activation rows is rounded to the vec_dot type exactly as
 * the row-by-row path rounds it (quantize, then dequantize back to float,
 * which is exact), weight rows are dequantized GEMM_WB at a time into
 * per-thread scratch, and 4 × 4 register tiles multiply them.  Every
 * product of a dequantized weight and a rounded activation is the same
 * number the integer or F16 dot products form; only the order of the float
 * sums differs (relative differences ~1e-7).  Weights stream once per
 * panel. */
#define GEMM_XB       128
#define GEMM_WB       16
#define GEMM_MIN_ROWS 4

typedef struct {
    sq_quantize_fn quantize;
    sq_dequant_fn  dequantize;
    const float   *x;          /* the panel's first row */
    float         *panel;
    uint8_t       *tmp;        /* per thread: one row in the vec_dot type */
    size_t         tmp_row;
    int64_t        n_in;
} panel_job;

static void
panel_rows(void *ctx, int64_t first, int64_t last, int thread)
{
    const panel_job *j = ctx;
    uint8_t *tmp = j->tmp + (size_t)thread * j->tmp_row;
    for (int64_t r = first; r < last; r++) {
        j->quantize(j->x + r * j->n_in, tmp, j->n_in);
        j->dequantize(tmp, j->panel + r * j->n_in, j->n_in);
    }
}

typedef struct {
    sq_dequant_fn  dequantize;  /* NULL: F32 weights, used in place */
    const uint8_t *w;
    size_t         w_row;
    const float   *panel;
    int64_t        nx;
    const float   *bias;
    float         *y;           /* the panel's first output row */
    int64_t        n_in, n_out;
    float         *wbuf;        /* per thread: GEMM_WB × n_in */
} gemm_job;

static void
gemm_rows(void *ctx, int64_t first, int64_t last, int thread)
{
    const gemm_job *j = ctx;
    float *wf = j->wbuf + (size_t)thread * GEMM_WB * (size_t)j->n_in;
    for (int64_t o0 = first; o0 < last; o0 += GEMM_WB) {
        int64_t nw = last - o0 < GEMM_WB ? last - o0 : GEMM_WB;
        const float *wr;
        if (j->dequantize) {
            for (int64_t k = 0; k < nw; k++)
                j->dequantize(j->w + (size_t)(o0 + k) * j->w_row, wf + k * j->n_in, j->n_in);
            wr = wf;
        } else {
            wr = (const float *)(j->w + (size_t)o0 * j->w_row);
        }
        sq_cpu_gemm_f32(j->panel, (size_t)j->n_in, j->nx, wr, (size_t)j->n_in, nw, j->n_in, j->y + o0,
                        (size_t)j->n_out);
        if (j->bias)
            for (int64_t i = 0; i < j->nx; i++)
                for (int64_t k = 0; k < nw; k++)
                    j->y[i * j->n_out + o0 + k] += j->bias[o0 + k];
    }
}

/* Whether both operands can be brought to float (Q8_1 activations, for
 * instance, have no dequantizer: those matmuls keep the row path). */
static bool
gemm_handles(const cpu_backend *cb, sq_type wt, sq_type vt)
{
    const sq_quant_kernels *ref = sq_quant_kernels_scalar();
    bool w_ok = wt == SQ_TYPE_F32 || cb->k->dequantize[wt] || ref->dequantize[wt];
    bool x_ok = vt == SQ_TYPE_F32 || (cb->k->quantize[vt] && (cb->k->dequantize[vt] || ref->dequantize[vt]));
    return w_ok && x_ok;
}

static sq_status
matmul_gemm(cpu_backend *cb, const sq_mat *w, const sq_mat *x, const sq_mat *bias, sq_mat *y, sq_type vt,
            sq_error *err)
{
    const sq_quant_kernels *ref = sq_quant_kernels_scalar();
    int n_threads = sq_pool_size(cb->pool);
    int64_t n_in = w->cols, n_out = w->rows, n_rows = x->rows;
    bool x_f32 = vt == SQ_TYPE_F32;
    size_t tmp_row = (sq_type_row_size(vt, n_in) + 63) & ~(size_t)63;
    size_t panel_floats = x_f32 ? 0 : (size_t)GEMM_XB * (size_t)n_in;
    size_t wbuf_floats = (size_t)n_threads * GEMM_WB * (size_t)n_in;
    size_t bytes = (panel_floats + wbuf_floats) * sizeof(float) + (x_f32 ? 0 : tmp_row * (size_t)n_threads);
    float *base = scratch(cb, bytes);
    if (!base)
        return sq_error_set(err, SQ_ERR_NOMEM, "out of memory for matmul panels");
    sq_dequant_fn deq_w = w->type == SQ_TYPE_F32 ? NULL
                          : cb->k->dequantize[w->type] ? cb->k->dequantize[w->type] : ref->dequantize[w->type];
    panel_job pj = {
        .quantize = cb->k->quantize[vt],
        .dequantize = cb->k->dequantize[vt] ? cb->k->dequantize[vt] : ref->dequantize[vt],
        .panel = base, .tmp = (uint8_t *)(base + panel_floats + wbuf_floats), .tmp_row = tmp_row, .n_in = n_in,
    };
    if (!x_f32 && (!pj.quantize || !pj.dequantize))
        return sq_error_set(err, SQ_ERR_UNSUPPORTED, "no %s conversion for matmul activations",
                            sq_type_get(vt)->name);
    gemm_job gj = {
        .dequantize = deq_w, .w = mat_ptr(w), .w_row = sq_type_row_size(w->type, n_in),
        .bias = bias ? mat_ptr(bias) : NULL, .n_in = n_in, .n_out = n_out, .wbuf = base + panel_floats,
    };
    const float *xs = mat_ptr(x);
    float *ys = mat_ptr(y);
    for (int64_t r0 = 0; r0 < n_rows; r0 += GEMM_XB) {
        int64_t nx = n_rows - r0 < GEMM_XB ? n_rows - r0 : GEMM_XB;
        if (x_f32) {
            gj.panel = xs + r0 * n_in;
        } else {
            pj.x = xs + r0 * n_in;
            sq_pool_run(cb->pool, panel_rows, &pj, nx, 1);
            gj.panel = pj.panel;
        }
        gj.nx = nx;
        gj.y = ys + r0 * n_out;
        sq_pool_run(cb->pool, gemm_rows, &gj, n_out, GEMM_WB);
    }
    return SQ_OK;
}

/* Rearranges the quantized activation rows for the weight type's prepared
 * kernel (quant.h) into `out`. */
static void
prepare_rows(const cpu_backend *cb, sq_type wt, matmul_job *j, int64_t n_rows, uint8_t *out)
{
    size_t p_row = cb->k->prepared_size[wt](j->n_in);
    for (int64_t r = 0; r < n_rows; r++)
        cb->k->prepare[wt](j->xq + (size_t)r * j->x_row, out + (size_t)r * p_row, j->n_in);
    j->xq = out;
    j->x_row = p_row;
    j->dot = cb->k->vec_dot_prepared[wt];
}

static sq_status
cpu_matmul(sq_backend *be, const sq_mat *w, const sq_mat *x, const sq_mat *bias, sq_mat *y, sq_error *err)
{
    cpu_backend *cb = (cpu_backend *)be;
    TRY(sq_check_matmul(be, w, x, bias, y, err));
    sq_vec_dot_fn dot = cb->k->vec_dot[w->type];
    sq_type vt = sq_vec_dot_type(w->type);
    if (!dot)
        return sq_error_set(err, SQ_ERR_UNSUPPORTED, "no matmul kernel for %s weights",
                            sq_type_get(w->type)->name);
    if (w->cols % sq_type_get(vt)->block_size != 0)
        return sq_error_set(err, SQ_ERR_INVALID_ARG, "matmul: row length %lld is not a multiple of the %s block",
                            (long long)w->cols, sq_type_get(vt)->name);

    if (cb->gemm && x->rows >= GEMM_MIN_ROWS && gemm_handles(cb, w->type, vt))
        return matmul_gemm(cb, w, x, bias, y, vt, err);

    matmul_job j = {
        .dot = dot, .w = mat_ptr(w), .w_row = sq_type_row_size(w->type, w->cols),
        .bias = bias ? mat_ptr(bias) : NULL, .y = mat_ptr(y),
        .n_in = w->cols, .n_out = w->rows, .n_rows = x->rows,
    };
    if (vt == SQ_TYPE_F32) {
        j.xq = mat_ptr(x);
        j.x_row = (size_t)x->cols * sizeof(float);
    } else {
        j.x_row = sq_type_row_size(vt, x->cols);
        bool prepared = cb->k->prepare[w->type] != NULL;
        size_t q_bytes = (j.x_row * (size_t)x->rows + 63) & ~(size_t)63;
        size_t p_bytes = prepared ? cb->k->prepared_size[w->type](x->cols) * (size_t)x->rows : 0;
        uint8_t *xq = scratch(cb, q_bytes + p_bytes);
        if (!xq)
            return sq_error_set(err, SQ_ERR_NOMEM, "out of memory for quantized activations");
        quantize_job q = { cb->k->quantize[vt], mat_ptr(x), xq, j.x_row, x->cols };
        sq_pool_run(cb->pool, quantize_rows, &q, x->rows, 1);
        j.xq = xq;
        if (prepared)
            prepare_rows(cb, w->type, &j, x->rows, xq + q_bytes);
    }
    /* at least ~64 KiB of weights per chunk: smaller jobs cost more to
     * hand out than to run */
    int64_t grain = (int64_t)(65536 / (j.w_row ? j.w_row : 1));
    sq_pool_run(cb->pool, matmul_rows, &j, w->rows, grain > 8 ? grain : 8);
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
    TRY(sq_check_rmsnorm(be, x, w, y, err));
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
    TRY(sq_check_rope(be, x, pos, p, err));
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

/* The scalar reference: one task = one (query row, head) pair. */
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

/* The fast path works on blocks of up to SQ_CPU_ATTN_QB queries that see
 * the same keys: a run of consecutive queries (no mask, causal), or of the
 * members of one window, whose keys are that window's members — so windowed
 * layers cost O(N · window) instead of O(N²). */
typedef struct {
    int64_t start;   /* into `members` (window) or the query index */
    int32_t n;       /* queries in the block */
    int32_t group;   /* window */
} qblock;

typedef struct {
    const sq_mat         *q, *k, *v;
    const sq_attn_params *p;
    float                *out;
    const qblock         *blocks;
    int64_t               n_blocks;
    const int32_t        *members;      /* window: positions sorted by window */
    const int64_t        *group_start;  /* window: first member of each window */
    float                *scratch;
    size_t                scratch_floats;
} attn_block_job;

/* A block of n queries on KV head kvh: everything but the queries, their
 * outputs and the keys they see. */
static sq_cpu_attn_block
kv_head_block(const sq_attn_params *p, const sq_mat *k, const sq_mat *v, int kvh, int n)
{
    const size_t kv_elem = k->type == SQ_TYPE_F16 ? 2 : 4;
    return (sq_cpu_attn_block){
        .n_q = n, .head_dim = p->head_dim, .scale = p->scale, .kv_type = k->type,
        .kv_row_bytes = (size_t)k->cols * kv_elem,
        .k = (const char *)mat_ptr(k) + (size_t)kvh * p->head_dim * kv_elem,
        .v = (const char *)mat_ptr(v) + (size_t)kvh * p->head_dim * kv_elem,
    };
}

static void
attn_block_tasks(void *ctx, int64_t first, int64_t last, int thread)
{
    const attn_block_job *j = ctx;
    const sq_attn_params *p = j->p;
    const int d = p->head_dim, group = p->n_head / p->n_head_kv;
    float *scratch = j->scratch + (size_t)thread * j->scratch_floats;
    for (int64_t t = first; t < last; t++) {
        int h = (int)(t / j->n_blocks);
        const qblock *qb = &j->blocks[t % j->n_blocks];
        sq_cpu_attn_block b = kv_head_block(p, j->k, j->v, h / group, qb->n);
        int64_t last_key[SQ_CPU_ATTN_QB];
        for (int iq = 0; iq < qb->n; iq++) {
            int64_t i = j->members ? j->members[qb->start + iq] : qb->start + iq;
            b.q[iq] = (const float *)mat_ptr(j->q) + i * j->q->cols + (int64_t)h * d;
            b.out[iq] = j->out + i * (int64_t)p->n_head * d + (int64_t)h * d;
            last_key[iq] = p->q_offset + i;
        }
        if (p->mask == SQ_MASK_WINDOW) {
            int64_t g0 = j->group_start[qb->group];
            b.keys = j->members + g0;
            b.n_keys = j->group_start[qb->group + 1] - g0;
        } else if (p->mask == SQ_MASK_CAUSAL) {
            b.last = last_key;
            b.n_keys = last_key[qb->n - 1] + 1 > 0 ? last_key[qb->n - 1] + 1 : 0;
        } else {
            b.n_keys = j->k->rows;
        }
        sq_cpu_attn_run(&b, scratch);
    }
}

/* Decode (fewer query rows than a block holds): a block is instead up to
 * SQ_CPU_ATTN_QB query heads of one row that share a KV head (GQA), so each
 * key and value row is read once for them, not once per head, and no lane
 * of the block idles.  Each query goes through the same arithmetic as in a
 * block of rows (sq_cpu_attn_run keeps the queries of a block apart). */
typedef struct {
    const sq_mat         *q, *k, *v;
    const sq_attn_params *p;
    float                *out;
    int                   chunks;    /* blocks per KV head */
    float                *scratch;
    size_t                scratch_floats;
} attn_heads_job;

static void
attn_head_tasks(void *ctx, int64_t first, int64_t last, int thread)
{
    const attn_heads_job *j = ctx;
    const sq_attn_params *p = j->p;
    const int d = p->head_dim, group = p->n_head / p->n_head_kv;
    float *scratch = j->scratch + (size_t)thread * j->scratch_floats;
    for (int64_t t = first; t < last; t++) {
        int64_t i = t / ((int64_t)p->n_head_kv * j->chunks);
        int kvh = (int)(t / j->chunks % p->n_head_kv), c = (int)(t % j->chunks);
        int h0 = kvh * group + c * SQ_CPU_ATTN_QB;
        int n = group - c * SQ_CPU_ATTN_QB < SQ_CPU_ATTN_QB ? group - c * SQ_CPU_ATTN_QB : SQ_CPU_ATTN_QB;
        int64_t last_key[SQ_CPU_ATTN_QB];
        sq_cpu_attn_block b = kv_head_block(p, j->k, j->v, kvh, n);
        for (int iq = 0; iq < n; iq++) {
            b.q[iq] = (const float *)mat_ptr(j->q) + i * j->q->cols + (int64_t)(h0 + iq) * d;
            b.out[iq] = j->out + i * (int64_t)p->n_head * d + (int64_t)(h0 + iq) * d;
            last_key[iq] = p->q_offset + i;
        }
        if (p->mask == SQ_MASK_CAUSAL) {
            b.last = last_key;
            b.n_keys = last_key[0] + 1 > 0 ? last_key[0] + 1 : 0;
        } else {
            b.n_keys = j->k->rows;
        }
        sq_cpu_attn_run(&b, scratch);
    }
}

/* Whether window ids are small enough to sort by counting: all in [0, n). */
static bool
window_ids_compact(const int32_t *win, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        if (win[i] < 0 || win[i] >= n)
            return false;
    return true;
}

/* Splits the queries into blocks; for a window mask, sorts the positions by
 * window first (counting sort; ids in [0, n), see window_ids_compact). */
static sq_status
plan_blocks(const int32_t *win, int64_t n_q, qblock **blocks_out, int64_t *n_blocks, int32_t **members_out,
            int64_t **group_start_out, int64_t *max_keys, sq_error *err)
{
    int64_t n_groups = 1;
    int32_t *members = NULL;
    int64_t *gs = NULL;
    if (win) {
        int32_t max_id = -1;
        for (int64_t i = 0; i < n_q; i++)
            if (win[i] > max_id)
                max_id = win[i];
        n_groups = (int64_t)max_id + 1;
        members = malloc((size_t)n_q * sizeof *members);
        gs = calloc((size_t)n_groups + 1, sizeof *gs);
        if (!members || !gs) {
            free(members);
            free(gs);
            return sq_error_set(err, SQ_ERR_NOMEM, "out of memory for attention windows");
        }
        for (int64_t i = 0; i < n_q; i++)
            gs[win[i] + 1]++;
        for (int64_t g = 0; g < n_groups; g++)
            gs[g + 1] += gs[g];
        int64_t *fill = malloc((size_t)n_groups * sizeof *fill);
        if (!fill) {
            free(members);
            free(gs);
            return sq_error_set(err, SQ_ERR_NOMEM, "out of memory for attention windows");
        }
        memcpy(fill, gs, (size_t)n_groups * sizeof *fill);
        for (int64_t i = 0; i < n_q; i++)
            members[fill[win[i]]++] = (int32_t)i;
        free(fill);
    }
    int64_t cap = n_q / SQ_CPU_ATTN_QB + n_groups + 1, nb = 0;
    qblock *blocks = malloc((size_t)cap * sizeof *blocks);
    if (!blocks) {
        free(members);
        free(gs);
        return sq_error_set(err, SQ_ERR_NOMEM, "out of memory for attention blocks");
    }
    *max_keys = 0;
    for (int64_t g = 0; g < n_groups; g++) {
        int64_t g0 = gs ? gs[g] : 0, g1 = gs ? gs[g + 1] : n_q;
        if (g1 - g0 > *max_keys)
            *max_keys = g1 - g0;
        for (int64_t s = g0; s < g1; s += SQ_CPU_ATTN_QB)
            blocks[nb++] = (qblock){ s, (int32_t)(g1 - s < SQ_CPU_ATTN_QB ? g1 - s : SQ_CPU_ATTN_QB), (int32_t)g };
    }
    *blocks_out = blocks;
    *n_blocks = nb;
    *members_out = members;
    *group_start_out = gs;
    return SQ_OK;
}

static sq_status
cpu_attention(sq_backend *be, const sq_mat *q, const sq_mat *k, const sq_mat *v, const sq_attn_params *p,
              sq_mat *out, sq_error *err)
{
    cpu_backend *cb = (cpu_backend *)be;
    TRY(sq_check_attention(be, q, k, v, p, out, err));
    const int32_t *win = p->mask == SQ_MASK_WINDOW ? mat_ptr(p->window_ids) : NULL;
    int n_threads = sq_pool_size(cb->pool);
    const int group = p->n_head / p->n_head_kv;
    if (cb->simd_attn && !win && q->rows < SQ_CPU_ATTN_QB && group > 1) {
        size_t per_thread = ((size_t)(2 * SQ_CPU_ATTN_QB * p->head_dim) + SQ_CPU_ATTN_QB * (size_t)k->rows + 15) &
                            ~(size_t)15;
        float *scr = scratch(cb, per_thread * sizeof(float) * (size_t)n_threads);
        if (!scr)
            return sq_error_set(err, SQ_ERR_NOMEM, "out of memory for attention scores");
        int chunks = (group + SQ_CPU_ATTN_QB - 1) / SQ_CPU_ATTN_QB;
        attn_heads_job j = { q, k, v, p, mat_ptr(out), chunks, scr, per_thread };
        sq_pool_run(cb->pool, attn_head_tasks, &j, q->rows * p->n_head_kv * chunks, 1);
        return SQ_OK;
    }
    if (cb->simd_attn && (!win || window_ids_compact(win, q->rows))) {
        qblock *blocks = NULL;
        int32_t *members = NULL;
        int64_t *gs = NULL, n_blocks = 0, max_keys = 0;
        sq_status st = plan_blocks(win, q->rows, &blocks, &n_blocks, &members, &gs, &max_keys, err);
        if (st != SQ_OK)
            return st;
        if (!win)
            max_keys = k->rows;
        size_t per_thread = ((size_t)(2 * SQ_CPU_ATTN_QB * p->head_dim) + SQ_CPU_ATTN_QB * (size_t)max_keys + 15) &
                            ~(size_t)15;
        float *scr = scratch(cb, per_thread * sizeof(float) * (size_t)n_threads);
        if (!scr) {
            free(blocks);
            free(members);
            free(gs);
            return sq_error_set(err, SQ_ERR_NOMEM, "out of memory for attention scores");
        }
        attn_block_job j = { q, k, v, p, mat_ptr(out), blocks, n_blocks, members, gs, scr, per_thread };
        /* ~32k multiply-adds per chunk at least */
        int64_t grain = 32768 / ((max_keys > 0 ? max_keys : 1) * p->head_dim * SQ_CPU_ATTN_QB) + 1;
        sq_pool_run(cb->pool, attn_block_tasks, &j, n_blocks * p->n_head, grain);
        free(blocks);
        free(members);
        free(gs);
        return SQ_OK;
    }
    /* scores for every key, then head_dim halves for the rounded query */
    size_t per_thread = ((size_t)k->rows + (size_t)p->head_dim + 16) & ~(size_t)15;
    float *scr = scratch(cb, per_thread * sizeof(float) * (size_t)n_threads);
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
    TRY(sq_check_copy_rows(be, src, dst, row0, err));
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
    TRY(sq_check_elementwise(&cb->base, a, b, out, err));
    int64_t n = a->cols * a->rows;
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
    TRY(sq_check_get_rows(be, table, ids, n, out, err));
    sq_dequant_fn deq = cb->k->dequantize[table->type];
    if (!deq)
        return sq_error_set(err, SQ_ERR_UNSUPPORTED, "cannot read rows of a %s table",
                            sq_type_get(table->type)->name);
    size_t row = sq_type_row_size(table->type, table->cols);
    for (int64_t i = 0; i < n; i++) {
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
    .buf_size = cpu_buf_size,
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
    cb->simd_attn = strcmp(cb->k->name, "scalar") != 0 && sq_cpu_attn_supported();
    cb->gemm = strcmp(cb->k->name, "avx512") == 0 && sq_cpu_gemm_supported();
    sq_status st = sq_pool_new(n_threads, &cb->pool, err);
    if (st != SQ_OK) {
        free(cb);
        return st;
    }
    *out = &cb->base;
    return SQ_OK;
}
