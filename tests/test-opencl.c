/* test-opencl.c — the OpenCL backend against the CPU backend.
 *
 *   - devices: listing, SQUINT_DEVICE by index / name / no match;
 *   - the program cache: binaries written under $XDG_CACHE_HOME, reused, and
 *     a corrupt binary rebuilt;
 *   - every op of backend.h on the same inputs on both backends, odd sizes,
 *     views at non-zero offsets inside buffers whose guard rows (before and
 *     after) hold a sentinel that must survive the op; results compared by
 *     normalized mean squared error, NMSE = Σ(ocl − cpu)² / Σ cpu², against
 *     a bound per op (the worst value per op is printed);
 *   - matmul on both batched paths (matmul-vec kernels and CLBlast GEMM) for
 *     every weight type;
 *   - errors: bad shapes, unsupported types, out-of-range ids, reads past
 *     the end, device memory exhausted at load (SQ_ERR_NOMEM, no abort);
 *   - the VisionThink loop on the tiny model (forced tool call, zoom into the
 *     same KV cache) on OpenCL, its logits and image embeddings against the
 *     CPU backend's at every pass.
 *
 * Without an OpenCL device the program prints a TAP skip. */
#include <dirent.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "backend.h"
#include "opencl-backend.h"
#include "quant.h"
#include "squint.h"
#include "tap.h"

/* ---- random numbers (xorshift64*, reproducible) ---- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint32_t
rng_u32(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (uint32_t)((rng_state * 0x2545f4914f6cdd1dULL) >> 32);
}

static float
rng_uniform(void) /* [0, 1) */
{
    return (float)(rng_u32() >> 8) / 16777216.0f;
}

static float
rng_normal(void)
{
    float u = rng_uniform() + 1e-7f, v = rng_uniform();
    return sqrtf(-2.0f * logf(u)) * cosf(6.2831853f * v);
}

/* ---- the two backends ---- */

/* OpenCL backends: the GPU kernel shapes with their own batched matmul and
 * with CLBlast, and the CPU-device shapes (what PoCL gets by default). */
static sq_backend *cpu, *ocl_gpu, *ocl_clblast, *ocl_cpu;

static sq_backend *
ocl_shape(int i)
{
    return i == 0 ? ocl_gpu : ocl_cpu;
}

static const char *
shape_name(int i)
{
    return i == 0 ? "gpu shape" : "cpu shape";
}

/* The backend the non-matmul op cases run on (each shape in turn). */
static sq_backend *ocl_cur;
static const char *cur_shape = "";

typedef struct {
    const char *name;
    double      worst;   /* largest NMSE seen */
    double      bound;
    int         cases, failed;
} op_stats;

static op_stats stats[] = {
    { "matmul F32", 0, 1e-10, 0, 0 },  { "matmul F16", 0, 1e-10, 0, 0 },  { "matmul BF16", 0, 1e-10, 0, 0 },
    { "matmul Q4_0", 0, 1e-10, 0, 0 }, { "matmul Q4_1", 0, 1e-10, 0, 0 }, { "matmul Q5_0", 0, 1e-10, 0, 0 },
    { "matmul Q5_1", 0, 1e-10, 0, 0 }, { "matmul Q8_0", 0, 1e-10, 0, 0 }, { "matmul Q4_K", 0, 1e-10, 0, 0 },
    { "matmul Q5_K", 0, 1e-10, 0, 0 }, { "matmul Q6_K", 0, 1e-10, 0, 0 },
    /* CLBlast multiplies Q4_1/Q5_1 minimums by the exact activation sums, not
     * by llama.cpp's F16-rounded d·Σq: a little further from the CPU */
    { "matmul Q4_1/Q5_1 CLBlast", 0, 1e-8, 0, 0 },
    { "rmsnorm", 0, 1e-12, 0, 0 },
    { "rope", 0, 1e-11, 0, 0 },        { "attention F32", 0, 1e-10, 0, 0 },
    { "attention F16", 0, 1e-7, 0, 0 }, { "copy_rows", 0, 0, 0, 0 },      { "silu_mul", 0, 1e-12, 0, 0 },
    { "gelu erf", 0, 1e-12, 0, 0 },    { "gelu tanh", 0, 1e-12, 0, 0 },   { "add", 0, 0, 0, 0 },
    { "get_rows", 0, 0, 0, 0 },
};

static op_stats *
op_stat(const char *name)
{
    for (size_t i = 0; i < sizeof stats / sizeof stats[0]; i++)
        if (strcmp(stats[i].name, name) == 0)
            return &stats[i];
    return NULL;
}

/* ---- matrices on both backends, with guard rows ---- */

#define GUARD_ROWS 2
#define SENTINEL   0xa7

/* A matrix living at row GUARD_ROWS of a buffer with GUARD_ROWS spare rows
 * before and after, on each backend; the guards hold SENTINEL bytes. */
typedef struct {
    sq_backend *be;
    sq_mat      m;
    size_t      buf_bytes;
} gmat;

static bool
gmat_new(sq_backend *be, sq_type type, int64_t cols, int64_t rows, const void *data, gmat *g)
{
    sq_error err = { 0 };
    size_t row = sq_type_row_size(type, cols);
    g->be = be;
    g->buf_bytes = row * (size_t)(rows + 2 * GUARD_ROWS);
    sq_buf *b = NULL;
    if (be->ops->buf_alloc(be, g->buf_bytes, &b, &err) != SQ_OK) {
        diag("buf_alloc: %s", err.msg);
        return false;
    }
    g->m = (sq_mat){ .buf = b, .offset = row * GUARD_ROWS, .type = type, .cols = cols, .rows = rows };
    uint8_t *img = malloc(g->buf_bytes);
    memset(img, SENTINEL, g->buf_bytes);
    if (data)
        memcpy(img + g->m.offset, data, row * (size_t)rows);
    bool good = be->ops->write(be, b, 0, img, g->buf_bytes, &err) == SQ_OK;
    free(img);
    return good;
}

static void
gmat_free(gmat *g)
{
    if (g->m.buf)
        g->be->ops->buf_free(g->be, g->m.buf);
    g->m.buf = NULL;
}

