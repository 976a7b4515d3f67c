/* gguf.h — reading and writing GGUF files (llama.cpp's model format).
 *
 * The reader maps the file read-only and validates every count, length,
 * shape and offset before exposing it, so a truncated or hostile file yields
 * an SQ_ERR_FORMAT message naming the problem and never an out-of-bounds read.
 * Tensor data pointers point into the mapping: weights are never copied.
 *
 * Thread-safety: a loaded sq_gguf is immutable; any number of threads may
 * read it concurrently.  A writer belongs to one thread.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ggml-type.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    SQ_GGUF_UINT8   = 0,
    SQ_GGUF_INT8    = 1,
    SQ_GGUF_UINT16  = 2,
    SQ_GGUF_INT16   = 3,
    SQ_GGUF_UINT32  = 4,
    SQ_GGUF_INT32   = 5,
    SQ_GGUF_FLOAT32 = 6,
    SQ_GGUF_BOOL    = 7,
    SQ_GGUF_STRING  = 8,
    SQ_GGUF_ARRAY   = 9,
    SQ_GGUF_UINT64  = 10,
    SQ_GGUF_INT64   = 11,
    SQ_GGUF_FLOAT64 = 12,
    SQ_GGUF_TYPE_COUNT
} sq_gguf_type;

#define SQ_GGUF_DEFAULT_ALIGNMENT 32
#define SQ_GGUF_MAX_DIMS 4

/* A length-delimited string inside the file (not NUL-terminated). */
typedef struct {
    const char *ptr;
    size_t      len;
} sq_str;

typedef struct sq_gguf sq_gguf;

typedef struct {
    const char  *name;                 /* NUL-terminated copy */
    sq_type      type;
    uint32_t     n_dims;
    int64_t      ne[SQ_GGUF_MAX_DIMS]; /* ggml order: ne[0] contiguous; unused dims are 1 */
    uint64_t     offset;               /* relative to the data section */
    size_t       nbytes;
    const void  *data;                 /* inside the mapping */
} sq_gguf_tensor;

/* A view of one array value.  For numeric element types `data` points at
 * `count` packed little-endian elements; for strings use sq_gguf_array_str. */
typedef struct {
    const sq_gguf *file;
    int64_t        kv;          /* index of the key/value pair */
    sq_gguf_type   elem_type;
    uint64_t       count;
    const void    *data;        /* numeric elements, or NULL for strings/arrays */
} sq_gguf_array;

const char *sq_gguf_type_name(sq_gguf_type t);

/* ---- reading ---- */

sq_status sq_gguf_open(const char *path, sq_gguf **out, sq_error *err);
/* Parses a buffer the caller keeps alive for the file's lifetime (tests, fuzzing). */
sq_status sq_gguf_open_memory(const void *data, size_t size, sq_gguf **out, sq_error *err);
void      sq_gguf_close(sq_gguf *g);

uint32_t    sq_gguf_version(const sq_gguf *g);
uint32_t    sq_gguf_alignment(const sq_gguf *g);
size_t      sq_gguf_data_offset(const sq_gguf *g);   /* start of the tensor data section */
size_t      sq_gguf_file_size(const sq_gguf *g);
const char *sq_gguf_path(const sq_gguf *g);           /* "" for memory files */

/* Metadata, by index (0 … n_kv-1) or by key (-1 when absent). */
int64_t      sq_gguf_n_kv(const sq_gguf *g);
int64_t      sq_gguf_find_key(const sq_gguf *g, const char *key);
const char  *sq_gguf_kv_key(const sq_gguf *g, int64_t i);
sq_gguf_type sq_gguf_kv_type(const sq_gguf *g, int64_t i);
/* Formats a scalar, string (quoted, truncated) or array (abbreviated) value. */
void         sq_gguf_kv_format(const sq_gguf *g, int64_t i, char *buf, size_t size);

/* Typed getters.  Missing key → SQ_ERR_NOT_FOUND; a value of another type →
 * SQ_ERR_TYPE.  Integer getters accept any integer type whose value fits. */
