/* quant-x86.c — AVX2 and AVX-512 versions of quant.c's hot kernels, and the
 * run-time choice between them.
 *
 * Every function carries its own target attribute, so the file builds for
 * plain x86-64 and the binary runs anywhere: sq_quant_kernels_get() asks the
 * CPU (__builtin_cpu_supports) which table it may use.  On other
 * architectures only the scalar table exists.
 *
 * Techniques follow llama.cpp's ggml-cpu/arch/x86/quants.c — sign tricks,
 * maddubs/madd, nibble unpacking — with the AVX-512 kernels reworked around
 * VNNI (vpdpbusd/vpdpwssd) two blocks per register, four accumulators to
 * hide FMA latency, and no reads beyond the rows.  Quantizers and
 * dequantizers are bit-identical to the scalar reference; dot products
 * differ from it only in float summation order.
 */
#include "quant.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__)

#include <immintrin.h>

#define AVX2   __attribute__((target("avx2,fma,f16c")))
#define AVX512 __attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq,avx512vnni")))

/* Small fixed loops carry "#pragma GCC unroll": GCC at -O2 would keep them
 * rolled, building permute indices at run time and holding accumulator
 * arrays in memory.  Clang honours the pragma too. */

/* Hides a product from GCC's FMA contraction where the reference rounds it
 * before the following addition (see unfused() in quant.c). */
#define KEEP_ROUNDED(v) __asm__("" : "+x"(v))

/* ---- AVX2 helpers ---- */

AVX2 static inline __m256i
load256(const void *p)
{
    return _mm256_loadu_si256((const __m256i *)p);
}

AVX2 static inline __m128i
load128(const void *p)
{
    return _mm_loadu_si128((const __m128i *)p);
}

AVX2 static inline float
f16(sq_f16 h)
{
    return _cvtsh_ss(h);
}

AVX2 static inline float
hsum_ps256(__m256 v)
{
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

AVX2 static inline int
hsum_epi32_256(__m256i v)
{
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_unpackhi_epi64(s, s));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
    return _mm_cvtsi128_si32(s);
}

AVX2 static inline float
hmax_ps256(__m256 v)
{
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_movehdup_ps(m));
    return _mm_cvtss_f32(m);
}

/* 16 bytes of packed nibbles → 32 bytes 0…15 in element order: the low
 * nibbles are elements 0…15, the high ones 16…31. */
AVX2 static inline __m256i
nibbles32(const uint8_t *p)
{
    const __m128i v    = load128(p);
    const __m256i both = _mm256_inserti128_si256(_mm256_castsi128_si256(v), _mm_srli_epi16(v, 4), 1);
    return _mm256_and_si256(both, _mm256_set1_epi8(15));
}

/* The 32 bits of a Q5 qh field → 32 bytes, 0x10 where the bit is set. */
AVX2 static inline __m256i
fifth_bits32(const uint8_t *qh)
{
    uint32_t bits;
    memcpy(&bits, qh, sizeof bits);
    const __m256i spread = _mm256_shuffle_epi8(_mm256_set1_epi32((int)bits),
        _mm256_set_epi64x(0x0303030303030303, 0x0202020202020202,
                          0x0101010101010101, 0x0000000000000000));
    const __m256i sel = _mm256_set1_epi64x((long long)0x8040201008040201ull);
    const __m256i set = _mm256_cmpeq_epi8(_mm256_and_si256(spread, sel), sel);
    return _mm256_and_si256(set, _mm256_set1_epi8(0x10));
}

/* Sums of four adjacent u8·s8 products per int32 lane.  maddubs saturates
 * its pair sums at ±32767: callers keep the unsigned side ≤ 128. */
AVX2 static inline __m256i
dot_u8s8(__m256i u, __m256i s)
{
    return _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1));
}

/* Q4_K/Q5_K: the eight 6-bit scales (bytes 0…7) and mins (8…15) of a
 * super-block, in the spec's A.6 order. */
AVX2 static inline __m128i
k4_scales_mins(const uint8_t *scales)
{
    uint32_t s[3];
    memcpy(s, scales, sizeof s);
    const uint32_t sc03 = s[0] & 0x3f3f3f3f;
    const uint32_t mn03 = s[1] & 0x3f3f3f3f;
    const uint32_t sc47 = (s[2] & 0x0f0f0f0f) | ((s[0] >> 6) & 0x03030303) << 4;
    const uint32_t mn47 = ((s[2] >> 4) & 0x0f0f0f0f) | ((s[1] >> 6) & 0x03030303) << 4;
    return _mm_set_epi32((int)mn47, (int)mn03, (int)sc47, (int)sc03);
}

/* ---- AVX2 dot products ---- */

static inline sq_f16
f16_at(const uint8_t *p)
{
    sq_f16 h;
    memcpy(&h, p, sizeof h);
    return h;
}

/* Four f16 fields `stride` bytes apart packed into one word with integer
 * instructions.  The empty asm keeps GCC's SLP vectorizer from turning this
 * into a dozen shuffles. */
static inline uint64_t
pack4_f16(const uint8_t *p, size_t stride)
{
    uint64_t v = (uint64_t)f16_at(p) | (uint64_t)f16_at(p + stride) << 16
               | (uint64_t)f16_at(p + 2 * stride) << 32 | (uint64_t)f16_at(p + 3 * stride) << 48;
    __asm__("" : "+r"(v));
    return v;
}

/* The f16 fields at byte offset off of eight blocks of size bsize, as
 * floats: one conversion instead of eight. */
AVX2 static inline __m256
f16x8_at(const uint8_t *b, size_t bsize, size_t off)
{
    const uint64_t lo = pack4_f16(b + off, bsize);
    const uint64_t hi = pack4_f16(b + off + 4 * bsize, bsize);
    return _mm256_cvtph_ps(_mm_set_epi64x((long long)hi, (long long)lo));
}

AVX2 static inline __m256
lane_bcast(__m256 v, int k)
{
    return _mm256_permutevar8x32_ps(v, _mm256_set1_epi32(k));
}

/* Integer dot product of one block pair as eight int32 lane sums. */
typedef __m256i (*block_sums_fn)(const uint8_t *w, const uint8_t *x);

AVX2 static inline __m256i
q8_0_sums_avx2(const uint8_t *w, const uint8_t *x)
{
    const __m256i a = load256(w + offsetof(sq_block_q8_0, qs));
    const __m256i b = load256(x + offsetof(sq_block_q8_0, qs));
    /* |a| · (b with a's sign): u8·s8 products that maddubs can take.  The
     * quantizers never write -128 activations, whose sign could not flip. */
    return dot_u8s8(_mm256_sign_epi8(a, a), _mm256_sign_epi8(b, a));
}

AVX2 static inline __m256i
q4_0_sums_avx2(const uint8_t *w, const uint8_t *x)
{
    const __m256i q = nibbles32(w + offsetof(sq_block_q4_0, qs));
    const __m256i y = load256(x + offsetof(sq_block_q8_0, qs));
    /* (q - 8)·y as q·y - 8·y: both pair sums fit in int16. */
    const __m256i p16 = _mm256_sub_epi16(_mm256_maddubs_epi16(q, y),
                                         _mm256_maddubs_epi16(_mm256_set1_epi8(8), y));
    return _mm256_madd_epi16(p16, _mm256_set1_epi16(1));
}

AVX2 static inline __m256i
q4_1_sums_avx2(const uint8_t *w, const uint8_t *x)
{
    return dot_u8s8(nibbles32(w + offsetof(sq_block_q4_1, qs)), load256(x + offsetof(sq_block_q8_1, qs)));
}

AVX2 static inline __m256i
q5_0_sums_avx2(const uint8_t *w, const uint8_t *x)
{
    const __m256i q   = _mm256_or_si256(nibbles32(w + offsetof(sq_block_q5_0, qs)),
                                        fifth_bits32(w + offsetof(sq_block_q5_0, qh)));
    const __m256i y   = load256(x + offsetof(sq_block_q8_0, qs));
    const __m256i p16 = _mm256_sub_epi16(_mm256_maddubs_epi16(q, y),
                                         _mm256_maddubs_epi16(_mm256_set1_epi8(16), y));
    return _mm256_madd_epi16(p16, _mm256_set1_epi16(1));
}

AVX2 static inline __m256i
q5_1_sums_avx2(const uint8_t *w, const uint8_t *x)
{
    const __m256i q = _mm256_or_si256(nibbles32(w + offsetof(sq_block_q5_1, qs)),
                                      fifth_bits32(w + offsetof(sq_block_q5_1, qh)));
    return dot_u8s8(q, load256(x + offsetof(sq_block_q8_1, qs)));
}

/* The shared loop of the 32-element types: eight blocks a step, their
 * scales converted together, four accumulators against FMA latency.  d is
 * the first f16 of every block; with_min adds Σ m·s from the second ones
 * (Q4_1/Q5_1 against Q8_1, MIN_OFF).  Inlined with constant arguments, so
 * each caller compiles to its own straight loop. */
#define MIN_OFF 2
_Static_assert(offsetof(sq_block_q4_1, m) == MIN_OFF && offsetof(sq_block_q5_1, m) == MIN_OFF
               && offsetof(sq_block_q8_1, s) == MIN_OFF, "m and s follow d");

