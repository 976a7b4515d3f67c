/* backend.c — helpers shared by every backend. */
#include "backend.h"

sq_status
sq_mat_alloc(sq_backend *be, sq_type type, int64_t cols, int64_t rows, sq_mat *out, sq_error *err)
{
    size_t row = sq_type_row_size(type, cols);
    if (row == 0 || rows <= 0 || (size_t)rows > SIZE_MAX / row)
        return sq_error_set(err, SQ_ERR_INVALID_ARG, "cannot allocate a %lld × %lld %s matrix",
                            (long long)rows, (long long)cols,
                            sq_type_get(type) ? sq_type_get(type)->name : "?");
    *out = (sq_mat){ .type = type, .cols = cols, .rows = rows };
    return be->ops->buf_alloc(be, row * (size_t)rows, &out->buf, err);
}

void
sq_mat_free(sq_backend *be, sq_mat *m)
{
    if (m && m->buf) {
        be->ops->buf_free(be, m->buf);
        m->buf = NULL;
    }
}

/* ---- argument checks ---- */

#define TRY_CHECK(m, what)                                    \
    do {                                                      \
        sq_status st_ = sq_check_mat(be, (m), (what), err);   \
        if (st_ != SQ_OK)                                     \
            return st_;                                       \
    } while (0)

sq_status
sq_check_mat(const sq_backend *be, const sq_mat *m, const char *what, sq_error *err)
{
    if (!m || !m->buf)
        return sq_error_set(err, SQ_ERR_INVALID_ARG, "%s: no buffer", what);
    /* A row that is not a whole number of blocks has no size: refuse it
     * rather than address every row at offset 0. */
    if (m->cols < 0 || m->rows < 0 || (m->cols > 0 && sq_type_row_size(m->type, m->cols) == 0))
        return sq_error_set(err, SQ_ERR_INVALID_ARG, "%s: %lld columns are not a whole number of %s blocks", what,
                            (long long)m->cols, sq_type_get(m->type) ? sq_type_get(m->type)->name : "?");
    size_t bytes = sq_mat_bytes(m), size = be->ops->buf_size(m->buf);
    if (m->offset > size || bytes > size - m->offset)
        return sq_error_set(err, SQ_ERR_INVALID_ARG, "%s: view [%zu, +%zu) exceeds its %zu-byte buffer", what,
                            m->offset, bytes, size);
    return SQ_OK;
}

sq_status
sq_check_matmul(const sq_backend *be, const sq_mat *w, const sq_mat *x, const sq_mat *bias, const sq_mat *y,
                sq_error *err)
{
    TRY_CHECK(w, "matmul weight");
    TRY_CHECK(x, "matmul input");
    TRY_CHECK(y, "matmul output");
    if (bias)
        TRY_CHECK(bias, "matmul bias");
    if (x->type != SQ_TYPE_F32 || y->type != SQ_TYPE_F32 || x->cols != w->cols || y->cols != w->rows ||
        y->rows != x->rows || (bias && (bias->type != SQ_TYPE_F32 || bias->cols * bias->rows != w->rows)))
        return sq_error_set(err, SQ_ERR_INVALID_ARG, "matmul shapes: W %lld×%lld, x %lld×%lld, y %lld×%lld",
                            (long long)w->rows, (long long)w->cols, (long long)x->rows, (long long)x->cols,
                            (long long)y->rows, (long long)y->cols);
    return SQ_OK;
}

sq_status
sq_check_rmsnorm(const sq_backend *be, const sq_mat *x, const sq_mat *w, const sq_mat *y, sq_error *err)
{
    TRY_CHECK(x, "rmsnorm input");
    TRY_CHECK(w, "rmsnorm weight");
    TRY_CHECK(y, "rmsnorm output");
    if (x->type != SQ_TYPE_F32 || w->type != SQ_TYPE_F32 || y->type != SQ_TYPE_F32 ||
        w->cols * w->rows != x->cols || y->cols != x->cols || y->rows != x->rows)
        return sq_error_set(err, SQ_ERR_INVALID_ARG, "rmsnorm shapes do not match");
    return SQ_OK;
}

