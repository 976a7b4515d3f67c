/* test-quant.c — ggml block formats: half-float conversions over every bit
 * pattern, scalar dequantization against numpy-computed data, and every SIMD
 * kernel level this CPU has against the scalar reference: dequantizers and
 * quantizers bit for bit, dot products within 1e-5 of the sum of |terms|.
 *
 * `test-quant --bench` instead times the dot kernels (GB/s of weight data,
 * one thread from cache and from memory, two threads from memory).
 */
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "quant.h"
#include "tap.h"

/* ---- small utilities ---- */

typedef struct {
    uint64_t s;
} rng;

static uint64_t
rng_u64(rng *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);  /* splitmix64 */
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint32_t
rng_u32(rng *r)
{
    return (uint32_t)(rng_u64(r) >> 32);
}

/* Uniform in [-1, 1). */
static float
rng_unit(rng *r)
{
    return (float)((double)(rng_u64(r) >> 11) * 0x1p-52 - 1.0);
}

static float
rng_normal(rng *r)
{
    double u1 = ((double)(rng_u64(r) >> 11) + 0.5) * 0x1p-53;
    double u2 = (double)(rng_u64(r) >> 11) * 0x1p-53;
    return (float)(sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
}

static uint32_t
bits_of(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static float
float_of(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* Bitwise equal, or both NaN (payloads may legitimately differ). */
static bool
same_float(float a, float b)
{
    return (isnan(a) && isnan(b)) || bits_of(a) == bits_of(b);
}

static double
now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
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

static void *
read_file(const char *name, size_t *size)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/quant/%s", tap_data_dir(), name);
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    void *buf = xmalloc((size_t)len);
    *size = fread(buf, 1, (size_t)len, f);
    fclose(f);
    return buf;
}

/* ---- kernel levels ---- */

static const char *const level_names[] = { "scalar", "avx2", "avx512" };
#define N_LEVELS 3

/* The table of a level, or NULL after reporting it skipped. */
static const sq_quant_kernels *
level_or_skip(sq_simd_level l, const char *what)
{
    const sq_quant_kernels *k = sq_quant_kernels_level(l);
    if (!k)
        ok(1, "%s %s # SKIP this CPU has no %s", level_names[l], what, level_names[l]);
    return k;
}

/* ---- the types under test ---- */

typedef struct {
    sq_type type;
    int     f16_off[2];  /* byte offsets of f16 scale fields in a block, -1 if none */
} type_desc;

static const type_desc types[] = {
    { SQ_TYPE_F32,  { -1, -1 } },
    { SQ_TYPE_F16,  { 0, -1 } },   /* the element itself */
    { SQ_TYPE_BF16, { -1, -1 } },
    { SQ_TYPE_Q4_0, { offsetof(sq_block_q4_0, d), -1 } },
    { SQ_TYPE_Q4_1, { offsetof(sq_block_q4_1, d), offsetof(sq_block_q4_1, m) } },
    { SQ_TYPE_Q5_0, { offsetof(sq_block_q5_0, d), -1 } },
    { SQ_TYPE_Q5_1, { offsetof(sq_block_q5_1, d), offsetof(sq_block_q5_1, m) } },
    { SQ_TYPE_Q8_0, { offsetof(sq_block_q8_0, d), -1 } },
    { SQ_TYPE_Q4_K, { offsetof(sq_block_q4_K, d), offsetof(sq_block_q4_K, dmin) } },
    { SQ_TYPE_Q5_K, { offsetof(sq_block_q5_K, d), offsetof(sq_block_q5_K, dmin) } },
    { SQ_TYPE_Q6_K, { offsetof(sq_block_q6_K, d), -1 } },
};
#define N_TYPES (sizeof types / sizeof types[0])

static const char *
tname(sq_type t)
{
    return sq_type_get((uint32_t)t)->name;
}

static void
put_f16(uint8_t *p, sq_f16 h)
{
    memcpy(p, &h, sizeof h);
}

/* Random weights that make sense numerically: finite scales of ordinary size.
 * Quant bytes are uniformly random. */
static void
fill_sane(const type_desc *td, void *buf, int64_t n, rng *r)
{
    const sq_type_info *info = sq_type_get((uint32_t)td->type);
    const size_t size = sq_type_row_size(td->type, n);
    uint8_t *p = buf;
    for (size_t i = 0; i < size; i++)
        p[i] = (uint8_t)rng_u32(r);
    if (td->type == SQ_TYPE_F32) {
        float *f = buf;
        for (int64_t i = 0; i < n; i++)
            f[i] = rng_normal(r);
        return;
    }
    if (td->type == SQ_TYPE_BF16 || td->type == SQ_TYPE_F16) {
        for (int64_t i = 0; i < n; i++) {
            const float v = rng_normal(r);
            put_f16(p + 2 * i, td->type == SQ_TYPE_F16 ? sq_f32_to_f16(v) : sq_f32_to_bf16(v));
        }
        return;
    }
    for (int64_t b = 0; b < n / info->block_size; b++)
        for (int k = 0; k < 2; k++)
            if (td->f16_off[k] >= 0)
                put_f16(p + b * info->type_size + td->f16_off[k], sq_f32_to_f16(0.02f * rng_normal(r)));
}

/* Random blocks with every bit pattern allowed, and edge blocks first:
 * all-zero quants, all-maximum quants, subnormal / largest / infinite scales. */
static void
fill_wild(const type_desc *td, void *buf, int64_t n, rng *r)
{
    const sq_type_info *info = sq_type_get((uint32_t)td->type);
    const size_t size = sq_type_row_size(td->type, n);
    uint8_t *p = buf;
    for (size_t i = 0; i < size; i++)
        p[i] = (uint8_t)rng_u32(r);
    if (info->block_size == 1) {
        /* Specials among random patterns: zeros, subnormals, inf, NaN. */
        static const uint16_t special[] = { 0x0000, 0x8000, 0x0001, 0x03ff, 0x7c00, 0xfc00, 0x7e01, 0x7bff };
        for (int64_t i = 0; i < n && td->type != SQ_TYPE_F32; i += 5)
            put_f16(p + 2 * i, special[(i / 5) % 8]);
        return;
    }
    static const uint16_t scales[] = { 0x2e66, 0x0001, 0x03ff, 0x7bff, 0x7c00, 0xb800 };
    const int64_t nb = n / info->block_size;
    for (int64_t b = 0; b < nb && b < 8; b++) {
        uint8_t *blk = p + b * info->type_size;
        memset(blk, b % 2 ? 0xff : 0x00, info->type_size);
        for (int k = 0; k < 2; k++)
            if (td->f16_off[k] >= 0)
                put_f16(blk + td->f16_off[k], scales[(b + k) % 6]);
    }
}

/* ---- half-precision conversions ---- */

/* ldexp arithmetic straight from the IEEE definition. */
static float
ref_f16_to_f32(uint16_t h)
{
    const int sign = h >> 15, exp = (h >> 10) & 31, man = h & 1023;
    double v;
    if (exp == 0)
        v = ldexp(man, -24);
    else if (exp == 31)
        return man ? float_of((uint32_t)sign << 31 | 0x7fc00000 | (uint32_t)man << 13)
                   : (sign ? -INFINITY : INFINITY);
    else
        v = ldexp(1024 + man, exp - 25);
    return (float)(sign ? -v : v);
}

/* Nearest half by search over all positive finite halves, ties to even. */
static uint16_t
ref_f32_to_f16(float f)
{
    const uint32_t u = bits_of(f);
    const uint16_t sign = (uint16_t)((u >> 16) & 0x8000);
    if (isnan(f))
        return (uint16_t)(sign | 0x7e00 | ((u >> 13) & 0x3ff));
    const double a = fabs((double)f);
    if (a >= 65520.0)
        return (uint16_t)(sign | 0x7c00);
    int lo = 0, hi = 0x7bff;  /* largest h with value(h) <= a */
    while (lo < hi) {
        const int mid = (lo + hi + 1) / 2;
        if ((double)ref_f16_to_f32((uint16_t)mid) <= a)
            lo = mid;
        else
            hi = mid - 1;
    }
    const double below = ref_f16_to_f32((uint16_t)lo);
    const double above = lo == 0x7bff ? 65536.0 : (double)ref_f16_to_f32((uint16_t)(lo + 1));
    int h = lo;
    if (a - below > above - a || (a - below == above - a && (lo & 1)))
        h = lo + 1;
    return (uint16_t)(sign | h);
}

/* bf16: the nearer of truncation and truncation + 1 ulp, ties to even. */
static uint16_t
ref_f32_to_bf16(float f)
{
    const uint32_t u = bits_of(f);
    if (isnan(f))
        return (uint16_t)((u >> 16) | 0x40);
    const uint16_t t = (uint16_t)(u >> 16);
    const double below = fabs((double)float_of((uint32_t)t << 16));
    /* Past the largest finite bf16 the next step up is 2^128, not inf. */
    const double above = ((t + 1) & 0x7f80) == 0x7f80 ? ldexp(1.0, 128)
                                                       : fabs((double)float_of((uint32_t)(t + 1) << 16));
    const double a = fabs((double)f);
    if (isinf(f) || a - below < above - a || (a - below == above - a && !(t & 1)))
        return t;
    return (uint16_t)(t + 1);
}

static void
test_f16_conversions(void)
{
    int bad = 0;
    for (uint32_t h = 0; h < 65536; h++)
        if (bits_of(sq_f16_to_f32((uint16_t)h)) != bits_of(ref_f16_to_f32((uint16_t)h)))
            bad++;
    ok(bad == 0, "f16→f32: all 65536 patterns match ldexp (%d differ)", bad);

    bad = 0;
    for (uint32_t h = 0; h < 65536; h++) {
        if ((h & 0x7c00) == 0x7c00 && (h & 0x3ff))
            continue;  /* NaN: checked below */
        if (sq_f32_to_f16(sq_f16_to_f32((uint16_t)h)) != h)
            bad++;
    }
    ok(bad == 0, "f32→f16: every non-NaN half round-trips (%d differ)", bad);

    /* Midpoints between neighbours round to the even one; one f32 ulp off a
     * midpoint goes to the nearer one. */
    bad = 0;
    for (uint32_t h = 0; h < 0x7c00; h++) {
        const double a = sq_f16_to_f32((uint16_t)h);
        const double b = h == 0x7bff ? 65536.0 : (double)sq_f16_to_f32((uint16_t)(h + 1));
        const float mid = (float)((a + b) / 2);
        const uint16_t even = (h & 1) ? (uint16_t)(h + 1) : (uint16_t)h;
        for (int s = 0; s < 2; s++) {
            const float sg = s ? -1.0f : 1.0f;
            const uint16_t sb = s ? 0x8000 : 0;
            bad += sq_f32_to_f16(sg * mid) != (even | sb);
            bad += sq_f32_to_f16(sg * nextafterf(mid, 0.0f)) != (h | sb);
            bad += sq_f32_to_f16(sg * nextafterf(mid, INFINITY)) != ((h + 1) | sb);
        }
    }
    ok(bad == 0, "f32→f16: ties to even at all 31744 midpoints, ±1 ulp (%d wrong)", bad);

    rng r = { 1 };
    bad = 0;
    for (int i = 0; i < 1000000; i++) {
        /* Half of the draws in the subnormal/normal boundary region. */
        uint32_t u = rng_u32(&r);
        if (i & 1)
            u = (u & 0x807fffff) | (uint32_t)(98 + (u >> 23) % 18) << 23;
        const float f = float_of(u);
        bad += sq_f32_to_f16(f) != ref_f32_to_f16(f);
    }
    ok(bad == 0, "f32→f16: 1e6 random floats match the search reference (%d differ)", bad);

    static const uint32_t nans[] = { 0x7f800001, 0x7fc00000, 0xff812345, 0x7fbfffff, 0xffffffff };
    bad = 0;
    for (size_t i = 0; i < sizeof nans / sizeof nans[0]; i++) {
        const uint16_t h = sq_f32_to_f16(float_of(nans[i]));
        bad += h != (uint16_t)(((nans[i] >> 16) & 0x8000) | 0x7e00 | ((nans[i] >> 13) & 0x3ff));
    }
    ok(bad == 0, "f32→f16: NaN stays NaN, quieted, top payload kept");
}

static void
test_bf16_conversions(void)
{
    int bad = 0;
    for (uint32_t h = 0; h < 65536; h++)
        bad += bits_of(sq_bf16_to_f32((uint16_t)h)) != h << 16;
    ok(bad == 0, "bf16→f32: all 65536 patterns are the upper half");

    bad = 0;
    for (uint32_t h = 0; h < 65536; h++) {
        if ((h & 0x7f80) == 0x7f80 && (h & 0x7f))
            continue;
        bad += sq_f32_to_bf16(sq_bf16_to_f32((uint16_t)h)) != h;
    }
    ok(bad == 0, "f32→bf16: every non-NaN bf16 round-trips (%d differ)", bad);

    rng r = { 2 };
    bad = 0;
    for (int i = 0; i < 1000000; i++) {
        uint32_t u = rng_u32(&r);
        if (i % 3 == 0)
            u = (u & 0xffff0000) | 0x8000;  /* exact ties */
        const float f = float_of(u);
        bad += sq_f32_to_bf16(f) != ref_f32_to_bf16(f);
    }
    ok(bad == 0, "f32→bf16: 1e6 random floats and ties match the reference (%d differ)", bad);
    ok(sq_f32_to_bf16(float_of(0x7f800001)) == 0x7fc0 && sq_f32_to_bf16(float_of(0xff810000)) == 0xffc1,
       "f32→bf16: NaN forced quiet");
    ok(sq_f32_to_bf16(float_of(0x00008000)) == 0x0000 && sq_f32_to_bf16(float_of(0x00018000)) == 0x0002,
       "f32→bf16: subnormals kept and rounded");
}

/* ---- dequantization ---- */

static const struct {
    const char *file;
    sq_type     type;
} data_files[] = {
    { "f16", SQ_TYPE_F16 },   { "bf16", SQ_TYPE_BF16 }, { "q4_0", SQ_TYPE_Q4_0 },
    { "q4_1", SQ_TYPE_Q4_1 }, { "q5_0", SQ_TYPE_Q5_0 }, { "q5_1", SQ_TYPE_Q5_1 },
    { "q8_0", SQ_TYPE_Q8_0 }, { "q4_K", SQ_TYPE_Q4_K }, { "q5_K", SQ_TYPE_Q5_K },
    { "q6_K", SQ_TYPE_Q6_K }, { "q8_K", SQ_TYPE_Q8_K },
};

static int
count_mismatches(const float *a, const float *b, int64_t n)
{
    int bad = 0;
    for (int64_t i = 0; i < n; i++)
        bad += !same_float(a[i], b[i]);
    return bad;
}

static void
test_dequant_data(void)
{
    for (size_t f = 0; f < sizeof data_files / sizeof data_files[0]; f++) {
        char name[64];
        size_t nblk = 0, nval = 0;
        snprintf(name, sizeof name, "%s.blocks", data_files[f].file);
        uint8_t *blocks = read_file(name, &nblk);
        snprintf(name, sizeof name, "%s.f32", data_files[f].file);
        float *want = read_file(name, &nval);
        const sq_type t = data_files[f].type;
        const sq_type_info *info = sq_type_get((uint32_t)t);
        const int64_t n = (int64_t)(nval / sizeof(float));
        if (!blocks || !want || sq_type_row_size(t, n) != nblk) {
            ok(0, "%s: test data present and consistent (run tools/gen-quant-data.py)", info->name);
            free(blocks);
            free(want);
            continue;
        }
        float *got = xmalloc(nval);
        sq_quant_kernels_scalar()->dequantize[t](blocks, got, n);
        int bad = count_mismatches(got, want, n);
        ok(bad == 0, "%s: scalar dequantization equals numpy's, %" PRId64 " values (%d differ)",
           info->name, n, bad);
        for (int l = 1; l < N_LEVELS; l++) {
            const sq_quant_kernels *k = sq_quant_kernels_level((sq_simd_level)l);
            if (!k)
                continue;
            memset(got, 0, nval);
            k->dequantize[t](blocks, got, n);
            bad = count_mismatches(got, want, n);
            ok(bad == 0, "%s: %s dequantization equals numpy's (%d differ)", info->name, k->name, bad);
        }
        free(got);
        free(blocks);
        free(want);
    }
}

/* Dequantizes a wild row with a level's kernel into a guarded buffer and
 * compares it with the scalar result. */
static void
check_dequant_level(const sq_quant_kernels *k, const type_desc *td, int64_t n, rng *r)
{
    const size_t size = sq_type_row_size(td->type, n);
    uint8_t *src = xmalloc(size);  /* exact size: ASan sees any over-read */
    fill_wild(td, src, n, r);
    float *want = xmalloc((size_t)n * sizeof(float));
    float *got  = xmalloc((size_t)(n + 16) * sizeof(float));
    for (int i = 0; i < 16; i++)
        got[n + i] = 12345.0f;
    sq_quant_kernels_scalar()->dequantize[td->type](src, want, n);
    k->dequantize[td->type](src, got, n);
    int guard = 0;
    for (int i = 0; i < 16; i++)
        guard += got[n + i] != 12345.0f;
    const int bad = count_mismatches(got, want, n);
    ok(bad == 0 && guard == 0, "%s %s dequantize n=%" PRId64 ": bit-identical to scalar (%d differ, %d guard)",
       k->name, tname(td->type), n, bad, guard);
    free(src);
    free(want);
    free(got);
}

static void
test_dequant_levels(void)
{
    rng r = { 3 };
    for (int l = 1; l < N_LEVELS; l++) {
        const sq_quant_kernels *k = level_or_skip((sq_simd_level)l, "dequantizers");
        if (!k)
            continue;
        for (size_t t = 0; t < N_TYPES; t++) {
            const int64_t bs = sq_type_get((uint32_t)types[t].type)->block_size;
            const int64_t lens[] = { bs, 3 * bs, bs == 1 ? 13 : 8 * bs, bs == 1 ? 1031 : 17 * bs };
            for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++)
                check_dequant_level(k, &types[t], lens[i], &r);
        }
    }
}

/* ---- quantization ---- */

static void
fill_activations(float *x, int64_t n, rng *r, int style)
{
    for (int64_t i = 0; i < n; i++) {
        switch (style) {
        case 0: x[i] = rng_normal(r); break;
        case 1: x[i] = 1e-3f * rng_unit(r); break;
        case 2: x[i] = (i / 32) % 3 == 0 ? 0.0f : 100.0f * rng_normal(r); break;  /* zero blocks */
        default:
            /* Integers and half-integers up to ±127 with amax 127: the
             * multiplier is exactly 1 and rounding ties are everywhere. */
            x[i] = (float)((int)(rng_u32(r) % 509) - 254) * 0.5f;
            if (i % 32 == 0)
                x[i] = (i / 32) % 2 ? 127.0f : -127.0f;
            break;
        }
    }
}

static void
check_quantize_level(const sq_quant_kernels *k, sq_type t, int64_t n, int style, rng *r)
{
    float *x = xmalloc((size_t)n * sizeof(float));
    fill_activations(x, n, r, style);
    const size_t size = sq_type_row_size(t, n);
    uint8_t *want = xmalloc(size);
    uint8_t *got  = xmalloc(size + 32);
    memset(want, 0x5a, size);
    memset(got, 0xa5, size + 32);
    sq_quant_kernels_scalar()->quantize[t](x, want, n);
    k->quantize[t](x, got, n);
    int guard = 0;
    for (int i = 0; i < 32; i++)
        guard += got[size + (size_t)i] != 0xa5;
    ok(memcmp(want, got, size) == 0 && guard == 0,
       "%s quantize %s n=%" PRId64 " style %d: bit-identical to scalar", k->name, tname(t), n, style);
    free(x);
    free(want);
    free(got);
}

static void
test_quantize_levels(void)
{
    static const sq_type qtypes[] = { SQ_TYPE_Q8_0, SQ_TYPE_Q8_1, SQ_TYPE_Q8_K, SQ_TYPE_F16, SQ_TYPE_BF16,
                                      SQ_TYPE_Q4_0, SQ_TYPE_F32 };
    rng r = { 4 };
    for (int l = 1; l < N_LEVELS; l++) {
        const sq_quant_kernels *k = level_or_skip((sq_simd_level)l, "quantizers");
        if (!k)
            continue;
        for (size_t q = 0; q < sizeof qtypes / sizeof qtypes[0]; q++) {
            const int64_t bs = sq_type_get((uint32_t)qtypes[q])->block_size;
            const int64_t lens[] = { bs, 3 * bs, bs == 1 ? 1001 : 16 * bs };
            for (size_t i = 0; i < 3; i++)
                for (int style = 0; style < 4; style++)
                    check_quantize_level(k, qtypes[q], lens[i], style, &r);
        }
        /* Specials through the F16/BF16 quantizers: inf, NaN, subnormals. */
        float x[40];
        for (int i = 0; i < 40; i++)
            x[i] = float_of(rng_u32(&r));
        x[0] = INFINITY, x[1] = -INFINITY, x[2] = float_of(0x7f800001), x[3] = float_of(0x00000001);
        x[4] = 65520.0f, x[5] = 65519.996f, x[6] = float_of(0x33000000), x[7] = float_of(0x33000001);
        uint16_t a[40], b[40];
        k->quantize[SQ_TYPE_F16](x, a, 40);
        sq_quantize_row_f16(x, b, 40);
        ok(memcmp(a, b, sizeof a) == 0, "%s F16 quantizer = scalar on inf/NaN/random bit patterns", k->name);
        k->quantize[SQ_TYPE_BF16](x, a, 40);
        sq_quantize_row_bf16(x, b, 40);
        ok(memcmp(a, b, sizeof a) == 0, "%s BF16 quantizer = scalar on inf/NaN/random bit patterns", k->name);
    }
}

/* The rounding rules themselves, on hand-made blocks. */
static void
test_quantize_rounding(void)
{
    /* amax 127 makes the multiplier 1: x·id is x itself. */
    float x[32] = { 127.0f, 2.5f, -2.5f, 3.5f, 0.5f, -0.5f, 1.49999988f };
    sq_block_q8_0 q, ref;
    sq_quantize_row_q8_0(x, &q, 32);
    sq_quantize_row_q8_0_ref(x, &ref, 32);
    ok(q.qs[0] == 127 && q.qs[1] == 2 && q.qs[2] == -2 && q.qs[3] == 4 && q.qs[4] == 0 && q.qs[5] == 0
       && q.qs[6] == 1, "Q8_0 (x86 path): ties round to even");
    ok(ref.qs[1] == 3 && ref.qs[2] == -3 && ref.qs[3] == 4 && ref.qs[4] == 1 && ref.qs[5] == -1,
       "Q8_0 _ref: ties round away from zero (roundf)");
    ok(q.d == sq_f32_to_f16(1.0f) && ref.d == q.d, "Q8_0: d = f16(amax/127)");

    sq_block_q8_1 q1;
    sq_quantize_row_q8_1(x, &q1, 32);
    int sum = 0;
    for (int j = 0; j < 32; j++)
        sum += q1.qs[j];
    ok(memcmp(q1.qs, q.qs, 32) == 0 && q1.s == sq_f32_to_f16((float)sum), "Q8_1: quants as Q8_0, s = f16(d·Σq)");

    /* Q8_K: the first element of largest magnitude sets the sign of the
     * scale; zero blocks are all zero. */
    float xk[256] = { 0 };
    sq_block_q8_K k8;
    sq_quantize_row_q8_K(xk, &k8, 256);
    int nz = 0;
    for (int j = 0; j < 256; j++)
        nz += k8.qs[j] != 0;
    for (int g = 0; g < 16; g++)
        nz += k8.bsums[g] != 0;
    ok(k8.d == 0.0f && nz == 0, "Q8_K: a zero block is d = 0, quants and sums 0");
    xk[5] = -3.0f, xk[9] = 3.0f, xk[20] = 1.0f;
    sq_quantize_row_q8_K(xk, &k8, 256);
    ok(k8.qs[5] == -127 && k8.qs[9] == 127 && k8.qs[20] == 42 && k8.d == 1.0f / (-127.0f / -3.0f),
       "Q8_K: first max-magnitude element maps to -127 (d=%g, q=%d %d %d)", (double)k8.d, k8.qs[5], k8.qs[9],
       k8.qs[20]);

    /* Fused (exact product) vs unfused rounding: count and bound the
     * differences on random rows. */
    rng r = { 5 };
    int diff = 0, worse = 0, bsum_bad = 0;
    const int64_t n = 256 * 64;
    float *row = xmalloc((size_t)n * sizeof(float));
    sq_block_q8_K *a = xmalloc(sizeof(sq_block_q8_K) * 64), *b = xmalloc(sizeof(sq_block_q8_K) * 64);
    for (int rep = 0; rep < 8; rep++) {
        fill_activations(row, n, &r, rep % 2);
        sq_quantize_row_q8_K(row, a, n);
        sq_quantize_row_q8_K_ref(row, b, n);
        for (int i = 0; i < 64; i++) {
            for (int j = 0; j < 256; j++) {
                diff += a[i].qs[j] != b[i].qs[j];
                worse += abs(a[i].qs[j] - b[i].qs[j]) > 1;
            }
            for (int g = 0; g < 16; g++) {
                int s = 0;
                for (int l = 0; l < 16; l++)
                    s += a[i].qs[16 * g + l];
                bsum_bad += s != a[i].bsums[g];
            }
        }
    }
    ok(worse == 0 && bsum_bad == 0, "Q8_K fused vs unfused rounding: %d of %" PRId64 " quants differ, all by 1",
       diff, 8 * n);
    free(row);
    free(a);
    free(b);
}

/* Quantize → dequantize error bounds per block. */
static void
test_round_trip(void)
{
    rng r = { 6 };
    const int64_t n = 4096;
    float *x = xmalloc((size_t)n * sizeof(float)), *y = xmalloc((size_t)n * sizeof(float));
    void *q = xmalloc(sq_type_row_size(SQ_TYPE_F32, n));
    const sq_quant_kernels *s = sq_quant_kernels_scalar();
    static const struct {
        sq_type type;
        double  bound;  /* max |error| / block scale, or relative error for floats */
    } cases[] = {
        { SQ_TYPE_Q8_0, 0.57 }, { SQ_TYPE_Q8_1, 0.57 }, { SQ_TYPE_Q8_K, 0.5001 },
        { SQ_TYPE_Q4_0, 1.01 }, { SQ_TYPE_F16, 0x1p-11 }, { SQ_TYPE_BF16, 0x1p-8 },
        { SQ_TYPE_Q6_K, 0.53 },
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        const sq_type t = cases[c].type;
        const int64_t bs = sq_type_get((uint32_t)t)->block_size;
        double worst = 0.0;
        static const int styles[] = { 0, 2, 3 };  /* not the tiny style 1: subnormal f16 scales */
        for (int si = 0; si < 3; si++) {
            fill_activations(x, n, &r, styles[si]);
            s->quantize[t](x, q, n);
            if (t == SQ_TYPE_Q8_1) {
                /* No Q8_1 dequantizer: its quants are Q8_0's behind a second f16. */
                const sq_block_q8_1 *b = q;
                for (int64_t i = 0; i < n; i++)
                    y[i] = sq_f16_to_f32(b[i / 32].d) * (float)b[i / 32].qs[i % 32];
            } else {
                s->dequantize[t](q, y, n);
            }
            for (int64_t b = 0; b < n / bs; b++) {
                double amax = 0.0;
                for (int64_t j = b * bs; j < (b + 1) * bs; j++)
                    amax = fmax(amax, fabs((double)x[j]));
                for (int64_t j = b * bs; j < (b + 1) * bs; j++) {
                    const double err = fabs((double)x[j] - (double)y[j]);
                    double e;
                    if (bs == 1)  /* relative, down to the smallest normal half */
                        e = err / fmax(fabs((double)x[j]), 0x1p-14);
                    else if (t == SQ_TYPE_Q4_0)
                        e = amax == 0.0 ? err : err / (amax / 8.0);
                    else if (t == SQ_TYPE_Q6_K)   /* half a step of 1/31 of the block's maximum, and the d rounding */
                        e = amax == 0.0 ? err : err / (amax / 31.0);
                    else
                        e = amax == 0.0 ? err : err / (amax / 127.0);
                    worst = fmax(worst, e);
                }
            }
        }
        ok(worst <= cases[c].bound, "%s round trip: max error %.4g (bound %.4g)", tname(t), worst,
           cases[c].bound);
    }
    free(x);
    free(y);
    free(q);
}

/* ---- dot products ---- */

/* Σ|w_i·x_i| over the dequantized rows, the scale of acceptable error. */
static double
abs_terms(sq_type wt, const void *w, const void *xq, int64_t n)
{
    const sq_quant_kernels *s = sq_quant_kernels_scalar();
    float *a = xmalloc((size_t)n * sizeof(float)), *b = xmalloc((size_t)n * sizeof(float));
    s->dequantize[wt](w, a, n);
    const sq_type xt = sq_vec_dot_type(wt);
    if (xt == SQ_TYPE_Q8_1) {
        const sq_block_q8_1 *x = xq;
        for (int64_t i = 0; i < n; i++)
            b[i] = sq_f16_to_f32(x[i / 32].d) * (float)x[i / 32].qs[i % 32];
    } else {
        s->dequantize[xt](xq, b, n);
    }
    double sum = 0.0;
    for (int64_t i = 0; i < n; i++)
        sum += fabs((double)a[i] * (double)b[i]);
    free(a);
    free(b);
    return sum;
}

/* The reference dot recomputed from dequantized rows.  For Q4_1/Q5_1 the
 * minimum meets the f16-rounded s of Q8_1 rather than the exact sum, so add
 * that difference back. */
static double
dequant_dot(sq_type wt, const void *w, const void *xq, int64_t n)
{
    const sq_type xt = sq_vec_dot_type(wt);
    float *b = xmalloc((size_t)n * sizeof(float));
    double extra = 0.0;
    if (xt == SQ_TYPE_Q8_1) {
        const sq_block_q8_1 *x = xq;
        for (int64_t blk = 0; blk < n / 32; blk++) {
            const float d = sq_f16_to_f32(x[blk].d);
            int sum = 0;
            for (int j = 0; j < 32; j++) {
                b[blk * 32 + j] = d * (float)x[blk].qs[j];
                sum += x[blk].qs[j];
            }
            /* The minimum m is the second f16 of both Q4_1 and Q5_1 blocks. */
            const size_t bsz = sq_type_get((uint32_t)wt)->type_size;
            sq_f16 m;
            memcpy(&m, (const uint8_t *)w + blk * bsz + 2, sizeof m);
            extra += (double)sq_f16_to_f32(m)
                   * ((double)sq_f16_to_f32(x[blk].s) - (double)d * (double)sum);
        }
    } else {
        sq_quant_kernels_scalar()->dequantize[xt](xq, b, n);
    }
    const double v = sq_vec_dot_dequant(wt, n, w, b) + extra;
    free(b);
    return v;
}

static void
check_dot(const type_desc *td, int64_t n, rng *r)
{
    const sq_type wt = td->type, xt = sq_vec_dot_type(wt);
    void *w = xmalloc(sq_type_row_size(wt, n));
    void *xq = xmalloc(sq_type_row_size(xt, n));
    float *x = xmalloc((size_t)n * sizeof(float));
    fill_sane(td, w, n, r);
    fill_activations(x, n, r, (int)(n % 3));
    sq_quant_kernels_scalar()->quantize[xt](x, xq, n);

    const double scale = abs_terms(wt, w, xq, n);
    const double tol   = 1e-5 * scale + 1e-30;
    const float  ref   = sq_quant_kernels_scalar()->vec_dot[wt](n, w, xq);
    const double indep = dequant_dot(wt, w, xq, n);
    ok(fabs((double)ref - indep) <= tol, "scalar %s dot n=%" PRId64 ": %.9g vs dequantized %.9g (tol %.3g)",
       tname(wt), n, (double)ref, indep, tol);
    for (int l = 1; l < N_LEVELS; l++) {
        const sq_quant_kernels *k = sq_quant_kernels_level((sq_simd_level)l);
        if (!k)
            continue;
        const float v = k->vec_dot[wt](n, w, xq);
        ok(fabs((double)v - (double)ref) <= tol, "%s %s dot n=%" PRId64 ": %.9g vs scalar %.9g (tol %.3g)",
           k->name, tname(wt), n, (double)v, (double)ref, tol);
        if (k->prepare[wt]) {
            void *p = xmalloc(k->prepared_size[wt](n));
            k->prepare[wt](xq, p, n);
            const float vp = k->vec_dot_prepared[wt](n, w, p);
            ok(fabs((double)vp - (double)ref) <= tol,
               "%s %s dot, prepared activations, n=%" PRId64 ": %.9g vs scalar %.9g (tol %.3g)", k->name,
               tname(wt), n, (double)vp, (double)ref, tol);
            free(p);
        }
    }
    free(w);
    free(xq);
    free(x);
}

static void
test_dots(void)
{
    rng r = { 7 };
    for (int l = 1; l < N_LEVELS; l++)
        level_or_skip((sq_simd_level)l, "dot products");
    for (size_t t = 0; t < N_TYPES; t++) {
        const int64_t bs = sq_type_get((uint32_t)types[t].type)->block_size;
        if (bs == 1) {
            static const int64_t lens[] = { 1, 7, 16, 17, 63, 64, 65, 100, 1000, 4099 };
            for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++)
                check_dot(&types[t], lens[i], &r);
        } else if (bs == 32) {
            static const int64_t nblk[] = { 1, 2, 3, 7, 8, 9, 17, 100, 128, 129 };
            for (size_t i = 0; i < sizeof nblk / sizeof nblk[0]; i++)
                check_dot(&types[t], 32 * nblk[i], &r);
        } else {
            static const int64_t nblk[] = { 1, 2, 3, 11, 16 };
            for (size_t i = 0; i < sizeof nblk / sizeof nblk[0]; i++)
                check_dot(&types[t], 256 * nblk[i], &r);
        }
    }
}

