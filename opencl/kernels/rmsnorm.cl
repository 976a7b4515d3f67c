/* rmsnorm.cl — y = x / sqrt(mean(x²) + eps) · w per row; one work-group of
 * WG items per row, the sum of squares reduced in local memory.  y may be x:
 * every element is read before the barrier that precedes its write.
 * global (WG · rows), local (WG). */
kernel void
rmsnorm(global const uchar *xb, ulong x_off, global const uchar *wb, ulong w_off, global uchar *yb, ulong y_off,
        int n, float eps)
{
    local float red[WG];
    int row = get_group_id(0), lid = get_local_id(0);
    global const float *x = (global const float *)(xb + x_off) + (size_t)row * n;
    global const float *w = (global const float *)(wb + w_off);
    global float *y = (global float *)(yb + y_off) + (size_t)row * n;
    float s = 0.0f;
    for (int i = lid; i < n; i += WG)
        s += x[i] * x[i];
    red[lid] = s;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int k = WG / 2; k > 0; k >>= 1) {
        if (lid < k)
            red[lid] += red[lid + k];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    float scale = 1.0f / sqrt(red[0] / (float)n + eps);
    for (int i = lid; i < n; i += WG)
        y[i] = (x[i] * scale) * w[i];
}