sq_status sq_gguf_get_u32(const sq_gguf *g, const char *key, uint32_t *out, sq_error *err);
sq_status sq_gguf_get_i32(const sq_gguf *g, const char *key, int32_t *out, sq_error *err);
sq_status sq_gguf_get_u64(const sq_gguf *g, const char *key, uint64_t *out, sq_error *err);
sq_status sq_gguf_get_i64(const sq_gguf *g, const char *key, int64_t *out, sq_error *err);
sq_status sq_gguf_get_f32(const sq_gguf *g, const char *key, float *out, sq_error *err); /* FLOAT32 or FLOAT64 */
sq_status sq_gguf_get_bool(const sq_gguf *g, const char *key, bool *out, sq_error *err);
sq_status sq_gguf_get_str(const sq_gguf *g, const char *key, sq_str *out, sq_error *err);
sq_status sq_gguf_get_array(const sq_gguf *g, const char *key, sq_gguf_array *out, sq_error *err);

/* The same, but a missing key leaves *out at `dflt` and returns SQ_OK. */
sq_status sq_gguf_get_u32_or(const sq_gguf *g, const char *key, uint32_t dflt, uint32_t *out, sq_error *err);
sq_status sq_gguf_get_f32_or(const sq_gguf *g, const char *key, float dflt, float *out, sq_error *err);
sq_status sq_gguf_get_bool_or(const sq_gguf *g, const char *key, bool dflt, bool *out, sq_error *err);

/* Integer array elements converted to int64 (fails if an element does not
 * fit); float arrays to float.  `out` holds at least arr->count elements. */
sq_status sq_gguf_array_ints(const sq_gguf_array *arr, int64_t *out, sq_error *err);
sq_status sq_gguf_array_floats(const sq_gguf_array *arr, float *out, sq_error *err);
/* The i-th string of a string array (validated at open, so always in bounds). */
sq_str    sq_gguf_array_str(const sq_gguf_array *arr, uint64_t i);

/* Tensors. */
int64_t               sq_gguf_n_tensors(const sq_gguf *g);
const sq_gguf_tensor *sq_gguf_tensor_at(const sq_gguf *g, int64_t i);
const sq_gguf_tensor *sq_gguf_find_tensor(const sq_gguf *g, const char *name);
int64_t               sq_gguf_tensor_nelements(const sq_gguf_tensor *t);

/* ---- writing ---- */

typedef struct sq_gguf_writer sq_gguf_writer;

sq_gguf_writer *sq_gguf_writer_new(void);
void            sq_gguf_writer_free(sq_gguf_writer *w);

/* Setters append in call order; a key set twice is an error reported by
 * sq_gguf_writer_write.  Strings are copied. */
void sq_gguf_writer_set_alignment(sq_gguf_writer *w, uint32_t alignment); /* also writes general.alignment */
void sq_gguf_writer_set_u8(sq_gguf_writer *w, const char *key, uint8_t v);
void sq_gguf_writer_set_i8(sq_gguf_writer *w, const char *key, int8_t v);
void sq_gguf_writer_set_u16(sq_gguf_writer *w, const char *key, uint16_t v);
void sq_gguf_writer_set_i16(sq_gguf_writer *w, const char *key, int16_t v);
void sq_gguf_writer_set_u32(sq_gguf_writer *w, const char *key, uint32_t v);
void sq_gguf_writer_set_i32(sq_gguf_writer *w, const char *key, int32_t v);
void sq_gguf_writer_set_u64(sq_gguf_writer *w, const char *key, uint64_t v);
void sq_gguf_writer_set_i64(sq_gguf_writer *w, const char *key, int64_t v);
void sq_gguf_writer_set_f32(sq_gguf_writer *w, const char *key, float v);
void sq_gguf_writer_set_f64(sq_gguf_writer *w, const char *key, double v);
void sq_gguf_writer_set_bool(sq_gguf_writer *w, const char *key, bool v);
void sq_gguf_writer_set_str(sq_gguf_writer *w, const char *key, const char *v);
/* Numeric array: `data` holds `count` little-endian elements of elem_type. */
void sq_gguf_writer_set_array(sq_gguf_writer *w, const char *key, sq_gguf_type elem_type,
                              const void *data, uint64_t count);
void sq_gguf_writer_set_str_array(sq_gguf_writer *w, const char *key,
                                  const char *const *strs, uint64_t count);

/* Adds a tensor; `data` (nbytes = row size × rows) is copied. */
void sq_gguf_writer_add_tensor(sq_gguf_writer *w, const char *name, sq_type type,
                               uint32_t n_dims, const int64_t *ne, const void *data);

/* Serializes everything.  _write replaces `path` atomically (temp + rename). */
sq_status sq_gguf_writer_write(sq_gguf_writer *w, const char *path, sq_error *err);
sq_status sq_gguf_writer_to_memory(sq_gguf_writer *w, void **data, size_t *size, sq_error *err);

#ifdef __cplusplus
}
#endif
