/* test-backend.c — every op of the backend table (backend.h) on every
 * backend, against naive double-precision loops written here straight from
 * the math of qwen25vl-spec.md (B.3 forward pass, B.4 M-RoPE, C.6 vision
 * RoPE, C.8 vision block), in the manner of ggml's test-backend-ops:
 *
 *   - results are compared by normalized mean squared error,
 *     NMSE = Σ(got − want)² / Σ want², against a bound per op.  matmul's
 *     bound comes from the activation rounding of the weight's vec_dot type
 *     (backend.h: activations are rounded to F16, BF16, Q8_0, Q8_1 or Q8_K the
 *     way llama.cpp rounds them), computed from the actual data: each
 *     activation may move by at most δᵢ, so the expected squared error of an
 *     output is Σᵢ wᵢ²·δᵢ²/3; the bound is 8× that (few outputs make a noisy
 *     sample) plus a float-summation floor.  Quantized weights are expanded with the scalar reference
 *     dequantizers of quant.h for the expected value;
 *   - every output view lives inside a larger buffer: guard bytes before it
 *     and two extra rows after it hold a NaN sentinel that must survive the
 *     op, and inputs sit at non-zero offsets too;
 *   - mismatched arguments must be refused with SQ_ERR_INVALID_ARG (or
 *     SQ_ERR_UNSUPPORTED for a weight type without a kernel) and a message,
 *     without touching the output's guards.
 *
 * The checks use nothing but the op table (buf_alloc, write, read, …), so a
 * backend joins by adding a line to backends[] below; today that is the CPU
 * backend with one and with two threads, and with two threads on its scalar
 * kernels (SQ_SIMD=scalar).  Op cases × backends: every case runs on every
 * backend.
 *
 * One check runs in a child process (this program re-executed with
 * --child): rope with a head_dim above the CPU kernel's fixed 1024 would
 * overflow a stack array, and a crash there must not take the suite down.
 */
#include <fcntl.h>
#include <math.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "backend.h"
#include "quant.h"
#include "tap.h"

extern char **environ;

/* ---- backends under test ---- */

static sq_status
make_cpu1(sq_backend **out, sq_error *err)
{
    return sq_backend_cpu_new(1, out, err);
}

static sq_status
make_cpu2(sq_backend **out, sq_error *err)
{
    return sq_backend_cpu_new(2, out, err);
}

/* The CPU backend on the scalar reference kernels (quant.h) and its scalar
 * code paths: SQ_SIMD is read when the backend is created. */
static sq_status
make_cpu2_scalar(sq_backend **out, sq_error *err)
{
    const char *old = getenv("SQ_SIMD");
    char *saved = old ? strdup(old) : NULL;
    setenv("SQ_SIMD", "scalar", 1);
    sq_status st = sq_backend_cpu_new(2, out, err);
    if (saved)
        setenv("SQ_SIMD", saved, 1);
    else
        unsetenv("SQ_SIMD");
    free(saved);
    return st;
}

typedef struct {
    const char *name;
    sq_status (*make)(sq_backend **out, sq_error *err);
} backend_desc;

/* An OpenCL backend adds { "opencl", make_opencl } here. */
static const backend_desc backends[] = {
    { "cpu/1", make_cpu1 },
    { "cpu/2", make_cpu2 },
    { "cpu/2 scalar", make_cpu2_scalar },
};
#define N_BACKENDS (sizeof backends / sizeof backends[0])

typedef struct {
    sq_backend *be;
    const char *name;
} ctx;

/* ---- small utilities ---- */

typedef struct {
    uint64_t s;
} rng;

static uint64_t
rng_u64(rng *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ull); /* splitmix64 */
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static int
rng_int(rng *r, int n)
{
    return (int)(rng_u64(r) % (uint64_t)n);
}

static float
rng_normal(rng *r)
{
    double u1 = ((double)(rng_u64(r) >> 11) + 0.5) * 0x1p-53;
    double u2 = (double)(rng_u64(r) >> 11) * 0x1p-53;
    return (float)(sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
}

static void *
xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    return p;
}

static void
fill_normal(float *x, int64_t n, float scale, rng *r)
{
    for (int64_t i = 0; i < n; i++)
        x[i] = scale * rng_normal(r);
}

static const char *
tname(sq_type t)
{
    const sq_type_info *ti = sq_type_get((uint32_t)t);
    return ti ? ti->name : "?";
}

/* binary16 → double, from the IEEE definition. */
static double
half_to_double(uint16_t h)
{
    int s = h >> 15, e = (h >> 10) & 31, m = h & 1023;
    double v = e == 0 ? ldexp(m, -24) : e == 31 ? (m ? NAN : INFINITY) : ldexp(1024 + m, e - 25);
    return s ? -v : v;
}

/* The binary16 value nearest to f, ties to even (as a double). */
static double
round_to_half(double f)
{
    if (isnan(f))
        return f;
    double a = fabs(f);
    if (a >= 65520.0)
        return copysign(INFINITY, f);
    int e;
    frexp(a, &e); /* a = m·2^e, m in [0.5, 1): 11 significant bits → quantum 2^(e-11) */
    int q = e - 11 < -24 ? -24 : e - 11;
    return copysign(ldexp(nearbyint(ldexp(a, -q)), q), f);
}

/* ---- comparing ---- */

typedef struct {
    double nmse, max_abs;
} cmp_result;

static cmp_result
compare(const float *got, const double *want, int64_t n)
{
    double num = 0.0, den = 0.0, max_abs = 0.0;
    for (int64_t i = 0; i < n; i++) {
        double d = (double)got[i] - want[i];
        num += d * d;
        den += want[i] * want[i];
        if (!(fabs(d) <= max_abs)) /* NaN propagates */
            max_abs = fabs(d);
    }
    return (cmp_result){ den > 0.0 ? num / den : num, max_abs };
}


static bool
status_ok(sq_status st, const sq_error *err, const char *what)
{
    if (st != SQ_OK)
        diag("%s: %s (%s)", what, sq_status_string(st), err->msg);
    return st == SQ_OK;
}

/* ---- guarded matrices ---- */

/* Bytes before every view; a multiple of 64 keeps the SIMD alignment. */
#define GUARD_BEFORE 192
/* Repeated over the whole buffer: as F32 0x7fc5a5a5, a quiet NaN. */
static const uint8_t sentinel[4] = { 0xa5, 0xa5, 0xc5, 0x7f };

typedef struct {
    sq_mat m;      /* the view under test */
    size_t bytes;  /* of the view */
    size_t total;  /* of the whole buffer: guard, view, two extra rows + 64 */
} gmat;

static bool
gmat_new(const ctx *c, sq_type type, int64_t cols, int64_t rows, gmat *g)
{
    memset(g, 0, sizeof *g);
    size_t row = sq_type_row_size(type, cols);
    g->bytes = row * (size_t)rows;
    g->total = GUARD_BEFORE + g->bytes + 2 * row + 64;
    sq_error err = { 0 };
    sq_buf *b = NULL;
    if (!status_ok(c->be->ops->buf_alloc(c->be, g->total, &b, &err), &err, "buf_alloc"))
        return false;
    uint8_t *fill = xmalloc(g->total);
    for (size_t i = 0; i < g->total; i++)
        fill[i] = sentinel[i % 4];
    bool good = status_ok(c->be->ops->write(c->be, b, 0, fill, g->total, &err), &err, "write");
    free(fill);
    g->m = (sq_mat){ .buf = b, .offset = GUARD_BEFORE, .type = type, .cols = cols, .rows = rows };
    return good;
}

static void
gmat_free(const ctx *c, gmat *g)
{
    if (g->m.buf)
        c->be->ops->buf_free(c->be, g->m.buf);
    g->m.buf = NULL;
}

static bool
gmat_write(const ctx *c, gmat *g, const void *data)
{
    sq_error err = { 0 };
    return status_ok(c->be->ops->write(c->be, g->m.buf, g->m.offset, data, g->bytes, &err), &err, "write");
}

static bool
gmat_read(const ctx *c, const gmat *g, void *data)
{
    sq_error err = { 0 };
    if (!status_ok(c->be->ops->sync(c->be, &err), &err, "sync"))
        return false;
    return status_ok(c->be->ops->read(c->be, g->m.buf, g->m.offset, data, g->bytes, &err), &err, "read");
}

