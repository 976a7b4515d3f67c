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
