/* matmul-vec.cl — y[r] = W·x[r] + bias for up to MV_ROWS activation rows:
 * the memory-bound decode path.  One work-group of WG items per output row;
 * the items stride over "units" (a few consecutive quants of one block), so
 * neighbours read neighbouring bytes of the weight row, then reduce in local
 * memory.  The weights stay in ggml's block layout; activations come
 * pre-rounded by quantize.cl, and every block's dot product is the exact
 * integer sum the CPU backend computes, scaled the same way (engine/quant.c
 * sq_vec_dot_*): only the float summation order differs.
 *
 * Launch: global (MV_NT·n_out), local (MV_NT) — with MV_NT = 1, global
 * n_out rounded up to the group width.  x rows [row0, row0 + n_rows). */

#define MV_ROWS 8

#define MV_ARGS                                                                                    \
    global const uchar *w, ulong w_off, ulong w_row, int n_in, int n_out, global const uchar *xb,  \
    ulong x_off, global const float *xd, global const float *xs, int row0, int n_rows,             \
    global const uchar *bb, ulong b_off, int has_bias, global uchar *yb, ulong y_off

/* Items per output row: WG on GPUs (a work-group per row, reduced in local
 * memory), 1 on CPU devices (a work-item per row: PoCL vectorizes across
 * work-items, and barriers cost more than they save there). */
#ifndef MV_NT
#define MV_NT WG
#endif

#if MV_NT > 1
#define MV_BEGIN                                                                                   \
    local float red[MV_ROWS * MV_NT];                                                              \
    const int o = get_group_id(0), lid = get_local_id(0);                                          \
    (void)x_off, (void)xd, (void)xs; /* one signature for every type */                            \
    global const uchar *row = w + w_off + (size_t)o * w_row;                                       \
    float acc[MV_ROWS];                                                                            \
    for (int r = 0; r < MV_ROWS; r++)                                                              \
        acc[r] = 0.0f;
#define MV_END mv_store(acc, red, lid, o, n_out, row0, n_rows, bb, b_off, has_bias, yb, y_off);
#else
#define MV_BEGIN                                                                                   \
    const int o = get_global_id(0), lid = 0;                                                       \
    (void)lid, (void)x_off, (void)xd, (void)xs; /* one signature for every type */                 \
    if (o >= n_out)                                                                                \
        return;                                                                                    \
    global const uchar *row = w + w_off + (size_t)o * w_row;                                       \
    float acc[MV_ROWS];                                                                            \
    for (int r = 0; r < MV_ROWS; r++)                                                              \
        acc[r] = 0.0f;
#define MV_END mv_store_direct(acc, o, n_out, row0, n_rows, bb, b_off, has_bias, yb, y_off);
#endif

/* for every activation row r of the launch: the body (r is in scope) */
#define FOR_ROWS(...)                                                                              \
    _Pragma("unroll") for (int r = 0; r < MV_ROWS; r++) if (r < n_rows) { __VA_ARGS__ }

inline void
mv_store_direct(float *acc, int o, int n_out, int row0, int n_rows, global const uchar *bb, ulong b_off,
                int has_bias, global uchar *yb, ulong y_off)
{
    float bias = has_bias ? ((global const float *)(bb + b_off))[o] : 0.0f;
    for (int r = 0; r < n_rows; r++)
        ((global float *)(yb + y_off))[(size_t)(row0 + r) * n_out + o] = has_bias ? acc[r] + bias : acc[r];
}

#if MV_NT > 1
inline void
mv_store(float *acc, local float *red, int lid, int o, int n_out, int row0, int n_rows, global const uchar *bb,
         ulong b_off, int has_bias, global uchar *yb, ulong y_off)
{
    for (int r = 0; r < n_rows; r++)
        red[r * MV_NT + lid] = acc[r];
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int s = MV_NT / 2; s > 0; s >>= 1) {
        if (lid < s)
            for (int r = 0; r < n_rows; r++)
                red[r * MV_NT + lid] += red[r * MV_NT + lid + s];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (lid < n_rows) {
        float v = red[lid * MV_NT];
        if (has_bias)
            v += ((global const float *)(bb + b_off))[o];
        ((global float *)(yb + y_off))[(size_t)(row0 + lid) * n_out + o] = v;
    }
}
#endif

inline int
hsum4(int4 v)
{
    return v.s0 + v.s1 + v.s2 + v.s3;
}

