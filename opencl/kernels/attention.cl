/* attention.cl — out[i] = softmax(q[i]·Kᵀ·scale + mask)·V for one query row
 * and one head per work-group, over tiles of WG keys: no n_q × n_kv score
 * matrix ever exists.  Two passes over the keys reproduce the CPU backend's
 * rounding (engine/cpu/cpu-ops.c sq_cpu_attention_head) instead of an online
 * softmax's rescaling: pass 1 finds the maximum and the sum of exp(s − max),
 * pass 2 recomputes each score, forms the normalized weight (rounded to F16
 * when the KV cache is F16, as llama.cpp's F16 V·softmax product does) and
 * accumulates weight · V.  With an F16 cache q is rounded to F16 as well.
 *
 * Masks: 0 none, 1 causal (query i sees keys ≤ q_offset + i), 2 window (the
 * same window id; queries and keys share one id array).  Grouped-query heads
 * share a KV head: kvh = h / (n_head / n_head_kv).
 *
 * Local memory (kernel arguments): q and the output accumulator (head_dim
 * floats each), one weight per key of a tile and one float per item for the
 * reductions.  global (WG · n_head, n_q), local (WG, 1). */

inline float
score(local const float *q, global const uchar *kb, size_t row, int head_dim, int kv_f16)
{
    float s = 0.0f;
    if (kv_f16) {
        global const half *k = (global const half *)kb + row;
        for (int c = 0; c < head_dim; c++)
            s += vload_half(c, k) * q[c];
    } else {
        global const float *k = (global const float *)kb + row;
        for (int c = 0; c < head_dim; c++)
            s += k[c] * q[c];
    }
    return s;
}

