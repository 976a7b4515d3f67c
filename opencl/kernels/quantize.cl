/* quantize.cl — activations rounded to the weight type's vec_dot type, the
 * way llama.cpp's x86 CPU backend rounds them (engine/quant.c):
 *   Q8_0 / Q8_1  d = amax/127, q = round-half-even(x · 127/amax)
 *   Q8_K         iscale = -127/max (signed extreme), q = the exact product
 *                rounded half to even (GCC's FMA contraction), d = 1/iscale
 *   F16 / BF16   round to nearest even
 * Layout on the device (private to this backend): quants as one char array
 * (rows × n), scales as floats per block, and per-block extras as floats:
 * Q8_1's s = d·Σq, Q8_K's sixteen bsums.  expand_* turn them back into the
 * floats the quantized values stand for (the CLBlast GEMM path). */

/* One work-item per 32-element block; global (n/32, rows). */
kernel void
quantize_q8_0(global const uchar *xb, ulong x_off, int n, global char *q, global float *d, global float *s,
              int with_sum)
{
    int b = get_global_id(0), r = get_global_id(1), nb = n / QK;
    if (b >= nb)
        return;
    global const float *x = (global const float *)(xb + x_off) + (size_t)r * n + b * QK;
    global char *qo = q + (size_t)r * n + b * QK;
    float amax = 0.0f;
    for (int j = 0; j < QK; j++)
        amax = fmax(amax, fabs(x[j]));
    float id = amax != 0.0f ? 127.0f / amax : 0.0f;
    int sum = 0;
    for (int j = 0; j < QK; j++) {
        int v = (int)rint(x[j] * id);
        qo[j] = (char)v;
        sum += v;
    }
    float dd = amax / 127.0f;
    d[(size_t)r * nb + b] = f16_round(dd);
    if (with_sum)
        s[(size_t)r * nb + b] = f16_round(dd * (float)sum);
}

/* One work-item per 256-element super-block; global (n/256, rows). */
kernel void
quantize_q8_K(global const uchar *xb, ulong x_off, int n, global char *q, global float *d, global float *bsums)
{
    int b = get_global_id(0), r = get_global_id(1), nb = n / QK_K;
    if (b >= nb)
        return;
    global const float *x = (global const float *)(xb + x_off) + (size_t)r * n + b * QK_K;
    global char *qo = q + (size_t)r * n + b * QK_K;
    global float *bs = bsums + ((size_t)r * nb + b) * 16;
    float amax = 0.0f, mx = 0.0f;
    for (int j = 0; j < QK_K; j++) {
        float ax = fabs(x[j]);
        if (ax > amax) {
            amax = ax;
            mx = x[j];
        }
    }
    if (amax == 0.0f) {
        for (int j = 0; j < QK_K; j++)
            qo[j] = 0;
        for (int g = 0; g < 16; g++)
            bs[g] = 0.0f;
        d[(size_t)r * nb + b] = 0.0f;
        return;
    }
    float iscale = -127.0f / mx;
    for (int g = 0; g < 16; g++) {
        int sum = 0;
        for (int l = 0; l < 16; l++) {
            /* fma rounds iscale·x + 1.5·2²³ once: the exact product rounded
             * half to even lands in the low mantissa bits. */
            int v = (as_int(fma(iscale, x[16 * g + l], 12582912.0f)) & 0x007fffff) - 0x00400000;
            v = min(v, 127);
            qo[16 * g + l] = (char)v;
            sum += v;
        }
        bs[g] = (float)sum;
    }
    d[(size_t)r * nb + b] = 1.0f / iscale;
}

/* F16 / BF16 activations; global (n·rows). */
kernel void
quantize_f16(global const uchar *xb, ulong x_off, int total, global ushort *out)
{
    int i = get_global_id(0);
    if (i < total)
        vstore_half_rte(((global const float *)(xb + x_off))[i], i, (global half *)out);
}

kernel void
quantize_bf16(global const uchar *xb, ulong x_off, int total, global ushort *out)
{
    int i = get_global_id(0);
    if (i < total)
        out[i] = f32_to_bf16(((global const float *)(xb + x_off))[i]);
}

/* out[i] = q[i] · d[i / block]; global (total). */
kernel void
expand_q8(global const char *q, global const float *d, int block, int total, global float *out)
{
    int i = get_global_id(0);
    if (i < total)
        out[i] = (float)q[i] * d[i / block];
}

kernel void
expand_f16(global const ushort *h, int total, global float *out)
{
    int i = get_global_id(0);
    if (i < total)
        out[i] = vload_half(i, (global const half *)h);
}

kernel void
expand_bf16(global const ushort *h, int total, global float *out)
{
    int i = get_global_id(0);
    if (i < total)
        out[i] = bf16_to_f32(h[i]);
}