AVX2 static inline __attribute__((always_inline)) float
legacy_dot_avx2(int64_t n, const uint8_t *w, size_t wsize, const uint8_t *x, size_t xsize,
                block_sums_fn sums, int with_min)
{
    const int64_t nb = n / SQ_QK;
    __m256 acc0 = _mm256_setzero_ps(), acc1 = acc0, acc2 = acc0, acc3 = acc0, acc_m = acc0;
    int64_t i = 0;
    for (; i + 8 <= nb; i += 8, w += 8 * wsize, x += 8 * xsize) {
        const __m256 s = _mm256_mul_ps(f16x8_at(w, wsize, 0), f16x8_at(x, xsize, 0));
        acc0 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sums(w + 0 * wsize, x + 0 * xsize)), lane_bcast(s, 0), acc0);
        acc1 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sums(w + 1 * wsize, x + 1 * xsize)), lane_bcast(s, 1), acc1);
        acc2 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sums(w + 2 * wsize, x + 2 * xsize)), lane_bcast(s, 2), acc2);
        acc3 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sums(w + 3 * wsize, x + 3 * xsize)), lane_bcast(s, 3), acc3);
        acc0 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sums(w + 4 * wsize, x + 4 * xsize)), lane_bcast(s, 4), acc0);
        acc1 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sums(w + 5 * wsize, x + 5 * xsize)), lane_bcast(s, 5), acc1);
        acc2 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sums(w + 6 * wsize, x + 6 * xsize)), lane_bcast(s, 6), acc2);
        acc3 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sums(w + 7 * wsize, x + 7 * xsize)), lane_bcast(s, 7), acc3);
        if (with_min)
            acc_m = _mm256_fmadd_ps(f16x8_at(w, wsize, MIN_OFF), f16x8_at(x, xsize, MIN_OFF), acc_m);
    }
    for (; i < nb; i++, w += wsize, x += xsize) {
        const __m256 s = _mm256_set1_ps(f16(f16_at(w)) * f16(f16_at(x)));
        acc0 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sums(w, x)), s, acc0);
        if (with_min)
            acc_m = _mm256_add_ps(acc_m, _mm256_setr_ps(f16(f16_at(w + MIN_OFF)) * f16(f16_at(x + MIN_OFF)),
                                                        0, 0, 0, 0, 0, 0, 0));
    }
    return hsum_ps256(_mm256_add_ps(_mm256_add_ps(acc0, acc1), _mm256_add_ps(acc2, acc3))) + hsum_ps256(acc_m);
}

AVX2 static float
dot_q8_0_q8_0_avx2(int64_t n, const void *w, const void *x)
{
    return legacy_dot_avx2(n, w, sizeof(sq_block_q8_0), x, sizeof(sq_block_q8_0), q8_0_sums_avx2, 0);
}

AVX2 static float
dot_q4_0_q8_0_avx2(int64_t n, const void *w, const void *x)
{
    return legacy_dot_avx2(n, w, sizeof(sq_block_q4_0), x, sizeof(sq_block_q8_0), q4_0_sums_avx2, 0);
}

AVX2 static float
dot_q4_1_q8_1_avx2(int64_t n, const void *w, const void *x)
{
    return legacy_dot_avx2(n, w, sizeof(sq_block_q4_1), x, sizeof(sq_block_q8_1), q4_1_sums_avx2, 1);
}

AVX2 static float
dot_q5_0_q8_0_avx2(int64_t n, const void *w, const void *x)
{
    return legacy_dot_avx2(n, w, sizeof(sq_block_q5_0), x, sizeof(sq_block_q8_0), q5_0_sums_avx2, 0);
}

AVX2 static float
dot_q5_1_q8_1_avx2(int64_t n, const void *w, const void *x)
{
    return legacy_dot_avx2(n, w, sizeof(sq_block_q5_1), x, sizeof(sq_block_q8_1), q5_1_sums_avx2, 1);
}

/* Shuffle patterns broadcasting 16-bit word j of a 128-bit lane to the lane. */
AVX2 static inline __m256i
word_bcast_pattern(int j)
{
    return _mm256_set1_epi16((short)(2 * j | (2 * j + 1) << 8));
}

/* Σ min·bsum of a Q4_K/Q5_K super-block, as four int32 partial sums. */
AVX2 static inline __m128i
k4_min_products(__m128i scales_mins, const int16_t *bsums)
{
    const __m256i bs   = load256(bsums);
    const __m128i pair = _mm_hadd_epi16(_mm256_castsi256_si128(bs), _mm256_extracti128_si256(bs, 1));
    return _mm_madd_epi16(_mm_cvtepu8_epi16(_mm_srli_si128(scales_mins, 8)), pair);
}

AVX2 static float
dot_q4_K_q8_K_avx2(int64_t n, const void *vw, const void *vx)
{
    const sq_block_q4_K *w = vw;
    const sq_block_q8_K *x = vx;
    const __m256i m4 = _mm256_set1_epi8(15);
    __m256 acc   = _mm256_setzero_ps();
    __m128 acc_m = _mm_setzero_ps();
    for (int64_t i = 0; i < n / SQ_QK_K; i++) {
        const float   d    = x[i].d * f16(w[i].d);
        const float   dmin = x[i].d * f16(w[i].dmin);
        const __m128i sm   = k4_scales_mins(w[i].scales);
        acc_m = _mm_fmadd_ps(_mm_set1_ps(dmin), _mm_cvtepi32_ps(k4_min_products(sm, x[i].bsums)), acc_m);

        const __m256i sc = _mm256_broadcastsi128_si256(_mm_cvtepu8_epi16(sm));
        __m256i sumi = _mm256_setzero_si256();
        #pragma GCC unroll 4
        for (int c = 0; c < 4; c++) {
            const __m256i q  = load256(w[i].qs + 32 * c);
            const __m256i lo = _mm256_and_si256(q, m4);
            const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), m4);
            const __m256i p0 = _mm256_madd_epi16(_mm256_maddubs_epi16(lo, load256(x[i].qs + 64 * c)),
                                                 _mm256_shuffle_epi8(sc, word_bcast_pattern(2 * c)));
            const __m256i p1 = _mm256_madd_epi16(_mm256_maddubs_epi16(hi, load256(x[i].qs + 64 * c + 32)),
                                                 _mm256_shuffle_epi8(sc, word_bcast_pattern(2 * c + 1)));
            sumi = _mm256_add_epi32(sumi, _mm256_add_epi32(p0, p1));
        }
        acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(sumi), acc);
    }
    acc_m = _mm_add_ps(acc_m, _mm_movehl_ps(acc_m, acc_m));
    acc_m = _mm_add_ss(acc_m, _mm_movehdup_ps(acc_m));
    return hsum_ps256(acc) - _mm_cvtss_f32(acc_m);
}

AVX2 static float
dot_q5_K_q8_K_avx2(int64_t n, const void *vw, const void *vx)
{
    const sq_block_q5_K *w = vw;
    const sq_block_q8_K *x = vx;
    const __m256i m4  = _mm256_set1_epi8(15);
    const __m256i one = _mm256_set1_epi8(1);
    __m256 acc   = _mm256_setzero_ps();
    __m128 acc_m = _mm_setzero_ps();
    for (int64_t i = 0; i < n / SQ_QK_K; i++) {
        const float   d    = x[i].d * f16(w[i].d);
        const float   dmin = x[i].d * f16(w[i].dmin);
        const __m128i sm   = k4_scales_mins(w[i].scales);
        acc_m = _mm_fmadd_ps(_mm_set1_ps(dmin), _mm_cvtepi32_ps(k4_min_products(sm, x[i].bsums)), acc_m);

        const __m256i sc = _mm256_broadcastsi128_si256(_mm_cvtepu8_epi16(sm));
        const __m256i qh = load256(w[i].qh);
        __m256i sumi = _mm256_setzero_si256();
        #pragma GCC unroll 4
        for (int c = 0; c < 4; c++) {
            /* Sub-block s takes bit s of each qh byte as its fifth bit. */
            const __m256i h0 = _mm256_and_si256(_mm256_srli_epi16(qh, 2 * c), one);
            const __m256i h1 = _mm256_and_si256(_mm256_srli_epi16(qh, 2 * c + 1), one);
            const __m256i q  = load256(w[i].qs + 32 * c);
            const __m256i lo = _mm256_or_si256(_mm256_and_si256(q, m4), _mm256_slli_epi16(h0, 4));
            const __m256i hi = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(q, 4), m4),
                                               _mm256_slli_epi16(h1, 4));
            const __m256i p0 = _mm256_madd_epi16(_mm256_maddubs_epi16(lo, load256(x[i].qs + 64 * c)),
                                                 _mm256_shuffle_epi8(sc, word_bcast_pattern(2 * c)));
            const __m256i p1 = _mm256_madd_epi16(_mm256_maddubs_epi16(hi, load256(x[i].qs + 64 * c + 32)),
                                                 _mm256_shuffle_epi8(sc, word_bcast_pattern(2 * c + 1)));
            sumi = _mm256_add_epi32(sumi, _mm256_add_epi32(p0, p1));
        }
        acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(sumi), acc);
    }
    acc_m = _mm_add_ps(acc_m, _mm_movehl_ps(acc_m, acc_m));
    acc_m = _mm_add_ss(acc_m, _mm_movehdup_ps(acc_m));
    return hsum_ps256(acc) - _mm_cvtss_f32(acc_m);
}