/* True when every byte outside the view still holds the sentinel. */
static bool
gmat_guards_intact(const ctx *c, const gmat *g)
{
    sq_error err = { 0 };
    uint8_t *all = xmalloc(g->total);
    bool good = status_ok(c->be->ops->sync(c->be, &err), &err, "sync") &&
                status_ok(c->be->ops->read(c->be, g->m.buf, 0, all, g->total, &err), &err, "read");
    size_t first_bad = SIZE_MAX;
    for (size_t i = 0; good && i < g->total; i++) {
        if (i == g->m.offset) {
            i += g->bytes - 1;
            continue;
        }
        if (all[i] != sentinel[i % 4]) {
            first_bad = i;
            good = false;
        }
    }
    if (first_bad != SIZE_MAX)
        diag("guard byte %zu (view at [%zu, +%zu)) was overwritten", first_bad, g->m.offset, g->bytes);
    free(all);
    return good;
}

/* A read-only weight matrix as models bind them: host memory wrapped by
 * buf_from_host (the CPU uses it in place), at a non-zero offset. */
typedef struct {
    sq_mat m;
    void  *host;
} wmat;

static bool
wmat_new(const ctx *c, sq_type type, int64_t cols, int64_t rows, const void *data, wmat *w)
{
    size_t bytes = sq_type_row_size(type, cols) * (size_t)rows;
    size_t size = (64 + bytes + 63) & ~(size_t)63;
    w->host = aligned_alloc(64, size);
    if (!w->host)
        return false;
    memset(w->host, 0xee, size);
    memcpy((char *)w->host + 64, data, bytes);
    sq_error err = { 0 };
    sq_buf *b = NULL;
    if (!status_ok(c->be->ops->buf_from_host(c->be, w->host, size, &b, &err), &err, "buf_from_host")) {
        free(w->host);
        w->host = NULL;
        return false;
    }
    w->m = (sq_mat){ .buf = b, .offset = 64, .type = type, .cols = cols, .rows = rows };
    return true;
}

static void
wmat_free(const ctx *c, wmat *w)
{
    if (w->m.buf)
        c->be->ops->buf_free(c->be, w->m.buf);
    free(w->host);
    w->m.buf = NULL;
    w->host = NULL;
}

/* ---- weights of every type ---- */

typedef struct {
    sq_type type;
    int     f16_off[2]; /* byte offsets of f16 scale fields in a block, -1 if none */
} wtype_desc;

static const wtype_desc wtypes[] = {
    { SQ_TYPE_F32, { -1, -1 } },  { SQ_TYPE_F16, { -1, -1 } },  { SQ_TYPE_BF16, { -1, -1 } },
    { SQ_TYPE_Q8_0, { 0, -1 } },  { SQ_TYPE_Q4_0, { 0, -1 } },  { SQ_TYPE_Q4_1, { 0, 2 } },
    { SQ_TYPE_Q5_0, { 0, -1 } },  { SQ_TYPE_Q5_1, { 0, 2 } },   { SQ_TYPE_Q4_K, { 0, 2 } },
    { SQ_TYPE_Q5_K, { 0, 2 } },   { SQ_TYPE_Q6_K, { 208, -1 } },
};
#define N_WTYPES (sizeof wtypes / sizeof wtypes[0])

/* Random weights that make sense numerically: float types from a normal
 * distribution, quantized blocks with random quants and finite scales of
 * ordinary size. */
static void *
make_weights(const wtype_desc *td, int64_t cols, int64_t rows, rng *r)
{
    const sq_type_info *info = sq_type_get((uint32_t)td->type);
    size_t size = sq_type_row_size(td->type, cols) * (size_t)rows;
    uint8_t *p = xmalloc(size);
    int64_t n = cols * rows;
    if (td->type == SQ_TYPE_F32) {
        fill_normal((float *)p, n, 0.5f, r);
    } else if (td->type == SQ_TYPE_F16 || td->type == SQ_TYPE_BF16) {
        for (int64_t i = 0; i < n; i++) {
            float v = 0.5f * rng_normal(r);
            uint16_t h = td->type == SQ_TYPE_F16 ? sq_f32_to_f16(v) : sq_f32_to_bf16(v);
            memcpy(p + 2 * i, &h, 2);
        }
    } else {
        for (size_t i = 0; i < size; i++)
            p[i] = (uint8_t)rng_u64(r);
        for (size_t b = 0; b < size / info->type_size; b++)
            for (int k = 0; k < 2; k++)
                if (td->f16_off[k] >= 0) {
                    uint16_t h = sq_f32_to_f16(0.02f * rng_normal(r));
                    memcpy(p + b * info->type_size + (size_t)td->f16_off[k], &h, 2);
                }
    }
    return p;
}

/* The weights as doubles, through the scalar reference dequantizer. */
static double *
dequant_weights(sq_type type, const void *w, int64_t cols, int64_t rows)
{
    float *row = xmalloc((size_t)cols * sizeof *row);
    double *out = xmalloc((size_t)(cols * rows) * sizeof *out);
    size_t rs = sq_type_row_size(type, cols);
    for (int64_t r = 0; r < rows; r++) {
        sq_quant_kernels_scalar()->dequantize[type]((const uint8_t *)w + rs * (size_t)r, row, cols);
        for (int64_t i = 0; i < cols; i++)
            out[r * cols + i] = row[i];
    }
    free(row);
    return out;
}

/* ---- matmul (B.3: y = W·x + b) ---- */

/* The most the backend's rounding of each activation into vec_dot type vt
 * may move it (quant.h: d = amax/127 stored as f16 for Q8_0/Q8_1, a float
 * d with 127 steps per 256-block for Q8_K). */
static void
activation_delta(sq_type vt, const float *x, int64_t n, double *delta)
{
    int64_t bs = vt == SQ_TYPE_Q8_0 || vt == SQ_TYPE_Q8_1 ? 32 : vt == SQ_TYPE_Q8_K ? 256 : 1;
    for (int64_t b0 = 0; b0 < n; b0 += bs) {
        double amax = 0.0;
        for (int64_t i = b0; i < b0 + bs; i++)
            amax = fmax(amax, fabs((double)x[i]));
        for (int64_t i = b0; i < b0 + bs; i++) {
            double a = fabs((double)x[i]);
            switch (vt) {
            case SQ_TYPE_F32:  delta[i] = a * 0x1p-24; break;
            case SQ_TYPE_F16:  delta[i] = a * 0x1p-11 + 0x1p-25; break;
            case SQ_TYPE_BF16: delta[i] = a * 0x1p-8; break;
            case SQ_TYPE_Q8_K: delta[i] = amax * (1.0 / 254.0 + 0x1p-20); break;
            default:           delta[i] = amax * (1.0 / 254.0 + 0x1p-11); break;
            }
        }
    }
}

typedef struct {
    int64_t rows, n_out;
    int     n_in_idx;  /* which of the type's two input widths */
    bool    bias;
} mm_shape;

static const mm_shape mm_shapes[] = {
    { 1, 33, 0, true },   /* decode: one row, odd output count */
    { 1, 7, 1, false },
    { 4, 1, 0, false },   /* a single output */
    { 17, 67, 1, true },  /* prefill: many rows, odd outputs, several thread chunks */
};

