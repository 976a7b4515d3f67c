/* gelu.cl — GELU, exact (erf, what Hugging Face computes) or the tanh
 * approximation; out may alias x.  global (total). */
kernel void
gelu(global const uchar *xb, ulong x_off, global uchar *ob, ulong o_off, int total, int use_tanh)
{
    int i = get_global_id(0);
    if (i >= total)
        return;
    float x = ((global const float *)(xb + x_off))[i];
    float y;
    if (use_tanh)
        y = 0.5f * x * (1.0f + tanh(0.79788456080286535587989211986876f * x * (1.0f + 0.044715f * x * x)));
    else
        y = 0.5f * x * (1.0f + erf(x * M_SQRT1_2_F));
    ((global float *)(ob + o_off))[i] = y;
}