/* Q6_K: the two scales of a 32-value quarter k (groups 2k, 2k+1 of a half),
 * one per 128-bit lane, from a lane-broadcast vector of eight int16 scales. */
AVX2 static inline __m256i
q6_quarter_scales(__m256i sc8, int k)
{
    const __m256i pattern = _mm256_inserti128_si256(
        _mm256_castsi128_si256(_mm_set1_epi16((short)(4 * k | (4 * k + 1) << 8))),
        _mm_set1_epi16((short)((4 * k + 2) | (4 * k + 3) << 8)), 1);
    return _mm256_shuffle_epi8(sc8, pattern);
}

AVX2 static float
dot_q6_K_q8_K_avx2(int64_t n, const void *vw, const void *vx)
{
    const sq_block_q6_K *w = vw;
    const sq_block_q8_K *x = vx;
    const __m256i m4  = _mm256_set1_epi8(15);
    const __m256i m30 = _mm256_set1_epi8(0x30);
    __m256 acc = _mm256_setzero_ps();
    for (int64_t i = 0; i < n / SQ_QK_K; i++) {
        const float   d    = x[i].d * f16(w[i].d);
        const __m256i sc16 = _mm256_cvtepi8_epi16(load128(w[i].scales));
        /* The -32 offset of every quant, through the activation sums. */
        __m256i sumi = _mm256_slli_epi32(_mm256_madd_epi16(sc16, load256(x[i].bsums)), 5);
        sumi = _mm256_sub_epi32(_mm256_setzero_si256(), sumi);
        #pragma GCC unroll 2
        for (int h = 0; h < 2; h++) {
            const __m256i sc8 = _mm256_broadcastsi128_si256(h ? _mm256_extracti128_si256(sc16, 1)
                                                              : _mm256_castsi256_si128(sc16));
            const __m256i ql0 = load256(w[i].ql + 64 * h);
            const __m256i ql1 = load256(w[i].ql + 64 * h + 32);
            const __m256i qh  = load256(w[i].qh + 32 * h);
            const int8_t *y   = x[i].qs + 128 * h;
            /* 16-bit shifts move bits across bytes, but never into 0x30. */
            const __m256i q[4] = {
                _mm256_or_si256(_mm256_and_si256(ql0, m4), _mm256_and_si256(_mm256_slli_epi16(qh, 4), m30)),
                _mm256_or_si256(_mm256_and_si256(ql1, m4), _mm256_and_si256(_mm256_slli_epi16(qh, 2), m30)),
                _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql0, 4), m4), _mm256_and_si256(qh, m30)),
                _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql1, 4), m4),
                                _mm256_and_si256(_mm256_srli_epi16(qh, 2), m30)),
            };
            #pragma GCC unroll 4
            for (int k = 0; k < 4; k++) {
                const __m256i p16 = _mm256_maddubs_epi16(q[k], load256(y + 32 * k));
                sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(p16, q6_quarter_scales(sc8, k)));
            }
        }
        acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(sumi), acc);
    }
    return hsum_ps256(acc);
}

AVX2 static float
dot_f32_avx2(int64_t n, const void *vw, const void *vx)
{
    const float *w = vw, *x = vx;
    __m256 acc0 = _mm256_setzero_ps(), acc1 = acc0, acc2 = acc0, acc3 = acc0;
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(w + i), _mm256_loadu_ps(x + i), acc0);
        acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(w + i + 8), _mm256_loadu_ps(x + i + 8), acc1);
        acc2 = _mm256_fmadd_ps(_mm256_loadu_ps(w + i + 16), _mm256_loadu_ps(x + i + 16), acc2);
        acc3 = _mm256_fmadd_ps(_mm256_loadu_ps(w + i + 24), _mm256_loadu_ps(x + i + 24), acc3);
    }
    for (; i + 8 <= n; i += 8)
        acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(w + i), _mm256_loadu_ps(x + i), acc0);
    float sum = hsum_ps256(_mm256_add_ps(_mm256_add_ps(acc0, acc1), _mm256_add_ps(acc2, acc3)));
    for (; i < n; i++)
        sum += w[i] * x[i];
    return sum;
}

AVX2 static inline __m256
load_f16x8(const sq_f16 *p)
{
    return _mm256_cvtph_ps(load128(p));
}

AVX2 static float
dot_f16_avx2(int64_t n, const void *vw, const void *vx)
{
    const sq_f16 *w = vw, *x = vx;
    __m256 acc0 = _mm256_setzero_ps(), acc1 = acc0, acc2 = acc0, acc3 = acc0;
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        acc0 = _mm256_fmadd_ps(load_f16x8(w + i), load_f16x8(x + i), acc0);
        acc1 = _mm256_fmadd_ps(load_f16x8(w + i + 8), load_f16x8(x + i + 8), acc1);
        acc2 = _mm256_fmadd_ps(load_f16x8(w + i + 16), load_f16x8(x + i + 16), acc2);
        acc3 = _mm256_fmadd_ps(load_f16x8(w + i + 24), load_f16x8(x + i + 24), acc3);
    }
    for (; i + 8 <= n; i += 8)
        acc0 = _mm256_fmadd_ps(load_f16x8(w + i), load_f16x8(x + i), acc0);
    float sum = hsum_ps256(_mm256_add_ps(_mm256_add_ps(acc0, acc1), _mm256_add_ps(acc2, acc3)));
    for (; i < n; i++)
        sum += f16(w[i]) * f16(x[i]);
    return sum;
}

AVX2 static inline __m256
load_bf16x8(const sq_bf16 *p)
{
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(load128(p)), 16));
}

AVX2 static float
dot_bf16_avx2(int64_t n, const void *vw, const void *vx)
{
    const sq_bf16 *w = vw, *x = vx;
    __m256 acc0 = _mm256_setzero_ps(), acc1 = acc0, acc2 = acc0, acc3 = acc0;
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        acc0 = _mm256_fmadd_ps(load_bf16x8(w + i), load_bf16x8(x + i), acc0);
        acc1 = _mm256_fmadd_ps(load_bf16x8(w + i + 8), load_bf16x8(x + i + 8), acc1);
        acc2 = _mm256_fmadd_ps(load_bf16x8(w + i + 16), load_bf16x8(x + i + 16), acc2);
        acc3 = _mm256_fmadd_ps(load_bf16x8(w + i + 24), load_bf16x8(x + i + 24), acc3);
    }
    for (; i + 8 <= n; i += 8)
        acc0 = _mm256_fmadd_ps(load_bf16x8(w + i), load_bf16x8(x + i), acc0);
    float sum = hsum_ps256(_mm256_add_ps(_mm256_add_ps(acc0, acc1), _mm256_add_ps(acc2, acc3)));
    for (; i < n; i++)
        sum += sq_bf16_to_f32(w[i]) * sq_bf16_to_f32(x[i]);
    return sum;
}

/* ---- AVX2 quantizers ---- */

/* One Q8_0/Q8_1 block exactly as llama.cpp's x86 quantize_row_q8_0/q8_1:
 * multiplier 127/amax, products rounded half to even.  Returns the sum of the
 * quants; *d_out gets amax/127. */
