/* silu-mul.cl — out = silu(gate) ⊙ up; out may alias either input.
 * global (total). */
kernel void
silu_mul(global const uchar *gb, ulong g_off, global const uchar *ub, ulong u_off, global uchar *ob, ulong o_off,
         int total)
{
    int i = get_global_id(0);
    if (i >= total)
        return;
    float g = ((global const float *)(gb + g_off))[i];
    float u = ((global const float *)(ub + u_off))[i];
    ((global float *)(ob + o_off))[i] = g / (1.0f + exp(-g)) * u;
}