static void
test_matmul_case(const ctx *c, const wtype_desc *td, const mm_shape *s, rng *r)
{
    const sq_type t = td->type, vt = sq_vec_dot_type(t);
    const int64_t bs = sq_type_get((uint32_t)t)->block_size;
    const int64_t widths[2] = { bs == 1 ? 37 : bs == 32 ? 96 : 256, bs == 256 ? 512 : 256 };
    const int64_t n_in = widths[s->n_in_idx], n_out = s->n_out, rows = s->rows;
    char desc[160];
    snprintf(desc, sizeof desc, "%s matmul %s W %lldx%lld, %lld row(s)%s", c->name, tname(t),
             (long long)n_out, (long long)n_in, (long long)rows, s->bias ? " + bias" : "");

    void *w = make_weights(td, n_in, n_out, r);
    double *wd = dequant_weights(t, w, n_in, n_out);
    float *x = xmalloc((size_t)(rows * n_in) * sizeof *x), *bias = xmalloc((size_t)n_out * sizeof *bias);
    float *y = xmalloc((size_t)(rows * n_out) * sizeof *y);
    double *want = xmalloc((size_t)(rows * n_out) * sizeof *want), *delta = xmalloc((size_t)n_in * sizeof *delta);
    fill_normal(x, rows * n_in, 1.0f, r);
    fill_normal(bias, n_out, 0.1f, r);

    double pred = 0.0; /* expected Σ err² from activation rounding */
    for (int64_t i = 0; i < rows; i++) {
        activation_delta(vt, x + i * n_in, n_in, delta);
        for (int64_t o = 0; o < n_out; o++) {
            double acc = s->bias ? bias[o] : 0.0, var = 0.0;
            for (int64_t k = 0; k < n_in; k++) {
                double wk = wd[o * n_in + k];
                acc += wk * x[i * n_in + k];
                var += wk * wk * delta[k] * delta[k] / 3.0;
            }
            want[i * n_out + o] = acc;
            pred += var;
        }
    }
    double den = 0.0;
    for (int64_t i = 0; i < rows * n_out; i++)
        den += want[i] * want[i];
    const double bound = 8.0 * pred / den + 1e-10;

    wmat wm = { 0 };
    gmat gx = { 0 }, gb = { 0 }, gy = { 0 };
    bool setup = wmat_new(c, t, n_in, n_out, w, &wm) && gmat_new(c, SQ_TYPE_F32, n_in, rows, &gx) &&
                 gmat_write(c, &gx, x) && gmat_new(c, SQ_TYPE_F32, n_out, 1, &gb) && gmat_write(c, &gb, bias) &&
                 gmat_new(c, SQ_TYPE_F32, n_out, rows, &gy);
    sq_error err = { 0 };
    bool ran = setup && status_ok(c->be->ops->matmul(c->be, &wm.m, &gx.m, s->bias ? &gb.m : NULL, &gy.m, &err),
                                  &err, desc);
    cmp_result cr = { NAN, NAN };
    if (ran && gmat_read(c, &gy, y))
        cr = compare(y, want, rows * n_out);
    ok(ran && cr.nmse <= bound, "%s: NMSE %.2e (bound %.2e, activations %s)", desc, cr.nmse, bound, tname(vt));
    ok(ran && gmat_guards_intact(c, &gy) && gmat_guards_intact(c, &gx), "%s: guards intact", desc);

    wmat_free(c, &wm);
    gmat_free(c, &gx);
    gmat_free(c, &gb);
    gmat_free(c, &gy);
    free(w);
    free(wd);
    free(x);
    free(bias);
    free(y);
    free(want);
    free(delta);
}

static void
test_matmul(const ctx *c)
{
    rng r = { 101 };
    for (size_t t = 0; t < N_WTYPES; t++)
        for (size_t s = 0; s < sizeof mm_shapes / sizeof mm_shapes[0]; s++)
            test_matmul_case(c, &wtypes[t], &mm_shapes[s], &r);
}

/* ---- rmsnorm (B.3: v / sqrt(mean(v²) + eps) · w) ---- */

static void
test_rmsnorm(const ctx *c)
{
    rng r = { 202 };
    static const struct {
        int64_t cols, rows;
        bool    in_place;
    } cases[] = { { 256, 5, false }, { 37, 1, false }, { 80, 9, true } };
    for (size_t ci = 0; ci < sizeof cases / sizeof cases[0]; ci++) {
        int64_t cols = cases[ci].cols, rows = cases[ci].rows, n = cols * rows;
        const float eps = 1e-6f;
        float *x = xmalloc((size_t)n * sizeof *x), *w = xmalloc((size_t)cols * sizeof *w), *y = xmalloc((size_t)n * sizeof *y);
        double *want = xmalloc((size_t)n * sizeof *want);
        fill_normal(x, n, 2.0f, &r);
        fill_normal(w, cols, 1.0f, &r);
        for (int64_t i = 0; i < rows; i++) {
            double ss = 0.0;
            for (int64_t k = 0; k < cols; k++)
                ss += (double)x[i * cols + k] * x[i * cols + k];
            double scale = 1.0 / sqrt(ss / (double)cols + eps);
            for (int64_t k = 0; k < cols; k++)
                want[i * cols + k] = x[i * cols + k] * scale * w[k];
        }
        char desc[128];
        snprintf(desc, sizeof desc, "%s rmsnorm %lldx%lld%s", c->name, (long long)rows, (long long)cols,
                 cases[ci].in_place ? " in place" : "");
        gmat gx = { 0 }, gw = { 0 }, gy = { 0 };
        bool setup = gmat_new(c, SQ_TYPE_F32, cols, rows, &gx) && gmat_write(c, &gx, x) &&
                     gmat_new(c, SQ_TYPE_F32, cols, 1, &gw) && gmat_write(c, &gw, w) &&
                     gmat_new(c, SQ_TYPE_F32, cols, rows, &gy);
        gmat *out = cases[ci].in_place ? &gx : &gy;
        sq_error err = { 0 };
        bool ran = setup && status_ok(c->be->ops->rmsnorm(c->be, &gx.m, &gw.m, eps, &out->m, &err), &err, desc);
        cmp_result cr = { NAN, NAN };
        if (ran && gmat_read(c, out, y))
            cr = compare(y, want, n);
        ok(ran && cr.nmse <= 1e-12, "%s: NMSE %.2e", desc, cr.nmse);
        ok(ran && gmat_guards_intact(c, out), "%s: guards intact", desc);
        gmat_free(c, &gx);
        gmat_free(c, &gw);
        gmat_free(c, &gy);
        free(x);
        free(w);
        free(y);
        free(want);
    }
}

/* ---- rope (B.4 M-RoPE, C.6 vision 2-D RoPE) ---- */

/* Direct cos/sin: pair k of every head, NEOX pairing (k, k + D/2).  M-RoPE:
 * θ = p[section(k)]·base^(−2k/D) with the global k; vision: the exponent
 * restarts at each section, θ = p[s]·base^(−2(k − start(s))/(D/2)). */
static void
ref_rope(const float *x, double *out, int64_t n, const sq_rope_params *p, const int32_t *pos)
{
    const int d = p->head_dim, half = d / 2;
    for (int64_t r = 0; r < n; r++)
        for (int h = 0; h < p->n_head; h++) {
            const float *v = x + (r * p->n_head + h) * d;
            double *o = out + (r * p->n_head + h) * d;
            for (int k = 0; k < half; k++) {
                int sec = 0, start = 0;
                while (sec < 3 && k >= start + p->sections[sec])
                    start += p->sections[sec++];
                double p_k = pos[(int64_t)sec * n + r];
                double theta = p->mode == SQ_ROPE_MROPE ? p_k * pow(p->freq_base, -2.0 * k / d)
                                                        : p_k * pow(p->freq_base, -2.0 * (k - start) / half);
                double a = v[k], b = v[k + half];
                o[k] = a * cos(theta) - b * sin(theta);
                o[k + half] = a * sin(theta) + b * cos(theta);
            }
        }
}

typedef struct {
    const char  *what;
    sq_rope_mode mode;
    int          n_head, head_dim, sections[4];
    float        base;
    int64_t      n;
} rope_case;

static const rope_case rope_cases[] = {
    { "M-RoPE, tiny text sections [4,6,6,0]", SQ_ROPE_MROPE, 8, 32, { 4, 6, 6, 0 }, 1e6f, 7 },
    { "M-RoPE, Qwen2.5-VL sections [16,24,24,0]", SQ_ROPE_MROPE, 2, 128, { 16, 24, 24, 0 }, 1e6f, 5 },
    { "M-RoPE, four sections [3,5,6,2]", SQ_ROPE_MROPE, 3, 32, { 3, 5, 6, 2 }, 1e4f, 4 },
    { "vision 2-D, head_dim 80 [20,20,0,0]", SQ_ROPE_VISION, 4, 80, { 20, 20, 0, 0 }, 1e4f, 12 },
    { "vision 2-D, uneven [6,10,0,0]", SQ_ROPE_VISION, 2, 32, { 6, 10, 0, 0 }, 1e4f, 6 },
};

