/* quant.c — the scalar reference for quant.h: one plain function per type.
 *
 * Clarity over speed here; quant-x86.c holds the fast versions and the tests
 * hold them to these.  Formulas: qwen25vl-spec.md A.6.
 */
#include "quant.h"

#include <math.h>
#include <string.h>

_Static_assert(sizeof(sq_block_q4_0) == 18, "Q4_0 block");
_Static_assert(sizeof(sq_block_q4_1) == 20, "Q4_1 block");
_Static_assert(sizeof(sq_block_q5_0) == 22, "Q5_0 block");
_Static_assert(sizeof(sq_block_q5_1) == 24, "Q5_1 block");
_Static_assert(sizeof(sq_block_q8_0) == 34, "Q8_0 block");
_Static_assert(sizeof(sq_block_q8_1) == 36, "Q8_1 block");
_Static_assert(sizeof(sq_block_q4_K) == 144, "Q4_K block");
_Static_assert(sizeof(sq_block_q5_K) == 176, "Q5_K block");
_Static_assert(sizeof(sq_block_q6_K) == 210, "Q6_K block");
_Static_assert(sizeof(sq_block_q8_K) == 292, "Q8_K block");

/* ---- helpers ---- */

static uint32_t
f32_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static float
f32_from_bits(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* GNU C contracts a*b + c into an FMA whenever the target has one (for
 * instance under -march=native), which rounds once instead of twice.  The
 * reference values (gguf-py's numpy dequantization, llama.cpp's SIMD
 * quantizers) round the product first, so products that feed an addition
 * pass through this opaque register move. */
static inline float
unfused(float v)
{
#if defined(__GNUC__) && defined(__x86_64__)
    __asm__("" : "+x"(v));
#elif defined(__GNUC__) && defined(__aarch64__)
    __asm__("" : "+w"(v));
#else
    volatile float t = v;
    v = t;
#endif
    return v;
}

/* Round half to even for |v| < 2^22: adding 1.5·2^23 leaves no fraction bits,
 * so the float addition itself rounds, in the default rounding mode. */
static inline int
round_even(float v)
{
    const float magic = 12582912.0f;
    return (int)(f32_bits(v + magic) & 0x007fffff) - 0x00400000;
}

/* The same for a double holding an exact product (|v| < 2^51). */
static inline int
round_even_d(double v)
{
    const double magic = 6755399441055744.0;  /* 1.5 * 2^52 */
    return (int)((v + magic) - magic);
}

static float
max_abs(const float *x, int n)
{
    float amax = 0.0f;
    for (int j = 0; j < n; j++)
        amax = amax > fabsf(x[j]) ? amax : fabsf(x[j]);
    return amax;
}

/* The 6-bit scale and min of sub-block j of a Q4_K/Q5_K super-block. */
static void
scale_min_k4(int j, const uint8_t *q, int *sc, int *mn)
{
    if (j < 4) {
        *sc = q[j] & 63;
        *mn = q[j + 4] & 63;
    } else {
        *sc = (q[j + 4] & 15) | ((q[j - 4] >> 6) << 4);
        *mn = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
    }
}

static uint32_t
load_u32le(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* ---- half-precision conversions ---- */

float
sq_f16_to_f32(sq_f16 h)
{
    uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t exp  = (h >> 10) & 0x1f;
    uint32_t man  = h & 0x3ff;

    if (exp == 0x1f)  /* inf, or NaN quieted as F16C does, payload kept */
        return f32_from_bits(sign | 0x7f800000 | (man ? 0x400000 : 0) | man << 13);
    if (exp != 0)
        return f32_from_bits(sign | (exp + 112) << 23 | man << 13);
    if (man == 0)
        return f32_from_bits(sign);
    /* Subnormal man·2^-24: shift the leading one into the implicit bit. */
    int e = 113;
    while (!(man & 0x400)) {
        man <<= 1;
        e--;
    }
    return f32_from_bits(sign | (uint32_t)e << 23 | (man & 0x3ff) << 13);
}

sq_f16
sq_f32_to_f16(float f)
{
    uint32_t u    = f32_bits(f);
    uint32_t sign = (u >> 16) & 0x8000;
    uint32_t a    = u & 0x7fffffff;

    if (a > 0x7f800000)                  /* NaN */
        return (sq_f16)(sign | 0x7e00 | ((a >> 13) & 0x3ff));
    if (a >= 0x477ff000)                 /* ≥ 65520 rounds to infinity */
        return (sq_f16)(sign | 0x7c00);
    if (a >= 0x38800000) {               /* normal half: rebias, round 13 bits */
        uint32_t h   = (a - 0x38000000) >> 13;
        uint32_t rem = a & 0x1fff;
        if (rem > 0x1000 || (rem == 0x1000 && (h & 1)))
            h++;                         /* a carry into the exponent is right */
        return (sq_f16)(sign | h);
    }
    /* Subnormal half: the value in units of 2^-24, rounded half to even. */
    int exp = (int)(a >> 23);
    if (exp < 102)                       /* below 2^-25: rounds to zero */
        return (sq_f16)sign;
    uint32_t man   = (a & 0x7fffff) | 0x800000;
    int      shift = 126 - exp;          /* 14 … 24 */
    uint32_t h     = man >> shift;
    uint32_t rem   = man & ((1u << shift) - 1);
    uint32_t half  = 1u << (shift - 1);
    if (rem > half || (rem == half && (h & 1)))
        h++;                             /* may become the smallest normal: right too */
    return (sq_f16)(sign | h);
}

float
sq_bf16_to_f32(sq_bf16 h)
{
    return f32_from_bits((uint32_t)h << 16);
}

sq_bf16
sq_f32_to_bf16(float f)
{
    uint32_t u = f32_bits(f);
    if ((u & 0x7fffffff) > 0x7f800000)
        return (sq_bf16)((u >> 16) | 0x40);
    return (sq_bf16)((u + 0x7fff + ((u >> 16) & 1)) >> 16);
}

sq_type
sq_vec_dot_type(sq_type weight_type)
{
    switch (weight_type) {
    case SQ_TYPE_F32:  return SQ_TYPE_F32;
    case SQ_TYPE_F16:  return SQ_TYPE_F16;
    case SQ_TYPE_BF16: return SQ_TYPE_BF16;
    case SQ_TYPE_Q4_0:
    case SQ_TYPE_Q5_0:
    case SQ_TYPE_Q8_0: return SQ_TYPE_Q8_0;
    case SQ_TYPE_Q4_1:
    case SQ_TYPE_Q5_1: return SQ_TYPE_Q8_1;
    case SQ_TYPE_Q4_K:
    case SQ_TYPE_Q5_K:
    case SQ_TYPE_Q6_K: return SQ_TYPE_Q8_K;
    default:           return SQ_TYPE_COUNT;
    }
}

/* ---- dequantization ---- */

void
sq_dequantize_row_f32(const void *x, float *y, int64_t n)
{
    memmove(y, x, (size_t)n * sizeof *y);
}

void
sq_dequantize_row_f16(const void *x, float *y, int64_t n)
{
    const sq_f16 *h = x;
    for (int64_t i = 0; i < n; i++)
        y[i] = sq_f16_to_f32(h[i]);
}

void
sq_dequantize_row_bf16(const void *x, float *y, int64_t n)
{
    const sq_bf16 *h = x;
    for (int64_t i = 0; i < n; i++)
        y[i] = sq_bf16_to_f32(h[i]);
}

void
sq_dequantize_row_q4_0(const void *x, float *y, int64_t n)
{
    const sq_block_q4_0 *b = x;
    for (int64_t i = 0; i < n / SQ_QK; i++, y += SQ_QK) {
        const float d = sq_f16_to_f32(b[i].d);
        for (int j = 0; j < SQ_QK / 2; j++) {
            y[j]             = (float)((b[i].qs[j] & 15) - 8) * d;
            y[j + SQ_QK / 2] = (float)((b[i].qs[j] >> 4) - 8) * d;
        }
    }
}

void
sq_dequantize_row_q4_1(const void *x, float *y, int64_t n)
{
    const sq_block_q4_1 *b = x;
    for (int64_t i = 0; i < n / SQ_QK; i++, y += SQ_QK) {
        const float d = sq_f16_to_f32(b[i].d);
        const float m = sq_f16_to_f32(b[i].m);
        for (int j = 0; j < SQ_QK / 2; j++) {
            y[j]             = unfused((float)(b[i].qs[j] & 15) * d) + m;
            y[j + SQ_QK / 2] = unfused((float)(b[i].qs[j] >> 4) * d) + m;
        }
    }
}

void
sq_dequantize_row_q5_0(const void *x, float *y, int64_t n)
{
    const sq_block_q5_0 *b = x;
    for (int64_t i = 0; i < n / SQ_QK; i++, y += SQ_QK) {
        const float    d  = sq_f16_to_f32(b[i].d);
        const uint32_t qh = load_u32le(b[i].qh);
        for (int j = 0; j < SQ_QK / 2; j++) {
            const int lo = (b[i].qs[j] & 15) | (int)((qh >> j) & 1) << 4;
            const int hi = (b[i].qs[j] >> 4) | (int)((qh >> (j + 16)) & 1) << 4;
            y[j]             = (float)(lo - 16) * d;
            y[j + SQ_QK / 2] = (float)(hi - 16) * d;
        }
    }
}

void
sq_dequantize_row_q5_1(const void *x, float *y, int64_t n)
{
    const sq_block_q5_1 *b = x;
    for (int64_t i = 0; i < n / SQ_QK; i++, y += SQ_QK) {
        const float    d  = sq_f16_to_f32(b[i].d);
        const float    m  = sq_f16_to_f32(b[i].m);
        const uint32_t qh = load_u32le(b[i].qh);
        for (int j = 0; j < SQ_QK / 2; j++) {
            const int lo = (b[i].qs[j] & 15) | (int)((qh >> j) & 1) << 4;
            const int hi = (b[i].qs[j] >> 4) | (int)((qh >> (j + 16)) & 1) << 4;
            y[j]             = unfused((float)lo * d) + m;
            y[j + SQ_QK / 2] = unfused((float)hi * d) + m;
        }
    }
}

void
sq_dequantize_row_q8_0(const void *x, float *y, int64_t n)
{
    const sq_block_q8_0 *b = x;
    for (int64_t i = 0; i < n / SQ_QK; i++, y += SQ_QK) {
        const float d = sq_f16_to_f32(b[i].d);
        for (int j = 0; j < SQ_QK; j++)
            y[j] = (float)b[i].qs[j] * d;
    }
}

void
sq_dequantize_row_q4_K(const void *x, float *y, int64_t n)
{
    const sq_block_q4_K *b = x;
    for (int64_t i = 0; i < n / SQ_QK_K; i++) {
        const float    d    = sq_f16_to_f32(b[i].d);
        const float    dmin = sq_f16_to_f32(b[i].dmin);
        const uint8_t *q    = b[i].qs;
        for (int c = 0; c < 4; c++, q += 32) {  /* chunks of 64: sub-blocks 2c, 2c+1 */
            int sc0, mn0, sc1, mn1;
            scale_min_k4(2 * c, b[i].scales, &sc0, &mn0);
            scale_min_k4(2 * c + 1, b[i].scales, &sc1, &mn1);
            const float d0 = d * (float)sc0, m0 = dmin * (float)mn0;
            const float d1 = d * (float)sc1, m1 = dmin * (float)mn1;
            for (int l = 0; l < 32; l++)
                *y++ = unfused(d0 * (float)(q[l] & 15)) - m0;
            for (int l = 0; l < 32; l++)
                *y++ = unfused(d1 * (float)(q[l] >> 4)) - m1;
        }
    }
}

void
sq_dequantize_row_q5_K(const void *x, float *y, int64_t n)
{
    const sq_block_q5_K *b = x;
    for (int64_t i = 0; i < n / SQ_QK_K; i++) {
        const float    d    = sq_f16_to_f32(b[i].d);
        const float    dmin = sq_f16_to_f32(b[i].dmin);
        const uint8_t *q    = b[i].qs;
        for (int c = 0; c < 4; c++, q += 32) {  /* qh is shared by all chunks */
            int sc0, mn0, sc1, mn1;
            scale_min_k4(2 * c, b[i].scales, &sc0, &mn0);
            scale_min_k4(2 * c + 1, b[i].scales, &sc1, &mn1);
            const float d0 = d * (float)sc0, m0 = dmin * (float)mn0;
            const float d1 = d * (float)sc1, m1 = dmin * (float)mn1;
            for (int l = 0; l < 32; l++) {
                const int v = (q[l] & 15) + (((b[i].qh[l] >> (2 * c)) & 1) << 4);
                *y++ = unfused(d0 * (float)v) - m0;
            }
            for (int l = 0; l < 32; l++) {
                const int v = (q[l] >> 4) + (((b[i].qh[l] >> (2 * c + 1)) & 1) << 4);
                *y++ = unfused(d1 * (float)v) - m1;
            }
        }
    }
}

/* The 256 quants of a Q6_K block, -32…31, in element order; element v
 * has scale scales[v / 16]. */
static void
q6_K_unpack(const sq_block_q6_K *b, int8_t *q)
{
    for (int h = 0; h < 2; h++, q += 128) {  /* two halves of 128 */
        const uint8_t *ql = b->ql + 64 * h;
        const uint8_t *qh = b->qh + 32 * h;
        for (int l = 0; l < 32; l++) {
            q[l]      = (int8_t)(((ql[l] & 15) | ((qh[l] >> 0) & 3) << 4) - 32);
            q[l + 32] = (int8_t)(((ql[l + 32] & 15) | ((qh[l] >> 2) & 3) << 4) - 32);
            q[l + 64] = (int8_t)(((ql[l] >> 4) | ((qh[l] >> 4) & 3) << 4) - 32);
            q[l + 96] = (int8_t)(((ql[l + 32] >> 4) | ((qh[l] >> 6) & 3) << 4) - 32);
        }
    }
}

void
sq_dequantize_row_q6_K(const void *x, float *y, int64_t n)
{
    const sq_block_q6_K *b = x;
    int8_t q[SQ_QK_K];
    for (int64_t i = 0; i < n / SQ_QK_K; i++, y += SQ_QK_K) {
        const float d = sq_f16_to_f32(b[i].d);
        q6_K_unpack(&b[i], q);
        for (int v = 0; v < SQ_QK_K; v++)
            y[v] = d * (float)b[i].scales[v / 16] * (float)q[v];
    }
}

void
sq_dequantize_row_q8_K(const void *x, float *y, int64_t n)
{
    const sq_block_q8_K *b = x;
    for (int64_t i = 0; i < n / SQ_QK_K; i++, y += SQ_QK_K)
        for (int j = 0; j < SQ_QK_K; j++)
            y[j] = b[i].d * (float)b[i].qs[j];
}

/* ---- quantization ---- */

/* One Q8_0-style block with llama.cpp's x86 SIMD arithmetic; returns the
 * integer sum of the quants (for Q8_1) and the float scale in *d_out. */
static int
quantize_block_q8_x86(const float *x, int8_t *qs, float *d_out)
{
    const float amax = max_abs(x, SQ_QK);
    const float id   = amax != 0.0f ? 127.0f / amax : 0.0f;
    int sum = 0;
    for (int j = 0; j < SQ_QK; j++) {
        qs[j] = (int8_t)round_even(unfused(x[j] * id));
        sum += qs[j];
    }
    *d_out = amax / 127.0f;
    return sum;
}

void
sq_quantize_row_q8_0(const float *x, void *y, int64_t n)
{
    sq_block_q8_0 *b = y;
    for (int64_t i = 0; i < n / SQ_QK; i++, x += SQ_QK) {
        float d;
        quantize_block_q8_x86(x, b[i].qs, &d);
        b[i].d = sq_f32_to_f16(d);
    }
}

void
sq_quantize_row_q8_1(const float *x, void *y, int64_t n)
{
    sq_block_q8_1 *b = y;
    for (int64_t i = 0; i < n / SQ_QK; i++, x += SQ_QK) {
        float d;
        const int sum = quantize_block_q8_x86(x, b[i].qs, &d);
        b[i].d = sq_f32_to_f16(d);
        b[i].s = sq_f32_to_f16(d * (float)sum);
    }
}

/* ggml-quants.c's reference block: multiplier 1/d, roundf. */
static int
quantize_block_q8_ref(const float *x, int8_t *qs, float *d_out)
{
    const float d  = max_abs(x, SQ_QK) / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    int sum = 0;
    for (int j = 0; j < SQ_QK; j++) {
        qs[j] = (int8_t)roundf(x[j] * id);
        sum += qs[j];
    }
    *d_out = d;
    return sum;
}

void
sq_quantize_row_q8_0_ref(const float *x, void *y, int64_t n)
{
    sq_block_q8_0 *b = y;
    for (int64_t i = 0; i < n / SQ_QK; i++, x += SQ_QK) {
        float d;
        quantize_block_q8_ref(x, b[i].qs, &d);
        b[i].d = sq_f32_to_f16(d);
    }
}

void
sq_quantize_row_q8_1_ref(const float *x, void *y, int64_t n)
{
    sq_block_q8_1 *b = y;
    for (int64_t i = 0; i < n / SQ_QK; i++, x += SQ_QK) {
        float d;
        const int sum = quantize_block_q8_ref(x, b[i].qs, &d);
        b[i].d = sq_f32_to_f16(d);
        b[i].s = sq_f32_to_f16((float)sum * d);
    }
}

/* Q8_K: the scale comes from the signed value of the first element with the
 * largest magnitude, so that element maps to exactly -127. */
static void
quantize_block_q8_K(const float *x, sq_block_q8_K *b, int fused)
{
    float amax = 0.0f, max = 0.0f;
    for (int j = 0; j < SQ_QK_K; j++) {
        if (fabsf(x[j]) > amax) {
            amax = fabsf(x[j]);
            max  = x[j];
        }
    }
    /* llama.cpp leaves bsums unwritten for a zero block; zero is the only
     * sensible content and keeps outputs deterministic. */
    memset(b, 0, sizeof *b);
    if (amax == 0.0f)
        return;
    const float iscale = -127.0f / max;
    for (int j = 0; j < SQ_QK_K; j++) {
        /* The double product of two floats is exact, so rounding it is
         * rounding the FMA's exact product. */
        const int v = fused ? round_even_d((double)iscale * (double)x[j])
                            : round_even(unfused(iscale * x[j]));
        b->qs[j] = (int8_t)(v < 127 ? v : 127);
    }
    for (int g = 0; g < SQ_QK_K / 16; g++) {
        int sum = 0;
        for (int l = 0; l < 16; l++)
            sum += b->qs[16 * g + l];
        b->bsums[g] = (int16_t)sum;
    }
    b->d = 1.0f / iscale;
}

void
sq_quantize_row_q8_K(const float *x, void *y, int64_t n)
{
    sq_block_q8_K *b = y;
    for (int64_t i = 0; i < n / SQ_QK_K; i++)
        quantize_block_q8_K(x + i * SQ_QK_K, &b[i], 1);
}

void
sq_quantize_row_q8_K_ref(const float *x, void *y, int64_t n)
{
    sq_block_q8_K *b = y;
    for (int64_t i = 0; i < n / SQ_QK_K; i++)
        quantize_block_q8_K(x + i * SQ_QK_K, &b[i], 0);
}

void
sq_quantize_row_q4_0(const float *x, void *y, int64_t n)
{
    sq_block_q4_0 *b = y;
    for (int64_t i = 0; i < n / SQ_QK; i++, x += SQ_QK) {
        /* The signed extreme maps to -8, the one level without a mirror. */
        float amax = 0.0f, max = 0.0f;
        for (int j = 0; j < SQ_QK; j++) {
            if (amax < fabsf(x[j])) {
                amax = fabsf(x[j]);
                max  = x[j];
            }
        }
        const float d  = max / -8.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        b[i].d = sq_f32_to_f16(d);
        for (int j = 0; j < SQ_QK / 2; j++) {
            /* + 8.5 then truncation: round half up, shifted to 0…16. */
            const int lo = (int)(unfused(x[j] * id) + 8.5f);
            const int hi = (int)(unfused(x[j + SQ_QK / 2] * id) + 8.5f);
            b[i].qs[j] = (uint8_t)((lo < 15 ? lo : 15) | (hi < 15 ? hi : 15) << 4);
        }
    }
}

/* One 256-value Q6_K block: sixteen 16-value groups, each with an int8
 * scale of the block's f16 d, values q in [-32, 31] stored as q + 32 split
 * into low nibbles (ql) and high bit pairs (qh) in ggml's interleaved order.
 * Group scales are rounded up so that no value needs clamping. */
static void
quantize_block_q6_K(const float *x, sq_block_q6_K *b)
{
    float gscale[SQ_QK_K / 16], smax = 0.0f;
    for (int g = 0; g < SQ_QK_K / 16; g++) {
        float amax = 0.0f;
        for (int j = 0; j < 16; j++)
            amax = fmaxf(amax, fabsf(x[16 * g + j]));
        gscale[g] = amax / 31.0f;
        smax = fmaxf(smax, gscale[g]);
    }
    const float d = smax / 127.0f;
    b->d = sq_f32_to_f16(d);
    const float dh = sq_f16_to_f32(b->d);
    uint8_t L[SQ_QK_K];
    for (int g = 0; g < SQ_QK_K / 16; g++) {
        int sc = dh > 0.0f ? (int)ceilf(gscale[g] / dh) : 0;
        sc = sc > 127 ? 127 : sc;
        b->scales[g] = (int8_t)sc;
        const float step = dh * (float)sc;
        for (int j = 0; j < 16; j++) {
            int q = step > 0.0f ? (int)lrintf(x[16 * g + j] / step) : 0;
            q = q < -32 ? -32 : q > 31 ? 31 : q;
            L[16 * g + j] = (uint8_t)(q + 32);
        }
    }
    for (int h = 0; h < 2; h++) {
        const uint8_t *l = L + 128 * h;
        uint8_t *ql = b->ql + 64 * h, *qh = b->qh + 32 * h;
        for (int i = 0; i < 32; i++) {
            ql[i]      = (uint8_t)((l[i] & 0xF) | (l[i + 64] & 0xF) << 4);
            ql[i + 32] = (uint8_t)((l[i + 32] & 0xF) | (l[i + 96] & 0xF) << 4);
            qh[i] = (uint8_t)(l[i] >> 4 | (l[i + 32] >> 4) << 2 | (l[i + 64] >> 4) << 4 | (l[i + 96] >> 4) << 6);
        }
    }
}

void
sq_quantize_row_q6_K(const float *x, void *y, int64_t n)
{
    sq_block_q6_K *b = y;
    for (int64_t i = 0; i < n / SQ_QK_K; i++)
        quantize_block_q6_K(x + i * SQ_QK_K, &b[i]);
}

void
sq_quantize_row_f16(const float *x, void *y, int64_t n)
{
    sq_f16 *h = y;
    for (int64_t i = 0; i < n; i++)
        h[i] = sq_f32_to_f16(x[i]);
}

void
sq_quantize_row_bf16(const float *x, void *y, int64_t n)
{
    sq_bf16 *h = y;
    for (int64_t i = 0; i < n; i++)
        h[i] = sq_f32_to_bf16(x[i]);
}

void
sq_quantize_row_f32(const float *x, void *y, int64_t n)
{
    memmove(y, x, (size_t)n * sizeof *x);
}

/* ---- dot products ---- */

float
sq_vec_dot_f32(int64_t n, const void *w, const void *x)
{
    const float *a = w, *b = x;
    double sum = 0.0;
    for (int64_t i = 0; i < n; i++)
        sum += (double)(a[i] * b[i]);
    return (float)sum;
}

float
sq_vec_dot_f16(int64_t n, const void *w, const void *x)
{
    const sq_f16 *a = w, *b = x;
    double sum = 0.0;
    for (int64_t i = 0; i < n; i++)
        sum += (double)(sq_f16_to_f32(a[i]) * sq_f16_to_f32(b[i]));
    return (float)sum;
}

float
sq_vec_dot_bf16(int64_t n, const void *w, const void *x)
{
    const sq_bf16 *a = w, *b = x;
    double sum = 0.0;
    for (int64_t i = 0; i < n; i++)
        sum += (double)(sq_bf16_to_f32(a[i]) * sq_bf16_to_f32(b[i]));
    return (float)sum;
}

float
sq_vec_dot_q4_0_q8_0(int64_t n, const void *w, const void *x)
{
    const sq_block_q4_0 *a = w;
    const sq_block_q8_0 *b = x;
    float sum = 0.0f;
    for (int64_t i = 0; i < n / SQ_QK; i++) {
        int sumi = 0;
        for (int j = 0; j < SQ_QK / 2; j++) {
            sumi += ((a[i].qs[j] & 15) - 8) * b[i].qs[j];
            sumi += ((a[i].qs[j] >> 4) - 8) * b[i].qs[j + SQ_QK / 2];
        }
        sum += (float)sumi * (sq_f16_to_f32(a[i].d) * sq_f16_to_f32(b[i].d));
    }
    return sum;
}

float
sq_vec_dot_q4_1_q8_1(int64_t n, const void *w, const void *x)
{
    const sq_block_q4_1 *a = w;
    const sq_block_q8_1 *b = x;
    float sum = 0.0f;
    for (int64_t i = 0; i < n / SQ_QK; i++) {
        int sumi = 0;
        for (int j = 0; j < SQ_QK / 2; j++) {
            sumi += (a[i].qs[j] & 15) * b[i].qs[j];
            sumi += (a[i].qs[j] >> 4) * b[i].qs[j + SQ_QK / 2];
        }
        /* The minimum meets the activations only through their sum, s. */
        sum += (float)sumi * (sq_f16_to_f32(a[i].d) * sq_f16_to_f32(b[i].d))
             + sq_f16_to_f32(a[i].m) * sq_f16_to_f32(b[i].s);
    }
    return sum;
}

float
sq_vec_dot_q5_0_q8_0(int64_t n, const void *w, const void *x)
{
    const sq_block_q5_0 *a = w;
    const sq_block_q8_0 *b = x;
    float sum = 0.0f;
    for (int64_t i = 0; i < n / SQ_QK; i++) {
        const uint32_t qh = load_u32le(a[i].qh);
        int sumi = 0;
        for (int j = 0; j < SQ_QK / 2; j++) {
            const int lo = ((a[i].qs[j] & 15) | (int)((qh >> j) & 1) << 4) - 16;
            const int hi = ((a[i].qs[j] >> 4) | (int)((qh >> (j + 16)) & 1) << 4) - 16;
            sumi += lo * b[i].qs[j] + hi * b[i].qs[j + SQ_QK / 2];
        }
        sum += (float)sumi * (sq_f16_to_f32(a[i].d) * sq_f16_to_f32(b[i].d));
    }
    return sum;
}

float
sq_vec_dot_q5_1_q8_1(int64_t n, const void *w, const void *x)
{
    const sq_block_q5_1 *a = w;
    const sq_block_q8_1 *b = x;
    float sum = 0.0f;
    for (int64_t i = 0; i < n / SQ_QK; i++) {
        const uint32_t qh = load_u32le(a[i].qh);
        int sumi = 0;
        for (int j = 0; j < SQ_QK / 2; j++) {
            const int lo = (a[i].qs[j] & 15) | (int)((qh >> j) & 1) << 4;
            const int hi = (a[i].qs[j] >> 4) | (int)((qh >> (j + 16)) & 1) << 4;
            sumi += lo * b[i].qs[j] + hi * b[i].qs[j + SQ_QK / 2];
        }
        sum += (float)sumi * (sq_f16_to_f32(a[i].d) * sq_f16_to_f32(b[i].d))
             + sq_f16_to_f32(a[i].m) * sq_f16_to_f32(b[i].s);
    }
    return sum;
}

float
sq_vec_dot_q8_0_q8_0(int64_t n, const void *w, const void *x)
{
    const sq_block_q8_0 *a = w;
    const sq_block_q8_0 *b = x;
    float sum = 0.0f;
    for (int64_t i = 0; i < n / SQ_QK; i++) {
        int sumi = 0;
        for (int j = 0; j < SQ_QK; j++)
            sumi += a[i].qs[j] * b[i].qs[j];
        sum += (float)sumi * (sq_f16_to_f32(a[i].d) * sq_f16_to_f32(b[i].d));
    }
    return sum;
}

/* Σ over sub-blocks of min·(sum of the sub-block's activations), from the
 * Q8_K block sums: the part of a Q4_K/Q5_K dot that dmin scales. */
static int
k4_min_term(const uint8_t *scales, const int16_t *bsums)
{
    int sum = 0;
    for (int j = 0; j < 8; j++) {
        int sc, mn;
        scale_min_k4(j, scales, &sc, &mn);
        sum += mn * (bsums[2 * j] + bsums[2 * j + 1]);
    }
    return sum;
}

float
sq_vec_dot_q4_K_q8_K(int64_t n, const void *w, const void *x)
{
    const sq_block_q4_K *a = w;
    const sq_block_q8_K *b = x;
    float sum = 0.0f;
    for (int64_t i = 0; i < n / SQ_QK_K; i++) {
        const uint8_t *q  = a[i].qs;
        const int8_t  *q8 = b[i].qs;
        int sumi = 0;
        for (int c = 0; c < 4; c++, q += 32, q8 += 64) {
            int sc0, sc1, mn;
            scale_min_k4(2 * c, a[i].scales, &sc0, &mn);
            scale_min_k4(2 * c + 1, a[i].scales, &sc1, &mn);
            int s0 = 0, s1 = 0;
            for (int l = 0; l < 32; l++) {
                s0 += (q[l] & 15) * q8[l];
                s1 += (q[l] >> 4) * q8[l + 32];
            }
            sumi += sc0 * s0 + sc1 * s1;
        }
        const float d    = sq_f16_to_f32(a[i].d) * b[i].d;
        const float dmin = sq_f16_to_f32(a[i].dmin) * b[i].d;
        sum += d * (float)sumi - dmin * (float)k4_min_term(a[i].scales, b[i].bsums);
    }
    return sum;
}

float
sq_vec_dot_q5_K_q8_K(int64_t n, const void *w, const void *x)
{
    const sq_block_q5_K *a = w;
    const sq_block_q8_K *b = x;
    float sum = 0.0f;
    for (int64_t i = 0; i < n / SQ_QK_K; i++) {
        const uint8_t *q  = a[i].qs;
        const uint8_t *qh = a[i].qh;
        const int8_t  *q8 = b[i].qs;
        int sumi = 0;
        for (int c = 0; c < 4; c++, q += 32, q8 += 64) {
            int sc0, sc1, mn;
            scale_min_k4(2 * c, a[i].scales, &sc0, &mn);
            scale_min_k4(2 * c + 1, a[i].scales, &sc1, &mn);
            int s0 = 0, s1 = 0;
            for (int l = 0; l < 32; l++) {
                const int v0 = (q[l] & 15) + (((qh[l] >> (2 * c)) & 1) << 4);
                const int v1 = (q[l] >> 4) + (((qh[l] >> (2 * c + 1)) & 1) << 4);
                s0 += v0 * q8[l];
                s1 += v1 * q8[l + 32];
            }
            sumi += sc0 * s0 + sc1 * s1;
        }
        const float d    = sq_f16_to_f32(a[i].d) * b[i].d;
        const float dmin = sq_f16_to_f32(a[i].dmin) * b[i].d;
        sum += d * (float)sumi - dmin * (float)k4_min_term(a[i].scales, b[i].bsums);
    }
    return sum;
}

float
sq_vec_dot_q6_K_q8_K(int64_t n, const void *w, const void *x)
{
    /* Unpacking first also keeps GCC 12's AVX512-VNNI vectorizer, which
     * miscompiles the fused form of this loop under -march=native, away. */
    const sq_block_q6_K *a = w;
    const sq_block_q8_K *b = x;
    int8_t q[SQ_QK_K];
    float sum = 0.0f;
    for (int64_t i = 0; i < n / SQ_QK_K; i++) {
        q6_K_unpack(&a[i], q);
        int sumi = 0;
        for (int g = 0; g < SQ_QK_K / 16; g++) {
            int s = 0;
            for (int l = 16 * g; l < 16 * g + 16; l++)
                s += q[l] * b[i].qs[l];
            sumi += a[i].scales[g] * s;
        }
        sum += sq_f16_to_f32(a[i].d) * b[i].d * (float)sumi;
    }
    return sum;
}

float
sq_vec_dot_dequant(sq_type type, int64_t n, const void *w, const float *x)
{
    const sq_type_info *info = sq_type_get((uint32_t)type);
    if (!info)
        return NAN;
    const sq_dequant_fn dequant = sq_quant_kernels_scalar()->dequantize[type];
    if (!dequant)
        return NAN;
    /* One super-block at a time: 256 is a multiple of every block size. */
    const int64_t chunk = SQ_QK_K;
    const size_t  bytes = sq_type_row_size(type, chunk);
    const uint8_t *row  = w;
    float  buf[SQ_QK_K];
    double sum = 0.0;
    for (int64_t i = 0; i < n; i += chunk) {
        const int64_t len = n - i < chunk ? n - i : chunk;
        dequant(row + (size_t)(i / chunk) * bytes, buf, len);
        for (int64_t j = 0; j < len; j++)
            sum += (double)buf[j] * (double)x[i + j];
    }
    return (float)sum;
}

/* ---- the scalar table ---- */

static const sq_quant_kernels scalar_kernels = {
    .name = "scalar",
    .quantize = {
        [SQ_TYPE_F32]  = sq_quantize_row_f32,
        [SQ_TYPE_F16]  = sq_quantize_row_f16,
        [SQ_TYPE_BF16] = sq_quantize_row_bf16,
        [SQ_TYPE_Q4_0] = sq_quantize_row_q4_0,
        [SQ_TYPE_Q8_0] = sq_quantize_row_q8_0,
        [SQ_TYPE_Q8_1] = sq_quantize_row_q8_1,
        [SQ_TYPE_Q8_K] = sq_quantize_row_q8_K,
        [SQ_TYPE_Q6_K] = sq_quantize_row_q6_K,
    },
    .vec_dot = {
        [SQ_TYPE_F32]  = sq_vec_dot_f32,
        [SQ_TYPE_F16]  = sq_vec_dot_f16,
        [SQ_TYPE_BF16] = sq_vec_dot_bf16,
        [SQ_TYPE_Q4_0] = sq_vec_dot_q4_0_q8_0,
        [SQ_TYPE_Q4_1] = sq_vec_dot_q4_1_q8_1,
        [SQ_TYPE_Q5_0] = sq_vec_dot_q5_0_q8_0,
        [SQ_TYPE_Q5_1] = sq_vec_dot_q5_1_q8_1,
        [SQ_TYPE_Q8_0] = sq_vec_dot_q8_0_q8_0,
        [SQ_TYPE_Q4_K] = sq_vec_dot_q4_K_q8_K,
        [SQ_TYPE_Q5_K] = sq_vec_dot_q5_K_q8_K,
        [SQ_TYPE_Q6_K] = sq_vec_dot_q6_K_q8_K,
    },
    .dequantize = {
        [SQ_TYPE_F32]  = sq_dequantize_row_f32,
        [SQ_TYPE_F16]  = sq_dequantize_row_f16,
        [SQ_TYPE_BF16] = sq_dequantize_row_bf16,
        [SQ_TYPE_Q4_0] = sq_dequantize_row_q4_0,
        [SQ_TYPE_Q4_1] = sq_dequantize_row_q4_1,
        [SQ_TYPE_Q5_0] = sq_dequantize_row_q5_0,
        [SQ_TYPE_Q5_1] = sq_dequantize_row_q5_1,
        [SQ_TYPE_Q8_0] = sq_dequantize_row_q8_0,
        [SQ_TYPE_Q4_K] = sq_dequantize_row_q4_K,
        [SQ_TYPE_Q5_K] = sq_dequantize_row_q5_K,
        [SQ_TYPE_Q6_K] = sq_dequantize_row_q6_K,
        [SQ_TYPE_Q8_K] = sq_dequantize_row_q8_K,
    },
};

const sq_quant_kernels *
sq_quant_kernels_scalar(void)
{
    return &scalar_kernels;
}