/* Reads the view into out (may be NULL) and checks the guards. */
static bool
gmat_read(gmat *g, void *out)
{
    sq_error err = { 0 };
    uint8_t *img = malloc(g->buf_bytes);
    if (g->be->ops->read(g->be, g->m.buf, 0, img, g->buf_bytes, &err) != SQ_OK) {
        diag("read: %s", err.msg);
        free(img);
        return false;
    }
    size_t view = sq_mat_bytes(&g->m);
    bool intact = true;
    for (size_t i = 0; i < g->buf_bytes; i++)
        if ((i < g->m.offset || i >= g->m.offset + view) && img[i] != SENTINEL) {
            intact = false;
            break;
        }
    if (out)
        memcpy(out, img + g->m.offset, view);
    free(img);
    return intact;
}

static double
nmse(const float *got, const float *want, size_t n)
{
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        double d = (double)got[i] - want[i];
        if (isnan(got[i]) != isnan(want[i]))
            return INFINITY;
        if (isnan(want[i]))
            continue;
        num += d * d;
        den += (double)want[i] * want[i];
    }
    return den > 0 ? num / den : num;
}

/* Compares the F32 (or F16) outputs of an op on both backends, guards
 * included, and records the case under `op`. */
static void
compare(const char *op, const char *what, gmat *c, gmat *o)
{
    size_t n = (size_t)(c->m.cols * c->m.rows);
    float *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
    bool gc = gmat_read(c, NULL), go = gmat_read(o, NULL);
    if (c->m.type == SQ_TYPE_F16) {
        uint16_t *ha = malloc(n * 2), *hb = malloc(n * 2);
        gmat_read(c, ha);
        gmat_read(o, hb);
        for (size_t i = 0; i < n; i++) {
            a[i] = sq_f16_to_f32(ha[i]);
            b[i] = sq_f16_to_f32(hb[i]);
        }
        free(ha);
        free(hb);
    } else {
        gmat_read(c, a);
        gmat_read(o, b);
    }
    double e = nmse(b, a, n);
    op_stats *s = op_stat(op);
    s->cases++;
    if (e > s->worst)
        s->worst = e;
    bool good = gc && go && e <= s->bound;
    if (!good) {
        s->failed++;
        ok(false, "%s %s (%s): NMSE %.3e (bound %.0e), guards cpu %s / opencl %s", op, what, cur_shape, e, s->bound,
           gc ? "intact" : "OVERWRITTEN", go ? "intact" : "OVERWRITTEN");
    }
    free(a);
    free(b);
}

static void
fill_normal(float *x, size_t n, float scale)
{
    for (size_t i = 0; i < n; i++)
        x[i] = scale * rng_normal();
}

/* ---- weights of every type ---- */

static void
put_f16(uint8_t *p, float v)
{
    sq_f16 h = sq_f32_to_f16(v);
    memcpy(p, &h, 2);
}

/* Random weights with sane scales: quant bytes uniform, block scales small
 * normal halves (offsets per type from engine/quant.h). */
static void *
random_weights(sq_type t, int64_t cols, int64_t rows)
{
    size_t bytes = sq_type_row_size(t, cols) * (size_t)rows;
    uint8_t *p = malloc(bytes);
    for (size_t i = 0; i < bytes; i++)
        p[i] = (uint8_t)rng_u32();
    int64_t n = cols * rows;
    if (t == SQ_TYPE_F32) {
        fill_normal((float *)(void *)p, (size_t)n, 1.0f);
        return p;
    }
    if (t == SQ_TYPE_F16 || t == SQ_TYPE_BF16) {
        for (int64_t i = 0; i < n; i++) {
            sq_f16 h = t == SQ_TYPE_F16 ? sq_f32_to_f16(rng_normal()) : sq_f32_to_bf16(rng_normal());
            memcpy(p + 2 * i, &h, 2);
        }
        return p;
    }
    const sq_type_info *info = sq_type_get(t);
    int offs[2] = { -1, -1 };
    switch (t) {
    case SQ_TYPE_Q4_0: case SQ_TYPE_Q5_0: case SQ_TYPE_Q8_0: offs[0] = 0; break;
    case SQ_TYPE_Q4_1: case SQ_TYPE_Q5_1: case SQ_TYPE_Q4_K: case SQ_TYPE_Q5_K: offs[0] = 0; offs[1] = 2; break;
    case SQ_TYPE_Q6_K: offs[0] = 208; break;
    default: break;
    }
    for (int64_t b = 0; b < n / info->block_size; b++)
        for (int k = 0; k < 2; k++)
            if (offs[k] >= 0)
                put_f16(p + b * info->type_size + offs[k], 0.02f * rng_normal());
    return p;
}

/* ---- op cases ---- */

