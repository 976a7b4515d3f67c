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