AVX2 static int
quantize_block_q8_avx2(const float *x, int8_t *qs, float *d_out)
{
    const __m256 sign = _mm256_set1_ps(-0.0f);
    __m256 v[4];
    __m256 amax = _mm256_setzero_ps();
    #pragma GCC unroll 4
    for (int k = 0; k < 4; k++) {
        v[k] = _mm256_loadu_ps(x + 8 * k);
        amax = _mm256_max_ps(amax, _mm256_andnot_ps(sign, v[k]));
    }
    const float max = hmax_ps256(amax);
    const __m256 id = _mm256_set1_ps(max != 0.0f ? 127.0f / max : 0.0f);
    __m256i q[4];
    #pragma GCC unroll 4
    for (int k = 0; k < 4; k++) {
        const __m256 r = _mm256_round_ps(_mm256_mul_ps(v[k], id), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        q[k] = _mm256_cvtps_epi32(r);
    }
    const int sum = hsum_epi32_256(_mm256_add_epi32(_mm256_add_epi32(q[0], q[1]), _mm256_add_epi32(q[2], q[3])));
    /* The packs work per 128-bit lane; the permute restores element order. */
    const __m256i p16 = _mm256_packs_epi16(_mm256_packs_epi32(q[0], q[1]), _mm256_packs_epi32(q[2], q[3]));
    const __m256i p8  = _mm256_permutevar8x32_epi32(p16, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
    _mm256_storeu_si256((__m256i *)qs, p8);
    *d_out = max / 127.0f;
    return sum;
}

AVX2 static void
quantize_q8_0_avx2(const float *x, void *vy, int64_t n)
{
    sq_block_q8_0 *y = vy;
    for (int64_t i = 0; i < n / SQ_QK; i++) {
        float d;
        quantize_block_q8_avx2(x + i * SQ_QK, y[i].qs, &d);
        y[i].d = _cvtss_sh(d, _MM_FROUND_TO_NEAREST_INT);
    }
}

AVX2 static void
quantize_q8_1_avx2(const float *x, void *vy, int64_t n)
{
    sq_block_q8_1 *y = vy;
    for (int64_t i = 0; i < n / SQ_QK; i++) {
        float d;
        const int sum = quantize_block_q8_avx2(x + i * SQ_QK, y[i].qs, &d);
        y[i].d = _cvtss_sh(d, _MM_FROUND_TO_NEAREST_INT);
        y[i].s = _cvtss_sh(d * (float)sum, _MM_FROUND_TO_NEAREST_INT);
    }
}

/* Index of the first element of x[0…256) whose magnitude is amax. */
AVX2 static int
first_with_abs(const float *x, float amax)
{
    const __m256 sign = _mm256_set1_ps(-0.0f);
    const __m256 target = _mm256_set1_ps(amax);
    for (int k = 0; k < SQ_QK_K; k += 8) {
        const __m256 a = _mm256_andnot_ps(sign, _mm256_loadu_ps(x + k));
        const int m = _mm256_movemask_ps(_mm256_cmp_ps(a, target, _CMP_EQ_OQ));
        if (m)
            return k + __builtin_ctz((unsigned)m);
    }
    return 0;
}

/* Q8_K as sq_quantize_row_q8_K: the exact product rounded half to even,
 * which an FMA into 1.5·2^23 computes directly. */
AVX2 static void
quantize_block_q8_K_avx2(const float *x, sq_block_q8_K *y)
{
    const __m256 sign = _mm256_set1_ps(-0.0f);
    __m256 amax8 = _mm256_setzero_ps();
    for (int k = 0; k < SQ_QK_K; k += 8)
        amax8 = _mm256_max_ps(amax8, _mm256_andnot_ps(sign, _mm256_loadu_ps(x + k)));
    const float amax = hmax_ps256(amax8);
    memset(y, 0, sizeof *y);
    if (amax == 0.0f)
        return;
    const float  iscale = -127.0f / x[first_with_abs(x, amax)];
    const __m256 vs     = _mm256_set1_ps(iscale);
    const __m256 magic  = _mm256_set1_ps(12582912.0f);
    const __m256i mant  = _mm256_set1_epi32(0x007fffff);
    const __m256i bias  = _mm256_set1_epi32(0x00400000);
    const __m256i top   = _mm256_set1_epi32(127);
    for (int g = 0; g < SQ_QK_K / 16; g++) {
        __m256i q[2];
        #pragma GCC unroll 2
        for (int k = 0; k < 2; k++) {
            const __m256 r = _mm256_fmadd_ps(_mm256_loadu_ps(x + 16 * g + 8 * k), vs, magic);
            q[k] = _mm256_sub_epi32(_mm256_and_si256(_mm256_castps_si256(r), mant), bias);
            q[k] = _mm256_min_epi32(q[k], top);
        }
        y->bsums[g] = (int16_t)hsum_epi32_256(_mm256_add_epi32(q[0], q[1]));
        const __m256i p16 = _mm256_permute4x64_epi64(_mm256_packs_epi32(q[0], q[1]), 0xd8);
        const __m128i p8  = _mm_packs_epi16(_mm256_castsi256_si128(p16), _mm256_extracti128_si256(p16, 1));
        _mm_storeu_si128((__m128i *)(y->qs + 16 * g), p8);
    }
    y->d = 1.0f / iscale;
}

AVX2 static void
quantize_q8_K_avx2(const float *x, void *vy, int64_t n)
{
    sq_block_q8_K *y = vy;
    for (int64_t i = 0; i < n / SQ_QK_K; i++)
        quantize_block_q8_K_avx2(x + i * SQ_QK_K, &y[i]);
}

AVX2 static void
quantize_f16_avx2(const float *x, void *vy, int64_t n)
{
    sq_f16 *y = vy;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm_storeu_si128((__m128i *)(y + i), _mm256_cvtps_ph(_mm256_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT));
    for (; i < n; i++)
        y[i] = _cvtss_sh(x[i], _MM_FROUND_TO_NEAREST_INT);
}

AVX2 static void
quantize_bf16_avx2(const float *x, void *vy, int64_t n)
{
    sq_bf16 *y = vy;
    const __m256i abs_mask = _mm256_set1_epi32(0x7fffffff);
    const __m256i inf      = _mm256_set1_epi32(0x7f800000);
    const __m256i one      = _mm256_set1_epi32(1);
    const __m256i half     = _mm256_set1_epi32(0x7fff);
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m256i h[2];
        #pragma GCC unroll 2
        for (int k = 0; k < 2; k++) {
            const __m256i u   = _mm256_castps_si256(_mm256_loadu_ps(x + i + 8 * k));
            const __m256i odd = _mm256_and_si256(_mm256_srli_epi32(u, 16), one);
            const __m256i rnd = _mm256_srli_epi32(_mm256_add_epi32(u, _mm256_add_epi32(half, odd)), 16);
            const __m256i nan = _mm256_cmpgt_epi32(_mm256_and_si256(u, abs_mask), inf);
            const __m256i qn  = _mm256_or_si256(_mm256_srli_epi32(u, 16), _mm256_set1_epi32(0x40));
            h[k] = _mm256_blendv_epi8(rnd, qn, nan);
        }
        const __m256i p = _mm256_permute4x64_epi64(_mm256_packus_epi32(h[0], h[1]), 0xd8);
        _mm256_storeu_si256((__m256i *)(y + i), p);
    }
    for (; i < n; i++)
        y[i] = sq_f32_to_bf16(x[i]);
}

/* ---- AVX2 dequantizers ---- */

AVX2 static void
dequant_f16_avx2(const void *vx, float *y, int64_t n)
{
    const sq_f16 *x = vx;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(y + i, load_f16x8(x + i));
    for (; i < n; i++)
        y[i] = f16(x[i]);
}

AVX2 static void
dequant_bf16_avx2(const void *vx, float *y, int64_t n)
{
    const sq_bf16 *x = vx;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(y + i, load_bf16x8(x + i));
    for (; i < n; i++)
        y[i] = sq_bf16_to_f32(x[i]);
}

/* Stores 32 int8 values times d. */
AVX2 static inline void
store_scaled32(__m256i q, __m256 d, float *y)
{
    const __m128i lo = _mm256_castsi256_si128(q), hi = _mm256_extracti128_si256(q, 1);
    _mm256_storeu_ps(y + 0, _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(lo)), d));
    _mm256_storeu_ps(y + 8, _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(lo, 8))), d));
    _mm256_storeu_ps(y + 16, _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(hi)), d));
    _mm256_storeu_ps(y + 24, _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(hi, 8))), d));
}

AVX2 static void
dequant_q8_0_avx2(const void *vx, float *y, int64_t n)
{
    const sq_block_q8_0 *x = vx;
    for (int64_t i = 0; i < n / SQ_QK; i++)
        store_scaled32(load256(x[i].qs), _mm256_set1_ps(f16(x[i].d)), y + i * SQ_QK);
}

AVX2 static void
dequant_q4_0_avx2(const void *vx, float *y, int64_t n)
{
    const sq_block_q4_0 *x = vx;
    for (int64_t i = 0; i < n / SQ_QK; i++) {
        const __m256i q = _mm256_sub_epi8(nibbles32(x[i].qs), _mm256_set1_epi8(8));
        store_scaled32(q, _mm256_set1_ps(f16(x[i].d)), y + i * SQ_QK);
    }
}

/* 32 values 0…255 → d·q - m, with the product rounded before the subtraction. */
AVX2 static inline void
store_affine32(__m256i q, float d, float m, float *y)
{
    const __m256 vd = _mm256_set1_ps(d), vm = _mm256_set1_ps(m);
    const __m128i lo = _mm256_castsi256_si128(q), hi = _mm256_extracti128_si256(q, 1);
    const __m128i parts[4] = { lo, _mm_srli_si128(lo, 8), hi, _mm_srli_si128(hi, 8) };
    #pragma GCC unroll 4
    for (int k = 0; k < 4; k++) {
        __m256 p = _mm256_mul_ps(vd, _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(parts[k])));
        KEEP_ROUNDED(p);
        _mm256_storeu_ps(y + 8 * k, _mm256_sub_ps(p, vm));
    }
}

AVX2 static void
dequant_q4_K_avx2(const void *vx, float *y, int64_t n)
{
    const sq_block_q4_K *x = vx;
    const __m256i m4 = _mm256_set1_epi8(15);
    for (int64_t i = 0; i < n / SQ_QK_K; i++) {
        const float d = f16(x[i].d), dmin = f16(x[i].dmin);
        uint8_t sm[16];
        _mm_storeu_si128((__m128i *)sm, k4_scales_mins(x[i].scales));
        #pragma GCC unroll 4
        for (int c = 0; c < 4; c++, y += 64) {
            const __m256i q = load256(x[i].qs + 32 * c);
            store_affine32(_mm256_and_si256(q, m4), d * (float)sm[2 * c], dmin * (float)sm[8 + 2 * c], y);
            store_affine32(_mm256_and_si256(_mm256_srli_epi16(q, 4), m4),
                           d * (float)sm[2 * c + 1], dmin * (float)sm[8 + 2 * c + 1], y + 32);
        }
    }
}