static void
case_matmul(sq_backend *ocl, const char *path, sq_type t, int64_t n_in, int64_t n_out, int64_t rows, bool bias,
            int64_t w_row0)
{
    char op[32], what[128];
    snprintf(op, sizeof op, "matmul %s", sq_type_get(t)->name);
    if (ocl == ocl_clblast && rows > 8 && (t == SQ_TYPE_Q4_1 || t == SQ_TYPE_Q5_1))
        snprintf(op, sizeof op, "matmul Q4_1/Q5_1 CLBlast");
    snprintf(what, sizeof what, "%s %lld×%lld, %lld rows%s%s", path, (long long)n_out, (long long)n_in,
             (long long)rows, bias ? ", bias" : "", w_row0 ? ", weight view" : "");
    int64_t w_rows = n_out + 2 * w_row0;
    void *wdata = random_weights(t, n_in, w_rows);
    size_t wbytes = sq_type_row_size(t, n_in) * (size_t)w_rows;
    float *x = malloc((size_t)(n_in * rows) * sizeof *x), *bv = malloc((size_t)n_out * sizeof *bv);
    fill_normal(x, (size_t)(n_in * rows), 1.0f);
    fill_normal(bv, (size_t)n_out, 0.5f);
    sq_backend *bes[2] = { cpu, ocl };
    gmat xs[2], ys[2], bs[2];
    sq_mat ws[2];
    sq_error err = { 0 };
    bool ran = true;
    for (int i = 0; i < 2; i++) {
        sq_buf *wb = NULL;
        bes[i]->ops->buf_from_host(bes[i], wdata, wbytes, &wb, &err);
        sq_mat full = { .buf = wb, .type = t, .cols = n_in, .rows = w_rows };
        ws[i] = sq_mat_rows(&full, w_row0, n_out);
        gmat_new(bes[i], SQ_TYPE_F32, n_in, rows, x, &xs[i]);
        gmat_new(bes[i], SQ_TYPE_F32, n_out, rows, NULL, &ys[i]);
        gmat_new(bes[i], SQ_TYPE_F32, n_out, 1, bv, &bs[i]);
        sq_status st = SQ_OK;
        if (i == 0) {
            /* the CPU reference one row at a time: its vec_dot path, whatever
             * it does for batches */
            for (int64_t r = 0; r < rows && st == SQ_OK; r++) {
                sq_mat xr = sq_mat_rows(&xs[i].m, r, 1), yr = sq_mat_rows(&ys[i].m, r, 1);
                st = cpu->ops->matmul(cpu, &ws[i], &xr, bias ? &bs[i].m : NULL, &yr, &err);
            }
        } else {
            st = bes[i]->ops->matmul(bes[i], &ws[i], &xs[i].m, bias ? &bs[i].m : NULL, &ys[i].m, &err);
        }
        if (st != SQ_OK) {
            diag("%s on %s: %s", op, bes[i]->ops->name, err.msg);
            ran = false;
        }
    }
    if (ran)
        compare(op, what, &ys[0], &ys[1]);
    else
        ok(false, "%s %s runs on both backends", op, what);
    for (int i = 0; i < 2; i++) {
        bes[i]->ops->buf_free(bes[i], ws[i].buf);
        gmat_free(&xs[i]);
        gmat_free(&ys[i]);
        gmat_free(&bs[i]);
    }
    free(wdata);
    free(x);
    free(bv);
}

static void
test_matmul(void)
{
    static const sq_type types[] = { SQ_TYPE_F32, SQ_TYPE_F16, SQ_TYPE_BF16, SQ_TYPE_Q4_0, SQ_TYPE_Q4_1,
                                     SQ_TYPE_Q5_0, SQ_TYPE_Q5_1, SQ_TYPE_Q8_0, SQ_TYPE_Q4_K, SQ_TYPE_Q5_K,
                                     SQ_TYPE_Q6_K };
    static const int64_t rows[] = { 1, 3, 8, 9, 37 };
    for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
        const sq_type_info *info = sq_type_get(types[t]);
        /* odd block counts; plain floats an odd length */
        int64_t n_in = info->block_size == 1 ? 77 : info->block_size == 32 ? 5 * 32 : 3 * 256;
        for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
            case_matmul(ocl_gpu, "gpu shape", types[t], n_in, 67, rows[r], r % 2 == 0, 0);
            case_matmul(ocl_cpu, "cpu shape", types[t], n_in, 67, rows[r], r % 2 == 0, 0);
            if (rows[r] > 8)
                case_matmul(ocl_clblast, "clblast", types[t], n_in, 67, rows[r], r % 2 == 0, 0);
        }
        case_matmul(ocl_gpu, "gpu shape", types[t], n_in, 19, 2, true, 3);
        case_matmul(ocl_cpu, "cpu shape", types[t], n_in, 19, 2, true, 3);
        case_matmul(ocl_clblast, "clblast", types[t], n_in, 19, 21, true, 3);
    }
    /* a longer row, as the real models have (Qwen2.5-VL-3B: 2048) */
    for (int i = 0; i < 2; i++) {
        case_matmul(ocl_shape(i), shape_name(i), SQ_TYPE_Q4_K, 2048, 33, 1, false, 0);
        case_matmul(ocl_shape(i), shape_name(i), SQ_TYPE_Q6_K, 2048, 33, 2, false, 0);
        case_matmul(ocl_shape(i), shape_name(i), SQ_TYPE_Q4_0, 2048, 33, 1, true, 0);
        case_matmul(ocl_shape(i), shape_name(i), SQ_TYPE_F16, 2048, 33, 1, true, 0);
    }
}

static void
test_rmsnorm(void)
{
    for (int in_place = 0; in_place < 2; in_place++) {
        int64_t cols = 333, rows = 5;
        float *x = malloc((size_t)(cols * rows) * sizeof *x), *w = malloc((size_t)cols * sizeof *w);
        fill_normal(x, (size_t)(cols * rows), 3.0f);
        fill_normal(w, (size_t)cols, 1.0f);
        sq_backend *bes[2] = { cpu, ocl_cur };
        gmat xs[2], ws[2], ys[2];
        for (int i = 0; i < 2; i++) {
            sq_error err = { 0 };
            gmat_new(bes[i], SQ_TYPE_F32, cols, rows, x, &xs[i]);
            gmat_new(bes[i], SQ_TYPE_F32, cols, 1, w, &ws[i]);
            gmat_new(bes[i], SQ_TYPE_F32, cols, rows, NULL, &ys[i]);
            gmat *out = in_place ? &xs[i] : &ys[i];
            if (bes[i]->ops->rmsnorm(bes[i], &xs[i].m, &ws[i].m, 1e-6f, &out->m, &err) != SQ_OK)
                diag("rmsnorm: %s", err.msg);
        }
        compare("rmsnorm", in_place ? "in place" : "333 × 5", in_place ? &xs[0] : &ys[0], in_place ? &xs[1] : &ys[1]);
        for (int i = 0; i < 2; i++) {
            gmat_free(&xs[i]);
            gmat_free(&ws[i]);
            gmat_free(&ys[i]);
        }
        free(x);
        free(w);
    }
}

