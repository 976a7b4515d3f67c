/* gguf-writer.c — writes GGUF v3 files the way llama.cpp's gguf-py does:
 * header, key/value pairs, tensor infos, padding, tensors each padded to the
 * alignment.  Used by tests and by the tools that make small models.
 *
 * Setters never fail on their own: the first problem (out of memory, a
 * duplicate key or tensor, a bad shape) is remembered and reported by
 * sq_gguf_writer_write, which keeps call sites short.
 */
#include "gguf.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct {
    uint8_t *data;
    size_t   len, cap;
    bool     failed;
} bytes;

typedef struct {
    char    *name;
    sq_type  type;
    uint32_t n_dims;
    int64_t  ne[SQ_GGUF_MAX_DIMS];
    void    *data;
    size_t   nbytes;
} wtensor;

struct sq_gguf_writer {
    bytes     kv;          /* serialized key/value pairs */
    uint64_t  n_kv;
    char    **keys;        /* to detect duplicates */
    wtensor  *tensors;
    uint64_t  n_tensors, cap_tensors;
    uint32_t  alignment;
    sq_status status;      /* first failure, reported at write time */
    char      problem[256];
};

static void
fail(sq_gguf_writer *w, sq_status st, const char *fmt, const char *name)
{
    if (w->status != SQ_OK)
        return;
    w->status = st;
    snprintf(w->problem, sizeof w->problem, fmt, name);
}

