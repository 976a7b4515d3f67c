/* get-rows.cl — out[r] = dequantized row ids[r] of the table (any type),
 * the embedding lookup.  Ids were range-checked on the host.
 * global (cols rounded up, n). */
kernel void
get_rows(int type, global const uchar *t, ulong t_off, ulong t_row, int cols, global const int *ids, int n,
         global uchar *ob, ulong o_off)
{
    int i = get_global_id(0), r = get_global_id(1);
    if (i >= cols || r >= n)
        return;
    global float *out = (global float *)(ob + o_off);
    out[(size_t)r * cols + i] = dequant_at(type, t + t_off + (size_t)ids[r] * t_row, i);
}
