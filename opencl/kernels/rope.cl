/* rope.cl — rotary position embedding in place, NEOX pairs (k, k + d/2) of
 * every head of a row (engine/cpu/cpu-ops.c sq_cpu_rope_row):
 *   M-RoPE  pair k of section s turns by pos[s] · θᵏ
 *   vision  the exponent restarts at each section: pos[s] · θ^(k − start(s))
 * θ^k is built by repeated multiplication, as ggml does, so the angles agree
 * with llama.cpp to the last bit.  pos: 4 blocks of n (component-major).
 * global (d/2 rounded up, n). */
kernel void
rope(global uchar *xb, ulong x_off, int stride, global const uchar *pb, ulong p_off, int n, int n_head, int head_dim,
     int s0, int s1, int s2, int vision, float theta_scale)
{
    int k = get_global_id(0), r = get_global_id(1), half_d = head_dim / 2;
    if (k >= half_d || r >= n)
        return;
    global const int *pos = (global const int *)(pb + p_off);
    int sec = k < s0 ? 0 : k < s1 ? 1 : k < s2 ? 2 : 3;
    int start = !vision || sec == 0 ? 0 : sec == 1 ? s0 : sec == 2 ? s1 : s2;
    float th = (float)pos[sec * n + r];
    for (int j = start; j < k; j++)
        th *= theta_scale;
    float cs = cos(th), sn = sin(th);
    global float *x = (global float *)(xb + x_off) + (size_t)r * stride;
    for (int h = 0; h < n_head; h++) {
        global float *v = x + h * head_dim;
        float a = v[k], b = v[k + half_d];
        v[k] = a * cs - b * sn;
        v[k + half_d] = a * sn + b * cs;
    }
}