static void
case_rope(sq_rope_mode mode, int n_head, int head_dim, const int sections[4], int64_t rows, int max_pos)
{
    int64_t cols = (int64_t)n_head * head_dim;
    float *x = malloc((size_t)(cols * rows) * sizeof *x);
    int32_t *pos = malloc((size_t)(4 * rows) * sizeof *pos);
    fill_normal(x, (size_t)(cols * rows), 1.0f);
    for (int64_t i = 0; i < 4 * rows; i++)
        pos[i] = (int32_t)(rng_u32() % (uint32_t)max_pos);
    sq_rope_params p = { mode, n_head, head_dim, { sections[0], sections[1], sections[2], sections[3] }, 1e6f };
    if (mode == SQ_ROPE_VISION)
        p.freq_base = 10000.0f;
    sq_backend *bes[2] = { cpu, ocl_cur };
    gmat xs[2], ps[2];
    for (int i = 0; i < 2; i++) {
        sq_error err = { 0 };
        gmat_new(bes[i], SQ_TYPE_F32, cols, rows, x, &xs[i]);
        gmat_new(bes[i], SQ_TYPE_I32, rows, 4, pos, &ps[i]);
        if (bes[i]->ops->rope(bes[i], &xs[i].m, &ps[i].m, &p, &err) != SQ_OK)
            diag("rope: %s", err.msg);
    }
    char what[96];
    snprintf(what, sizeof what, "%s, %d heads of %d, %lld rows", mode == SQ_ROPE_VISION ? "vision" : "M-RoPE", n_head,
             head_dim, (long long)rows);
    compare("rope", what, &xs[0], &xs[1]);
    for (int i = 0; i < 2; i++) {
        gmat_free(&xs[i]);
        gmat_free(&ps[i]);
    }
    free(x);
    free(pos);
}

static void
test_rope(void)
{
    case_rope(SQ_ROPE_MROPE, 3, 32, (const int[4]){ 4, 6, 6, 0 }, 7, 5000);
    case_rope(SQ_ROPE_MROPE, 2, 128, (const int[4]){ 16, 24, 24, 0 }, 5, 32000);
    case_rope(SQ_ROPE_VISION, 2, 40, (const int[4]){ 10, 10, 0, 0 }, 9, 64);
    case_rope(SQ_ROPE_VISION, 4, 80, (const int[4]){ 20, 20, 0, 0 }, 13, 200);
}

static void
case_attention(sq_type kv, sq_mask_kind mask, int n_head, int n_head_kv, int head_dim, int64_t n_q, int64_t n_kv,
               int64_t q_offset)
{
    int64_t qw = (int64_t)n_head * head_dim, kw = (int64_t)n_head_kv * head_dim;
    float *q = malloc((size_t)(qw * n_q) * sizeof *q);
    float *k = malloc((size_t)(kw * n_kv) * sizeof *k), *v = malloc((size_t)(kw * n_kv) * sizeof *v);
    int32_t *win = malloc((size_t)n_kv * sizeof *win);
    fill_normal(q, (size_t)(qw * n_q), 1.0f);
    fill_normal(k, (size_t)(kw * n_kv), 1.0f);
    fill_normal(v, (size_t)(kw * n_kv), 1.0f);
    for (int64_t i = 0; i < n_kv; i++)
        win[i] = (int32_t)(rng_u32() % 4);
    sq_backend *bes[2] = { cpu, ocl_cur };
    gmat qs[2], ks[2], vs[2], ws[2], os[2], kf[2], vf[2];
    for (int i = 0; i < 2; i++) {
        sq_error err = { 0 };
        gmat_new(bes[i], SQ_TYPE_F32, qw, n_q, q, &qs[i]);
        /* K and V arrive through copy_rows, as the text model writes its cache */
        gmat_new(bes[i], SQ_TYPE_F32, kw, n_kv, k, &kf[i]);
        gmat_new(bes[i], SQ_TYPE_F32, kw, n_kv, v, &vf[i]);
        gmat_new(bes[i], kv, kw, n_kv, NULL, &ks[i]);
        gmat_new(bes[i], kv, kw, n_kv, NULL, &vs[i]);
        bes[i]->ops->copy_rows(bes[i], &kf[i].m, &ks[i].m, 0, &err);
        bes[i]->ops->copy_rows(bes[i], &vf[i].m, &vs[i].m, 0, &err);
        gmat_new(bes[i], SQ_TYPE_I32, n_kv, 1, win, &ws[i]);
        gmat_new(bes[i], SQ_TYPE_F32, qw, n_q, NULL, &os[i]);
        sq_attn_params p = { n_head, n_head_kv, head_dim, 1.0f / sqrtf((float)head_dim), mask, q_offset, &ws[i].m };
        if (bes[i]->ops->attention(bes[i], &qs[i].m, &ks[i].m, &vs[i].m, &p, &os[i].m, &err) != SQ_OK)
            diag("attention: %s", err.msg);
    }
    static const char *masks[] = { "none", "causal", "window" };
    char what[128];
    snprintf(what, sizeof what, "mask %s, %d/%d heads of %d, %lld queries × %lld keys", masks[mask], n_head, n_head_kv,
             head_dim, (long long)n_q, (long long)n_kv);
    compare(kv == SQ_TYPE_F16 ? "attention F16" : "attention F32", what, &os[0], &os[1]);
    for (int i = 0; i < 2; i++) {
        gmat *all[] = { &qs[i], &ks[i], &vs[i], &ws[i], &os[i], &kf[i], &vf[i] };
        for (size_t j = 0; j < sizeof all / sizeof all[0]; j++)
            gmat_free(all[j]);
    }
    free(q);
    free(k);
    free(v);
    free(win);
}

static void
test_attention(void)
{
    for (int f16 = 0; f16 < 2; f16++) {
        sq_type kv = f16 ? SQ_TYPE_F16 : SQ_TYPE_F32;
        case_attention(kv, SQ_MASK_CAUSAL, 8, 2, 32, 1, 150, 149);   /* decode, GQA, > 2 tiles */
        case_attention(kv, SQ_MASK_CAUSAL, 4, 4, 128, 5, 70, 65);
        case_attention(kv, SQ_MASK_CAUSAL, 6, 3, 64, 37, 37, 0);     /* prefill from empty */
        case_attention(kv, SQ_MASK_NONE, 4, 4, 80, 45, 45, 0);       /* vision, full */
        case_attention(kv, SQ_MASK_WINDOW, 4, 4, 80, 131, 131, 0);   /* vision, windows */
        case_attention(kv, SQ_MASK_WINDOW, 2, 2, 20, 7, 7, 0);
    }
}