AVX2 static void
dequant_q6_K_avx2(const void *vx, float *y, int64_t n)
{
    const sq_block_q6_K *x = vx;
    const __m256i m4  = _mm256_set1_epi8(15);
    const __m256i m30 = _mm256_set1_epi8(0x30);
    const __m256i off = _mm256_set1_epi8(32);
    for (int64_t i = 0; i < n / SQ_QK_K; i++) {
        const float d = f16(x[i].d);
        #pragma GCC unroll 2
        for (int h = 0; h < 2; h++, y += 128) {
            const __m256i ql0 = load256(x[i].ql + 64 * h);
            const __m256i ql1 = load256(x[i].ql + 64 * h + 32);
            const __m256i qh  = load256(x[i].qh + 32 * h);
            const __m256i q[4] = {
                _mm256_or_si256(_mm256_and_si256(ql0, m4), _mm256_and_si256(_mm256_slli_epi16(qh, 4), m30)),
                _mm256_or_si256(_mm256_and_si256(ql1, m4), _mm256_and_si256(_mm256_slli_epi16(qh, 2), m30)),
                _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql0, 4), m4), _mm256_and_si256(qh, m30)),
                _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql1, 4), m4),
                                _mm256_and_si256(_mm256_srli_epi16(qh, 2), m30)),
            };
            #pragma GCC unroll 4
            for (int k = 0; k < 4; k++) {
                /* Each 16 values share a scale; d·sc is rounded first, as in quant.c. */
                const __m256i v  = _mm256_sub_epi8(q[k], off);
                const __m128i lo = _mm256_castsi256_si128(v), hi = _mm256_extracti128_si256(v, 1);
                const __m256 s0 = _mm256_set1_ps(d * (float)x[i].scales[8 * h + 2 * k]);
                const __m256 s1 = _mm256_set1_ps(d * (float)x[i].scales[8 * h + 2 * k + 1]);
                float *o = y + 32 * k;
                _mm256_storeu_ps(o + 0, _mm256_mul_ps(s0, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(lo))));
                _mm256_storeu_ps(o + 8, _mm256_mul_ps(s0, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(lo, 8)))));
                _mm256_storeu_ps(o + 16, _mm256_mul_ps(s1, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(hi))));
                _mm256_storeu_ps(o + 24, _mm256_mul_ps(s1, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(hi, 8)))));
            }
        }
    }
}

/* ---- AVX-512 helpers ---- */

AVX512 static inline __m512i
load2x256(const void *lo, const void *hi)
{
    return _mm512_inserti64x4(_mm512_castsi256_si512(load256(lo)), load256(hi), 1);
}

/* Scales of blocks 2p and 2p+1 of eight, each spread over its 8 lanes. */
AVX512 static inline __m512
pair_scale(__m256 s8, int p)
{
    const __m512i idx = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_set1_epi32(2 * p)),
                                           _mm256_set1_epi32(2 * p + 1), 1);
    return _mm512_permutexvar_ps(idx, _mm512_castps256_ps512(s8));
}

/* The f16 d fields that open eight consecutive blocks of `stride` bytes, as
 * eight words: picked out of whole-register loads by two-source word
 * permutes, which is cheaper than gathering them one by one.  Loads never
 * leave the eight blocks. */
AVX512 static inline __m128i
d8_words(const uint8_t *p, int stride)
{
    const __m512i idx = _mm512_setr_epi32(0 | (stride / 2) << 16, stride | (3 * stride / 2) << 16,
                                          2 * stride | (5 * stride / 2) << 16, 3 * stride | (7 * stride / 2) << 16,
                                          0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
    if (7 * stride + 2 <= 128)  /* all eight within two registers (Q4_0) */
        return _mm512_castsi512_si128(_mm512_permutex2var_epi16(_mm512_loadu_si512(p), idx,
                                                                _mm512_loadu_si512(p + 64)));
    /* Four and four, the same pattern from the fifth block on (Q8_0): the
     * last load ends at 4·stride + 128 ≤ 8·stride for stride ≥ 32. */
    const __m512i idx4 = _mm512_setr_epi32(0 | (stride / 2) << 16, stride | (3 * stride / 2) << 16,
                                           0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
    const uint8_t *q = p + 4 * stride;
    const __m512i lo = _mm512_permutex2var_epi16(_mm512_loadu_si512(p), idx4, _mm512_loadu_si512(p + 64));
    const __m512i hi = _mm512_permutex2var_epi16(_mm512_loadu_si512(q), idx4, _mm512_loadu_si512(q + 64));
    return _mm_unpacklo_epi64(_mm512_castsi512_si128(lo), _mm512_castsi512_si128(hi));
}

/* dw·dx of the eight blocks from i. */
#define SCALES8(w, x, i)                                                                          \
    _mm256_mul_ps(_mm256_cvtph_ps(d8_words((const uint8_t *)&w[i], (int)sizeof *w)),           \
                  _mm256_cvtph_ps(d8_words((const uint8_t *)&x[i], (int)sizeof *x)))

/* ---- AVX-512 dot products ---- */

/* Two Q8_0 blocks: |w| · (x with w's sign) through vpdpbusd.  Our
 * quantizer never writes -128 activations, and |w| = 128 is fine unsigned. */
AVX512 static inline __m512i
q8_0_pair_sums(const sq_block_q8_0 *w, const sq_block_q8_0 *x)
{
    const __m512i a  = load2x256(w[0].qs, w[1].qs);
    const __m512i b  = load2x256(x[0].qs, x[1].qs);
    const __m512i sb = _mm512_mask_sub_epi8(b, _mm512_movepi8_mask(a), _mm512_setzero_si512(), b);
    return _mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_abs_epi8(a), sb);
}

AVX512 static inline __m256
q8_0_block_avx512(const sq_block_q8_0 *w, const sq_block_q8_0 *x, __m256 acc)
{
    const __m256i a  = load256(w->qs);
    const __m256i b  = load256(x->qs);
    const __m256i sb = _mm256_mask_sub_epi8(b, _mm256_movepi8_mask(a), _mm256_setzero_si256(), b);
    const __m256i p  = _mm256_dpbusd_epi32(_mm256_setzero_si256(), _mm256_abs_epi8(a), sb);
    return _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), _mm256_set1_ps(f16(w->d) * f16(x->d)), acc);
}

AVX512 static float
dot_q8_0_q8_0_avx512(int64_t n, const void *vw, const void *vx)
{
    const sq_block_q8_0 *w = vw;
    const sq_block_q8_0 *x = vx;
    const int64_t nb = n / SQ_QK;
    __m512 acc0 = _mm512_setzero_ps(), acc1 = acc0, acc2 = acc0, acc3 = acc0;
    int64_t i = 0;
    for (; i + 8 <= nb; i += 8) {
        /* Written out: GCC keeps an accumulator array of a loop in memory. */
        const __m256 s8 = SCALES8(w, x, i);
        acc0 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(q8_0_pair_sums(&w[i + 0], &x[i + 0])), pair_scale(s8, 0), acc0);
        acc1 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(q8_0_pair_sums(&w[i + 2], &x[i + 2])), pair_scale(s8, 1), acc1);
        acc2 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(q8_0_pair_sums(&w[i + 4], &x[i + 4])), pair_scale(s8, 2), acc2);
        acc3 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(q8_0_pair_sums(&w[i + 6], &x[i + 6])), pair_scale(s8, 3), acc3);
    }
    __m256 tail = _mm256_setzero_ps();
    for (; i < nb; i++)
        tail = q8_0_block_avx512(&w[i], &x[i], tail);
    const __m512 sum = _mm512_add_ps(_mm512_add_ps(acc0, acc1), _mm512_add_ps(acc2, acc3));
    return _mm512_reduce_add_ps(sum) + hsum_ps256(tail);
}

/* Two Q4_0 blocks as [w0 low nibbles | w0 high | w1 low | w1 high], so
 * each block meets its own 32 activations. (q - 8)·x = q·x - 8·x keeps the
 * unsigned operand of vpdpbusd unsigned. */
AVX512 static inline __m512i
q4_0_pair_sums(const sq_block_q4_0 *w, const sq_block_q8_0 *x)
{
    const __m512i q = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_broadcastsi128_si256(load128(w[0].qs))),
                                         _mm256_broadcastsi128_si256(load128(w[1].qs)), 1);
    const __m512i n = _mm512_and_si512(_mm512_mask_srli_epi16(q, 0xff00ff00, q, 4), _mm512_set1_epi8(15));
    const __m512i y = load2x256(x[0].qs, x[1].qs);
    const __m512i zero = _mm512_setzero_si512();
    return _mm512_sub_epi32(_mm512_dpbusd_epi32(zero, n, y), _mm512_dpbusd_epi32(zero, _mm512_set1_epi8(8), y));
}