sq_status
sq_check_rope(const sq_backend *be, const sq_mat *x, const sq_mat *pos, const sq_rope_params *p, sq_error *err)
{
    TRY_CHECK(x, "rope input");
    TRY_CHECK(pos, "rope positions");
    int sum = p->sections[0] + p->sections[1] + p->sections[2] + p->sections[3];
    if (x->type != SQ_TYPE_F32 || pos->type != SQ_TYPE_I32 || pos->cols * pos->rows != 4 * x->rows ||
        p->n_head <= 0 || p->head_dim <= 0 || p->head_dim > 1024 || p->head_dim % 2 != 0 ||
        x->cols != (int64_t)p->n_head * p->head_dim || sum != p->head_dim / 2 || p->sections[0] < 0 ||
        p->sections[1] < 0 || p->sections[2] < 0 || p->sections[3] < 0)
        return sq_error_set(err, SQ_ERR_INVALID_ARG, "rope: shapes or sections do not match");
    return SQ_OK;
}

sq_status
sq_check_attention(const sq_backend *be, const sq_mat *q, const sq_mat *k, const sq_mat *v,
                   const sq_attn_params *p, const sq_mat *out, sq_error *err)
{
    TRY_CHECK(q, "attention q");
    TRY_CHECK(k, "attention k");
    TRY_CHECK(v, "attention v");
    TRY_CHECK(out, "attention output");
    int64_t qw = (int64_t)p->n_head * p->head_dim, kw = (int64_t)p->n_head_kv * p->head_dim;
    if (p->n_head <= 0 || p->head_dim <= 0 || p->n_head_kv <= 0 || p->n_head % p->n_head_kv != 0 ||
        p->q_offset < 0 || q->type != SQ_TYPE_F32 ||
        q->cols != qw || k->cols != kw || v->cols != kw || k->rows != v->rows || k->type != v->type ||
        (k->type != SQ_TYPE_F32 && k->type != SQ_TYPE_F16) || out->type != SQ_TYPE_F32 || out->cols != qw ||
        out->rows != q->rows)
        return sq_error_set(err, SQ_ERR_INVALID_ARG, "attention: shapes or types do not match");
    if (p->mask == SQ_MASK_WINDOW) {
        if (!p->window_ids || p->window_ids->type != SQ_TYPE_I32 ||
            p->window_ids->cols * p->window_ids->rows != k->rows || q->rows != k->rows)
            return sq_error_set(err, SQ_ERR_INVALID_ARG, "attention: window ids do not match the sequence");
        TRY_CHECK(p->window_ids, "attention window ids");
    }
    if (p->mask == SQ_MASK_CAUSAL && p->q_offset + q->rows > k->rows)
        return sq_error_set(err, SQ_ERR_INVALID_ARG, "attention: queries run past the keys");
    return SQ_OK;
}

sq_status
sq_check_copy_rows(const sq_backend *be, const sq_mat *src, const sq_mat *dst, int64_t row0, sq_error *err)
{
    TRY_CHECK(src, "copy source");
    TRY_CHECK(dst, "copy destination");
    if (src->type != SQ_TYPE_F32 || src->cols != dst->cols || row0 < 0 || row0 + src->rows > dst->rows ||
        (dst->type != SQ_TYPE_F32 && dst->type != SQ_TYPE_F16))
        return sq_error_set(err, SQ_ERR_INVALID_ARG, "copy_rows: shapes or types do not match");
    return SQ_OK;
}

sq_status
sq_check_elementwise(const sq_backend *be, const sq_mat *a, const sq_mat *b, const sq_mat *out, sq_error *err)
{
    TRY_CHECK(a, "element-wise input");
    TRY_CHECK(out, "element-wise output");
    if (b)
        TRY_CHECK(b, "element-wise input");
    int64_t n = a->cols * a->rows;
    if (a->type != SQ_TYPE_F32 || out->type != SQ_TYPE_F32 || out->cols * out->rows != n ||
        (b && (b->type != SQ_TYPE_F32 || b->cols * b->rows != n)))
        return sq_error_set(err, SQ_ERR_INVALID_ARG, "element-wise op: shapes or types do not match");
    return SQ_OK;
}

sq_status
sq_check_get_rows(const sq_backend *be, const sq_mat *table, const int32_t *ids, int64_t n, const sq_mat *out,
                  sq_error *err)
{
    TRY_CHECK(table, "embedding table");
    TRY_CHECK(out, "get_rows output");
    if (out->type != SQ_TYPE_F32 || out->cols != table->cols || out->rows != n)
        return sq_error_set(err, SQ_ERR_INVALID_ARG, "get_rows: shapes do not match");
    for (int64_t i = 0; i < n; i++)
        if (ids[i] < 0 || ids[i] >= table->rows)
            return sq_error_set(err, SQ_ERR_INVALID_ARG, "token id %d outside the vocabulary of %lld", ids[i],
                                (long long)table->rows);
    return SQ_OK;
}
