/* dequant.cl — weight rows [o0, o0 + n) expanded to F32 (row-major n × n_in)
 * for the CLBlast GEMM path: exactly the values engine/quant.c's
 * dequantizers produce.  global (n_in rounded up, n). */
kernel void
dequant_rows(int type, global const uchar *w, ulong w_off, ulong w_row, int n_in, int o0, int n, global float *out)
{
    int i = get_global_id(0), r = get_global_id(1);
    if (i >= n_in || r >= n)
        return;
    out[(size_t)r * n_in + i] = dequant_at(type, w + w_off + (size_t)(o0 + r) * w_row, i);
}

/* y[r][o] += bias[o] over rows × n_out; global (n_out rounded up, rows). */
kernel void
add_bias(global uchar *yb, ulong y_off, global const uchar *bb, ulong b_off, int n_out, int rows)
{
    int o = get_global_id(0), r = get_global_id(1);
    if (o >= n_out || r >= rows)
        return;
    global float *y = (global float *)(yb + y_off);
    y[(size_t)r * n_out + o] += ((global const float *)(bb + b_off))[o];
}