static void
put(bytes *b, const void *p, size_t n)
{
    if (b->failed)
        return;
    if (n > b->cap - b->len) {
        size_t cap = b->cap ? b->cap : 256;
        while (n > cap - b->len) {
            if (cap > SIZE_MAX / 2) {
                b->failed = true;
                return;
            }
            cap *= 2;
        }
        uint8_t *d = realloc(b->data, cap);
        if (!d) {
            b->failed = true;
            return;
        }
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

static void
put_zeros(bytes *b, size_t n)
{
    static const uint8_t zeros[256];
    while (n > 0) {
        size_t k = n < sizeof zeros ? n : sizeof zeros;
        put(b, zeros, k);
        n -= k;
    }
}

static void put_u32(bytes *b, uint32_t v) { put(b, &v, 4); }
static void put_u64(bytes *b, uint64_t v) { put(b, &v, 8); }

static void
put_str(bytes *b, const char *s)
{
    size_t n = strlen(s);
    put_u64(b, n);
    put(b, s, n);
}

sq_gguf_writer *
sq_gguf_writer_new(void)
{
    sq_gguf_writer *w = calloc(1, sizeof *w);
    if (w)
        w->alignment = SQ_GGUF_DEFAULT_ALIGNMENT;
    return w;
}

void
sq_gguf_writer_free(sq_gguf_writer *w)
{
    if (!w)
        return;
    for (uint64_t i = 0; i < w->n_kv; i++)
        free(w->keys[i]);
    for (uint64_t i = 0; i < w->n_tensors; i++) {
        free(w->tensors[i].name);
        free(w->tensors[i].data);
    }
    free(w->keys);
    free(w->tensors);
    free(w->kv.data);
    free(w);
}

/* Starts a pair: records the key and writes key + type. */
static bool
begin_kv(sq_gguf_writer *w, const char *key, sq_gguf_type type)
{
    for (uint64_t i = 0; i < w->n_kv; i++) {
        if (strcmp(w->keys[i], key) == 0) {
            fail(w, SQ_ERR_INVALID_ARG, "metadata key '%s' set twice", key);
            return false;
        }
    }
    char **keys = realloc(w->keys, (size_t)(w->n_kv + 1) * sizeof *keys);
    char *copy = strdup(key);
    if (!keys || !copy) {
        if (keys)
            w->keys = keys;
        free(copy);
        fail(w, SQ_ERR_NOMEM, "out of memory adding '%s'", key);
        return false;
    }
    w->keys = keys;
    w->keys[w->n_kv++] = copy;
    put_str(&w->kv, key);
    put_u32(&w->kv, (uint32_t)type);
    return true;
}

static void
set_scalar(sq_gguf_writer *w, const char *key, sq_gguf_type type, const void *v, size_t n)
{
    if (begin_kv(w, key, type))
        put(&w->kv, v, n);
}

void sq_gguf_writer_set_u8(sq_gguf_writer *w, const char *k, uint8_t v) { set_scalar(w, k, SQ_GGUF_UINT8, &v, 1); }
void sq_gguf_writer_set_i8(sq_gguf_writer *w, const char *k, int8_t v) { set_scalar(w, k, SQ_GGUF_INT8, &v, 1); }
void sq_gguf_writer_set_u16(sq_gguf_writer *w, const char *k, uint16_t v) { set_scalar(w, k, SQ_GGUF_UINT16, &v, 2); }
void sq_gguf_writer_set_i16(sq_gguf_writer *w, const char *k, int16_t v) { set_scalar(w, k, SQ_GGUF_INT16, &v, 2); }
void sq_gguf_writer_set_u32(sq_gguf_writer *w, const char *k, uint32_t v) { set_scalar(w, k, SQ_GGUF_UINT32, &v, 4); }
void sq_gguf_writer_set_i32(sq_gguf_writer *w, const char *k, int32_t v) { set_scalar(w, k, SQ_GGUF_INT32, &v, 4); }
void sq_gguf_writer_set_u64(sq_gguf_writer *w, const char *k, uint64_t v) { set_scalar(w, k, SQ_GGUF_UINT64, &v, 8); }
void sq_gguf_writer_set_i64(sq_gguf_writer *w, const char *k, int64_t v) { set_scalar(w, k, SQ_GGUF_INT64, &v, 8); }
void sq_gguf_writer_set_f32(sq_gguf_writer *w, const char *k, float v) { set_scalar(w, k, SQ_GGUF_FLOAT32, &v, 4); }
void sq_gguf_writer_set_f64(sq_gguf_writer *w, const char *k, double v) { set_scalar(w, k, SQ_GGUF_FLOAT64, &v, 8); }

void
sq_gguf_writer_set_bool(sq_gguf_writer *w, const char *key, bool v)
{
    uint8_t b = v ? 1 : 0;
    set_scalar(w, key, SQ_GGUF_BOOL, &b, 1);
}

void
sq_gguf_writer_set_str(sq_gguf_writer *w, const char *key, const char *v)
{
    if (begin_kv(w, key, SQ_GGUF_STRING))
        put_str(&w->kv, v);
}

void
sq_gguf_writer_set_alignment(sq_gguf_writer *w, uint32_t alignment)
{
    if (alignment == 0 || (alignment & (alignment - 1)) != 0) {
        fail(w, SQ_ERR_INVALID_ARG, "%s: alignment is not a power of two", "general.alignment");
        return;
    }
    w->alignment = alignment;
    sq_gguf_writer_set_u32(w, "general.alignment", alignment);
}

static size_t
elem_size(sq_gguf_type t)
{
    switch (t) {
    case SQ_GGUF_UINT8: case SQ_GGUF_INT8: case SQ_GGUF_BOOL: return 1;
    case SQ_GGUF_UINT16: case SQ_GGUF_INT16: return 2;
    case SQ_GGUF_UINT32: case SQ_GGUF_INT32: case SQ_GGUF_FLOAT32: return 4;
    case SQ_GGUF_UINT64: case SQ_GGUF_INT64: case SQ_GGUF_FLOAT64: return 8;
    default: return 0;
    }
}

void
sq_gguf_writer_set_array(sq_gguf_writer *w, const char *key, sq_gguf_type elem_type,
                         const void *data, uint64_t count)
{
    size_t esz = elem_size(elem_type);
    if (esz == 0) {
        fail(w, SQ_ERR_INVALID_ARG, "array '%s': use set_str_array for strings; nested arrays are not written", key);
        return;
    }
    if (!begin_kv(w, key, SQ_GGUF_ARRAY))
        return;
    put_u32(&w->kv, (uint32_t)elem_type);
    put_u64(&w->kv, count);
    put(&w->kv, data, (size_t)count * esz);
}

void
sq_gguf_writer_set_str_array(sq_gguf_writer *w, const char *key, const char *const *strs,
                             uint64_t count)
{
    if (!begin_kv(w, key, SQ_GGUF_ARRAY))
        return;
    put_u32(&w->kv, SQ_GGUF_STRING);
    put_u64(&w->kv, count);
    for (uint64_t i = 0; i < count; i++)
        put_str(&w->kv, strs[i]);
}

void
sq_gguf_writer_add_tensor(sq_gguf_writer *w, const char *name, sq_type type, uint32_t n_dims,
                          const int64_t *ne, const void *data)
{
    const sq_type_info *info = sq_type_get((uint32_t)type);
    if (!info || n_dims == 0 || n_dims > SQ_GGUF_MAX_DIMS || strlen(name) >= 64) {
        fail(w, SQ_ERR_INVALID_ARG, "tensor '%s': bad type, dimension count or name", name);
        return;
    }
    for (uint64_t i = 0; i < w->n_tensors; i++) {
        if (strcmp(w->tensors[i].name, name) == 0) {
            fail(w, SQ_ERR_INVALID_ARG, "tensor '%s' added twice", name);
            return;
        }
    }
    wtensor t = { .type = type, .n_dims = n_dims, .ne = { 1, 1, 1, 1 } };
    for (uint32_t d = 0; d < n_dims; d++)
        t.ne[d] = ne[d];
    size_t row = sq_type_row_size(type, t.ne[0]);
    if (row == 0 && t.ne[0] != 0) {
        fail(w, SQ_ERR_INVALID_ARG, "tensor '%s': row length is not a whole number of blocks", name);
        return;
    }
    t.nbytes = row * (size_t)(t.ne[1] * t.ne[2] * t.ne[3]);
    if (w->n_tensors == w->cap_tensors) {
        uint64_t cap = w->cap_tensors ? 2 * w->cap_tensors : 16;
        wtensor *nt = realloc(w->tensors, (size_t)cap * sizeof *nt);
        if (!nt) {
            fail(w, SQ_ERR_NOMEM, "out of memory adding tensor '%s'", name);
            return;
        }
        w->tensors = nt;
        w->cap_tensors = cap;
    }
    t.name = strdup(name);
    t.data = malloc(t.nbytes ? t.nbytes : 1);
    if (!t.name || !t.data) {
        free(t.name);
        free(t.data);
        fail(w, SQ_ERR_NOMEM, "out of memory adding tensor '%s'", name);
        return;
    }
    if (t.nbytes)
        memcpy(t.data, data, t.nbytes);
    w->tensors[w->n_tensors++] = t;
}

static size_t
pad_to(size_t x, size_t a)
{
    return (a - x % a) % a;
}

/* Builds the header (everything before the data section, padded). */
static sq_status
build_header(sq_gguf_writer *w, bytes *h, sq_error *err)
{
    if (w->status != SQ_OK)
        return sq_error_set(err, w->status, "%s", w->problem);
    if (w->kv.failed)
        return sq_error_set(err, SQ_ERR_NOMEM, "out of memory building GGUF metadata");
    put_u32(h, 0x46554747u);
    put_u32(h, 3);
    put_u64(h, w->n_tensors);
    put_u64(h, w->n_kv);
    put(h, w->kv.data, w->kv.len);
    uint64_t offset = 0;
    for (uint64_t i = 0; i < w->n_tensors; i++) {
        const wtensor *t = &w->tensors[i];
        put_str(h, t->name);
        put_u32(h, t->n_dims);
        for (uint32_t d = 0; d < t->n_dims; d++)
            put_u64(h, (uint64_t)t->ne[d]);
        put_u32(h, (uint32_t)t->type);
        put_u64(h, offset);
        offset += t->nbytes + pad_to(t->nbytes, w->alignment);
    }
    put_zeros(h, pad_to(h->len, w->alignment));
    if (h->failed)
        return sq_error_set(err, SQ_ERR_NOMEM, "out of memory building the GGUF header");
    return SQ_OK;
}

static void
append_tensors(sq_gguf_writer *w, bytes *out)
{
    for (uint64_t i = 0; i < w->n_tensors; i++) {
        put(out, w->tensors[i].data, w->tensors[i].nbytes);
        put_zeros(out, pad_to(w->tensors[i].nbytes, w->alignment));
    }
}

sq_status
sq_gguf_writer_to_memory(sq_gguf_writer *w, void **data, size_t *size, sq_error *err)
{
    bytes b = { 0 };
    sq_status st = build_header(w, &b, err);
    if (st == SQ_OK) {
        append_tensors(w, &b);
        if (b.failed)
            st = sq_error_set(err, SQ_ERR_NOMEM, "out of memory serializing GGUF");
    }
    if (st != SQ_OK) {
        free(b.data);
        return st;
    }
    *data = b.data;
    *size = b.len;
    return SQ_OK;
}

static bool
write_all(FILE *f, const void *p, size_t n)
{
    return n == 0 || fwrite(p, 1, n, f) == n;
}

static bool
write_zeros(FILE *f, size_t n)
{
    static const uint8_t zeros[256];
    while (n > 0) {
        size_t k = n < sizeof zeros ? n : sizeof zeros;
        if (!write_all(f, zeros, k))
            return false;
        n -= k;
    }
    return true;
}

sq_status
sq_gguf_writer_write(sq_gguf_writer *w, const char *path, sq_error *err)
{
    bytes h = { 0 };
    sq_status st = build_header(w, &h, err);
    if (st != SQ_OK) {
        free(h.data);
        return st;
    }
    size_t tmp_len = strlen(path) + 16;
    char *tmp = malloc(tmp_len);
    if (!tmp) {
        free(h.data);
        return sq_error_set(err, SQ_ERR_NOMEM, "out of memory");
    }
    snprintf(tmp, tmp_len, "%s.tmp%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        st = sq_error_set(err, SQ_ERR_IO, "cannot create %s: %s", tmp, strerror(errno));
        free(tmp);
        free(h.data);
        return st;
    }
    bool ok = write_all(f, h.data, h.len);
    for (uint64_t i = 0; ok && i < w->n_tensors; i++) {
        ok = write_all(f, w->tensors[i].data, w->tensors[i].nbytes);
        size_t pad = pad_to(w->tensors[i].nbytes, w->alignment);
        ok = ok && write_zeros(f, pad);
    }
    ok = (fflush(f) == 0) && ok;
    ok = (fclose(f) == 0) && ok;
    if (!ok || rename(tmp, path) != 0) {
        st = sq_error_set(err, SQ_ERR_IO, "cannot write %s: %s", path, strerror(errno));
        unlink(tmp);
    }
    free(tmp);
    free(h.data);
    return st;
}