AVX512 static inline __m256
q4_0_block_avx512(const sq_block_q4_0 *w, const sq_block_q8_0 *x, __m256 acc)
{
    const __m256i q = _mm256_broadcastsi128_si256(load128(w->qs));
    const __m256i n = _mm256_and_si256(_mm256_mask_srli_epi16(q, 0xff00, q, 4), _mm256_set1_epi8(15));
    const __m256i y = load256(x->qs);
    const __m256i zero = _mm256_setzero_si256();
    const __m256i p = _mm256_sub_epi32(_mm256_dpbusd_epi32(zero, n, y),
                                       _mm256_dpbusd_epi32(zero, _mm256_set1_epi8(8), y));
    return _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), _mm256_set1_ps(f16(w->d) * f16(x->d)), acc);
}

AVX512 static float
dot_q4_0_q8_0_avx512(int64_t n, const void *vw, const void *vx)
{
    const sq_block_q4_0 *w = vw;
    const sq_block_q8_0 *x = vx;
    const int64_t nb = n / SQ_QK;
    __m512 acc0 = _mm512_setzero_ps(), acc1 = acc0, acc2 = acc0, acc3 = acc0;
    int64_t i = 0;
    for (; i + 8 <= nb; i += 8) {
        /* Written out: GCC keeps an accumulator array of a loop in memory. */
        const __m256 s8 = SCALES8(w, x, i);
        acc0 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(q4_0_pair_sums(&w[i + 0], &x[i + 0])), pair_scale(s8, 0), acc0);
        acc1 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(q4_0_pair_sums(&w[i + 2], &x[i + 2])), pair_scale(s8, 1), acc1);
        acc2 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(q4_0_pair_sums(&w[i + 4], &x[i + 4])), pair_scale(s8, 2), acc2);
        acc3 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(q4_0_pair_sums(&w[i + 6], &x[i + 6])), pair_scale(s8, 3), acc3);
    }
    __m256 tail = _mm256_setzero_ps();
    for (; i < nb; i++)
        tail = q4_0_block_avx512(&w[i], &x[i], tail);
    const __m512 sum = _mm512_add_ps(_mm512_add_ps(acc0, acc1), _mm512_add_ps(acc2, acc3));
    return _mm512_reduce_add_ps(sum) + hsum_ps256(tail);
}

/* Q4_0 against a prepared activation row.  Decode multiplies one
 * activation row by thousands of weight rows, so whatever is done once to
 * the row is free, and the kernel was compute-bound on 2 cores (in-cache
 * 1.5 G blocks/s a core against the 1 G a core the memory feeds).  The
 * Q8_0 row is laid out in groups of eight blocks:
 *   [x0…x3 elements 0–15 | x0…x3 elements 16–31 | the same for x4…x7]
 * — the order in which one word permute of four packed Q4_0 blocks yields
 * their low and their high nibbles — followed by every block's dx and
 * 8·dx·Σx as floats, so Q4_0's offset of 8 costs one FMA per eight blocks
 * instead of a vpdpbusd and a subtraction per pair.  A last partial group
 * is padded with zeros. */
#define Q4P_GROUP 256   /* bytes of one group's activations */

static size_t
q4_0_prepared_size(int64_t n)
{
    const size_t groups = (size_t)((n / SQ_QK + 7) / 8);
    return groups * (Q4P_GROUP + 16 * sizeof(float));
}

static void
q4_0_prepare(const void *vx, void *vp, int64_t n)
{
    const sq_block_q8_0 *x = vx;
    const int64_t nb = n / SQ_QK, groups = (nb + 7) / 8;
    int8_t *y  = vp;
    float  *dx = (float *)(y + groups * Q4P_GROUP), *cx = dx + 8 * groups;
    memset(vp, 0, q4_0_prepared_size(n));
    for (int64_t b = 0; b < nb; b++) {
        int8_t *g = y + (b / 8) * Q4P_GROUP + ((b % 8) / 4) * 128 + (b % 4) * 16;
        memcpy(g, x[b].qs, 16);
        memcpy(g + 64, x[b].qs + 16, 16);
        int sum = 0;
        for (int j = 0; j < SQ_QK; j++)
            sum += x[b].qs[j];
        dx[b] = f16(x[b].d);
        cx[b] = 8.0f * dx[b] * (float)sum;
    }
}

/* Σ q·x of four Q4_0 blocks (q the unsigned nibbles), four int32 lanes a
 * block.  Their 72 bytes come in as a full and a masked load (nothing read
 * past the blocks); a word permute gathers the four 16-byte qs fields. */
AVX512 static inline __m512i
q4_0_quad_sums(const sq_block_q4_0 *w, const int8_t *y)
{
    /* word j of the result: word 9·(j/8) + 1 + j%8 of the blocks (the qs
     * after each 2-byte d), two words an int32 */
#define W2(a) ((a) | (a + 1) << 16)
    const __m512i idx = _mm512_setr_epi32(W2(1), W2(3), W2(5), W2(7), W2(10), W2(12), W2(14), W2(16),
                                          W2(19), W2(21), W2(23), W2(25), W2(28), W2(30), W2(32), W2(34));
#undef W2
    const uint8_t *p = (const uint8_t *)w;
    const __m512i q  = _mm512_permutex2var_epi16(_mm512_loadu_si512(p), idx, _mm512_maskz_loadu_epi16(0xf, p + 64));
    const __m512i m  = _mm512_set1_epi8(15);
    const __m512i lo = _mm512_and_si512(q, m), hi = _mm512_and_si512(_mm512_srli_epi16(q, 4), m);
    return _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(_mm512_setzero_si512(), lo, _mm512_loadu_si512(y)), hi,
                               _mm512_loadu_si512(y + 64));
}

/* Scales of blocks 4h…4h+3 of eight, each over its four lanes. */
AVX512 static inline __m512
quad_scale(__m256 s8, int h)
{
    const __m512i idx = _mm512_setr_epi32(4 * h, 4 * h, 4 * h, 4 * h, 4 * h + 1, 4 * h + 1, 4 * h + 1, 4 * h + 1,
                                          4 * h + 2, 4 * h + 2, 4 * h + 2, 4 * h + 2, 4 * h + 3, 4 * h + 3,
                                          4 * h + 3, 4 * h + 3);
    return _mm512_permutexvar_ps(idx, _mm512_castps256_ps512(s8));
}

AVX512 static float
dot_q4_0_prepared_avx512(int64_t n, const void *vw, const void *vp)
{
    const sq_block_q4_0 *w = vw;
    const int64_t nb = n / SQ_QK, groups = (nb + 7) / 8;
    const int8_t *y  = vp;
    const float  *dx = (const float *)(y + groups * Q4P_GROUP), *cx = dx + 8 * groups;
    __m512 acc0 = _mm512_setzero_ps(), acc1 = acc0;
    __m256 corr = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 8 <= nb; i += 8, y += Q4P_GROUP) {
        const __m256 dw = _mm256_cvtph_ps(d8_words((const uint8_t *)&w[i], (int)sizeof *w));
        const __m256 s8 = _mm256_mul_ps(dw, _mm256_loadu_ps(dx + i));
        corr = _mm256_fmadd_ps(dw, _mm256_loadu_ps(cx + i), corr);
        acc0 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(q4_0_quad_sums(&w[i], y)), quad_scale(s8, 0), acc0);
        acc1 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(q4_0_quad_sums(&w[i + 4], y + 128)), quad_scale(s8, 1), acc1);
    }
    float tail = 0.0f;
    for (; i < nb; i++) {
        const int8_t *g = y + ((i % 8) / 4) * 128 + (i % 4) * 16;
        int sum = 0;
        for (int j = 0; j < 16; j++)
            sum += (w[i].qs[j] & 15) * g[j] + (w[i].qs[j] >> 4) * g[64 + j];
        tail += f16(w[i].d) * (dx[i] * (float)sum - cx[i]);
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1)) - hsum_ps256(corr) + tail;
}

/* Word-index vector: words 0…15 = a, 16…31 = b. */
AVX512 static inline __m512i
word_idx2(int a, int b)
{
    return _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_set1_epi16((short)a)), _mm256_set1_epi16((short)b), 1);
}

/* Q4_K/Q5_K: Σ min·bsum of a super-block, accumulated in ymm lanes times
 * dmin; the quant part is done apart in 16 int32 lanes. */
AVX512 static inline __m256
k4_min_acc(__m128i sm, const int16_t *bsums, float dmin, __m256 acc_m)
{
    /* mins are words 8…15 of sm16; duplicate each over its two bsums. */
    const __m256i sm16 = _mm256_cvtepu8_epi16(sm);
    const __m256i dup  = _mm256_setr_epi16(8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13, 14, 14, 15, 15);
    const __m256i p    = _mm256_madd_epi16(load256(bsums), _mm256_permutexvar_epi16(dup, sm16));
    return _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), _mm256_set1_ps(dmin), acc_m);
}

/* Chunk c of a Q4_K/Q5_K super-block (its 32 bytes broadcast to both
 * halves) as 64 values in element order: low nibbles (sub-block 2c), then
 * high nibbles (sub-block 2c+1) — matching a plain 64-byte activation load. */
AVX512 static inline __m512i
k4_chunk(const uint8_t *qs, int c)
{
    const __m512i q = _mm512_broadcast_i64x4(load256(qs + 32 * c));
    return _mm512_and_si512(_mm512_mask_srli_epi16(q, 0xffff0000, q, 4), _mm512_set1_epi8(15));
}

