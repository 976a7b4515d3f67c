/* add.cl — out = a + b; out may alias either input.  global (total). */
kernel void
add(global const uchar *ab, ulong a_off, global const uchar *bb, ulong b_off, global uchar *ob, ulong o_off,
    int total)
{
    int i = get_global_id(0);
    if (i < total)
        ((global float *)(ob + o_off))[i] =
            ((global const float *)(ab + a_off))[i] + ((global const float *)(bb + b_off))[i];
}