static void
test_rope_case(const ctx *c, const rope_case *rc, rng *r)
{
    const int64_t n = rc->n, cols = (int64_t)rc->n_head * rc->head_dim;
    float *x = xmalloc((size_t)(n * cols) * sizeof *x), *y = xmalloc((size_t)(n * cols) * sizeof *y);
    double *want = xmalloc((size_t)(n * cols) * sizeof *want);
    int32_t *pos = xmalloc((size_t)(4 * n) * sizeof *pos);
    fill_normal(x, n * cols, 1.0f, r);
    for (int64_t i = 0; i < n; i++) {
        if (rc->mode == SQ_ROPE_MROPE) {
            /* an image-like block: shared t, distinct h and w, and an e row */
            pos[i] = 40 + (int32_t)(i / 3);
            pos[n + i] = 40 + (int32_t)(i % 3) * 5 + rng_int(r, 4);
            pos[2 * n + i] = 90 + (int32_t)i * 7;
            pos[3 * n + i] = rng_int(r, 200);
        } else {
            /* (row, col, row, col) of patches in merge-block order */
            int32_t row = (int32_t)(2 * (i / 4) + (i / 2) % 2), col = (int32_t)(2 * (i / 4) + i % 2 + 3);
            pos[i] = pos[2 * n + i] = row;
            pos[n + i] = pos[3 * n + i] = col;
        }
    }
    sq_rope_params p = { rc->mode, rc->n_head, rc->head_dim,
                         { rc->sections[0], rc->sections[1], rc->sections[2], rc->sections[3] }, rc->base };
    ref_rope(x, want, n, &p, pos);
    char desc[160];
    snprintf(desc, sizeof desc, "%s rope %s, %d heads × %d, %lld rows", c->name, rc->what, rc->n_head,
             rc->head_dim, (long long)n);
    gmat gx = { 0 }, gp = { 0 };
    bool setup = gmat_new(c, SQ_TYPE_F32, cols, n, &gx) && gmat_write(c, &gx, x) &&
                 gmat_new(c, SQ_TYPE_I32, n, 4, &gp) && gmat_write(c, &gp, pos);
    sq_error err = { 0 };
    bool ran = setup && status_ok(c->be->ops->rope(c->be, &gx.m, &gp.m, &p, &err), &err, desc);
    cmp_result cr = { NAN, NAN };
    if (ran && gmat_read(c, &gx, y))
        cr = compare(y, want, n * cols);
    /* ggml builds θ by repeated float multiplication: ~k ulp of drift */
    ok(ran && cr.nmse <= 1e-10 && cr.max_abs <= 1e-4, "%s: NMSE %.2e, max |err| %.2e", desc, cr.nmse, cr.max_abs);
    ok(ran && gmat_guards_intact(c, &gx) && gmat_guards_intact(c, &gp), "%s: guards intact", desc);
    gmat_free(c, &gx);
    gmat_free(c, &gp);
    free(x);
    free(y);
    free(want);
    free(pos);
}

static void
test_rope(const ctx *c)
{
    rng r = { 303 };
    for (size_t i = 0; i < sizeof rope_cases / sizeof rope_cases[0]; i++)
        test_rope_case(c, &rope_cases[i], &r);
}

/* ---- attention (B.3 and C.8: softmax(q·Kᵀ·scale + mask)·V per head) ---- */

static void
ref_attention(const float *q, const double *k, const double *v, int64_t n_q, int64_t n_kv,
              const sq_attn_params *p, const int32_t *win, double *out)
{
    const int d = p->head_dim, g = p->n_head / p->n_head_kv;
    const int64_t qw = (int64_t)p->n_head * d, kw = (int64_t)p->n_head_kv * d;
    double *s = xmalloc((size_t)n_kv * sizeof *s);
    for (int64_t i = 0; i < n_q; i++)
        for (int h = 0; h < p->n_head; h++) {
            const int kvh = h / g;
            double max = -INFINITY;
            for (int64_t j = 0; j < n_kv; j++) {
                bool allowed = p->mask == SQ_MASK_CAUSAL ? j <= p->q_offset + i
                             : p->mask == SQ_MASK_WINDOW ? win[i] == win[j] : true;
                if (!allowed) {
                    s[j] = -INFINITY;
                    continue;
                }
                double dot = 0.0;
                for (int e = 0; e < d; e++)
                    dot += (double)q[i * qw + h * d + e] * k[j * kw + kvh * d + e];
                s[j] = dot * p->scale;
                max = fmax(max, s[j]);
            }
            double sum = 0.0;
            for (int64_t j = 0; j < n_kv; j++) {
                s[j] = s[j] == -INFINITY ? 0.0 : exp(s[j] - max);
                sum += s[j];
            }
            for (int e = 0; e < d; e++) {
                double acc = 0.0;
                for (int64_t j = 0; j < n_kv; j++)
                    acc += s[j] * v[j * kw + kvh * d + e];
                out[i * qw + h * d + e] = acc / sum;
            }
        }
    free(s);
}

typedef struct {
    const char  *what;
    sq_mask_kind mask;
    int          n_head, n_head_kv, head_dim;
    int64_t      n_q, n_kv, q_offset;
} attn_case;

static const attn_case attn_cases[] = {
    { "causal prefill, GQA 8/2, q_offset 11", SQ_MASK_CAUSAL, 8, 2, 32, 5, 16, 11 },
    { "causal, keys past the last query ignored", SQ_MASK_CAUSAL, 8, 2, 32, 4, 19, 9 },
    { "causal decode, one query", SQ_MASK_CAUSAL, 8, 2, 32, 1, 21, 20 },
    /* few rows: blocks of query heads sharing a KV head, 4 + 2 of a group of 6 */
    { "causal, two queries, GQA 12/2", SQ_MASK_CAUSAL, 12, 2, 32, 2, 21, 19 },
    { "none, one query, GQA 6/1, head_dim 128", SQ_MASK_NONE, 6, 1, 128, 1, 9, 0 },
    { "window, scattered ids", SQ_MASK_WINDOW, 4, 4, 16, 24, 24, 0 },
    { "none, GQA 4/2", SQ_MASK_NONE, 4, 2, 64, 6, 13, 0 },
    { "causal prefill, head_dim 128, GQA 4/1", SQ_MASK_CAUSAL, 4, 1, 128, 37, 45, 8 },
    { "window, vision head_dim 80, 64 patches", SQ_MASK_WINDOW, 4, 4, 80, 64, 64, 0 },
    { "none, head_dim 20", SQ_MASK_NONE, 2, 2, 20, 9, 9, 0 },
};

static void
test_attention_case(const ctx *c, const attn_case *ac, sq_type kv_type, rng *r)
{
    const int64_t qw = (int64_t)ac->n_head * ac->head_dim, kw = (int64_t)ac->n_head_kv * ac->head_dim;
    const int64_t nq = ac->n_q, nkv = ac->n_kv;
    float *q = xmalloc((size_t)(nq * qw) * sizeof *q), *y = xmalloc((size_t)(nq * qw) * sizeof *y);
    float *kf = xmalloc((size_t)(nkv * kw) * sizeof *kf), *vf = xmalloc((size_t)(nkv * kw) * sizeof *vf);
    uint16_t *kh = xmalloc((size_t)(nkv * kw) * sizeof *kh), *vh = xmalloc((size_t)(nkv * kw) * sizeof *vh);
    double *kd = xmalloc((size_t)(nkv * kw) * sizeof *kd), *vd = xmalloc((size_t)(nkv * kw) * sizeof *vd);
    double *want = xmalloc((size_t)(nq * qw) * sizeof *want);
    int32_t *win = xmalloc((size_t)nkv * sizeof *win);
    fill_normal(q, nq * qw, 1.5f, r);
    fill_normal(kf, nkv * kw, 1.5f, r);
    fill_normal(vf, nkv * kw, 1.0f, r);
    for (int64_t i = 0; i < nkv * kw; i++) {
        kh[i] = sq_f32_to_f16(kf[i]);
        vh[i] = sq_f32_to_f16(vf[i]);
        kd[i] = kv_type == SQ_TYPE_F16 ? half_to_double(kh[i]) : kf[i];
        vd[i] = kv_type == SQ_TYPE_F16 ? half_to_double(vh[i]) : vf[i];
    }
    for (int64_t i = 0; i < nkv; i++)
        win[i] = (int32_t)((i * 7 + rng_int(r, 2)) % 5); /* scattered, not contiguous */
    gmat gwin = { 0 };
    sq_attn_params p = { ac->n_head, ac->n_head_kv, ac->head_dim, 1.0f / sqrtf((float)ac->head_dim), ac->mask,
                         ac->q_offset, NULL };
    ref_attention(q, kd, vd, nq, nkv, &p, win, want);

    char desc[160];
    snprintf(desc, sizeof desc, "%s attention %s, %s K/V, %lld queries × %lld keys", c->name, ac->what,
             tname(kv_type), (long long)nq, (long long)nkv);
    gmat gq = { 0 }, gk = { 0 }, gv = { 0 }, go = { 0 };
    bool setup = gmat_new(c, SQ_TYPE_F32, qw, nq, &gq) && gmat_write(c, &gq, q) &&
                 gmat_new(c, kv_type, kw, nkv, &gk) && gmat_write(c, &gk, kv_type == SQ_TYPE_F16 ? (void *)kh : kf) &&
                 gmat_new(c, kv_type, kw, nkv, &gv) && gmat_write(c, &gv, kv_type == SQ_TYPE_F16 ? (void *)vh : vf) &&
                 gmat_new(c, SQ_TYPE_F32, qw, nq, &go) && gmat_new(c, SQ_TYPE_I32, nkv, 1, &gwin) &&
                 gmat_write(c, &gwin, win);
    if (ac->mask == SQ_MASK_WINDOW)
        p.window_ids = &gwin.m;
    sq_error err = { 0 };
    bool ran = setup && status_ok(c->be->ops->attention(c->be, &gq.m, &gk.m, &gv.m, &p, &go.m, &err), &err, desc);
    cmp_result cr = { NAN, NAN };
    if (ran && gmat_read(c, &go, y))
        cr = compare(y, want, nq * qw);
    /* F16 K/V: the backend rounds q and the softmax weights to F16: ≈ 8·(2^-11)² */
    const double bound = kv_type == SQ_TYPE_F16 ? 2e-6 : 1e-10;
    ok(ran && cr.nmse <= bound, "%s: NMSE %.2e (bound %.0e)", desc, cr.nmse, bound);
    ok(ran && gmat_guards_intact(c, &go), "%s: guards intact", desc);
    gmat_free(c, &gq);
    gmat_free(c, &gk);
    gmat_free(c, &gv);
    gmat_free(c, &go);
    gmat_free(c, &gwin);
    free(q);
    free(y);
    free(kf);
    free(vf);
    free(kh);
    free(vh);
    free(kd);
    free(vd);
    free(want);
    free(win);
}

