/* cpu-ops.c — element and row kernels of the CPU backend.  Plain loops the
 * compiler vectorizes; the heavy dot products come from quant.h. */
#include "cpu-ops.h"

#include <math.h>
#include <string.h>

#include "quant.h"

void
sq_cpu_rmsnorm(const float *x, const float *w, float eps, float *y, int64_t n)
{
    double sum = 0.0; /* llama.cpp accumulates the squares in double */
    for (int64_t i = 0; i < n; i++)
        sum += (double)x[i] * x[i];
    float scale = 1.0f / sqrtf((float)(sum / (double)n) + eps);
    for (int64_t i = 0; i < n; i++)
        y[i] = (x[i] * scale) * w[i];
}

void
sq_cpu_rope_row(float *x, const int32_t pos[4], const sq_rope_params *p)
{
    const int d = p->head_dim;
    const int half = d / 2;
    const bool vision = p->mode == SQ_ROPE_VISION;
    /* Vision rotates D/2 pairs with exponents over D/2; M-RoPE over D. */
    const float theta_scale = powf(p->freq_base, -2.0f / (float)(vision ? half : d));
    const int s0 = p->sections[0], s1 = s0 + p->sections[1], s2 = s1 + p->sections[2];
    float cs[512], sn[512]; /* head_dim ≤ 1024 */
    /* θ is built by repeated multiplication, as ggml does, so angles agree
     * with llama.cpp to the last bit rather than to 1e-6. */
    float th[4] = { (float)pos[0], (float)pos[1], (float)pos[2], (float)pos[3] };
    for (int k = 0; k < half; k++) {
        int sec = k < s0 ? 0 : k < s1 ? 1 : k < s2 ? 2 : 3;
        if (vision && (k == 0 || k == s0 || k == s1 || k == s2))
            th[sec] = (float)pos[sec];
        cs[k] = cosf(th[sec]);
        sn[k] = sinf(th[sec]);
        for (int c = 0; c < 4; c++)
            th[c] *= theta_scale;
    }
    for (int h = 0; h < p->n_head; h++) {
        float *v = x + (int64_t)h * d;
        for (int k = 0; k < half; k++) {
            float a = v[k], b = v[k + half];
            v[k] = a * cs[k] - b * sn[k];
            v[k + half] = a * sn[k] + b * cs[k];
        }
    }
}

static inline bool
key_allowed(const sq_attn_params *p, const int32_t *win, int64_t i, int64_t j)
{
    switch (p->mask) {
    case SQ_MASK_CAUSAL: return j <= p->q_offset + i;
    case SQ_MASK_WINDOW: return win[i] == win[j];
    default:             return true;
    }
}

void
sq_cpu_attention_head(const float *qi, const void *kbase, const void *vbase, sq_type kv_type,
                      const sq_attn_params *p, const int32_t *win, int64_t i, int h, int64_t n_kv,
                      float *scores, float *out)
{
    const int d = p->head_dim;
    const int kvh = h / (p->n_head / p->n_head_kv);
    const int64_t kw = (int64_t)p->n_head_kv * d;
    const bool f16 = kv_type == SQ_TYPE_F16;
    int64_t last = p->mask == SQ_MASK_CAUSAL ? p->q_offset + i + 1 : n_kv;

    /* With an F16 cache llama.cpp multiplies F16 by F16: round q once. */
    uint16_t *q16 = (uint16_t *)(scores + n_kv);
    if (f16)
        for (int c = 0; c < d; c++)
            q16[c] = sq_f32_to_f16(qi[c]);

    float max = -INFINITY;
    for (int64_t j = 0; j < last; j++) {
        if (!key_allowed(p, win, i, j)) {
            scores[j] = -INFINITY;
            continue;
        }
        float s = 0.0f;
        if (f16) {
            const uint16_t *kj = (const uint16_t *)kbase + j * kw + (int64_t)kvh * d;
            for (int c = 0; c < d; c++)
                s += sq_f16_to_f32(kj[c]) * sq_f16_to_f32(q16[c]);
        } else {
            const float *kj = (const float *)kbase + j * kw + (int64_t)kvh * d;
            for (int c = 0; c < d; c++)
                s += kj[c] * qi[c];
        }
        s *= p->scale;
        scores[j] = s;
        if (s > max)
            max = s;
    }
    double sum = 0.0;
    for (int64_t j = 0; j < last; j++) {
        float e = scores[j] == -INFINITY ? 0.0f : expf(scores[j] - max);
        scores[j] = e;
        sum += e;
    }
    float inv = (float)(1.0 / sum);
    memset(out, 0, (size_t)d * sizeof *out);
    for (int64_t j = 0; j < last; j++) {
        float w = scores[j] * inv;
        if (w == 0.0f)
            continue;
        if (f16) {
            float w16 = sq_f16_to_f32(sq_f32_to_f16(w));
            const uint16_t *vj = (const uint16_t *)vbase + j * kw + (int64_t)kvh * d;
            for (int c = 0; c < d; c++)
                out[c] += w16 * sq_f16_to_f32(vj[c]);
        } else {
            const float *vj = (const float *)vbase + j * kw + (int64_t)kvh * d;
            for (int c = 0; c < d; c++)
                out[c] += w * vj[c];
        }
    }
}

