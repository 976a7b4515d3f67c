/* common.cl — prepended to every Squint OpenCL program: exact rounding
 * helpers and ggml's block layouts, byte for byte as engine/quant.h.
 *
 * Numerics: products that feed an addition are never fused (the CPU
 * reference rounds them first), float→half conversions round to nearest
 * even, and nothing is built with relaxed math.  Buffers are passed as bytes
 * plus a byte offset, so any sq_mat view works without sub-buffers. */
#pragma OPENCL FP_CONTRACT OFF

#ifndef WG
#define WG 64            /* work-group size of the reducing kernels */
#endif

#define QK   32
#define QK_K 256

/* ggml type ids (engine/ggml-type.h) */
#define T_F32  0
#define T_F16  1
#define T_Q4_0 2
#define T_Q4_1 3
#define T_Q5_0 6
#define T_Q5_1 7
#define T_Q8_0 8
#define T_Q4_K 12
#define T_Q5_K 13
#define T_Q6_K 14
#define T_BF16 30

/* ---- scalars ---- */

inline float
ld_f16(global const uchar *p)   /* 2-byte aligned */
{
    return vload_half(0, (global const half *)p);
}

inline float
f16_round(float v)               /* v rounded to the nearest half, as a float */
{
    ushort h;
    vstore_half_rte(v, 0, (half *)&h);
    return vload_half(0, (const half *)&h);
}

inline float
bf16_to_f32(ushort h)
{
    return as_float((uint)h << 16);
}

inline ushort
f32_to_bf16(float f)             /* llama.cpp's ggml_compute_fp32_to_bf16 */
{
    uint u = as_uint(f);
    if ((u & 0x7fffffffu) > 0x7f800000u)
        return (ushort)((u >> 16) | 0x40);
    return (ushort)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}

inline uint
ld_u32(global const uchar *p)    /* any alignment, little-endian */
{
    return (uint)p[0] | (uint)p[1] << 8 | (uint)p[2] << 16 | (uint)p[3] << 24;
}

/* The 6-bit scale (x) and min (y) of sub-block j of a Q4_K/Q5_K block. */
inline int2
scale_min_k4(int j, global const uchar *q)
{
    if (j < 4)
        return (int2)(q[j] & 63, q[j + 4] & 63);
    return (int2)((q[j + 4] & 15) | ((q[j - 4] >> 6) << 4), (q[j + 4] >> 4) | ((q[j] >> 6) << 4));
}

/* ---- dequantization of element i of a row (engine/quant.c) ---- */

inline float
dequant_at(int type, global const uchar *row, int i)
{
    switch (type) {
    case T_F32:
        return ((global const float *)row)[i];
    case T_F16:
        return vload_half(i, (global const half *)row);
    case T_BF16:
        return bf16_to_f32(((global const ushort *)row)[i]);
    case T_Q4_0: {
        global const uchar *b = row + (i / QK) * 18;
        int j = i % QK;
        int q = j < 16 ? (b[2 + j] & 15) : (b[2 + j - 16] >> 4);
        return (float)(q - 8) * ld_f16(b);
    }
    case T_Q4_1: {
        global const uchar *b = row + (i / QK) * 20;
        int j = i % QK;
        int q = j < 16 ? (b[4 + j] & 15) : (b[4 + j - 16] >> 4);
        return (float)q * ld_f16(b) + ld_f16(b + 2);
    }
    case T_Q5_0: {
        global const uchar *b = row + (i / QK) * 22;
        int j = i % QK;
        uint qh = ld_u32(b + 2);
        int q = (j < 16 ? (b[6 + j] & 15) : (b[6 + j - 16] >> 4)) | (int)((qh >> j) & 1) << 4;
        return (float)(q - 16) * ld_f16(b);
    }
    case T_Q5_1: {
        global const uchar *b = row + (i / QK) * 24;
        int j = i % QK;
        uint qh = ld_u32(b + 4);
        int q = (j < 16 ? (b[8 + j] & 15) : (b[8 + j - 16] >> 4)) | (int)((qh >> j) & 1) << 4;
        return (float)q * ld_f16(b) + ld_f16(b + 2);
    }
    case T_Q8_0: {
        global const uchar *b = row + (i / QK) * 34;
        return (float)((global const char *)b)[2 + i % QK] * ld_f16(b);
    }
    case T_Q4_K:
    case T_Q5_K: {
        bool five = type == T_Q5_K;
        global const uchar *b = row + (i / QK_K) * (five ? 176 : 144);
        int j = i % QK_K, c = j / 64, sub = (j / 32) & 1, l = j % 32;
        int2 sm = scale_min_k4(2 * c + sub, b + 4);
        int q = b[(five ? 48 : 16) + 32 * c + l];
        q = sub ? q >> 4 : q & 15;
        if (five)
            q += ((b[16 + l] >> (2 * c + sub)) & 1) << 4;
        float d = ld_f16(b) * (float)sm.x, m = ld_f16(b + 2) * (float)sm.y;
        return d * (float)q - m;
    }
    case T_Q6_K: {
        global const uchar *b = row + (i / QK_K) * 210;
        int j = i % QK_K, h = j / 128, k = (j % 128) / 32, l = j % 32;
        global const uchar *ql = b + 64 * h + (k & 1) * 32;
        int q = ((ql[l] >> ((k >> 1) * 4)) & 15) | ((b[128 + 32 * h + l] >> (2 * k)) & 3) << 4;
        int sc = ((global const char *)b)[192 + 8 * h + l / 16 + 2 * k];
        return ld_f16(b + 208) * (float)sc * (float)(q - 32);
    }
    default:
        return NAN;
    }
}