static void
test_attention(const ctx *c)
{
    rng r = { 404 };
    for (size_t i = 0; i < sizeof attn_cases / sizeof attn_cases[0]; i++) {
        test_attention_case(c, &attn_cases[i], SQ_TYPE_F32, &r);
        test_attention_case(c, &attn_cases[i], SQ_TYPE_F16, &r);
    }
}

/* ---- copy_rows (the KV cache store: F32 → F32/F16 at a row offset) ---- */

static void
test_copy_rows_case(const ctx *c, sq_type dst_type, rng *r)
{
    const int64_t cols = 70, n = 5, dst_rows = 12, row0 = 4;
    float *src = xmalloc((size_t)(n * cols) * sizeof *src);
    fill_normal(src, n * cols, 3.0f, r);
    /* rounding corner cases in the first row */
    static const float special[] = { 1.0f + 0x1p-11f,  1.0f + 0x1p-11f + 0x1p-23f, 1.0f + 3 * 0x1p-11f, 65519.0f,
                                     65520.0f, -70000.0f, 1e-6f, -3e-8f, 0x1p-25f, 0x1p-24f * 1.5f, -0.0f, 0.0f };
    memcpy(src, special, sizeof special);
    size_t row_bytes = sq_type_row_size(dst_type, cols);
    uint8_t *dst = xmalloc(row_bytes * (size_t)dst_rows);

    char desc[128];
    snprintf(desc, sizeof desc, "%s copy_rows F32 → %s, %lld rows at row %lld of %lld", c->name, tname(dst_type),
             (long long)n, (long long)row0, (long long)dst_rows);
    gmat gs = { 0 }, gd = { 0 };
    bool setup = gmat_new(c, SQ_TYPE_F32, cols, n, &gs) && gmat_write(c, &gs, src) &&
                 gmat_new(c, dst_type, cols, dst_rows, &gd);
    sq_error err = { 0 };
    bool ran = setup && status_ok(c->be->ops->copy_rows(c->be, &gs.m, &gd.m, row0, &err), &err, desc);
    int64_t wrong = 0, untouched_bad = 0;
    if (ran && gmat_read(c, &gd, dst)) {
        for (int64_t rr = 0; rr < dst_rows; rr++) {
            const uint8_t *row = dst + row_bytes * (size_t)rr;
            if (rr < row0 || rr >= row0 + n) {
                /* rows outside the copy keep the buffer's sentinel */
                for (size_t b = 0; b < row_bytes; b++)
                    untouched_bad += row[b] != sentinel[(GUARD_BEFORE + row_bytes * (size_t)rr + b) % 4];
                continue;
            }
            for (int64_t k = 0; k < cols; k++) {
                double s = src[(rr - row0) * cols + k], got;
                if (dst_type == SQ_TYPE_F16) {
                    uint16_t h;
                    memcpy(&h, row + 2 * k, 2);
                    got = half_to_double(h);
                    s = round_to_half(s);
                } else {
                    float f;
                    memcpy(&f, row + 4 * k, 4);
                    got = f;
                }
                wrong += !(got == s && signbit(got) == signbit(s));
            }
        }
    } else {
        wrong = -1;
    }
    ok(ran && wrong == 0 && untouched_bad == 0, "%s: %lld values wrong, %lld bytes of other rows changed", desc,
       (long long)wrong, (long long)untouched_bad);
    ok(ran && gmat_guards_intact(c, &gd), "%s: guards intact", desc);
    gmat_free(c, &gs);
    gmat_free(c, &gd);
    free(src);
    free(dst);
}

static void
test_copy_rows(const ctx *c)
{
    rng r = { 505 };
    test_copy_rows_case(c, SQ_TYPE_F16, &r);
    test_copy_rows_case(c, SQ_TYPE_F32, &r);
}

/* ---- element-wise: silu_mul (B.3), gelu (C.9), add ---- */

typedef enum { EW_SILU_MUL, EW_GELU_ERF, EW_GELU_TANH, EW_ADD } ew_op;

static double
ref_elem(ew_op op, double a, double b)
{
    switch (op) {
    case EW_SILU_MUL:  return a / (1.0 + exp(-a)) * b;
    case EW_GELU_ERF:  return 0.5 * a * (1.0 + erf(a / sqrt(2.0)));
    case EW_GELU_TANH: return 0.5 * a * (1.0 + tanh(sqrt(2.0 / M_PI) * (a + 0.044715 * a * a * a)));
    default:           return a + b;
    }
}

static const char *const ew_names[] = { "silu_mul", "gelu erf", "gelu tanh", "add" };

/* alias: 0 separate output, 1 out = a, 2 out = b */
static void
test_elem_case(const ctx *c, ew_op op, int64_t cols, int64_t rows, int alias, rng *r)
{
    const int64_t n = cols * rows;
    float *a = xmalloc((size_t)n * sizeof *a), *b = xmalloc((size_t)n * sizeof *b), *y = xmalloc((size_t)n * sizeof *y);
    double *want = xmalloc((size_t)n * sizeof *want);
    fill_normal(a, n, 3.0f, r);
    fill_normal(b, n, 1.0f, r);
    static const float extremes[] = { -100.0f, 100.0f, -30.0f, 30.0f, -88.0f, 89.0f, 0.0f, -0.0f, 1e-20f, -6.0f };
    memcpy(a, extremes, sizeof extremes);
    for (int64_t i = 0; i < n; i++)
        want[i] = ref_elem(op, a[i], b[i]);
    char desc[128];
    snprintf(desc, sizeof desc, "%s %s %lldx%lld%s", c->name, ew_names[op], (long long)rows, (long long)cols,
             alias == 1 ? ", out = first input" : alias == 2 ? ", out = second input" : "");
    gmat ga = { 0 }, gb = { 0 }, go = { 0 };
    bool setup = gmat_new(c, SQ_TYPE_F32, cols, rows, &ga) && gmat_write(c, &ga, a) &&
                 gmat_new(c, SQ_TYPE_F32, cols, rows, &gb) && gmat_write(c, &gb, b) &&
                 gmat_new(c, SQ_TYPE_F32, cols, rows, &go);
    gmat *out = alias == 1 ? &ga : alias == 2 ? &gb : &go;
    sq_error err = { 0 };
    sq_status st = SQ_ERR_INVALID_ARG;
    if (setup) {
        const sq_backend_ops *o = c->be->ops;
        switch (op) {
        case EW_SILU_MUL:  st = o->silu_mul(c->be, &ga.m, &gb.m, &out->m, &err); break;
        case EW_GELU_ERF:  st = o->gelu(c->be, &ga.m, SQ_GELU_ERF, &out->m, &err); break;
        case EW_GELU_TANH: st = o->gelu(c->be, &ga.m, SQ_GELU_TANH, &out->m, &err); break;
        case EW_ADD:       st = o->add(c->be, &ga.m, &gb.m, &out->m, &err); break;
        }
    }
    bool ran = setup && status_ok(st, &err, desc);
    cmp_result cr = { NAN, NAN };
    if (ran && gmat_read(c, out, y))
        cr = compare(y, want, n);
    ok(ran && cr.nmse <= 1e-12, "%s: NMSE %.2e, max |err| %.2e", desc, cr.nmse, cr.max_abs);
    ok(ran && gmat_guards_intact(c, out), "%s: guards intact", desc);
    gmat_free(c, &ga);
    gmat_free(c, &gb);
    gmat_free(c, &go);
    free(a);
    free(b);
    free(y);
    free(want);
}