/* Zero activations give exactly zero on every level. */
static void
test_dot_zero(void)
{
    rng r = { 8 };
    const int64_t n = 1024;
    float *x = xmalloc((size_t)n * sizeof(float));
    memset(x, 0, (size_t)n * sizeof(float));
    for (size_t t = 0; t < N_TYPES; t++) {
        const sq_type wt = types[t].type, xt = sq_vec_dot_type(wt);
        void *w = xmalloc(sq_type_row_size(wt, n)), *xq = xmalloc(sq_type_row_size(xt, n));
        fill_sane(&types[t], w, n, &r);
        sq_quant_kernels_scalar()->quantize[xt](x, xq, n);
        int bad = 0;
        for (int l = 0; l < N_LEVELS; l++) {
            const sq_quant_kernels *k = sq_quant_kernels_level((sq_simd_level)l);
            if (k)
                bad += k->vec_dot[wt](n, w, xq) != 0.0f;
        }
        ok(bad == 0, "%s dot with zero activations is 0 on every level", tname(wt));
        free(w);
        free(xq);
    }
    free(x);
}

/* ---- tables and dispatch ---- */

static void
test_tables(void)
{
    ok(sq_vec_dot_type(SQ_TYPE_F32) == SQ_TYPE_F32 && sq_vec_dot_type(SQ_TYPE_F16) == SQ_TYPE_F16
       && sq_vec_dot_type(SQ_TYPE_BF16) == SQ_TYPE_BF16 && sq_vec_dot_type(SQ_TYPE_Q4_0) == SQ_TYPE_Q8_0
       && sq_vec_dot_type(SQ_TYPE_Q5_0) == SQ_TYPE_Q8_0 && sq_vec_dot_type(SQ_TYPE_Q8_0) == SQ_TYPE_Q8_0
       && sq_vec_dot_type(SQ_TYPE_Q4_1) == SQ_TYPE_Q8_1 && sq_vec_dot_type(SQ_TYPE_Q5_1) == SQ_TYPE_Q8_1
       && sq_vec_dot_type(SQ_TYPE_Q4_K) == SQ_TYPE_Q8_K && sq_vec_dot_type(SQ_TYPE_Q5_K) == SQ_TYPE_Q8_K
       && sq_vec_dot_type(SQ_TYPE_Q6_K) == SQ_TYPE_Q8_K && sq_vec_dot_type(SQ_TYPE_Q2_K) == SQ_TYPE_COUNT,
       "vec_dot_type follows ggml-cpu's type traits");

    for (int l = 0; l < N_LEVELS; l++) {
        const sq_quant_kernels *k = sq_quant_kernels_level((sq_simd_level)l);
        if (!k)
            continue;
        int missing = 0;
        for (uint32_t t = 0; t < SQ_TYPE_COUNT; t++) {
            const sq_type_info *info = sq_type_get(t);
            if (!info || !info->computable)
                continue;
            const sq_type xt = sq_vec_dot_type((sq_type)t);
            missing += !k->dequantize[t] || !k->vec_dot[t] || xt == SQ_TYPE_COUNT || !k->quantize[xt];
        }
        ok(missing == 0 && strcmp(k->name, level_names[l]) == 0,
           "%s table: every computable type has dequantize, vec_dot and its activation quantizer", k->name);
    }

    unsetenv("SQ_SIMD");
    const sq_quant_kernels *best = sq_quant_kernels_get();
    ok(best != NULL, "sq_quant_kernels_get picks %s", best ? best->name : "nothing");
    setenv("SQ_SIMD", "scalar", 1);
    ok(sq_quant_kernels_get() == sq_quant_kernels_scalar(), "SQ_SIMD=scalar forces the scalar table");
    setenv("SQ_SIMD", "avx512", 1);
    ok(sq_quant_kernels_get() == best, "SQ_SIMD above the CPU's level is ignored");
    setenv("SQ_SIMD", "bogus", 1);
    ok(sq_quant_kernels_get() == best, "an unknown SQ_SIMD value is ignored");
    unsetenv("SQ_SIMD");
}