inline int
hsum8(int8 v)
{
    return hsum4(v.lo + v.hi);
}

inline int
hsum16(int16 v)
{
    return hsum8(v.lo + v.hi);
}

/* ---- float weights: activations F32 (as given), F16 or BF16 (rounded) ---- */

inline float
hsum_f8(float8 v)
{
    float4 a = v.lo + v.hi;
    return (a.s0 + a.s1) + (a.s2 + a.s3);
}

/* Units of 8 elements (vector loads), then the odd tail one by one. */
kernel void
mv_f32(MV_ARGS)
{
    MV_BEGIN
    global const float *wr = (global const float *)row;
    global const float *x = (global const float *)(xb + x_off) + (size_t)row0 * n_in;
    float8 acc8[MV_ROWS];
    for (int r = 0; r < MV_ROWS; r++)
        acc8[r] = (float8)0.0f;
    const int n8 = n_in / 8;
    for (int u = lid; u < n8; u += MV_NT) {
        float8 wv = vload8(u, wr);
        FOR_ROWS(acc8[r] += wv * vload8(u, x + (size_t)r * n_in);)
    }
    for (int i = n8 * 8 + lid; i < n_in; i += MV_NT) {
        float wv = wr[i];
        FOR_ROWS(acc[r] += wv * x[(size_t)r * n_in + i];)
    }
    FOR_ROWS(acc[r] += hsum_f8(acc8[r]);)
    MV_END
}

kernel void
mv_f16(MV_ARGS)
{
    MV_BEGIN
    global const half *wr = (global const half *)row;
    global const half *x = (global const half *)xb + (size_t)row0 * n_in;
    float8 acc8[MV_ROWS];
    for (int r = 0; r < MV_ROWS; r++)
        acc8[r] = (float8)0.0f;
    const int n8 = n_in / 8;
    for (int u = lid; u < n8; u += MV_NT) {
        float8 wv = vload_half8(u, wr);
        FOR_ROWS(acc8[r] += wv * vload_half8(u, x + (size_t)r * n_in);)
    }
    for (int i = n8 * 8 + lid; i < n_in; i += MV_NT) {
        float wv = vload_half(i, wr);
        FOR_ROWS(acc[r] += wv * vload_half((size_t)r * n_in + i, x);)
    }
    FOR_ROWS(acc[r] += hsum_f8(acc8[r]);)
    MV_END
}

inline float8
bf16x8(global const ushort *p)
{
    return as_float8(convert_uint8(vload8(0, p)) << 16);
}

kernel void
mv_bf16(MV_ARGS)
{
    MV_BEGIN
    global const ushort *wr = (global const ushort *)row;
    global const ushort *x = (global const ushort *)xb + (size_t)row0 * n_in;
    float8 acc8[MV_ROWS];
    for (int r = 0; r < MV_ROWS; r++)
        acc8[r] = (float8)0.0f;
    const int n8 = n_in / 8;
    for (int u = lid; u < n8; u += MV_NT) {
        float8 wv = bf16x8(wr + 8 * u);
        FOR_ROWS(acc8[r] += wv * bf16x8(x + (size_t)r * n_in + 8 * u);)
    }
    for (int i = n8 * 8 + lid; i < n_in; i += MV_NT) {
        float wv = bf16_to_f32(wr[i]);
        FOR_ROWS(acc[r] += wv * bf16_to_f32(x[(size_t)r * n_in + i]);)
    }
    FOR_ROWS(acc[r] += hsum_f8(acc8[r]);)
    MV_END
}

/* ---- 32-element blocks with Q8_0 / Q8_1 activations: 4 units per block ---- */

#define XQ(r) ((global const char *)xb + (size_t)(row0 + (r)) * n_in)
#define XD(r, nb, b) xd[(size_t)(row0 + (r)) * (nb) + (b)]
#define XS(r, nb, b) xs[(size_t)(row0 + (r)) * (nb) + (b)]