AVX512 static float
dot_q4_K_q8_K_avx512(int64_t n, const void *vw, const void *vx)
{
    const sq_block_q4_K *w = vw;
    const sq_block_q8_K *x = vx;
    __m512 acc   = _mm512_setzero_ps();
    __m256 acc_m = _mm256_setzero_ps();
    for (int64_t i = 0; i < n / SQ_QK_K; i++) {
        const __m128i sm = k4_scales_mins(w[i].scales);
        acc_m = k4_min_acc(sm, x[i].bsums, x[i].d * f16(w[i].dmin), acc_m);
        const __m512i sc = _mm512_castsi256_si512(_mm256_cvtepu8_epi16(sm));
        __m512i sumi = _mm512_setzero_si512();
        #pragma GCC unroll 4
        for (int c = 0; c < 4; c++)
            sumi = _mm512_dpwssd_epi32(sumi, _mm512_maddubs_epi16(k4_chunk(w[i].qs, c), _mm512_loadu_si512(x[i].qs + 64 * c)),
                                       _mm512_permutexvar_epi16(word_idx2(2 * c, 2 * c + 1), sc));
        acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sumi), _mm512_set1_ps(x[i].d * f16(w[i].d)), acc);
    }
    return _mm512_reduce_add_ps(acc) - hsum_ps256(acc_m);
}

AVX512 static float
dot_q5_K_q8_K_avx512(int64_t n, const void *vw, const void *vx)
{
    const sq_block_q5_K *w = vw;
    const sq_block_q8_K *x = vx;
    const __m512i b16 = _mm512_set1_epi8(16);
    __m512 acc   = _mm512_setzero_ps();
    __m256 acc_m = _mm256_setzero_ps();
    for (int64_t i = 0; i < n / SQ_QK_K; i++) {
        const __m128i sm = k4_scales_mins(w[i].scales);
        acc_m = k4_min_acc(sm, x[i].bsums, x[i].d * f16(w[i].dmin), acc_m);
        const __m512i sc = _mm512_castsi256_si512(_mm256_cvtepu8_epi16(sm));
        const __m512i qh = _mm512_broadcast_i64x4(load256(w[i].qh));
        __m512i sumi = _mm512_setzero_si512();
        #pragma GCC unroll 4
        for (int c = 0; c < 4; c++) {
            /* Sub-block s takes bit s of each qh byte as its fifth bit. */
            const __m512i sel = _mm512_inserti64x4(_mm512_set1_epi8((char)(1 << (2 * c))),
                                                   _mm256_set1_epi8((char)(1 << (2 * c + 1))), 1);
            __m512i q = k4_chunk(w[i].qs, c);
            q = _mm512_mask_add_epi8(q, _mm512_test_epi8_mask(qh, sel), q, b16);
            sumi = _mm512_dpwssd_epi32(sumi, _mm512_maddubs_epi16(q, _mm512_loadu_si512(x[i].qs + 64 * c)),
                                       _mm512_permutexvar_epi16(word_idx2(2 * c, 2 * c + 1), sc));
        }
        acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sumi), _mm512_set1_ps(x[i].d * f16(w[i].d)), acc);
    }
    return _mm512_reduce_add_ps(acc) - hsum_ps256(acc_m);
}

/* Word-index vector: four runs of eight words, a, a+1, a+2, a+3. */
AVX512 static inline __m512i
word_idx4(int a)
{
    const __m512i base = _mm512_set1_epi16((short)a);
    const __m512i step = _mm512_srli_epi16(_mm512_set_epi16(31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20,
                                                            19, 18, 17, 16, 15, 14, 13, 12, 11, 10, 9, 8,
                                                            7, 6, 5, 4, 3, 2, 1, 0), 3);
    return _mm512_add_epi16(base, step);
}

/* Q6_K: a 64-byte ql load and the 32 qh bytes broadcast twice give the 128
 * values of a half in order: [q1 | q2] and [q3 | q4] in spec A.6 terms. */
AVX512 static float
dot_q6_K_q8_K_avx512(int64_t n, const void *vw, const void *vx)
{
    const sq_block_q6_K *w = vw;
    const sq_block_q8_K *x = vx;
    const __m512i m4  = _mm512_set1_epi8(15);
    const __m512i m30 = _mm512_set1_epi8(0x30);
    const __m512i shl = _mm512_inserti64x4(_mm512_set1_epi16(4), _mm256_set1_epi16(2), 1);
    const __m512i shr = _mm512_inserti64x4(_mm512_set1_epi16(0), _mm256_set1_epi16(2), 1);
    __m512 acc = _mm512_setzero_ps();
    for (int64_t i = 0; i < n / SQ_QK_K; i++) {
        const __m256i sc16 = _mm256_cvtepi8_epi16(load128(w[i].scales));
        /* The -32 offset of every quant, through the activation sums. */
        const __m256i off = _mm256_slli_epi32(_mm256_madd_epi16(sc16, load256(x[i].bsums)), 5);
        const __m512i sc  = _mm512_castsi256_si512(sc16);
        __m512i sumi = _mm512_sub_epi32(_mm512_setzero_si512(), _mm512_zextsi256_si512(off));
        #pragma GCC unroll 2
        for (int h = 0; h < 2; h++) {
            const __m512i ql = _mm512_loadu_si512(w[i].ql + 64 * h);
            const __m512i qh = _mm512_broadcast_i64x4(load256(w[i].qh + 32 * h));
            /* (a & 15) | b: ternary-logic truth table 0xec. */
            const __m512i qa = _mm512_ternarylogic_epi32(ql, _mm512_and_si512(_mm512_sllv_epi16(qh, shl), m30), m4, 0xec);
            const __m512i qb = _mm512_ternarylogic_epi32(_mm512_srli_epi16(ql, 4),
                                                         _mm512_and_si512(_mm512_srlv_epi16(qh, shr), m30), m4, 0xec);
            const int8_t *y = x[i].qs + 128 * h;
            sumi = _mm512_dpwssd_epi32(sumi, _mm512_maddubs_epi16(qa, _mm512_loadu_si512(y)),
                                       _mm512_permutexvar_epi16(word_idx4(8 * h), sc));
            sumi = _mm512_dpwssd_epi32(sumi, _mm512_maddubs_epi16(qb, _mm512_loadu_si512(y + 64)),
                                       _mm512_permutexvar_epi16(word_idx4(8 * h + 4), sc));
        }
        acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sumi), _mm512_set1_ps(x[i].d * f16(w[i].d)), acc);
    }
    return _mm512_reduce_add_ps(acc);
}

AVX512 static float
dot_f32_avx512(int64_t n, const void *vw, const void *vx)
{
    const float *w = vw, *x = vx;
    __m512 acc0 = _mm512_setzero_ps(), acc1 = acc0, acc2 = acc0, acc3 = acc0;
    int64_t i = 0;
    for (; i + 64 <= n; i += 64) {
        acc0 = _mm512_fmadd_ps(_mm512_loadu_ps(w + i), _mm512_loadu_ps(x + i), acc0);
        acc1 = _mm512_fmadd_ps(_mm512_loadu_ps(w + i + 16), _mm512_loadu_ps(x + i + 16), acc1);
        acc2 = _mm512_fmadd_ps(_mm512_loadu_ps(w + i + 32), _mm512_loadu_ps(x + i + 32), acc2);
        acc3 = _mm512_fmadd_ps(_mm512_loadu_ps(w + i + 48), _mm512_loadu_ps(x + i + 48), acc3);
    }
    for (; i < n; i += 16) {
        const __mmask16 m = n - i >= 16 ? 0xffff : (__mmask16)((1u << (n - i)) - 1);
        acc0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, w + i), _mm512_maskz_loadu_ps(m, x + i), acc0);
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(acc0, acc1), _mm512_add_ps(acc2, acc3)));
}

AVX512 static inline __m512
load_f16x16(const sq_f16 *p, __mmask16 m)
{
    return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, p));
}

AVX512 static float
dot_f16_avx512(int64_t n, const void *vw, const void *vx)
{
    const sq_f16 *w = vw, *x = vx;
    __m512 acc0 = _mm512_setzero_ps(), acc1 = acc0, acc2 = acc0, acc3 = acc0;
    int64_t i = 0;
    for (; i + 64 <= n; i += 64) {
        acc0 = _mm512_fmadd_ps(_mm512_cvtph_ps(load256(w + i)), _mm512_cvtph_ps(load256(x + i)), acc0);
        acc1 = _mm512_fmadd_ps(_mm512_cvtph_ps(load256(w + i + 16)), _mm512_cvtph_ps(load256(x + i + 16)), acc1);
        acc2 = _mm512_fmadd_ps(_mm512_cvtph_ps(load256(w + i + 32)), _mm512_cvtph_ps(load256(x + i + 32)), acc2);
        acc3 = _mm512_fmadd_ps(_mm512_cvtph_ps(load256(w + i + 48)), _mm512_cvtph_ps(load256(x + i + 48)), acc3);
    }
    for (; i < n; i += 16) {
        const __mmask16 m = n - i >= 16 ? 0xffff : (__mmask16)((1u << (n - i)) - 1);
        acc0 = _mm512_fmadd_ps(load_f16x16(w + i, m), load_f16x16(x + i, m), acc0);
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(acc0, acc1), _mm512_add_ps(acc2, acc3)));
}