/* ---- benchmark ---- */

typedef struct {
    sq_vec_dot_fn dot;
    const uint8_t *w;
    const void    *x;
    int64_t        n, rows;
    size_t         row_bytes;
    int            reps;
    float          sink;
} bench_job;

static void *
bench_run(void *p)
{
    bench_job *j = p;
    float s = 0.0f;
    for (int rep = 0; rep < j->reps; rep++)
        for (int64_t r = 0; r < j->rows; r++)
            s += j->dot(j->n, j->w + (size_t)r * j->row_bytes, j->x);
    j->sink = s;
    return NULL;
}

/* GB/s of weights through `threads` threads, each on its own rows: the best
 * of `trials` passes, since the machine may be shared. */
static double
bench_gbs(sq_vec_dot_fn dot, const uint8_t *w, const void *x, int64_t n, int64_t rows, size_t row_bytes,
          int threads, int trials)
{
    double best = 0.0;
    for (int trial = 0; trial < trials; trial++) {
        bench_job jobs[2];
        pthread_t tid[2];
        const int64_t per = rows / threads;
        for (int t = 0; t < threads; t++)
            jobs[t] = (bench_job){ dot, w + (size_t)(t * per) * row_bytes, x, n, per, row_bytes, 1, 0.0f };
        const double t0 = now_s();
        for (int t = 1; t < threads; t++)
            pthread_create(&tid[t], NULL, bench_run, &jobs[t]);
        bench_run(&jobs[0]);
        for (int t = 1; t < threads; t++)
            pthread_join(tid[t], NULL);
        best = fmax(best, (double)per * threads * (double)row_bytes / (now_s() - t0) / 1e9);
    }
    return best;
}