/* ---- attention on blocks of queries ----
 *
 * The fast path: up to SQ_CPU_ATTN_QB queries of one head against one list
 * of keys, with AVX2/F16C.  Each key row is loaded once for the whole block
 * and reduced four queries at a time.  Numerics are those of the scalar
 * sq_cpu_attention_head above (F16 keys/values: q and the softmax weights
 * rounded to F16, every product exact in float); only the order of the float
 * sums differs.
 */

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define AVX2 __attribute__((target("avx2,fma,f16c")))

AVX2 static inline __m256
load8(const void *row, sq_type t, int c)
{
    if (t == SQ_TYPE_F16)
        return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)((const uint16_t *)row + c)));
    return _mm256_loadu_ps((const float *)row + c);
}

/* The four horizontal sums of a, b, c, d. */
AVX2 static inline __m128
hsum4(__m256 a, __m256 b, __m256 c, __m256 d)
{
    __m256 ab = _mm256_hadd_ps(a, b), cd = _mm256_hadd_ps(c, d);
    __m256 abcd = _mm256_hadd_ps(ab, cd);
    return _mm_add_ps(_mm256_castps256_ps128(abcd), _mm256_extractf128_ps(abcd, 1));
}

/* e^x for x ≤ 0 (Cephes' expf: range reduction by ln 2, degree-6
 * polynomial; within 2 ulp of expf), 0 for -inf. */
AVX2 static inline __m256
exp_neg_avx2(__m256 x)
{
    const __m256 is_ninf = _mm256_cmp_ps(x, _mm256_set1_ps(-INFINITY), _CMP_EQ_OQ);
    x = _mm256_max_ps(x, _mm256_set1_ps(-87.0f));
    __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                               _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 y = _mm256_set1_ps(1.9875691500e-4f);
    y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(1.3981999507e-3f));
    y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(8.3334519073e-3f));
    y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(4.1665795894e-2f));
    y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(1.6666665459e-1f));
    y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(5.0000001201e-1f));
    y = _mm256_fmadd_ps(y, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
    __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    y = _mm256_mul_ps(y, _mm256_castsi256_ps(e));
    return _mm256_andnot_ps(is_ninf, y);
}