kernel void
mv_q8_0(MV_ARGS)
{
    MV_BEGIN
    const int nb = n_in / QK;
#if MV_NT == 1
    for (int b = 0; b < nb; b++) {
        global const uchar *blk = row + b * 34;
        float dw = ld_f16(blk);
        int16 w0 = convert_int16(vload16(0, (global const char *)(blk + 2)));
        int16 w1 = convert_int16(vload16(0, (global const char *)(blk + 18)));
        FOR_ROWS(
            global const char *x = XQ(r) + b * QK;
            int16 pr = w0 * convert_int16(vload16(0, x)) + w1 * convert_int16(vload16(0, x + 16));
            acc[r] += (float)hsum16(pr) * (dw * XD(r, nb, b));
        )
    }
#else
    for (int u = lid; u < nb * 4; u += MV_NT) {
        int b = u >> 2, p = u & 3;
        global const uchar *blk = row + b * 34;
        float dw = ld_f16(blk);
        int8 wv = convert_int8(vload8(0, (global const char *)(blk + 2 + 8 * p)));
        FOR_ROWS(
            int8 xv = convert_int8(vload8(0, XQ(r) + b * QK + 8 * p));
            acc[r] += (float)hsum8(wv * xv) * (dw * XD(r, nb, b));
        )
    }
#endif
    MV_END
}

/* Elements 4p…4p+3 (low nibbles) and 16+4p… (high nibbles) of a block. */
kernel void
mv_q4_0(MV_ARGS)
{
    MV_BEGIN
    const int nb = n_in / QK;
#if MV_NT == 1
    for (int b = 0; b < nb; b++) {
        global const uchar *blk = row + b * 18;
        float dw = ld_f16(blk);
        uchar16 q = vload16(0, blk + 2);
        int16 lo = convert_int16(q & (uchar16)15) - 8, hi = convert_int16(q >> (uchar16)4) - 8;
        FOR_ROWS(
            global const char *x = XQ(r) + b * QK;
            int sumi = hsum16(lo * convert_int16(vload16(0, x)) + hi * convert_int16(vload16(0, x + 16)));
            acc[r] += (float)sumi * (dw * XD(r, nb, b));
        )
    }
#else
    for (int u = lid; u < nb * 4; u += MV_NT) {
        int b = u >> 2, p = u & 3;
        global const uchar *blk = row + b * 18;
        float dw = ld_f16(blk);
        uchar4 qb = vload4(0, blk + 2 + 4 * p);
        int4 lo = convert_int4(qb & (uchar4)15) - 8, hi = convert_int4(qb >> (uchar4)4) - 8;
        FOR_ROWS(
            global const char *x = XQ(r) + b * QK + 4 * p;
            int sumi = hsum4(lo * convert_int4(vload4(0, x)) + hi * convert_int4(vload4(0, x + 16)));
            acc[r] += (float)sumi * (dw * XD(r, nb, b));
        )
    }
#endif
    MV_END
}

kernel void
mv_q4_1(MV_ARGS)
{
    MV_BEGIN
    const int nb = n_in / QK;
#if MV_NT == 1
    for (int b = 0; b < nb; b++) {
        global const uchar *blk = row + b * 20;
        float dw = ld_f16(blk), mw = ld_f16(blk + 2);
        uchar16 q = vload16(0, blk + 4);
        int16 lo = convert_int16(q & (uchar16)15), hi = convert_int16(q >> (uchar16)4);
        FOR_ROWS(
            global const char *x = XQ(r) + b * QK;
            int sumi = hsum16(lo * convert_int16(vload16(0, x)) + hi * convert_int16(vload16(0, x + 16)));
            acc[r] += (float)sumi * (dw * XD(r, nb, b)) + mw * XS(r, nb, b);
        )
    }
#else
    for (int u = lid; u < nb * 4; u += MV_NT) {
        int b = u >> 2, p = u & 3;
        global const uchar *blk = row + b * 20;
        float dw = ld_f16(blk), mw = ld_f16(blk + 2);
        uchar4 qb = vload4(0, blk + 4 + 4 * p);
        int4 lo = convert_int4(qb & (uchar4)15), hi = convert_int4(qb >> (uchar4)4);
        FOR_ROWS(
            global const char *x = XQ(r) + b * QK + 4 * p;
            int sumi = hsum4(lo * convert_int4(vload4(0, x)) + hi * convert_int4(vload4(0, x + 16)));
            float v = (float)sumi * (dw * XD(r, nb, b));
            acc[r] += p == 0 ? v + mw * XS(r, nb, b) : v;
        )
    }
#endif
    MV_END
}