static void
test_copy_rows(void)
{
    for (int f16 = 0; f16 < 2; f16++) {
        int64_t cols = 129, rows = 7, dst_rows = 13, row0 = 4;
        float *x = malloc((size_t)(cols * rows) * sizeof *x);
        fill_normal(x, (size_t)(cols * rows), 100.0f);
        x[3] = 1e6f;   /* overflows F16 */
        x[4] = 3e-8f;  /* F16 subnormal */
        sq_backend *bes[2] = { cpu, ocl_cur };
        gmat src[2], dst[2];
        sq_type t = f16 ? SQ_TYPE_F16 : SQ_TYPE_F32;
        for (int i = 0; i < 2; i++) {
            sq_error err = { 0 };
            gmat_new(bes[i], SQ_TYPE_F32, cols, rows, x, &src[i]);
            gmat_new(bes[i], t, cols, dst_rows, NULL, &dst[i]);
            /* the destination's own rows around the copy keep their sentinel too */
            if (bes[i]->ops->copy_rows(bes[i], &src[i].m, &dst[i].m, row0, &err) != SQ_OK)
                diag("copy_rows: %s", err.msg);
        }
        /* compare just the written rows, then the untouched rows byte for byte */
        gmat wc = dst[0], wo = dst[1];
        wc.m = sq_mat_rows(&dst[0].m, row0, rows);
        wo.m = sq_mat_rows(&dst[1].m, row0, rows);
        wc.buf_bytes = wo.buf_bytes = dst[0].buf_bytes;
        size_t n = (size_t)(cols * rows);
        float *a = malloc(n * 4), *b = malloc(n * 4);
        uint8_t *ia = malloc(dst[0].buf_bytes), *ib = malloc(dst[0].buf_bytes);
        sq_error err = { 0 };
        cpu->ops->read(cpu, dst[0].m.buf, 0, ia, dst[0].buf_bytes, &err);
        ocl_cur->ops->read(ocl_cur, dst[1].m.buf, 0, ib, dst[1].buf_bytes, &err);
        size_t es = f16 ? 2 : 4, start = wc.m.offset, len = n * es;
        for (size_t i = 0; i < n; i++) {
            if (f16) {
                uint16_t ha, hb;
                memcpy(&ha, ia + start + 2 * i, 2);
                memcpy(&hb, ib + start + 2 * i, 2);
                a[i] = sq_f16_to_f32(ha);
                b[i] = sq_f16_to_f32(hb);
            } else {
                memcpy(&a[i], ia + start + 4 * i, 4);
                memcpy(&b[i], ib + start + 4 * i, 4);
            }
        }
        bool rest = memcmp(ia, ib, start) == 0 && memcmp(ia + start + len, ib + start + len,
                                                          dst[0].buf_bytes - start - len) == 0;
        bool same = memcmp(ia + start, ib + start, len) == 0;
        op_stats *s = op_stat("copy_rows");
        s->cases++;
        if (!rest || !same) {
            s->failed++;
            s->worst = fmax(s->worst, nmse(b, a, n));
        }
        ok(rest && same, "copy_rows F32 → %s at row %lld (%s): bit-identical, other rows untouched",
           f16 ? "F16" : "F32", (long long)row0, cur_shape);
        for (int i = 0; i < 2; i++) {
            gmat_free(&src[i]);
            gmat_free(&dst[i]);
        }
        free(a);
        free(b);
        free(ia);
        free(ib);
        free(x);
    }
}

typedef enum { EW_ADD, EW_SILU, EW_GELU_ERF, EW_GELU_TANH } ew_kind;

static void
case_elementwise(ew_kind kind, bool alias)
{
    static const char *names[] = { "add", "silu_mul", "gelu erf", "gelu tanh" };
    int64_t cols = 517, rows = 3;
    size_t n = (size_t)(cols * rows);
    float *a = malloc(n * 4), *b = malloc(n * 4);
    fill_normal(a, n, 4.0f);
    fill_normal(b, n, 2.0f);
    a[0] = 90.0f;
    a[1] = -90.0f;   /* exp overflow territory for silu */
    sq_backend *bes[2] = { cpu, ocl_cur };
    gmat as[2], bs[2], os[2];
    for (int i = 0; i < 2; i++) {
        sq_error err = { 0 };
        gmat_new(bes[i], SQ_TYPE_F32, cols, rows, a, &as[i]);
        gmat_new(bes[i], SQ_TYPE_F32, cols, rows, b, &bs[i]);
        gmat_new(bes[i], SQ_TYPE_F32, cols, rows, NULL, &os[i]);
        sq_mat *out = alias ? &as[i].m : &os[i].m;
        const sq_backend_ops *op = bes[i]->ops;
        sq_status st = kind == EW_ADD    ? op->add(bes[i], &as[i].m, &bs[i].m, out, &err)
                     : kind == EW_SILU   ? op->silu_mul(bes[i], &as[i].m, &bs[i].m, out, &err)
                                         : op->gelu(bes[i], &as[i].m, kind == EW_GELU_ERF ? SQ_GELU_ERF : SQ_GELU_TANH,
                                                    out, &err);
        if (st != SQ_OK)
            diag("%s: %s", names[kind], err.msg);
    }
    compare(names[kind], alias ? "in place" : "517 × 3", alias ? &as[0] : &os[0], alias ? &as[1] : &os[1]);
    for (int i = 0; i < 2; i++) {
        gmat_free(&as[i]);
        gmat_free(&bs[i]);
        gmat_free(&os[i]);
    }
    free(a);
    free(b);
}

static void
test_elementwise(void)
{
    for (int k = EW_ADD; k <= EW_GELU_TANH; k++)
        for (int alias = 0; alias < 2; alias++)
            case_elementwise((ew_kind)k, alias);
}