AVX2 static void
attn_block_avx2(const sq_cpu_attn_block *b, float *scratch)
{
    const int d = b->head_dim, nq = b->n_q;
    const int64_t nk = b->n_keys;
    const bool f16 = b->kv_type == SQ_TYPE_F16;
    float *q = scratch;                               /* SQ_CPU_ATTN_QB × d */
    float *acc = q + SQ_CPU_ATTN_QB * d;              /* SQ_CPU_ATTN_QB × d */
    float *scores = acc + SQ_CPU_ATTN_QB * d;         /* SQ_CPU_ATTN_QB × n_keys */
    for (int iq = 0; iq < SQ_CPU_ATTN_QB; iq++)
        for (int c = 0; c < d; c++) {
            float x = iq < nq ? b->q[iq][c] : 0.0f;
            q[iq * d + c] = f16 ? sq_f16_to_f32(sq_f32_to_f16(x)) : x;
        }
    /* scores */
    float max[SQ_CPU_ATTN_QB];
    for (int iq = 0; iq < SQ_CPU_ATTN_QB; iq++)
        max[iq] = -INFINITY;
    for (int64_t j = 0; j < nk; j++) {
        int64_t key = b->keys ? b->keys[j] : j;
        const void *kr = (const char *)b->k + (size_t)key * b->kv_row_bytes;
        __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
        int c = 0;
        for (; c + 8 <= d; c += 8) {
            __m256 kv = load8(kr, b->kv_type, c);
            a0 = _mm256_fmadd_ps(_mm256_loadu_ps(q + c), kv, a0);
            a1 = _mm256_fmadd_ps(_mm256_loadu_ps(q + d + c), kv, a1);
            a2 = _mm256_fmadd_ps(_mm256_loadu_ps(q + 2 * d + c), kv, a2);
            a3 = _mm256_fmadd_ps(_mm256_loadu_ps(q + 3 * d + c), kv, a3);
        }
        float s[4];
        _mm_storeu_ps(s, hsum4(a0, a1, a2, a3));
        for (; c < d; c++) {
            float kc = f16 ? sq_f16_to_f32(((const uint16_t *)kr)[c]) : ((const float *)kr)[c];
            for (int iq = 0; iq < 4; iq++)
                s[iq] += q[iq * d + c] * kc;
        }
        for (int iq = 0; iq < nq; iq++) {
            float v = s[iq] * b->scale;
            if (b->last && j > b->last[iq])
                v = -INFINITY;
            scores[iq * nk + j] = v;
            if (v > max[iq])
                max[iq] = v;
        }
    }
    /* softmax weights, F16-rounded for an F16 cache */
    for (int iq = 0; iq < nq; iq++) {
        float *sc = scores + iq * nk;
        double sum = 0.0;
        int64_t j = 0;
        const __m256 mx = _mm256_set1_ps(max[iq]);
        __m256d s0 = _mm256_setzero_pd(), s1 = s0;
        /* F32 keys (the vision tower, N² scores per full layer): polynomial
         * exp; an F16 cache (text) keeps libm's expf. */
        for (; !f16 && j + 8 <= nk; j += 8) {
            __m256 e = exp_neg_avx2(_mm256_sub_ps(_mm256_loadu_ps(sc + j), mx));
            _mm256_storeu_ps(sc + j, e);
            s0 = _mm256_add_pd(s0, _mm256_cvtps_pd(_mm256_castps256_ps128(e)));
            s1 = _mm256_add_pd(s1, _mm256_cvtps_pd(_mm256_extractf128_ps(e, 1)));
        }
        double part[4];
        _mm256_storeu_pd(part, _mm256_add_pd(s0, s1));
        sum = part[0] + part[1] + part[2] + part[3];
        for (; j < nk; j++) {
            float e = sc[j] == -INFINITY ? 0.0f : expf(sc[j] - max[iq]);
            sc[j] = e;
            sum += e;
        }
        float inv = (float)(1.0 / sum);
        int64_t k = 0;
        /* F16C rounds to nearest even, as sq_f32_to_f16 does */
        for (; f16 && k + 8 <= nk; k += 8) {
            __m256 w = _mm256_mul_ps(_mm256_loadu_ps(sc + k), _mm256_set1_ps(inv));
            _mm256_storeu_ps(sc + k, _mm256_cvtph_ps(_mm256_cvtps_ph(w, _MM_FROUND_TO_NEAREST_INT)));
        }
        for (; k < nk; k++) {
            float w = sc[k] * inv;
            sc[k] = f16 ? sq_f16_to_f32(sq_f32_to_f16(w)) : w;
        }
    }
    for (int iq = nq; iq < SQ_CPU_ATTN_QB; iq++)
        memset(scores + iq * nk, 0, (size_t)nk * sizeof *scores);
    /* out = Σ w·v */
    memset(acc, 0, (size_t)(SQ_CPU_ATTN_QB * d) * sizeof *acc);
    for (int64_t j = 0; j < nk; j++) {
        float w0 = scores[j], w1 = nq > 1 ? scores[nk + j] : 0.0f;
        float w2 = nq > 2 ? scores[2 * nk + j] : 0.0f, w3 = nq > 3 ? scores[3 * nk + j] : 0.0f;
        if (w0 == 0.0f && w1 == 0.0f && w2 == 0.0f && w3 == 0.0f)
            continue;
        int64_t key = b->keys ? b->keys[j] : j;
        const void *vr = (const char *)b->v + (size_t)key * b->kv_row_bytes;
        const __m256 v0 = _mm256_set1_ps(w0), v1 = _mm256_set1_ps(w1);
        const __m256 v2 = _mm256_set1_ps(w2), v3 = _mm256_set1_ps(w3);
        int c = 0;
        for (; c + 8 <= d; c += 8) {
            __m256 vv = load8(vr, b->kv_type, c);
            _mm256_storeu_ps(acc + c, _mm256_fmadd_ps(v0, vv, _mm256_loadu_ps(acc + c)));
            _mm256_storeu_ps(acc + d + c, _mm256_fmadd_ps(v1, vv, _mm256_loadu_ps(acc + d + c)));
            _mm256_storeu_ps(acc + 2 * d + c, _mm256_fmadd_ps(v2, vv, _mm256_loadu_ps(acc + 2 * d + c)));
            _mm256_storeu_ps(acc + 3 * d + c, _mm256_fmadd_ps(v3, vv, _mm256_loadu_ps(acc + 3 * d + c)));
        }
        for (; c < d; c++) {
            float vc = f16 ? sq_f16_to_f32(((const uint16_t *)vr)[c]) : ((const float *)vr)[c];
            acc[c] += w0 * vc;
            acc[d + c] += w1 * vc;
            acc[2 * d + c] += w2 * vc;
            acc[3 * d + c] += w3 * vc;
        }
    }
    for (int iq = 0; iq < nq; iq++)
        memcpy(b->out[iq], acc + iq * d, (size_t)d * sizeof *acc);
}