static void
test_elementwise(const ctx *c)
{
    rng r = { 606 };
    for (int op = 0; op < 4; op++) {
        test_elem_case(c, (ew_op)op, 37, 1, 0, &r);
        test_elem_case(c, (ew_op)op, 3001, 3, 0, &r); /* several 4096-element chunks */
        test_elem_case(c, (ew_op)op, 256, 9, 1, &r);  /* in place, as text.c and vision.c run them */
    }
    test_elem_case(c, EW_ADD, 129, 5, 2, &r);
    test_elem_case(c, EW_SILU_MUL, 129, 5, 2, &r);
}

/* ---- get_rows (B.3 step 1: rows of the embedding table) ---- */

static void
test_get_rows(const ctx *c)
{
    rng r = { 707 };
    static const int32_t ids[] = { 3, 0, 8, 3, 5, 8, 1 };
    const int64_t n = sizeof ids / sizeof ids[0], rows = 9;
    for (size_t t = 0; t < N_WTYPES; t++) {
        const sq_type type = wtypes[t].type;
        const int64_t bs = sq_type_get((uint32_t)type)->block_size, cols = bs == 1 ? 37 : bs == 32 ? 64 : 256;
        void *table = make_weights(&wtypes[t], cols, rows, &r);
        double *td = dequant_weights(type, table, cols, rows);
        float *y = xmalloc((size_t)(n * cols) * sizeof *y);
        char desc[128];
        snprintf(desc, sizeof desc, "%s get_rows %s table %lldx%lld, %lld ids", c->name, tname(type),
                 (long long)rows, (long long)cols, (long long)n);
        wmat wm = { 0 };
        gmat go = { 0 };
        bool setup = wmat_new(c, type, cols, rows, table, &wm) && gmat_new(c, SQ_TYPE_F32, cols, n, &go);
        sq_error err = { 0 };
        bool ran = setup && status_ok(c->be->ops->get_rows(c->be, &wm.m, ids, n, &go.m, &err), &err, desc);
        int64_t wrong = -1;
        if (ran && gmat_read(c, &go, y)) {
            wrong = 0;
            for (int64_t i = 0; i < n; i++)
                for (int64_t k = 0; k < cols; k++)
                    wrong += (double)y[i * cols + k] != td[(int64_t)ids[i] * cols + k];
        }
        ok(ran && wrong == 0, "%s: %lld values differ from the scalar dequantization", desc, (long long)wrong);
        ok(ran && gmat_guards_intact(c, &go), "%s: guards intact", desc);
        wmat_free(c, &wm);
        gmat_free(c, &go);
        free(table);
        free(td);
        free(y);
    }
}

/* ---- argument validation ---- */

/* A status/message check that leaves the output's guards and contents
 * alone: the op must refuse before writing anything. */
static void
expect_refusal(const ctx *c, sq_status st, const sq_error *err, sq_status want, const gmat *out, const char *what)
{
    bool guards = out ? gmat_guards_intact(c, out) : true;
    ok(st == want && err->msg[0] != '\0' && guards, "%s %s: %s \"%s\"%s", c->name, what, sq_status_string(st),
       err->msg, guards ? "" : ", guards overwritten");
}