static void
test_get_rows(void)
{
    static const sq_type types[] = { SQ_TYPE_F32, SQ_TYPE_F16, SQ_TYPE_BF16, SQ_TYPE_Q4_0, SQ_TYPE_Q4_1,
                                     SQ_TYPE_Q5_0, SQ_TYPE_Q5_1, SQ_TYPE_Q8_0, SQ_TYPE_Q4_K, SQ_TYPE_Q5_K,
                                     SQ_TYPE_Q6_K };
    const int32_t ids[] = { 5, 0, 12, 5, 3, 12, 7 };
    const int64_t n = sizeof ids / sizeof ids[0], vocab = 13;
    for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
        int64_t cols = sq_type_get(types[t])->block_size == 256 ? 512 : 96;
        void *table = random_weights(types[t], cols, vocab);
        size_t bytes = sq_type_row_size(types[t], cols) * (size_t)vocab;
        sq_backend *bes[2] = { cpu, ocl_cur };
        sq_mat tm[2];
        gmat os[2];
        for (int i = 0; i < 2; i++) {
            sq_error err = { 0 };
            sq_buf *b = NULL;
            bes[i]->ops->buf_from_host(bes[i], table, bytes, &b, &err);
            tm[i] = (sq_mat){ .buf = b, .type = types[t], .cols = cols, .rows = vocab };
            gmat_new(bes[i], SQ_TYPE_F32, cols, n, NULL, &os[i]);
            if (bes[i]->ops->get_rows(bes[i], &tm[i], ids, n, &os[i].m, &err) != SQ_OK)
                diag("get_rows: %s", err.msg);
        }
        char what[32];
        snprintf(what, sizeof what, "%s table", sq_type_get(types[t])->name);
        compare("get_rows", what, &os[0], &os[1]);
        for (int i = 0; i < 2; i++) {
            bes[i]->ops->buf_free(bes[i], tm[i].buf);
            gmat_free(&os[i]);
        }
        free(table);
    }
}

static void
report_ops(void)
{
    for (size_t i = 0; i < sizeof stats / sizeof stats[0]; i++) {
        const op_stats *s = &stats[i];
        ok(s->cases > 0 && s->failed == 0, "%s: %d cases, worst NMSE %.2e (bound %.0e), guards intact", s->name,
           s->cases, s->worst, s->bound);
    }
}

/* ---- errors ---- */

static void
test_errors(sq_backend *be, const sq_opencl_device_info *dev)
{
    sq_error err = { 0 };
    sq_mat w, x, y;
    sq_mat_alloc(be, SQ_TYPE_F32, 64, 8, &w, &err);
    sq_mat_alloc(be, SQ_TYPE_F32, 63, 2, &x, &err);
    sq_mat_alloc(be, SQ_TYPE_F32, 8, 2, &y, &err);
    sq_status st = be->ops->matmul(be, &w, &x, NULL, &y, &err);
    ok(st == SQ_ERR_INVALID_ARG && strstr(err.msg, "shapes"), "matmul with mismatched shapes is refused: %s", err.msg);
    /* Q2_K has no kernel (nor a CPU one) */
    sq_mat q2 = sq_mat_reshape(&w, 256, 2), x2, y2;
    q2.type = SQ_TYPE_Q2_K;
    q2.rows = 1;
    sq_mat_alloc(be, SQ_TYPE_F32, 256, 1, &x2, &err);
    sq_mat_alloc(be, SQ_TYPE_F32, 1, 1, &y2, &err);
    err = (sq_error){ 0 };
    st = be->ops->matmul(be, &q2, &x2, NULL, &y2, &err);
    ok(st == SQ_ERR_UNSUPPORTED, "matmul with Q2_K weights is refused: %s", err.msg);
    sq_mat_free(be, &x2);
    sq_mat_free(be, &y2);
    float buf[4];
    err = (sq_error){ 0 };
    st = be->ops->read(be, y.buf, sq_mat_bytes(&y) - 4, buf, sizeof buf, &err);
    ok(st == SQ_ERR_INVALID_ARG, "a read past the end is refused: %s", err.msg);
    int32_t bad_ids[2] = { 1, 8 };
    sq_mat big;
    sq_mat_alloc(be, SQ_TYPE_F32, 64, 2, &big, &err);
    err = (sq_error){ 0 };
    st = be->ops->get_rows(be, &w, bad_ids, 2, &big, &err);
    ok(st == SQ_ERR_INVALID_ARG && strstr(err.msg, "token id 8"), "get_rows with an id past the table: %s", err.msg);
    sq_mat_free(be, &big);

    /* weights are read-only */
    sq_buf *wb = NULL;
    be->ops->buf_from_host(be, bad_ids, sizeof bad_ids, &wb, &err);
    err = (sq_error){ 0 };
    st = be->ops->write(be, wb, 0, bad_ids, sizeof bad_ids, &err);
    ok(st == SQ_ERR_INVALID_ARG, "writing into a weight buffer is refused: %s", err.msg);
    be->ops->buf_free(be, wb);

    /* a given-back buffer comes back zeroed */
    sq_buf *b = NULL;
    be->ops->buf_alloc(be, 1000, &b, &err);
    uint8_t ones[1000], back[1000];
    memset(ones, 0xff, sizeof ones);
    be->ops->write(be, b, 0, ones, sizeof ones, &err);
    be->ops->buf_free(be, b);
    be->ops->buf_alloc(be, 1000, &b, &err);
    be->ops->read(be, b, 0, back, sizeof back, &err);
    bool zero = true;
    for (size_t i = 0; i < sizeof back; i++)
        zero = zero && back[i] == 0;
    ok(zero, "a reused buffer is handed out zeroed");
    be->ops->buf_free(be, b);

    /* device memory exhausted: allocations and weight uploads say so */
    size_t too_big = (size_t)dev->global_mem_bytes + ((size_t)1 << 20);
    err = (sq_error){ 0 };
    b = NULL;
    st = be->ops->buf_alloc(be, too_big, &b, &err);
    ok(st == SQ_ERR_NOMEM && b == NULL, "allocating more than the device has: %s", err.msg);
    /* refused before a byte is read: the size is checked against the device first */
    err = (sq_error){ 0 };
    st = be->ops->buf_from_host(be, ones, too_big, &b, &err);
    ok(st == SQ_ERR_NOMEM, "uploading weights larger than the device: %s", err.msg);
    sq_mat_free(be, &w);
    sq_mat_free(be, &x);
    sq_mat_free(be, &y);
}

/* ---- devices and the program cache ---- */

static int
count_cache_files(const char *dir, char *first, size_t first_size)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len > 4 && strcmp(e->d_name + len - 4, ".bin") == 0) {
            if (n == 0 && first)
                snprintf(first, first_size, "%s/%s", dir, e->d_name);
            n++;
        }
    }
    closedir(d);
    return n;
}

static long
file_size(const char *path)
{
    struct stat s;
    return stat(path, &s) == 0 ? (long)s.st_size : -1;
}