bool
sq_cpu_attn_supported(void)
{
    /* Every AVX2 CPU also has F16C (Haswell, Zen), and clang's builtin does
     * not know "f16c"; the check is cheap, so nothing is cached. */
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

void
sq_cpu_attn_run(const sq_cpu_attn_block *b, float *scratch)
{
    attn_block_avx2(b, scratch);
}
#else
bool
sq_cpu_attn_supported(void)
{
    return false;
}

void
sq_cpu_attn_run(const sq_cpu_attn_block *b, float *scratch)
{
    (void)b;
    (void)scratch;
}
#endif

/* ---- float GEMM tiles ----
 *
 * y[i][j] = Σ_k x[i][k]·w[j][k] for a tile of up to 4 × 4 rows that are
 * all k-contiguous (dot-product form): sixteen AVX-512 accumulators, each
 * x and w vector loaded once per step for four products.
 */

#if defined(__x86_64__) || defined(__i386__)
#define AVX512 __attribute__((target("avx512f,avx512vl,avx512dq,avx512bw,fma")))

AVX512 static void
tile_4x4(const float *x, size_t ldx, const float *w, size_t ldw, int64_t n, float *y, size_t ldy)
{
    __m512 c[4][4];
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++)
            c[i][j] = _mm512_setzero_ps();
    int64_t k = 0;
    for (; k + 16 <= n; k += 16) {
        __m512 xv[4];
        for (int i = 0; i < 4; i++)
            xv[i] = _mm512_loadu_ps(x + i * ldx + k);
        for (int j = 0; j < 4; j++) {
            __m512 wv = _mm512_loadu_ps(w + j * ldw + k);
            for (int i = 0; i < 4; i++)
                c[i][j] = _mm512_fmadd_ps(xv[i], wv, c[i][j]);
        }
    }
    if (k < n) {
        __mmask16 m = (__mmask16)((1u << (n - k)) - 1);
        __m512 xv[4];
        for (int i = 0; i < 4; i++)
            xv[i] = _mm512_maskz_loadu_ps(m, x + i * ldx + k);
        for (int j = 0; j < 4; j++) {
            __m512 wv = _mm512_maskz_loadu_ps(m, w + j * ldw + k);
            for (int i = 0; i < 4; i++)
                c[i][j] = _mm512_fmadd_ps(xv[i], wv, c[i][j]);
        }
    }
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++)
            y[i * ldy + j] = _mm512_reduce_add_ps(c[i][j]);
}