kernel void
attention(global const uchar *qb, ulong q_off, global const uchar *kb, ulong k_off, global const uchar *vb,
          ulong v_off, global uchar *ob, ulong o_off, global const uchar *wb, ulong w_off, int n_kv, int n_head,
          int n_head_kv, int head_dim, float scale, int mask, long q_offset, int kv_f16, local float *q_loc,
          local float *acc, local float *tile, local float *red)
{
    const int h = get_group_id(0), i = get_group_id(1), lid = get_local_id(0);
    const int kvh = h / (n_head / n_head_kv);
    const size_t qw = (size_t)n_head * head_dim, kw = (size_t)n_head_kv * head_dim;
    global const float *qi = (global const float *)(qb + q_off) + (size_t)i * qw + (size_t)h * head_dim;
    global const uchar *kbase = kb + k_off, *vbase = vb + v_off;
    global const int *win = (global const int *)(wb + w_off);

    for (int c = lid; c < head_dim; c += WG) {
        q_loc[c] = kv_f16 ? f16_round(qi[c]) : qi[c];
        acc[c] = 0.0f;
    }
    barrier(CLK_LOCAL_MEM_FENCE);
    const int last = mask == 1 ? (int)min((long)n_kv, q_offset + i + 1) : n_kv;
    const int wi = mask == 2 ? win[i] : 0;

    /* pass 1: running maximum and sum of exp(s − max) per item */
    float m = -INFINITY, l = 0.0f;
    for (int j = lid; j < last; j += WG) {
        if (mask == 2 && win[j] != wi)
            continue;
        float s = score(q_loc, kbase, (size_t)j * kw + (size_t)kvh * head_dim, head_dim, kv_f16) * scale;
        if (s > m) {
            l = l * exp(m - s) + 1.0f;
            m = s;
        } else {
            l += exp(s - m);
        }
    }
    red[lid] = m;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int k = WG / 2; k > 0; k >>= 1) {
        if (lid < k)
            red[lid] = fmax(red[lid], red[lid + k]);
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    const float mx = red[0];
    barrier(CLK_LOCAL_MEM_FENCE);
    red[lid] = m == -INFINITY ? 0.0f : l * exp(m - mx);
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int k = WG / 2; k > 0; k >>= 1) {
        if (lid < k)
            red[lid] += red[lid + k];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    const float inv = 1.0f / red[0];

    /* pass 2: normalized weights of a tile of keys, then weight · V */
    for (int t0 = 0; t0 < last; t0 += WG) {
        int j = t0 + lid;
        float wgt = 0.0f;
        if (j < last && (mask != 2 || win[j] == wi)) {
            float s = score(q_loc, kbase, (size_t)j * kw + (size_t)kvh * head_dim, head_dim, kv_f16) * scale;
            wgt = exp(s - mx) * inv;
            if (kv_f16)
                wgt = f16_round(wgt);
        }
        tile[lid] = wgt;
        barrier(CLK_LOCAL_MEM_FENCE);
        int nt = min(WG, last - t0);
        for (int c = lid; c < head_dim; c += WG) {
            float a = acc[c];
            size_t base = (size_t)t0 * kw + (size_t)kvh * head_dim + c;
            for (int t = 0; t < nt; t++) {
                float wt = tile[t];
                if (wt != 0.0f)
                    a += wt * (kv_f16 ? vload_half(base + (size_t)t * kw, (global const half *)vbase)
                                      : ((global const float *)vbase)[base + (size_t)t * kw]);
            }
            acc[c] = a;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    global float *out = (global float *)(ob + o_off) + (size_t)i * qw + (size_t)h * head_dim;
    for (int c = lid; c < head_dim; c += WG)
        out[c] = acc[c];
}

/* ---- CPU devices: one work-item per (head, query), no barriers ----
 *
 * PoCL runs barriers as loops over the work-items with the live variables
 * spilled, so on a CPU device one item walks every key itself, with q, the
 * scores and the output accumulator in vector registers, in the CPU
 * backend's order for an F16 cache: the maximum, then the sum of
 * exp(s − max), then the F16-rounded weights times V; an F32 cache takes one
 * online pass.  head_dim must be a multiple of 8, at most AR_MAX_HD.
 * global (n_head, n_q), any local size. */

#define AR_MAX_HD 256

inline float
score8(const float8 *q, global const uchar *kb, size_t row, int nv, int kv_f16)
{
    float8 s = (float8)0.0f;
    if (kv_f16) {
        global const half *k = (global const half *)kb + row;
        for (int v = 0; v < nv; v++)
            s += vload_half8(v, k) * q[v];
    } else {
        global const float *k = (global const float *)kb + row;
        for (int v = 0; v < nv; v++)
            s += vload8(v, k) * q[v];
    }
    float4 t = s.lo + s.hi;
    return (t.s0 + t.s1) + (t.s2 + t.s3);
}

kernel void
attention_row(global const uchar *qb, ulong q_off, global const uchar *kb, ulong k_off, global const uchar *vb,
              ulong v_off, global uchar *ob, ulong o_off, global const uchar *wb, ulong w_off, int n_kv, int n_head,
              int n_head_kv, int head_dim, float scale, int mask, long q_offset, int kv_f16, int n_q)
{
    const int h = get_global_id(0), i = get_global_id(1);
    if (h >= n_head || i >= n_q)
        return;
    const int kvh = h / (n_head / n_head_kv), nv = head_dim / 8;
    const size_t qw = (size_t)n_head * head_dim, kw = (size_t)n_head_kv * head_dim;
    global const float *qi = (global const float *)(qb + q_off) + (size_t)i * qw + (size_t)h * head_dim;
    global const uchar *kbase = kb + k_off, *vbase = vb + v_off;
    global const int *win = (global const int *)(wb + w_off);
    float8 q[AR_MAX_HD / 8], acc[AR_MAX_HD / 8];
    for (int v = 0; v < nv; v++) {
        q[v] = vload8(v, qi);
        if (kv_f16) {   /* q rounded to F16, as llama.cpp's F16·F16 product */
            ushort8 hq;
            vstore_half8_rte(q[v], 0, (half *)&hq);
            q[v] = vload_half8(0, (const half *)&hq);
        }
        acc[v] = (float8)0.0f;
    }
    const int last = mask == 1 ? (int)min((long)n_kv, q_offset + i + 1) : n_kv;
    const int wi = mask == 2 ? win[i] : 0;
    const size_t koff = (size_t)kvh * head_dim;

    if (!kv_f16) {
        /* F32 K/V (the vision tower): one pass, rescaling the accumulator
         * when the maximum grows; equal to the normalized form up to float
         * rounding (~1e-7), as there is no F16 weight rounding to respect */
        float m = -INFINITY, l = 0.0f;
        for (int j = 0; j < last; j++) {
            if (mask == 2 && win[j] != wi)
                continue;
            float s = score8(q, kbase, (size_t)j * kw + koff, nv, 0) * scale;
            if (s > m) {
                float c = exp(m - s);
                l *= c;
                for (int v = 0; v < nv; v++)
                    acc[v] *= c;
                m = s;
            }
            float e = exp(s - m);
            l += e;
            global const float *vr = (global const float *)vbase + (size_t)j * kw + koff;
            for (int v = 0; v < nv; v++)
                acc[v] += e * vload8(v, vr);
        }
        const float inv = 1.0f / l;
        global float *out = (global float *)(ob + o_off) + (size_t)i * qw + (size_t)h * head_dim;
        for (int v = 0; v < nv; v++)
            vstore8(acc[v] * inv, v, out);
        return;
    }
    float mx = -INFINITY;
    for (int j = 0; j < last; j++)
        if (mask != 2 || win[j] == wi)
            mx = fmax(mx, score8(q, kbase, (size_t)j * kw + koff, nv, kv_f16) * scale);
    float sum = 0.0f;
    for (int j = 0; j < last; j++)
        if (mask != 2 || win[j] == wi)
            sum += exp(score8(q, kbase, (size_t)j * kw + koff, nv, kv_f16) * scale - mx);
    const float inv = 1.0f / sum;
    for (int j = 0; j < last; j++) {
        if (mask == 2 && win[j] != wi)
            continue;
        float w = exp(score8(q, kbase, (size_t)j * kw + koff, nv, kv_f16) * scale - mx) * inv;
        if (kv_f16)
            w = f16_round(w);
        if (w == 0.0f)
            continue;
        if (kv_f16) {
            global const half *vr = (global const half *)vbase + (size_t)j * kw + koff;
            for (int v = 0; v < nv; v++)
                acc[v] += w * vload_half8(v, vr);
        } else {
            global const float *vr = (global const float *)vbase + (size_t)j * kw + koff;
            for (int v = 0; v < nv; v++)
                acc[v] += w * vload8(v, vr);
        }
    }
    global float *out = (global float *)(ob + o_off) + (size_t)i * qw + (size_t)h * head_dim;
    for (int v = 0; v < nv; v++)
        vstore8(acc[v], v, out);
}