static void
test_devices(const sq_opencl_device_info *devs, size_t n)
{
    int defaults = 0;
    for (size_t i = 0; i < n; i++) {
        diag("device %zu: %s (%s, %s), %s, %.0f MiB, driver %s, %s%s", i, devs[i].name, devs[i].vendor,
             devs[i].platform, sq_opencl_device_type_name(devs[i].type), (double)devs[i].global_mem_bytes / 1048576.0,
             devs[i].driver_version, devs[i].opencl_version, devs[i].is_default ? " [default]" : "");
        defaults += devs[i].is_default;
    }
    ok(n > 0 && devs[0].name[0] && devs[0].global_mem_bytes > 0 && defaults == 1,
       "%zu device(s) listed with names and memory, one default", n);

    sq_error err = { 0 };
    sq_backend *be = NULL;
    setenv("SQUINT_DEVICE", "no-such-device-anywhere", 1);
    sq_status st = sq_backend_opencl_new(NULL, &be, &err);
    ok(st == SQ_ERR_NOT_FOUND && be == NULL, "SQUINT_DEVICE matching nothing: %s", err.msg);
    char idx[24];
    snprintf(idx, sizeof idx, "%zu", n);
    setenv("SQUINT_DEVICE", idx, 1);
    err = (sq_error){ 0 };
    st = sq_backend_opencl_new(NULL, &be, &err);
    ok(st == SQ_ERR_NOT_FOUND, "SQUINT_DEVICE=%zu, one past the last: %s", n, err.msg);
    unsetenv("SQUINT_DEVICE");
}

/* Backends built with a fresh cache, then from it, then with a corrupt file. */
static bool
test_cache(void)
{
    const char *xdg = getenv("XDG_CACHE_HOME");
    char dir[1024], first[1400] = "";
    if (!xdg || xdg[0] != '/') {
        diag("XDG_CACHE_HOME is not set to an absolute path; the cache checks run on ~/.cache");
        snprintf(dir, sizeof dir, "%s/.cache/squint/opencl", getenv("HOME") ? getenv("HOME") : "");
    } else {
        snprintf(dir, sizeof dir, "%s/squint/opencl", xdg);
    }
    sq_error err = { 0 };
    sq_backend *be = NULL;
    bool made = sq_backend_opencl_new("0", &be, &err) == SQ_OK;
    ok(made, "backend on device 0 (%s)", made ? sq_backend_opencl_device_name(be) : err.msg);
    if (!made)
        return false;
    be->ops->free(be);
    int n = count_cache_files(dir, first, sizeof first);
    ok(n >= 11, "%d program binaries cached in %s", n, dir);
    if (n == 0)
        return true;
    /* a truncated binary is rebuilt and rewritten */
    FILE *f = fopen(first, "wb");
    if (f) {
        fputs("garbage", f);
        fclose(f);
    }
    err = (sq_error){ 0 };
    made = sq_backend_opencl_new("0", &be, &err) == SQ_OK;
    ok(made && file_size(first) > 100, "a corrupt cached binary is rebuilt (%s)", made ? "ok" : err.msg);
    if (made)
        be->ops->free(be);
    return true;
}

/* ---- the VisionThink loop on the tiny model ---- */

#define TOOL_CALL "<think>The text is too small.</think>\n<tool_call>\n{\"name\": \"resize_image\", \"arguments\": {\"action\": \"resize\"}}\n</tool_call>"

typedef struct {
    float  *logits[2];
    float  *embd[2];
    size_t  embd_rows[2];
    int     n_vocab, n_embd;
} pass_capture;

static void
on_prompt(sq_session *s, int pass, void *data)
{
    pass_capture *c = data;
    if (pass < 1 || pass > 2)
        return;
    const float *l = sq_session_logits(s);
    if (l) {
        c->logits[pass - 1] = malloc((size_t)c->n_vocab * sizeof(float));
        memcpy(c->logits[pass - 1], l, (size_t)c->n_vocab * sizeof(float));
    }
    size_t rows = 0;
    const float *e = sq_session_image_embd(s, &rows);
    if (e && rows) {
        c->embd[pass - 1] = malloc(rows * (size_t)c->n_embd * sizeof(float));
        memcpy(c->embd[pass - 1], e, rows * (size_t)c->n_embd * sizeof(float));
        c->embd_rows[pass - 1] = rows;
    }
}

static bool
run_zoom(const char *backend, const sq_image *img, pass_capture *cap, sq_answer *a)
{
    char tp[1024], mp[1024];
    snprintf(tp, sizeof tp, "%s/tiny/models/qwen25vl-text-f32.gguf", tap_data_dir());
    snprintf(mp, sizeof mp, "%s/tiny/models/mmproj-qwen25vl-f32.gguf", tap_data_dir());
    sq_model_params mpar = sq_model_default_params();
    mpar.text_path = tp;
    mpar.mmproj_path = mp;
    mpar.backend = backend;
    mpar.n_threads = 2;
    sq_model *m = NULL;
    sq_session *s = NULL;
    sq_error err = { 0 };
    bool good = sq_model_load(&mpar, &m, &err) == SQ_OK && sq_session_new(m, NULL, &s, &err) == SQ_OK;
    if (good) {
        sq_model_info info = sq_model_get_info(m);
        cap->n_vocab = info.n_vocab;
        cap->n_embd = info.n_embd;
        sq_ask_params p = sq_ask_default_params();
        p.policy = SQ_POLICY_ADAPTIVE;
        p.forced_reply = TOOL_CALL;
        p.gen.n_predict = 6;
        p.on_prompt = on_prompt;
        p.user_data = cap;
        const sq_image *imgs[1] = { img };
        good = sq_session_ask(s, "What does the small text say?", imgs, 1, &p, a, &err) == SQ_OK;
        if (good && strcmp(backend, "opencl") == 0)
            ok(strcmp(info.backend, "opencl") == 0, "the model runs on the '%s' backend", info.backend);
    }
    if (!good)
        diag("%s: %s", backend, err.msg);
    sq_session_free(s);
    sq_model_free(m);
    return good;
}

static double
rel_rms(const float *a, const float *b, size_t n)
{
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        double d = (double)a[i] - b[i];
        num += d * d;
        den += (double)b[i] * b[i];
    }
    return sqrt(num / (double)n) / (sqrt(den / (double)n) + 1e-30);
}

