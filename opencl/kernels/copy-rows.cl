/* copy-rows.cl — F32 rows into an F32 or F16 matrix (the KV cache), F16
 * rounded to nearest even.  global (total). */
kernel void
copy_f32(global const uchar *sb, ulong s_off, global uchar *db, ulong d_off, int total)
{
    int i = get_global_id(0);
    if (i < total)
        ((global float *)(db + d_off))[i] = ((global const float *)(sb + s_off))[i];
}

kernel void
copy_f16(global const uchar *sb, ulong s_off, global uchar *db, ulong d_off, int total)
{
    int i = get_global_id(0);
    if (i < total)
        vstore_half_rte(((global const float *)(sb + s_off))[i], i, (global half *)(db + d_off));
}
