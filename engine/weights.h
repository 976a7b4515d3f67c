/* weights.h — binding GGUF tensors to backend matrices with shape checks. */
#pragma once

#include "backend.h"
#include "gguf.h"

/* Every buffer a model's weights live in, freed together. */
typedef struct {
    sq_backend *be;
    sq_buf    **bufs;
    size_t      n, cap;
} sq_weight_set;

void sq_weight_set_free(sq_weight_set *ws);

/* Binds tensor `name` as a matrix of `cols` × `rows` (rows = ne1·ne2·ne3).
 * cols/rows of -1 accept any size.  Missing tensors, wrong shapes and types
 * no kernel handles are reported with the tensor's name. */
sq_status sq_weight_bind(sq_weight_set *ws, const sq_gguf *g, const char *name, int64_t cols,
                         int64_t rows, sq_mat *out, sq_error *err);

/* The same for a 1-D F32 vector (norm weights, biases) of n elements. */
sq_status sq_weight_bind_vec(sq_weight_set *ws, const sq_gguf *g, const char *name, int64_t n,
                             sq_mat *out, sq_error *err);

/* Uploads bytes computed at load time (owned by the set afterwards). */
sq_status sq_weight_upload(sq_weight_set *ws, const void *data, sq_type type, int64_t cols, int64_t rows,
                           sq_mat *out, sq_error *err);