/* One cache-sized set of whole rows of sane weights, repeated through the
 * buffer (so no kernel meets NaNs); returns the number of rows in the set. */
static int64_t
fill_bench_rows(const type_desc *td, uint8_t *mem, size_t size, size_t small, int64_t n, rng *r)
{
    const size_t  row_bytes = sq_type_row_size(td->type, n);
    const int64_t rows      = (int64_t)(small / row_bytes);
    const size_t  chunk     = (size_t)rows * row_bytes;
    fill_sane(td, mem, rows * n, r);
    for (size_t off = chunk; off + chunk <= size; off += chunk)
        memcpy(mem + off, mem, chunk);
    return rows;
}

static int
run_bench(void)
{
    const int64_t n = 4096;
    const size_t big = (size_t)256 << 20;  /* well beyond any L3 */
    const size_t small = (size_t)64 << 10; /* L2-resident */
    uint8_t *mem = xmalloc(big);
    rng r = { 9 };
    const sq_quant_kernels *best = sq_quant_kernels_get();
    float *x = xmalloc((size_t)n * sizeof(float));
    fill_activations(x, n, &r, 0);
    float *xf = xmalloc((size_t)n * sizeof(float));
    memset(xf, 0, (size_t)n * sizeof(float));
    const size_t f32_row = sq_type_row_size(SQ_TYPE_F32, n);

    printf("# GB/s of weight data, best of several passes; \"read\" is the %s F32 dot on 2 threads\n"
           "# streaming the same buffer just before, about the memory's read bandwidth\n", best->name);
    printf("# %-6s %-7s %10s %10s %10s %10s %7s\n", "type", "level", "1T cache", "1T memory", "2T memory",
           "2T read", "2T/read");
    for (size_t t = 0; t < N_TYPES; t++) {
        const sq_type wt = types[t].type, xt = sq_vec_dot_type(wt);
        const size_t  row_bytes  = sq_type_row_size(wt, n);
        const int64_t rows_small = fill_bench_rows(&types[t], mem, big, small, n, &r);
        const int64_t rows_big   = (int64_t)(big / ((size_t)rows_small * row_bytes)) * rows_small;
        void *xq = xmalloc(sq_type_row_size(xt, n));
        sq_quant_kernels_scalar()->quantize[xt](x, xq, n);
        for (int l = 0; l < N_LEVELS; l++) {
            const sq_quant_kernels *k = sq_quant_kernels_level((sq_simd_level)l);
            if (!k)
                continue;
            const int64_t rows_mem = l == 0 ? rows_big / 16 : rows_big;
            const double c1 = bench_gbs(k->vec_dot[wt], mem, xq, n, rows_small, row_bytes, 1, l == 0 ? 20 : 300);
            const double m1 = bench_gbs(k->vec_dot[wt], mem, xq, n, rows_mem, row_bytes, 1, 3);
            const double rd = bench_gbs(best->vec_dot[SQ_TYPE_F32], mem, xf, n, (int64_t)(big / f32_row), f32_row, 2, 3);
            const double m2 = bench_gbs(k->vec_dot[wt], mem, xq, n, rows_mem, row_bytes, 2, 3);
            printf("# %-6s %-7s %10.1f %10.1f %10.1f %10.1f %6.0f%%\n", tname(wt), k->name, c1, m1, m2, rd,
                   100.0 * m2 / rd);
        }
        free(xq);
    }
    free(x);
    free(xf);
    free(mem);
    return 0;
}

int
main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--bench") == 0)
        return run_bench();
    test_tables();
    test_f16_conversions();
    test_bf16_conversions();
    test_dequant_data();
    test_dequant_levels();
    test_quantize_rounding();
    test_quantize_levels();
    test_round_trip();
    test_dots();
    test_dot_zero();
    return tap_done();
}