static void
test_validation(const ctx *c)
{
    const sq_backend_ops *o = c->be->ops;
    sq_backend *be = c->be;
    sq_error err;
    sq_status st;
#define RESET() (err = (sq_error){ 0 })

    /* matmul: W 8 × 64 F32 */
    float wdata[8 * 64] = { 0 };
    wmat w = { 0 }, wq2 = { 0 }, wq4 = { 0 };
    gmat x = { 0 }, y = { 0 }, bias = { 0 }, x16 = { 0 }, y_short = { 0 };
    uint8_t q2[84 * 8] = { 0 }, q4[2 * 18 * 8] = { 0 };
    bool setup = wmat_new(c, SQ_TYPE_F32, 64, 8, wdata, &w) && gmat_new(c, SQ_TYPE_F32, 64, 3, &x) &&
                 gmat_new(c, SQ_TYPE_F32, 8, 3, &y) && gmat_new(c, SQ_TYPE_F32, 7, 1, &bias) &&
                 gmat_new(c, SQ_TYPE_F16, 64, 3, &x16) && gmat_new(c, SQ_TYPE_F32, 8, 2, &y_short) &&
                 wmat_new(c, SQ_TYPE_Q2_K, 256, 8, q2, &wq2) && wmat_new(c, SQ_TYPE_Q4_0, 64, 8, q4, &wq4);
    if (!ok(setup, "%s validation: buffers", c->name))
        return;
    sq_mat x_wide = sq_mat_reshape(&x.m, 32, 6);
    RESET(), st = o->matmul(be, &w.m, &x_wide, NULL, &y.m, &err);
    expect_refusal(c, st, &err, SQ_ERR_INVALID_ARG, &y, "matmul: x has 32 columns, W 64");
    gmat y6 = { 0 };
    if (gmat_new(c, SQ_TYPE_F32, 12, 3, &y6)) {
        RESET(), st = o->matmul(be, &w.m, &x.m, NULL, &y6.m, &err);
        expect_refusal(c, st, &err, SQ_ERR_INVALID_ARG, &y6, "matmul: y has 12 columns, W 8 rows");
        gmat_free(c, &y6);
    }
    RESET(), st = o->matmul(be, &w.m, &x.m, NULL, &y_short.m, &err);
    expect_refusal(c, st, &err, SQ_ERR_INVALID_ARG, &y_short, "matmul: y has 2 rows, x 3");
    RESET(), st = o->matmul(be, &w.m, &x.m, &bias.m, &y.m, &err);
    expect_refusal(c, st, &err, SQ_ERR_INVALID_ARG, &y, "matmul: bias of 7 for 8 outputs");
    RESET(), st = o->matmul(be, &w.m, &x16.m, NULL, &y.m, &err);
    expect_refusal(c, st, &err, SQ_ERR_INVALID_ARG, &y, "matmul: F16 activations");
    sq_mat x_past = x.m;
    x_past.offset = x.total - 16;
    RESET(), st = o->matmul(be, &w.m, &x_past, NULL, &y.m, &err);
    expect_refusal(c, st, &err, SQ_ERR_INVALID_ARG, &y, "matmul: x view past the end of its buffer");
    gmat x256 = { 0 }, y8 = { 0 };
    if (gmat_new(c, SQ_TYPE_F32, 256, 3, &x256) && gmat_new(c, SQ_TYPE_F32, 8, 3, &y8)) {
        RESET(), st = o->matmul(be, &wq2.m, &x256.m, NULL, &y8.m, &err);
        expect_refusal(c, st, &err, SQ_ERR_UNSUPPORTED, &y8, "matmul: Q2_K weights (no kernel)");
    }
    gmat_free(c, &x256);
    gmat_free(c, &y8);
    /* Q4_0 bytes seen as rows of 48: not a whole number of 32-blocks */
    sq_mat q4_odd = sq_mat_reshape(&wq4.m, 48, 8);
    gmat x48 = { 0 };
    if (gmat_new(c, SQ_TYPE_F32, 48, 3, &x48)) {
        RESET(), st = o->matmul(be, &q4_odd, &x48.m, NULL, &y.m, &err);
        expect_refusal(c, st, &err, SQ_ERR_INVALID_ARG, &y, "matmul: Q4_0 rows of 48 (not whole blocks)");
        gmat_free(c, &x48);
    }

    /* rmsnorm */
    gmat nw = { 0 };
    if (gmat_new(c, SQ_TYPE_F32, 63, 1, &nw)) {
        gmat ny = { 0 };
        if (gmat_new(c, SQ_TYPE_F32, 64, 3, &ny)) {
            RESET(), st = o->rmsnorm(be, &x.m, &nw.m, 1e-6f, &ny.m, &err);
            expect_refusal(c, st, &err, SQ_ERR_INVALID_ARG, &ny, "rmsnorm: weight of 63 for rows of 64");
            gmat_free(c, &ny);
        }
        gmat_free(c, &nw);
    }
    gmat nw64 = { 0 }, ny2 = { 0 };
    if (gmat_new(c, SQ_TYPE_F32, 64, 1, &nw64) && gmat_new(c, SQ_TYPE_F32, 64, 2, &ny2)) {
        RESET(), st = o->rmsnorm(be, &x.m, &nw64.m, 1e-6f, &ny2.m, &err);
        expect_refusal(c, st, &err, SQ_ERR_INVALID_ARG, &ny2, "rmsnorm: output of 2 rows for 3");
    }
    gmat_free(c, &nw64);
    gmat_free(c, &ny2);

    /* rope: x 3 rows × (2 heads × 32) */
    gmat pos = { 0 }, pos5 = { 0 };
    if (gmat_new(c, SQ_TYPE_I32, 3, 4, &pos) && gmat_new(c, SQ_TYPE_I32, 5, 4, &pos5)) {
        sq_rope_params rp = { SQ_ROPE_MROPE, 2, 32, { 4, 6, 5, 0 }, 1e6f };
        RESET(), st = o->rope(be, &x.m, &pos.m, &rp, &err);
        expect_refusal(c, st, &err, SQ_ERR_INVALID_ARG, &x, "rope: sections sum to 15, head_dim/2 = 16");
        rp.sections[2] = 6;
        RESET(), st = o->rope(be, &x.m, &pos5.m, &rp, &err);
        expect_refusal(c, st, &err, SQ_ERR_INVALID_ARG, &x, "rope: 20 positions for 3 rows");
        rp.n_head = 3;
        RESET(), st = o->rope(be, &x.m, &pos.m, &rp, &err);
        expect_refusal(c, st, &err, SQ_ERR_INVALID_ARG, &x, "rope: 3 heads × 32 for rows of 64");
        rp = (sq_rope_params){ SQ_ROPE_MROPE, 2, 32, { 4, 6, 6, 0 }, 1e6f };
        sq_mat pos16 = pos.m;
        pos16.type = SQ_TYPE_F32;
        RESET(), st = o->rope(be, &x.m, &pos16, &rp, &err);
        expect_refusal(c, st, &err, SQ_ERR_INVALID_ARG, &x, "rope: F32 positions");
    }
    gmat_free(c, &pos);
    gmat_free(c, &pos5);

    /* attention: q 3 × (4 × 16), K/V 5 × (2 × 16) */
    gmat aq = { 0 }, ak = { 0 }, av = { 0 }, ak16 = { 0 }, av4 = { 0 }, ao = { 0 }, aw = { 0 }, aw4 = { 0 };
    if (gmat_new(c, SQ_TYPE_F32, 64, 3, &aq) && gmat_new(c, SQ_TYPE_F32, 32, 5, &ak) &&
        gmat_new(c, SQ_TYPE_F32, 32, 5, &av) && gmat_new(c, SQ_TYPE_F16, 32, 5, &ak16) &&
        gmat_new(c, SQ_TYPE_F32, 32, 4, &av4) && gmat_new(c, SQ_TYPE_F32, 64, 3, &ao) &&
        gmat_new(c, SQ_TYPE_I32, 5, 1, &aw) && gmat_new(c, SQ_TYPE_I32, 4, 1, &aw4)) {
        sq_attn_params ap = { 4, 2, 16, 0.25f, SQ_MASK_CAUSAL, 2, NULL };
        sq_attn_params bad = ap;
        bad.n_head_kv = 3;
        RESET(), st = o->attention(be, &aq.m, &ak.m, &av.m, &bad, &ao.m, &err);
        expect_refusal(c, st, &err, SQ_ERR_INVALID_ARG, &ao, "attention: 4 heads over 3 KV heads");
        bad.n_head_kv = 0;
        RESET(), st = o->attention(be, &aq.m, &ak.m, &av.m, &bad, &ao.m, &err);
        expect_refusal(c, st, &err, SQ_ERR_INVALID_ARG, &ao, "attention: 0 KV heads");
        RESET(), st = o->attention(be, &aq.m, &ak16.m, &av.m, &ap, &ao.m, &err);
        expect_refusal(c, st, &err, SQ_ERR_INVALID_ARG, &ao, "attention: F16 keys with F32 values");
        RESET(), st = o->attention(be, &aq.m, &ak.m, &av4.m, &ap, &ao.m, &err);
        expect_refusal(c, st, &err, SQ_ERR_INVALID_ARG, &ao, "attention: 5 keys, 4 values");
        bad = ap;
        bad.q_offset = 3;
        RESET(), st = o->attention(be, &aq.m, &ak.m, &av.m, &bad, &ao.m, &err);
        expect_refusal(c, st, &err, SQ_ERR_INVALID_ARG, &ao, "attention: causal queries 3…5 past 5 keys");
        bad.q_offset = -2;
        RESET(), st = o->attention(be, &aq.m, &ak.m, &av.m, &bad, &ao.m, &err);
        {
            bool guards = gmat_guards_intact(c, &ao);
            ok(st == SQ_ERR_INVALID_ARG && err.msg[0] && guards,
                       "%s attention: negative q_offset -2 refused: %s \"%s\"", c->name, sq_status_string(st),
                       err.msg);
        }
        sq_mat ao_narrow = sq_mat_reshape(&ao.m, 48, 4);
        RESET(), st = o->attention(be, &aq.m, &ak.m, &av.m, &ap, &ao_narrow, &err);
        expect_refusal(c, st, &err, SQ_ERR_INVALID_ARG, &ao, "attention: output rows of 48 for 4 × 16");
        /* window: q and K/V must be the same sequence, ids one per row */
        gmat wq = { 0 }, wk = { 0 }, wv = { 0 }, wo = { 0 };
        if (gmat_new(c, SQ_TYPE_F32, 64, 5, &wq) && gmat_new(c, SQ_TYPE_F32, 64, 5, &wk) &&
            gmat_new(c, SQ_TYPE_F32, 64, 5, &wv) && gmat_new(c, SQ_TYPE_F32, 64, 5, &wo)) {
            sq_attn_params wp = { 4, 4, 16, 0.25f, SQ_MASK_WINDOW, 0, &aw4.m };
            RESET(), st = o->attention(be, &wq.m, &wk.m, &wv.m, &wp, &wo.m, &err);
            expect_refusal(c, st, &err, SQ_ERR_INVALID_ARG, &wo, "attention: 4 window ids for 5 rows");
            wp.window_ids = NULL;
            RESET(), st = o->attention(be, &wq.m, &wk.m, &wv.m, &wp, &wo.m, &err);
            expect_refusal(c, st, &err, SQ_ERR_INVALID_ARG, &wo, "attention: window mask without ids");
            wp.window_ids = &aw.m;
            RESET(), st = o->attention(be, &aq.m, &wk.m, &wv.m, &wp, &ao.m, &err);
            expect_refusal(c, st, &err, SQ_ERR_INVALID_ARG, &ao, "attention: window mask, 3 queries for 5 keys");
        }
        gmat_free(c, &wq);
        gmat_free(c, &wk);
        gmat_free(c, &wv);
        gmat_free(c, &wo);
    }
    gmat_free(c, &aq);
    gmat_free(c, &ak);
    gmat_free(c, &av);
    gmat_free(c, &ak16);
    gmat_free(c, &av4);
    gmat_free(c, &ao);
    gmat_free(c, &aw);
    gmat_free(c, &aw4);

    /* copy_rows: x (3 × 64) into a 4-row cache */
    gmat cache = { 0 }, cache_q8 = { 0 }, cache_narrow = { 0 };
    if (gmat_new(c, SQ_TYPE_F16, 64, 4, &cache) && gmat_new(c, SQ_TYPE_Q8_0, 64, 4, &cache_q8) &&
        gmat_new(c, SQ_TYPE_F16, 32, 8, &cache_narrow)) {
        RESET(), st = o->copy_rows(be, &x.m, &cache.m, 2, &err);
        expect_refusal(c, st, &err, SQ_ERR_INVALID_ARG, &cache, "copy_rows: rows 2…4 of a 4-row cache");
        RESET(), st = o->copy_rows(be, &x.m, &cache.m, -1, &err);
        expect_refusal(c, st, &err, SQ_ERR_INVALID_ARG, &cache, "copy_rows: row0 = -1");
        RESET(), st = o->copy_rows(be, &x.m, &cache_q8.m, 0, &err);
        expect_refusal(c, st, &err, SQ_ERR_INVALID_ARG, &cache_q8, "copy_rows: into Q8_0");
        RESET(), st = o->copy_rows(be, &x.m, &cache_narrow.m, 0, &err);
        expect_refusal(c, st, &err, SQ_ERR_INVALID_ARG, &cache_narrow, "copy_rows: 64 columns into 32");
        RESET(), st = o->copy_rows(be, &x16.m, &cache.m, 0, &err);
        expect_refusal(c, st, &err, SQ_ERR_INVALID_ARG, &cache, "copy_rows: F16 source");
    }
    gmat_free(c, &cache);
    gmat_free(c, &cache_q8);
    gmat_free(c, &cache_narrow);

    /* element-wise: x is 3 × 64 = 192 elements */
    gmat e191 = { 0 }, eout = { 0 }, e16 = { 0 };
    if (gmat_new(c, SQ_TYPE_F32, 191, 1, &e191) && gmat_new(c, SQ_TYPE_F32, 64, 3, &eout) &&
        gmat_new(c, SQ_TYPE_F16, 64, 3, &e16)) {
        RESET(), st = o->silu_mul(be, &x.m, &e191.m, &eout.m, &err);
        expect_refusal(c, st, &err, SQ_ERR_INVALID_ARG, &eout, "silu_mul: 192 and 191 elements");
        RESET(), st = o->gelu(be, &x.m, SQ_GELU_ERF, &e191.m, &err);
        expect_refusal(c, st, &err, SQ_ERR_INVALID_ARG, &e191, "gelu: output of 191 for 192");
        RESET(), st = o->add(be, &x.m, &e191.m, &eout.m, &err);
        expect_refusal(c, st, &err, SQ_ERR_INVALID_ARG, &eout, "add: 192 and 191 elements");
        RESET(), st = o->add(be, &x.m, &x.m, &e16.m, &err);
        expect_refusal(c, st, &err, SQ_ERR_INVALID_ARG, &e16, "add: F16 output");
        RESET(), st = o->add(be, &x16.m, &x.m, &eout.m, &err);
        expect_refusal(c, st, &err, SQ_ERR_INVALID_ARG, &eout, "add: F16 input");
    }
    gmat_free(c, &e191);
    gmat_free(c, &eout);
    gmat_free(c, &e16);

    /* get_rows: the 8 × 64 F32 table w */
    gmat g2 = { 0 }, g3 = { 0 };
    if (gmat_new(c, SQ_TYPE_F32, 64, 2, &g2) && gmat_new(c, SQ_TYPE_F32, 64, 3, &g3)) {
        const int32_t past[2] = { 1, 8 }, negative[2] = { -1, 0 }, good[2] = { 1, 2 };
        RESET(), st = o->get_rows(be, &w.m, past, 2, &g2.m, &err);
        expect_refusal(c, st, &err, SQ_ERR_INVALID_ARG, NULL, "get_rows: id 8 of an 8-row table");
        ok(gmat_guards_intact(c, &g2), "%s get_rows: guards intact after a refused id", c->name);
        RESET(), st = o->get_rows(be, &w.m, negative, 2, &g2.m, &err);
        expect_refusal(c, st, &err, SQ_ERR_INVALID_ARG, NULL, "get_rows: id -1");
        RESET(), st = o->get_rows(be, &w.m, good, 2, &g3.m, &err);
        expect_refusal(c, st, &err, SQ_ERR_INVALID_ARG, &g3, "get_rows: 2 ids, 3 output rows");
        gmat g48 = { 0 };
        if (gmat_new(c, SQ_TYPE_F32, 48, 2, &g48)) {
            RESET(), st = o->get_rows(be, &q4_odd, good, 2, &g48.m, &err);
            bool guards = gmat_guards_intact(c, &g48);
            ok(st == SQ_ERR_INVALID_ARG && err.msg[0] && guards,
                       "%s get_rows: Q4_0 table with rows of 48 (not whole blocks) refused: %s \"%s\"", c->name,
                       sq_status_string(st), err.msg);
            gmat_free(c, &g48);
        }
    }
    gmat_free(c, &g2);
    gmat_free(c, &g3);

    /* raw buffer access */
    uint8_t tmp[32] = { 0 };
    RESET(), st = o->write(be, x.m.buf, x.total - 16, tmp, sizeof tmp, &err);
    expect_refusal(c, st, &err, SQ_ERR_INVALID_ARG, &x, "write: 32 bytes across the end of a buffer");
    RESET(), st = o->read(be, x.m.buf, x.total + 1, tmp, 1, &err);
    expect_refusal(c, st, &err, SQ_ERR_INVALID_ARG, NULL, "read: past the end of a buffer");
    RESET(), st = o->write(be, w.m.buf, 64, tmp, sizeof tmp, &err);
    expect_refusal(c, st, &err, SQ_ERR_INVALID_ARG, NULL, "write: into read-only weights");

    wmat_free(c, &w);
    wmat_free(c, &wq2);
    wmat_free(c, &wq4);
    gmat_free(c, &x);
    gmat_free(c, &y);
    gmat_free(c, &bias);
    gmat_free(c, &x16);
    gmat_free(c, &y_short);
#undef RESET
}

