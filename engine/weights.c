/* weights.c — tensor lookup, shape validation and upload. */
#include "weights.h"

#include <stdlib.h>

#include "quant.h"

static sq_status
remember(sq_weight_set *ws, sq_buf *b, sq_error *err)
{
    if (ws->n == ws->cap) {
        size_t cap = ws->cap ? ws->cap * 2 : 64;
        sq_buf **nb = realloc(ws->bufs, cap * sizeof *nb);
        if (!nb) {
            ws->be->ops->buf_free(ws->be, b);
            return sq_error_set(err, SQ_ERR_NOMEM, "out of memory loading weights");
        }
        ws->bufs = nb;
        ws->cap = cap;
    }
    ws->bufs[ws->n++] = b;
    return SQ_OK;
}

void
sq_weight_set_free(sq_weight_set *ws)
{
    for (size_t i = 0; i < ws->n; i++)
        ws->be->ops->buf_free(ws->be, ws->bufs[i]);
    free(ws->bufs);
    ws->bufs = NULL;
    ws->n = ws->cap = 0;
}

sq_status
sq_weight_bind(sq_weight_set *ws, const sq_gguf *g, const char *name, int64_t cols, int64_t rows,
               sq_mat *out, sq_error *err)
{
    const sq_gguf_tensor *t = sq_gguf_find_tensor(g, name);
    if (!t)
        return sq_error_set(err, SQ_ERR_NOT_FOUND, "tensor '%s' is missing", name);
    int64_t t_rows = t->ne[1] * t->ne[2] * t->ne[3];
    if ((cols >= 0 && t->ne[0] != cols) || (rows >= 0 && t_rows != rows))
        return sq_error_set(err, SQ_ERR_FORMAT,
                            "tensor '%s' has shape [%lld, %lld], expected [%lld, %lld]", name,
                            (long long)t->ne[0], (long long)t_rows, (long long)cols, (long long)rows);
    /* A matrix (rows > 1) is multiplied, so it needs a dot-product kernel;
     * a table or vector only needs to be readable. */
    const sq_quant_kernels *k = sq_quant_kernels_get();
    if (!k->dequantize[t->type] || (t_rows > 1 && !k->vec_dot[t->type]))
        return sq_error_set(err, SQ_ERR_UNSUPPORTED, "tensor '%s' has type %s, which Squint cannot compute with",
                            name, sq_type_get(t->type)->name);
    sq_buf *b = NULL;
    sq_status st = ws->be->ops->buf_from_host(ws->be, t->data, t->nbytes, &b, err);
    if (st != SQ_OK)
        return sq_error_prefix(err, "tensor '%s'", name);
    if ((st = remember(ws, b, err)) != SQ_OK)
        return st;
    *out = (sq_mat){ .buf = b, .offset = 0, .type = t->type, .cols = t->ne[0], .rows = t_rows };
    return SQ_OK;
}

sq_status
sq_weight_bind_vec(sq_weight_set *ws, const sq_gguf *g, const char *name, int64_t n, sq_mat *out,
                   sq_error *err)
{
    sq_status st = sq_weight_bind(ws, g, name, n, 1, out, err);
    if (st == SQ_OK && out->type != SQ_TYPE_F32)
        return sq_error_set(err, SQ_ERR_UNSUPPORTED, "tensor '%s' is %s; norms and biases must be F32", name,
                            sq_type_get(out->type)->name);
    return st;
}

sq_status
sq_weight_upload(sq_weight_set *ws, const void *data, sq_type type, int64_t cols, int64_t rows, sq_mat *out,
                 sq_error *err)
{
    sq_mat m;
    sq_status st = sq_mat_alloc(ws->be, type, cols, rows, &m, err);
    if (st != SQ_OK)
        return st;
    if ((st = remember(ws, m.buf, err)) != SQ_OK)
        return st;
    st = ws->be->ops->write(ws->be, m.buf, 0, data, sq_mat_bytes(&m), err);
    if (st == SQ_OK)
        *out = m;
    return st;
}