/* Q5_0 / Q5_1: the fifth bits of elements j and j+16 are bits j, j+16 of qh. */
inline void
q5_unit(global const uchar *qs, uint qh, int p, int4 *lo, int4 *hi)
{
    uchar4 qb = vload4(0, qs + 4 * p);
    int4 j = (int4)(4 * p, 4 * p + 1, 4 * p + 2, 4 * p + 3);
    int4 hl = as_int4((((uint4)qh) >> as_uint4(j)) & (uint4)1);
    int4 hh = as_int4((((uint4)qh) >> as_uint4(j + 16)) & (uint4)1);
    *lo = convert_int4(qb & (uchar4)15) | (hl << 4);
    *hi = convert_int4(qb >> (uchar4)4) | (hh << 4);
}

kernel void
mv_q5_0(MV_ARGS)
{
    MV_BEGIN
    const int nb = n_in / QK;
#if MV_NT == 1
    const uint16 sh = (uint16)(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    for (int b = 0; b < nb; b++) {
        global const uchar *blk = row + b * 22;
        float dw = ld_f16(blk);
        uint qh = ld_u32(blk + 2);
        uchar16 q = vload16(0, blk + 6);
        int16 lo = (convert_int16(q & (uchar16)15) | as_int16((((uint16)qh >> sh) & (uint16)1) << 4)) - 16;
        int16 hi = (convert_int16(q >> (uchar16)4) | as_int16((((uint16)qh >> (sh + 16)) & (uint16)1) << 4)) - 16;
        FOR_ROWS(
            global const char *x = XQ(r) + b * QK;
            int sumi = hsum16(lo * convert_int16(vload16(0, x)) + hi * convert_int16(vload16(0, x + 16)));
            acc[r] += (float)sumi * (dw * XD(r, nb, b));
        )
    }
#else
    for (int u = lid; u < nb * 4; u += MV_NT) {
        int b = u >> 2, p = u & 3;
        global const uchar *blk = row + b * 22;
        float dw = ld_f16(blk);
        int4 lo, hi;
        q5_unit(blk + 6, ld_u32(blk + 2), p, &lo, &hi);
        lo -= 16;
        hi -= 16;
        FOR_ROWS(
            global const char *x = XQ(r) + b * QK + 4 * p;
            int sumi = hsum4(lo * convert_int4(vload4(0, x)) + hi * convert_int4(vload4(0, x + 16)));
            acc[r] += (float)sumi * (dw * XD(r, nb, b));
        )
    }
#endif
    MV_END
}

kernel void
mv_q5_1(MV_ARGS)
{
    MV_BEGIN
    const int nb = n_in / QK;
#if MV_NT == 1
    const uint16 sh = (uint16)(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    for (int b = 0; b < nb; b++) {
        global const uchar *blk = row + b * 24;
        float dw = ld_f16(blk), mw = ld_f16(blk + 2);
        uint qh = ld_u32(blk + 4);
        uchar16 q = vload16(0, blk + 8);
        int16 lo = convert_int16(q & (uchar16)15) | as_int16((((uint16)qh >> sh) & (uint16)1) << 4);
        int16 hi = convert_int16(q >> (uchar16)4) | as_int16((((uint16)qh >> (sh + 16)) & (uint16)1) << 4);
        FOR_ROWS(
            global const char *x = XQ(r) + b * QK;
            int sumi = hsum16(lo * convert_int16(vload16(0, x)) + hi * convert_int16(vload16(0, x + 16)));
            acc[r] += (float)sumi * (dw * XD(r, nb, b)) + mw * XS(r, nb, b);
        )
    }
#else
    for (int u = lid; u < nb * 4; u += MV_NT) {
        int b = u >> 2, p = u & 3;
        global const uchar *blk = row + b * 24;
        float dw = ld_f16(blk), mw = ld_f16(blk + 2);
        int4 lo, hi;
        q5_unit(blk + 8, ld_u32(blk + 4), p, &lo, &hi);
        FOR_ROWS(
            global const char *x = XQ(r) + b * QK + 4 * p;
            int sumi = hsum4(lo * convert_int4(vload4(0, x)) + hi * convert_int4(vload4(0, x + 16)));
            float v = (float)sumi * (dw * XD(r, nb, b));
            acc[r] += p == 0 ? v + mw * XS(r, nb, b) : v;
        )
    }
#endif
    MV_END
}

/* ---- K-quants with Q8_K activations: 16 units of 16 elements per block ---- */

/* Q4_K / Q5_K unit p: chunk c = p/4 of 64, nibble sub = p/2 % 2, half hf = p % 2;
 * its 16 elements start at 64c + 32sub + 16hf, which is bsums group p. */
kernel void
mv_q4_K(MV_ARGS)
{
    MV_BEGIN
    const int nb = n_in / QK_K;
#if MV_NT == 1
    for (int b = 0; b < nb; b++) {
        global const uchar *blk = row + b * 144;
        float dw = ld_f16(blk), mw = ld_f16(blk + 2);
        int sc[8], mn[8];
        for (int j = 0; j < 8; j++) {
            int2 sm = scale_min_k4(j, blk + 4);
            sc[j] = sm.x;
            mn[j] = sm.y;
        }
        int16 q[16];   /* sub-block j: q[2j], q[2j+1] */
        for (int c = 0; c < 4; c++)
            for (int h = 0; h < 2; h++) {
                uchar16 v = vload16(0, blk + 16 + 32 * c + 16 * h);
                q[4 * c + h] = convert_int16(v & (uchar16)15);
                q[4 * c + 2 + h] = convert_int16(v >> (uchar16)4);
            }
        FOR_ROWS(
            global const char *x = XQ(r) + b * QK_K;
            global const float *bs = xs + ((size_t)(row0 + r) * nb + b) * 16;
            int sumi = 0, mins = 0;
            for (int j = 0; j < 8; j++) {
                int16 pr = q[2 * j] * convert_int16(vload16(0, x + 32 * j)) +
                           q[2 * j + 1] * convert_int16(vload16(0, x + 32 * j + 16));
                sumi += sc[j] * hsum16(pr);
                mins += mn[j] * ((int)bs[2 * j] + (int)bs[2 * j + 1]);
            }
            float dx = XD(r, nb, b);
            acc[r] += (dw * dx) * (float)sumi - (mw * dx) * (float)mins;
        )
    }
#else
    for (int u = lid; u < nb * 16; u += MV_NT) {
        int b = u >> 4, p = u & 15, c = p >> 2, sub = (p >> 1) & 1, hf = p & 1;
        global const uchar *blk = row + b * 144;
        int2 sm = scale_min_k4(2 * c + sub, blk + 4);
        uchar16 qv = vload16(0, blk + 16 + 32 * c + 16 * hf);
        int16 q = convert_int16((qv >> (uchar16)(4 * sub)) & (uchar16)15);
        float dw = ld_f16(blk), mw = ld_f16(blk + 2);
        FOR_ROWS(
            int s = hsum16(q * convert_int16(vload16(0, XQ(r) + b * QK_K + 16 * p)));
            float dx = XD(r, nb, b);
            int bsum = (int)xs[((size_t)(row0 + r) * nb + b) * 16 + p];
            acc[r] += (dw * dx) * (float)(sm.x * s) - (mw * dx) * (float)(sm.y * bsum);
        )
    }
#endif
    MV_END
}

kernel void
mv_q5_K(MV_ARGS)
{
    MV_BEGIN
    const int nb = n_in / QK_K;
#if MV_NT == 1
    for (int b = 0; b < nb; b++) {
        global const uchar *blk = row + b * 176;
        float dw = ld_f16(blk), mw = ld_f16(blk + 2);
        int sc[8], mn[8];
        for (int j = 0; j < 8; j++) {
            int2 sm = scale_min_k4(j, blk + 4);
            sc[j] = sm.x;
            mn[j] = sm.y;
        }
        int16 q[16];
        for (int c = 0; c < 4; c++)
            for (int h = 0; h < 2; h++) {
                uchar16 v = vload16(0, blk + 48 + 32 * c + 16 * h);
                uchar16 hb = vload16(0, blk + 16 + 16 * h);
                q[4 * c + h] = convert_int16(v & (uchar16)15) |
                               (convert_int16((hb >> (uchar16)(2 * c)) & (uchar16)1) << 4);
                q[4 * c + 2 + h] = convert_int16(v >> (uchar16)4) |
                                   (convert_int16((hb >> (uchar16)(2 * c + 1)) & (uchar16)1) << 4);
            }
        FOR_ROWS(
            global const char *x = XQ(r) + b * QK_K;
            global const float *bs = xs + ((size_t)(row0 + r) * nb + b) * 16;
            int sumi = 0, mins = 0;
            for (int j = 0; j < 8; j++) {
                int16 pr = q[2 * j] * convert_int16(vload16(0, x + 32 * j)) +
                           q[2 * j + 1] * convert_int16(vload16(0, x + 32 * j + 16));
                sumi += sc[j] * hsum16(pr);
                mins += mn[j] * ((int)bs[2 * j] + (int)bs[2 * j + 1]);
            }
            float dx = XD(r, nb, b);
            acc[r] += (dw * dx) * (float)sumi - (mw * dx) * (float)mins;
        )
    }
#else
    for (int u = lid; u < nb * 16; u += MV_NT) {
        int b = u >> 4, p = u & 15, c = p >> 2, sub = (p >> 1) & 1, hf = p & 1;
        global const uchar *blk = row + b * 176;
        int2 sm = scale_min_k4(2 * c + sub, blk + 4);
        uchar16 qv = vload16(0, blk + 48 + 32 * c + 16 * hf);
        uchar16 hv = vload16(0, blk + 16 + 16 * hf);
        int16 q = convert_int16((qv >> (uchar16)(4 * sub)) & (uchar16)15) |
                  (convert_int16((hv >> (uchar16)(2 * c + sub)) & (uchar16)1) << 4);
        float dw = ld_f16(blk), mw = ld_f16(blk + 2);
        FOR_ROWS(
            int s = hsum16(q * convert_int16(vload16(0, XQ(r) + b * QK_K + 16 * p)));
            float dx = XD(r, nb, b);
            int bsum = (int)xs[((size_t)(row0 + r) * nb + b) * 16 + p];
            acc[r] += (dw * dx) * (float)(sm.x * s) - (mw * dx) * (float)(sm.y * bsum);
        )
    }
#endif
    MV_END
}

/* Q6_K unit p: half h = p/8 of 128, quarter k = p/2 % 4, group g = p % 2 of
 * 16 elements starting at 128h + 32k + 16g, with scale sc[8h + g + 2k]. */
kernel void
mv_q6_K(MV_ARGS)
{
    MV_BEGIN
    const int nb = n_in / QK_K;
#if MV_NT == 1
    for (int b = 0; b < nb; b++) {
        global const uchar *blk = row + b * 210;
        float dw = ld_f16(blk + 208);
        int16 q[16];   /* 16-element groups in element order; group k has scale sc[k] */
        int sc[16];
        for (int h = 0; h < 2; h++)
            for (int g = 0; g < 2; g++) {
                uchar16 la = vload16(0, blk + 64 * h + 16 * g), lb = vload16(0, blk + 64 * h + 32 + 16 * g);
                int16 hv = convert_int16(vload16(0, blk + 128 + 32 * h + 16 * g));
                int base = 8 * h + g;
                q[base + 0] = (convert_int16(la & (uchar16)15) | ((hv & 3) << 4)) - 32;
                q[base + 2] = (convert_int16(lb & (uchar16)15) | (((hv >> 2) & 3) << 4)) - 32;
                q[base + 4] = (convert_int16(la >> (uchar16)4) | (((hv >> 4) & 3) << 4)) - 32;
                q[base + 6] = (convert_int16(lb >> (uchar16)4) | (((hv >> 6) & 3) << 4)) - 32;
            }
        for (int k = 0; k < 16; k++)
            sc[k] = ((global const char *)blk)[192 + k];
        FOR_ROWS(
            global const char *x = XQ(r) + b * QK_K;
            int sumi = 0;
            for (int k = 0; k < 16; k++)
                sumi += sc[k] * hsum16(q[k] * convert_int16(vload16(k, x)));
            acc[r] += (dw * XD(r, nb, b)) * (float)sumi;
        )
    }
#else
    for (int u = lid; u < nb * 16; u += MV_NT) {
        int b = u >> 4, p = u & 15, h = p >> 3, k = (p >> 1) & 3, g = p & 1;
        global const uchar *blk = row + b * 210;
        uchar16 lv = vload16(0, blk + 64 * h + (k & 1) * 32 + 16 * g);
        uchar16 hv = vload16(0, blk + 128 + 32 * h + 16 * g);
        int16 q = (convert_int16((lv >> (uchar16)((k >> 1) * 4)) & (uchar16)15) |
                   (convert_int16((hv >> (uchar16)(2 * k)) & (uchar16)3) << 4)) - 32;
        int sc = ((global const char *)blk)[192 + 8 * h + g + 2 * k];
        float dw = ld_f16(blk + 208);
        FOR_ROWS(
            int s = hsum16(q * convert_int16(vload16(0, XQ(r) + b * QK_K + 128 * h + 32 * k + 16 * g)));
            acc[r] += (dw * XD(r, nb, b)) * (float)(sc * s);
        )
    }
#endif
    MV_END
}