/* ---- checks that may crash: in a child process ---- */

/* rope with head_dim 1040 (520 pairs): refused or correct.  Exit 0 when
 * so, 3 when it ran but was wrong, 4 when it failed some other way. */
static int
child_rope_wide(const backend_desc *bd)
{
    sq_backend *be = NULL;
    sq_error err = { 0 };
    if (bd->make(&be, &err) != SQ_OK)
        return 4;
    ctx c = { be, bd->name };
    const int hd = 1040;
    rng r = { 808 };
    float *x = xmalloc(hd * sizeof *x), *y = xmalloc(hd * sizeof *y);
    double *want = xmalloc(hd * sizeof *want);
    int32_t pos[4] = { 7, 3, 5, 0 };
    fill_normal(x, hd, 1.0f, &r);
    sq_rope_params p = { SQ_ROPE_MROPE, 1, hd, { 130, 195, 195, 0 }, 1e6f };
    ref_rope(x, want, 1, &p, pos);
    gmat gx = { 0 }, gp = { 0 };
    int rc = 4;
    if (gmat_new(&c, SQ_TYPE_F32, hd, 1, &gx) && gmat_write(&c, &gx, x) && gmat_new(&c, SQ_TYPE_I32, 1, 4, &gp) &&
        gmat_write(&c, &gp, pos)) {
        sq_status st = be->ops->rope(be, &gx.m, &gp.m, &p, &err);
        if (st == SQ_ERR_INVALID_ARG && err.msg[0])
            rc = 0;
        else if (st == SQ_OK && gmat_read(&c, &gx, y))
            rc = compare(y, want, hd).max_abs <= 1e-4 && gmat_guards_intact(&c, &gx) ? 0 : 3;
        gmat_free(&c, &gp);
    }
    gmat_free(&c, &gx);
    be->ops->free(be);
    free(x);
    free(y);
    free(want);
    return rc;
}

static const char *self_path = "test-backend"; /* argv[0] */

/* Runs this program with --child NAME BACKEND and returns its wait status. */
static int
run_child(const char *name, size_t backend)
{
    char idx[16];
    snprintf(idx, sizeof idx, "%zu", backend);
    char *argv[] = { "test-backend", "--child", (char *)name, idx, NULL };
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    pid_t pid;
    int status = -1;
    if (posix_spawn(&pid, "/proc/self/exe", &fa, NULL, argv, environ) == 0 ||
        posix_spawn(&pid, self_path, &fa, NULL, argv, environ) == 0)
        waitpid(pid, &status, 0);
    posix_spawn_file_actions_destroy(&fa);
    return status;
}

static void
test_crashers(const ctx *c, size_t backend)
{
    int status = run_child("rope-wide", backend);
    const char *how = WIFSIGNALED(status) ? "crashed" : WIFEXITED(status) && WEXITSTATUS(status) == 3 ? "wrong result"
                    : WIFEXITED(status) && WEXITSTATUS(status) == 0                                     ? "ok"
                                                                                                         : "failed";
    ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
               "%s rope: head_dim 1040 refused or computed (child %s)", c->name, how);
}

/* ---- the op cases × the backends ---- */

typedef struct {
    const char *name;
    void (*run)(const ctx *c);
} op_case;

static const op_case op_cases[] = {
    { "matmul", test_matmul },       { "rmsnorm", test_rmsnorm },         { "rope", test_rope },
    { "attention", test_attention }, { "copy_rows", test_copy_rows },     { "elementwise", test_elementwise },
    { "get_rows", test_get_rows },   { "validation", test_validation },
};

int
main(int argc, char **argv)
{
    self_path = argv[0];
    if (argc == 4 && strcmp(argv[1], "--child") == 0) {
        size_t b = (size_t)atoi(argv[3]);
        if (b >= N_BACKENDS)
            return 4;
        if (strcmp(argv[2], "rope-wide") == 0)
            return child_rope_wide(&backends[b]);
        return 4;
    }
    for (size_t b = 0; b < N_BACKENDS; b++) {
        sq_backend *be = NULL;
        sq_error err = { 0 };
        if (!ok(backends[b].make(&be, &err) == SQ_OK, "%s: backend created (%s)", backends[b].name, err.msg))
            continue;
        ctx c = { be, backends[b].name };
        diag("backend %s (%s)", backends[b].name, be->ops->name);
        for (size_t i = 0; i < sizeof op_cases / sizeof op_cases[0]; i++)
            op_cases[i].run(&c);
        test_crashers(&c, b);
        be->ops->free(be);
    }
    return tap_done();
}