AVX512 static float
dot_1x1(const float *x, const float *w, int64_t n)
{
    __m512 c0 = _mm512_setzero_ps(), c1 = c0;
    int64_t k = 0;
    for (; k + 32 <= n; k += 32) {
        c0 = _mm512_fmadd_ps(_mm512_loadu_ps(x + k), _mm512_loadu_ps(w + k), c0);
        c1 = _mm512_fmadd_ps(_mm512_loadu_ps(x + k + 16), _mm512_loadu_ps(w + k + 16), c1);
    }
    for (; k < n; k += 16) {
        __mmask16 m = n - k >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (n - k)) - 1);
        c0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, x + k), _mm512_maskz_loadu_ps(m, w + k), c0);
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(c0, c1));
}

AVX512 static void
gemm_avx512(const float *x, size_t ldx, int64_t nx, const float *w, size_t ldw, int64_t nw, int64_t n, float *y,
            size_t ldy)
{
    int64_t i = 0;
    for (; i + 4 <= nx; i += 4) {
        int64_t j = 0;
        for (; j + 4 <= nw; j += 4)
            tile_4x4(x + i * ldx, ldx, w + j * ldw, ldw, n, y + i * ldy + j, ldy);
        for (; j < nw; j++)
            for (int ii = 0; ii < 4; ii++)
                y[(i + ii) * ldy + j] = dot_1x1(x + (i + ii) * ldx, w + j * ldw, n);
    }
    for (; i < nx; i++)
        for (int64_t j = 0; j < nw; j++)
            y[i * ldy + j] = dot_1x1(x + i * ldx, w + j * ldw, n);
}

bool
sq_cpu_gemm_supported(void)
{
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
           __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512bw");
}

void
sq_cpu_gemm_f32(const float *x, size_t ldx, int64_t nx, const float *w, size_t ldw, int64_t nw, int64_t n,
                float *y, size_t ldy)
{
    gemm_avx512(x, ldx, nx, w, ldw, nw, n, y, ldy);
}
#else
bool
sq_cpu_gemm_supported(void)
{
    return false;
}

void
sq_cpu_gemm_f32(const float *x, size_t ldx, int64_t nx, const float *w, size_t ldw, int64_t nw, int64_t n,
                float *y, size_t ldy)
{
    for (int64_t i = 0; i < nx; i++)
        for (int64_t j = 0; j < nw; j++) {
            float s = 0.0f;
            for (int64_t k = 0; k < n; k++)
                s += x[i * ldx + k] * w[j * ldw + k];
            y[i * ldy + j] = s;
        }
}
#endif

void
sq_cpu_convert_row(const float *src, void *dst, sq_type type, int64_t n)
{
    if (type == SQ_TYPE_F16) {
        uint16_t *h = dst;
        for (int64_t i = 0; i < n; i++)
            h[i] = sq_f32_to_f16(src[i]);
    } else {
        memcpy(dst, src, (size_t)n * sizeof *src);
    }
}

void
sq_cpu_add(const float *a, const float *b, float *out, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        out[i] = a[i] + b[i];
}

void
sq_cpu_silu_mul(const float *gate, const float *up, float *out, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        out[i] = gate[i] / (1.0f + expf(-gate[i])) * up[i];
}

void
sq_cpu_gelu_erf(const float *x, float *out, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        out[i] = 0.5f * x[i] * (1.0f + erff(x[i] * (float)M_SQRT1_2));
}

void
sq_cpu_gelu_tanh(const float *x, float *out, int64_t n)
{
    const float c = 0.79788456080286535587989211986876f; /* sqrt(2/π) */
    for (int64_t i = 0; i < n; i++)
        out[i] = 0.5f * x[i] * (1.0f + tanhf(c * x[i] * (1.0f + 0.044715f * x[i] * x[i])));
}