static void
test_zoom_loop(void)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/tiny/images/img_448x336.png", tap_data_dir());
    sq_image img = { 0 };
    sq_error err = { 0 };
    if (!ok(sq_image_load_file(path, NULL, &img, &err) == SQ_OK, "image %s (%s)", path, err.msg))
        return;
    pass_capture cc = { 0 }, co = { 0 };
    sq_answer ac = { 0 }, ao = { 0 };
    bool rc = run_zoom("cpu", &img, &cc, &ac), ro = run_zoom("opencl", &img, &co, &ao);
    ok(rc && ro, "adaptive ask with a forced tool call on cpu and opencl");
    if (rc && ro) {
        ok(ao.zoom_requested && ao.zoomed && !ao.tool_call_error, "the resize request zooms on opencl");
        ok(ao.visual_low == 48 && ao.visual_full == 192 && ao.visual_used == 240 && ao.visual_saved == -48,
           "ledger on opencl: low %lld, full %lld, used %lld, saved %lld", (long long)ao.visual_low,
           (long long)ao.visual_full, (long long)ao.visual_used, (long long)ao.visual_saved);
        ok(ao.prefill_tokens[0] == ac.prefill_tokens[0] && ao.prefill_tokens[1] == ac.prefill_tokens[1],
           "both passes prefill the same rows as on cpu (%lld, %lld)", (long long)ao.prefill_tokens[0],
           (long long)ao.prefill_tokens[1]);
        for (int p = 0; p < 2; p++) {
            bool have = cc.logits[p] && co.logits[p];
            double e = have ? rel_rms(co.logits[p], cc.logits[p], (size_t)cc.n_vocab) : INFINITY;
            /* F16 KV: a weight a few float ulps apart may round to another half */
            ok(have && e < 1e-3, "pass %d logits: rel-RMS %.2e against cpu (bound 1e-3)", p + 1, e);
            have = cc.embd[p] && co.embd[p] && cc.embd_rows[p] == co.embd_rows[p];
            e = have ? rel_rms(co.embd[p], cc.embd[p], cc.embd_rows[p] * (size_t)cc.n_embd) : INFINITY;
            ok(have && e < 1e-5, "pass %d image embeddings (%zu rows): rel-RMS %.2e against cpu (bound 1e-5)", p + 1,
               co.embd_rows[p], e);
        }
        ok(ao.reply && ac.reply && strcmp(ao.reply, ac.reply) == 0, "the same reply as on cpu");
        diag("opencl reply: %s", ao.reply ? ao.reply : "(none)");
    }
    for (int p = 0; p < 2; p++) {
        free(cc.logits[p]);
        free(co.logits[p]);
        free(cc.embd[p]);
        free(co.embd[p]);
    }
    sq_answer_free(&ac);
    sq_answer_free(&ao);
    sq_image_free(&img);
}

/* ---- out of device memory at load ---- */

static void
test_load_nomem(void)
{
    char tp[1024];
    snprintf(tp, sizeof tp, "%s/tiny/models/qwen25vl-text-f32.gguf", tap_data_dir());
    sq_model_params mp = sq_model_default_params();
    mp.text_path = tp;
    mp.backend = "opencl";
    setenv("SQUINT_OPENCL_MEMORY_MB", "5", 1);
    sq_model *m = NULL;
    sq_error err = { 0 };
    sq_status st = sq_model_load(&mp, &m, &err);
    unsetenv("SQUINT_OPENCL_MEMORY_MB");
    ok(st == SQ_ERR_NOMEM && m == NULL && strstr(err.msg, "device memory"),
       "a model larger than the device memory fails to load with SQ_ERR_NOMEM: %s", err.msg);
    sq_model_free(m);
}

int
main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    sq_opencl_device_info *devs = NULL;
    size_t n_dev = 0;
    sq_error err = { 0 };
    if (sq_opencl_list_devices(&devs, &n_dev, &err) != SQ_OK || n_dev == 0) {
        printf("1..0 # SKIP no OpenCL device%s%s\n", err.msg[0] ? ": " : "", err.msg);
        free(devs);
        return 0;
    }
    test_devices(devs, n_dev);
    test_cache();

    sq_backend_cpu_new(2, &cpu, &err);
    static const char *const env[3][2] = { { "gpu", "kernels" }, { "gpu", "clblast" }, { "cpu", "kernels" } };
    sq_backend **made[3] = { &ocl_gpu, &ocl_clblast, &ocl_cpu };
    sq_status st = SQ_OK;
    for (int i = 0; i < 3 && st == SQ_OK; i++) {
        setenv("SQUINT_OPENCL_SHAPE", env[i][0], 1);
        setenv("SQUINT_OPENCL_GEMM", env[i][1], 1);
        st = sq_backend_opencl_new(NULL, made[i], &err);
    }
    unsetenv("SQUINT_OPENCL_SHAPE");
    unsetenv("SQUINT_OPENCL_GEMM");
    if (!ok(cpu && st == SQ_OK, "cpu and opencl backends (gpu shape, gpu shape + CLBlast, cpu shape) %s", err.msg)) {
        free(devs);
        return tap_done();
    }
    size_t def = 0;
    for (size_t i = 0; i < n_dev; i++)
        if (devs[i].is_default)
            def = i;
    test_matmul();
    ok(!sq_backend_opencl_warming(ocl_clblast) && !sq_backend_opencl_warming(ocl_gpu) &&
           sq_backend_opencl_device_name(cpu) == NULL && sq_backend_opencl_device_name(ocl_gpu) != NULL,
       "CLBlast pre-warm finished by the first batched matmul; device names for OpenCL backends only");
    for (int i = 0; i < 2; i++) {
        ocl_cur = ocl_shape(i);
        cur_shape = shape_name(i);
        test_rmsnorm();
        test_rope();
        test_attention();
        test_copy_rows();
        test_elementwise();
        test_get_rows();
    }
    report_ops();
    test_errors(ocl_cpu, &devs[def]);

    cpu->ops->free(cpu);
    ocl_gpu->ops->free(ocl_gpu);
    ocl_clblast->ops->free(ocl_clblast);
    ocl_cpu->ops->free(ocl_cpu);

    test_zoom_loop();
    test_load_nomem();
    free(devs);
    return tap_done();
}