AVX512 static inline __m512
load_bf16x16(const sq_bf16 *p, __mmask16 m)
{
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(m, p)), 16));
}

AVX512 static float
dot_bf16_avx512(int64_t n, const void *vw, const void *vx)
{
    const sq_bf16 *w = vw, *x = vx;
    __m512 acc0 = _mm512_setzero_ps(), acc1 = acc0, acc2 = acc0, acc3 = acc0;
    int64_t i = 0;
    for (; i + 64 <= n; i += 64) {
        acc0 = _mm512_fmadd_ps(load_bf16x16(w + i, 0xffff), load_bf16x16(x + i, 0xffff), acc0);
        acc1 = _mm512_fmadd_ps(load_bf16x16(w + i + 16, 0xffff), load_bf16x16(x + i + 16, 0xffff), acc1);
        acc2 = _mm512_fmadd_ps(load_bf16x16(w + i + 32, 0xffff), load_bf16x16(x + i + 32, 0xffff), acc2);
        acc3 = _mm512_fmadd_ps(load_bf16x16(w + i + 48, 0xffff), load_bf16x16(x + i + 48, 0xffff), acc3);
    }
    for (; i < n; i += 16) {
        const __mmask16 m = n - i >= 16 ? 0xffff : (__mmask16)((1u << (n - i)) - 1);
        acc0 = _mm512_fmadd_ps(load_bf16x16(w + i, m), load_bf16x16(x + i, m), acc0);
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(acc0, acc1), _mm512_add_ps(acc2, acc3)));
}

/* ---- tables and dispatch ---- */

static const sq_quant_kernels avx2_kernels = {
    .name = "avx2",
    .quantize = {
        [SQ_TYPE_F32]  = sq_quantize_row_f32,
        [SQ_TYPE_F16]  = quantize_f16_avx2,
        [SQ_TYPE_BF16] = quantize_bf16_avx2,
        [SQ_TYPE_Q4_0] = sq_quantize_row_q4_0,
        [SQ_TYPE_Q8_0] = quantize_q8_0_avx2,
        [SQ_TYPE_Q8_1] = quantize_q8_1_avx2,
        [SQ_TYPE_Q8_K] = quantize_q8_K_avx2,
    },
    .vec_dot = {
        [SQ_TYPE_F32]  = dot_f32_avx2,
        [SQ_TYPE_F16]  = dot_f16_avx2,
        [SQ_TYPE_BF16] = dot_bf16_avx2,
        [SQ_TYPE_Q4_0] = dot_q4_0_q8_0_avx2,
        [SQ_TYPE_Q4_1] = dot_q4_1_q8_1_avx2,
        [SQ_TYPE_Q5_0] = dot_q5_0_q8_0_avx2,
        [SQ_TYPE_Q5_1] = dot_q5_1_q8_1_avx2,
        [SQ_TYPE_Q8_0] = dot_q8_0_q8_0_avx2,
        [SQ_TYPE_Q4_K] = dot_q4_K_q8_K_avx2,
        [SQ_TYPE_Q5_K] = dot_q5_K_q8_K_avx2,
        [SQ_TYPE_Q6_K] = dot_q6_K_q8_K_avx2,
    },
    .dequantize = {
        [SQ_TYPE_F32]  = sq_dequantize_row_f32,
        [SQ_TYPE_F16]  = dequant_f16_avx2,
        [SQ_TYPE_BF16] = dequant_bf16_avx2,
        [SQ_TYPE_Q4_0] = dequant_q4_0_avx2,
        [SQ_TYPE_Q4_1] = sq_dequantize_row_q4_1,
        [SQ_TYPE_Q5_0] = sq_dequantize_row_q5_0,
        [SQ_TYPE_Q5_1] = sq_dequantize_row_q5_1,
        [SQ_TYPE_Q8_0] = dequant_q8_0_avx2,
        [SQ_TYPE_Q4_K] = dequant_q4_K_avx2,
        [SQ_TYPE_Q5_K] = sq_dequantize_row_q5_K,
        [SQ_TYPE_Q6_K] = dequant_q6_K_avx2,
        [SQ_TYPE_Q8_K] = sq_dequantize_row_q8_K,
    },
};

/* AVX-512 pays off in the dot products; quantizing one activation row and
 * dequantizing are not hot enough to need more than AVX2. */
static const sq_quant_kernels avx512_kernels = {
    .name = "avx512",
    .quantize = {
        [SQ_TYPE_F32]  = sq_quantize_row_f32,
        [SQ_TYPE_F16]  = quantize_f16_avx2,
        [SQ_TYPE_BF16] = quantize_bf16_avx2,
        [SQ_TYPE_Q4_0] = sq_quantize_row_q4_0,
        [SQ_TYPE_Q8_0] = quantize_q8_0_avx2,
        [SQ_TYPE_Q8_1] = quantize_q8_1_avx2,
        [SQ_TYPE_Q8_K] = quantize_q8_K_avx2,
    },
    .vec_dot = {
        [SQ_TYPE_F32]  = dot_f32_avx512,
        [SQ_TYPE_F16]  = dot_f16_avx512,
        [SQ_TYPE_BF16] = dot_bf16_avx512,
        [SQ_TYPE_Q4_0] = dot_q4_0_q8_0_avx512,
        [SQ_TYPE_Q4_1] = dot_q4_1_q8_1_avx2,
        [SQ_TYPE_Q5_0] = dot_q5_0_q8_0_avx2,
        [SQ_TYPE_Q5_1] = dot_q5_1_q8_1_avx2,
        [SQ_TYPE_Q8_0] = dot_q8_0_q8_0_avx512,
        [SQ_TYPE_Q4_K] = dot_q4_K_q8_K_avx512,
        [SQ_TYPE_Q5_K] = dot_q5_K_q8_K_avx512,
        [SQ_TYPE_Q6_K] = dot_q6_K_q8_K_avx512,
    },
    .prepared_size    = { [SQ_TYPE_Q4_0] = q4_0_prepared_size },
    .prepare          = { [SQ_TYPE_Q4_0] = q4_0_prepare },
    .vec_dot_prepared = { [SQ_TYPE_Q4_0] = dot_q4_0_prepared_avx512 },
    .dequantize = {
        [SQ_TYPE_F32]  = sq_dequantize_row_f32,
        [SQ_TYPE_F16]  = dequant_f16_avx2,
        [SQ_TYPE_BF16] = dequant_bf16_avx2,
        [SQ_TYPE_Q4_0] = dequant_q4_0_avx2,
        [SQ_TYPE_Q4_1] = sq_dequantize_row_q4_1,
        [SQ_TYPE_Q5_0] = sq_dequantize_row_q5_0,
        [SQ_TYPE_Q5_1] = sq_dequantize_row_q5_1,
        [SQ_TYPE_Q8_0] = dequant_q8_0_avx2,
        [SQ_TYPE_Q4_K] = dequant_q4_K_avx2,
        [SQ_TYPE_Q5_K] = sq_dequantize_row_q5_K,
        [SQ_TYPE_Q6_K] = dequant_q6_K_avx2,
        [SQ_TYPE_Q8_K] = sq_dequantize_row_q8_K,
    },
};

/* The runtime's checks include the OS's XSAVE support for the wider
 * registers.  F16C is not asked for: every AVX2 CPU has it (Ivy Bridge and
 * Piledriver onward), and clang 14 does not know the name. */
static sq_simd_level
cpu_level(void)
{
    __builtin_cpu_init();
    const int avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    if (!avx2)
        return SQ_SIMD_SCALAR;
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")
        && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq")
        && __builtin_cpu_supports("avx512vnni"))
        return SQ_SIMD_AVX512;
    return SQ_SIMD_AVX2;
}

const sq_quant_kernels *
sq_quant_kernels_level(sq_simd_level level)
{
    if (level > cpu_level())
        return NULL;
    switch (level) {
    case SQ_SIMD_SCALAR: return sq_quant_kernels_scalar();
    case SQ_SIMD_AVX2:   return &avx2_kernels;
    case SQ_SIMD_AVX512: return &avx512_kernels;
    }
    return NULL;
}

#else /* not x86-64: the scalar reference is all there is */

static sq_simd_level
cpu_level(void)
{
    return SQ_SIMD_SCALAR;
}

const sq_quant_kernels *
sq_quant_kernels_level(sq_simd_level level)
{
    return level == SQ_SIMD_SCALAR ? sq_quant_kernels_scalar() : NULL;
}

#endif

const sq_quant_kernels *
sq_quant_kernels_get(void)
{
    sq_simd_level level = cpu_level();
    const char   *cap   = getenv("SQ_SIMD");
    if (cap) {
        static const char *const names[] = { "scalar", "avx2", "avx512" };
        for (int l = 0; l < 3; l++)
            if (strcmp(cap, names[l]) == 0 && (sq_simd_level)l < level)
                level = (sq_simd_level)l;
    }
    return sq_quant_kernels_level(level);
}
