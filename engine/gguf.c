/* gguf.c — the GGUF reader: map, validate everything, then expose.
 *
 * Parsing is a single sequential pass through a bounds-checked cursor.  Every
 * length read from the file is checked against the bytes that remain before
 * anything is allocated from it, so a hostile header cannot make us allocate
 * more than a small multiple of the file size.
 */
#include "gguf.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define GGUF_MAGIC 0x46554747u /* "GGUF" read as a little-endian u32 */
#define GGUF_MAX_NAME 64       /* llama.cpp's GGML_MAX_NAME, including the NUL */
#define GGUF_MAX_ARRAY_DEPTH 8

typedef struct {
    char         *key;        /* NUL-terminated copy */
    sq_gguf_type  type;
    const uint8_t *value;     /* first byte of the value payload */
    /* arrays */
    sq_gguf_type  elem_type;
    uint64_t      count;
    uint64_t     *str_offsets; /* string arrays: offset of each element's length prefix */
} gguf_kv;

struct sq_gguf {
    const uint8_t  *base;
    size_t          size;
    bool            mapped;
    char           *path;
    uint32_t        version;
    uint32_t        alignment;
    size_t          data_offset;
    int64_t         n_kv;
    gguf_kv        *kv;
    int64_t         n_tensors;
    sq_gguf_tensor *tensors;
    /* Open-addressing index of tensor names → position, for fast lookup. */
    int64_t        *tensor_index;
    size_t          tensor_index_cap;
};

typedef struct {
    const uint8_t *base;
    size_t         size;
    size_t         pos;
    sq_error      *err;
} cursor;

static const size_t scalar_size[SQ_GGUF_TYPE_COUNT] = {
    [SQ_GGUF_UINT8] = 1,  [SQ_GGUF_INT8] = 1,    [SQ_GGUF_UINT16] = 2,
    [SQ_GGUF_INT16] = 2,  [SQ_GGUF_UINT32] = 4,  [SQ_GGUF_INT32] = 4,
    [SQ_GGUF_FLOAT32] = 4, [SQ_GGUF_BOOL] = 1,   [SQ_GGUF_UINT64] = 8,
    [SQ_GGUF_INT64] = 8,  [SQ_GGUF_FLOAT64] = 8,
};

static const char *const type_names[SQ_GGUF_TYPE_COUNT] = {
    "u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool", "str", "arr", "u64", "i64", "f64",
};

const char *
sq_gguf_type_name(sq_gguf_type t)
{
    return (unsigned)t < SQ_GGUF_TYPE_COUNT ? type_names[t] : "?";
}

/* ---- cursor ---- */

static bool
cur_need(cursor *c, size_t n, const char *what)
{
    if (n > c->size - c->pos) {
        sq_error_set(c->err, SQ_ERR_FORMAT,
                     "file truncated: %s needs %zu bytes at offset %zu but only %zu remain",
                     what, n, c->pos, c->size - c->pos);
        return false;
    }
    return true;
}

static bool
cur_u32(cursor *c, uint32_t *v, const char *what)
{
    if (!cur_need(c, 4, what))
        return false;
    memcpy(v, c->base + c->pos, 4);
    c->pos += 4;
    return true;
}

static bool
cur_u64(cursor *c, uint64_t *v, const char *what)
{
    if (!cur_need(c, 8, what))
        return false;
    memcpy(v, c->base + c->pos, 8);
    c->pos += 8;
    return true;
}

/* Reads a gguf string (u64 length + bytes) without copying. */
static bool
cur_str(cursor *c, sq_str *s, const char *what)
{
    uint64_t len;
    if (!cur_u64(c, &len, what))
        return false;
    if (len > c->size - c->pos) {
        sq_error_set(c->err, SQ_ERR_FORMAT,
                     "%s at offset %zu claims %" PRIu64 " bytes but only %zu remain",
                     what, c->pos - 8, len, c->size - c->pos);
        return false;
    }
    s->ptr = (const char *)c->base + c->pos;
    s->len = (size_t)len;
    c->pos += (size_t)len;
    return true;
}

static char *
str_dup(sq_str s)
{
    char *p = malloc(s.len + 1);
    if (p) {
        memcpy(p, s.ptr, s.len);
        p[s.len] = '\0';
    }
    return p;
}

/* ---- metadata values ---- */

static bool skip_value(cursor *c, sq_gguf_type type, int depth, const char *key);

static bool
skip_array(cursor *c, int depth, const char *key, sq_gguf_type *elem_out, uint64_t *count_out)
{
    uint32_t et;
    uint64_t count;
    if (!cur_u32(c, &et, "array element type") || !cur_u64(c, &count, "array length"))
        return false;
    if (et >= SQ_GGUF_TYPE_COUNT) {
        sq_error_set(c->err, SQ_ERR_FORMAT, "key '%s': array of unknown value type %u", key, et);
        return false;
    }
    if (depth >= GGUF_MAX_ARRAY_DEPTH) {
        sq_error_set(c->err, SQ_ERR_FORMAT, "key '%s': arrays nested deeper than %d", key,
                     GGUF_MAX_ARRAY_DEPTH);
        return false;
    }
    if (elem_out)
        *elem_out = (sq_gguf_type)et;
    if (count_out)
        *count_out = count;
    if (et != SQ_GGUF_STRING && et != SQ_GGUF_ARRAY) {
        size_t esz = scalar_size[et];
        if (count > (c->size - c->pos) / esz) {
            sq_error_set(c->err, SQ_ERR_FORMAT,
                         "key '%s': array of %" PRIu64 " %s elements runs past the end of the file",
                         key, count, type_names[et]);
            return false;
        }
        c->pos += (size_t)count * esz;
        return true;
    }
    /* Each string or array element takes at least 8 bytes: a cheap bound
     * before walking a count that could be 2^64. */
    if (count > (c->size - c->pos) / 8) {
        sq_error_set(c->err, SQ_ERR_FORMAT,
                     "key '%s': array of %" PRIu64 " elements runs past the end of the file", key,
                     count);
        return false;
    }
    for (uint64_t i = 0; i < count; i++)
        if (!skip_value(c, (sq_gguf_type)et, depth + 1, key))
            return false;
    return true;
}

static bool
skip_value(cursor *c, sq_gguf_type type, int depth, const char *key)
{
    switch (type) {
    case SQ_GGUF_STRING: {
        sq_str s;
        return cur_str(c, &s, "string value");
    }
    case SQ_GGUF_ARRAY:
        return skip_array(c, depth, key, NULL, NULL);
    case SQ_GGUF_BOOL:
        if (!cur_need(c, 1, "bool value"))
            return false;
        if (c->base[c->pos] > 1) {
            sq_error_set(c->err, SQ_ERR_FORMAT, "key '%s': bool value %u is neither 0 nor 1", key,
                         c->base[c->pos]);
            return false;
        }
        c->pos += 1;
        return true;
    default:
        if ((unsigned)type >= SQ_GGUF_TYPE_COUNT) {
            sq_error_set(c->err, SQ_ERR_FORMAT, "key '%s': unknown value type %u", key, (unsigned)type);
            return false;
        }
        return cur_need(c, scalar_size[type], "scalar value") && (c->pos += scalar_size[type], true);
    }
}

static bool
is_valid_key(sq_str k)
{
    if (k.len == 0 || k.len > 65535)
        return false;
    for (size_t i = 0; i < k.len; i++) {
        unsigned char ch = (unsigned char)k.ptr[i];
        if (ch < 0x20 || ch == 0x7f)
            return false;
    }
    return true;
}

static bool
parse_kv(sq_gguf *g, cursor *c, gguf_kv *kv)
{
    sq_str key;
    uint32_t type;
    if (!cur_str(c, &key, "metadata key"))
        return false;
    if (!is_valid_key(key)) {
        sq_error_set(c->err, SQ_ERR_FORMAT, "metadata key at offset %zu is empty, too long or not text",
                     c->pos - key.len - 8);
        return false;
    }
    if (!(kv->key = str_dup(key))) {
        sq_error_set(c->err, SQ_ERR_NOMEM, "out of memory reading metadata");
        return false;
    }
    if (!cur_u32(c, &type, "metadata value type"))
        return false;
    if (type >= SQ_GGUF_TYPE_COUNT) {
        sq_error_set(c->err, SQ_ERR_FORMAT, "key '%s': unknown value type %u", kv->key, type);
        return false;
    }
    kv->type = (sq_gguf_type)type;
    kv->value = c->base + c->pos;
    if (type != SQ_GGUF_ARRAY)
        return skip_value(c, kv->type, 0, kv->key);

    size_t start = c->pos;
    if (!skip_array(c, 0, kv->key, &kv->elem_type, &kv->count))
        return false;
    if (kv->elem_type == SQ_GGUF_STRING && kv->count > 0) {
        /* Index the strings once so element access is O(1) and needs no checks. */
        kv->str_offsets = malloc((size_t)kv->count * sizeof *kv->str_offsets);
        if (!kv->str_offsets) {
            sq_error_set(c->err, SQ_ERR_NOMEM, "out of memory indexing '%s'", kv->key);
            return false;
        }
        size_t p = start + 12;
        for (uint64_t i = 0; i < kv->count; i++) {
            uint64_t len;
            kv->str_offsets[i] = p;
            memcpy(&len, c->base + p, 8);
            p += 8 + (size_t)len;
        }
    }
    (void)g;
    return true;
}

static int64_t
find_kv(const sq_gguf *g, const char *key)
{
    for (int64_t i = 0; i < g->n_kv; i++)
        if (strcmp(g->kv[i].key, key) == 0)
            return i;
    return -1;
}

/* ---- tensors ---- */

static uint64_t
name_hash(const char *s)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

/* Inserts tensor i into the name index; false if the name is already there. */
static bool
index_tensor(sq_gguf *g, int64_t i)
{
    size_t mask = g->tensor_index_cap - 1;
    size_t slot = (size_t)name_hash(g->tensors[i].name) & mask;
    while (g->tensor_index[slot] >= 0) {
        if (strcmp(g->tensors[g->tensor_index[slot]].name, g->tensors[i].name) == 0)
            return false;
        slot = (slot + 1) & mask;
    }
    g->tensor_index[slot] = i;
    return true;
}

static bool
parse_tensor_info(cursor *c, sq_gguf_tensor *t, int64_t index)
{
    sq_str name;
    uint32_t n_dims, type;
    if (!cur_str(c, &name, "tensor name"))
        return false;
    if (name.len == 0 || name.len >= GGUF_MAX_NAME || memchr(name.ptr, 0, name.len)) {
        sq_error_set(c->err, SQ_ERR_FORMAT, "tensor %" PRId64 ": name is empty, has a NUL or is longer than %d bytes",
                     index, GGUF_MAX_NAME - 1);
        return false;
    }
    if (!(t->name = str_dup(name))) {
        sq_error_set(c->err, SQ_ERR_NOMEM, "out of memory reading tensor infos");
        return false;
    }
    if (!cur_u32(c, &n_dims, "tensor dimension count"))
        return false;
    if (n_dims == 0 || n_dims > SQ_GGUF_MAX_DIMS) {
        sq_error_set(c->err, SQ_ERR_FORMAT, "tensor '%s': %u dimensions (1 to %d allowed)", t->name,
                     n_dims, SQ_GGUF_MAX_DIMS);
        return false;
    }
    t->n_dims = n_dims;
    for (int d = 0; d < SQ_GGUF_MAX_DIMS; d++)
        t->ne[d] = 1;
    for (uint32_t d = 0; d < n_dims; d++) {
        uint64_t ne;
        if (!cur_u64(c, &ne, "tensor dimension"))
            return false;
        if (ne > (uint64_t)INT64_MAX) {
            sq_error_set(c->err, SQ_ERR_FORMAT, "tensor '%s': dimension %u is negative (%" PRId64 ")",
                         t->name, d, (int64_t)ne);
            return false;
        }
        t->ne[d] = (int64_t)ne;
    }
    if (!cur_u32(c, &type, "tensor type"))
        return false;
    const sq_type_info *info = sq_type_get(type);
    if (!info) {
        sq_error_set(c->err, SQ_ERR_FORMAT, "tensor '%s': unknown ggml type %u", t->name, type);
        return false;
    }
    t->type = (sq_type)type;
    if (t->ne[0] % info->block_size != 0) {
        sq_error_set(c->err, SQ_ERR_FORMAT,
                     "tensor '%s': row length %" PRId64 " is not a multiple of the %s block size %u",
                     t->name, t->ne[0], info->name, info->block_size);
        return false;
    }
    /* nbytes = row bytes × ne1 × ne2 × ne3, every product checked. */
    uint64_t bytes = (uint64_t)(t->ne[0] / info->block_size) * info->type_size;
    if (t->ne[0] / info->block_size != 0 && bytes / info->type_size != (uint64_t)(t->ne[0] / info->block_size))
        goto overflow;
    for (int d = 1; d < SQ_GGUF_MAX_DIMS; d++) {
        if (t->ne[d] != 0 && bytes > UINT64_MAX / (uint64_t)t->ne[d])
            goto overflow;
        bytes *= (uint64_t)t->ne[d];
    }
    if (bytes > SIZE_MAX)
        goto overflow;
    t->nbytes = (size_t)bytes;
    return cur_u64(c, &t->offset, "tensor offset");

overflow:
    sq_error_set(c->err, SQ_ERR_FORMAT, "tensor '%s': shape [%" PRId64 ", %" PRId64 ", %" PRId64 ", %" PRId64 "] overflows its byte size",
                 t->name, t->ne[0], t->ne[1], t->ne[2], t->ne[3]);
    return false;
}

static bool
check_alignment(sq_gguf *g, sq_error *err)
{
    g->alignment = SQ_GGUF_DEFAULT_ALIGNMENT;
    int64_t i = find_kv(g, "general.alignment");
    if (i < 0)
        return true;
    if (g->kv[i].type != SQ_GGUF_UINT32) {
        sq_error_set(err, SQ_ERR_FORMAT, "general.alignment has type %s, expected u32",
                     type_names[g->kv[i].type]);
        return false;
    }
    uint32_t a;
    memcpy(&a, g->kv[i].value, 4);
    if (a == 0 || (a & (a - 1)) != 0) {
        sq_error_set(err, SQ_ERR_FORMAT, "general.alignment %u is not a power of two", a);
        return false;
    }
    g->alignment = a;
    return true;
}

static bool
place_tensors(sq_gguf *g, sq_error *err)
{
    for (int64_t i = 0; i < g->n_tensors; i++) {
        sq_gguf_tensor *t = &g->tensors[i];
        if (t->offset % g->alignment != 0) {
            sq_error_set(err, SQ_ERR_FORMAT, "tensor '%s': offset %" PRIu64 " is not a multiple of the alignment %u",
                         t->name, t->offset, g->alignment);
            return false;
        }
        size_t room = g->size - g->data_offset;
        if (t->offset > room || t->nbytes > room - t->offset) {
            sq_error_set(err, SQ_ERR_FORMAT,
                         "tensor '%s': data [%" PRIu64 ", +%zu) lies outside the file (data section holds %zu bytes)",
                         t->name, t->offset, t->nbytes, room);
            return false;
        }
        t->data = g->base + g->data_offset + t->offset;
    }
    return true;
}

static sq_status
parse(sq_gguf *g, sq_error *err)
{
    cursor c = { g->base, g->size, 0, err };
    uint32_t magic;
    uint64_t n_tensors, n_kv;

    if (!cur_u32(&c, &magic, "magic"))
        return SQ_ERR_FORMAT;
    if (magic != GGUF_MAGIC)
        return sq_error_set(err, SQ_ERR_FORMAT, "not a GGUF file (magic %08x, expected 'GGUF')", magic);
    if (!cur_u32(&c, &g->version, "version"))
        return SQ_ERR_FORMAT;
    if (g->version == 1)
        return sq_error_set(err, SQ_ERR_UNSUPPORTED, "GGUF version 1 is not supported (32-bit counts); re-convert the model");
    if (g->version != 2 && g->version != 3)
        return sq_error_set(err, SQ_ERR_FORMAT, "unknown GGUF version %u (2 and 3 are supported)", g->version);
    if (!cur_u64(&c, &n_tensors, "tensor count") || !cur_u64(&c, &n_kv, "metadata count"))
        return SQ_ERR_FORMAT;
    /* Every kv pair takes ≥ 12 bytes and every tensor info ≥ 24: bound the
     * counts by the file size before allocating anything for them. */
    if (n_kv > c.size / 12)
        return sq_error_set(err, SQ_ERR_FORMAT, "metadata count %" PRIu64 " is impossible for a %zu-byte file", n_kv, c.size);
    if (n_tensors > c.size / 24)
        return sq_error_set(err, SQ_ERR_FORMAT, "tensor count %" PRIu64 " is impossible for a %zu-byte file", n_tensors, c.size);

    g->kv = calloc(n_kv ? (size_t)n_kv : 1, sizeof *g->kv);
    g->tensors = calloc(n_tensors ? (size_t)n_tensors : 1, sizeof *g->tensors);
    if (!g->kv || !g->tensors)
        return sq_error_set(err, SQ_ERR_NOMEM, "out of memory reading the GGUF header");
    for (uint64_t i = 0; i < n_kv; i++) {
        g->n_kv = (int64_t)i + 1;
        if (!parse_kv(g, &c, &g->kv[i]))
            return err ? err->status : SQ_ERR_FORMAT;
        if (find_kv(g, g->kv[i].key) != (int64_t)i)
            return sq_error_set(err, SQ_ERR_FORMAT, "duplicate metadata key '%s'", g->kv[i].key);
    }
    if (!check_alignment(g, err))
        return SQ_ERR_FORMAT;

    size_t cap = 16;
    while (cap < 2 * n_tensors)
        cap *= 2;
    g->tensor_index = malloc(cap * sizeof *g->tensor_index);
    if (!g->tensor_index)
        return sq_error_set(err, SQ_ERR_NOMEM, "out of memory indexing tensors");
    memset(g->tensor_index, 0xff, cap * sizeof *g->tensor_index);
    g->tensor_index_cap = cap;
    for (uint64_t i = 0; i < n_tensors; i++) {
        g->n_tensors = (int64_t)i + 1;
        if (!parse_tensor_info(&c, &g->tensors[i], (int64_t)i))
            return err ? err->status : SQ_ERR_FORMAT;
        if (!index_tensor(g, (int64_t)i))
            return sq_error_set(err, SQ_ERR_FORMAT, "duplicate tensor name '%s'", g->tensors[i].name);
    }
    size_t pad = (g->alignment - c.pos % g->alignment) % g->alignment;
    g->data_offset = c.pos + pad;
    if (n_tensors > 0 && g->data_offset > g->size)
        return sq_error_set(err, SQ_ERR_FORMAT, "file truncated before its tensor data section");
    if (g->data_offset > g->size)
        g->data_offset = g->size;
    if (!place_tensors(g, err))
        return SQ_ERR_FORMAT;
    return SQ_OK;
}

/* ---- open / close ---- */

static sq_status
finish_open(sq_gguf *g, sq_gguf **out, sq_error *err)
{
    sq_status st = parse(g, err);
    if (st != SQ_OK) {
        if (g->path && err)
            sq_error_prefix(err, "%s", g->path);
        sq_gguf_close(g);
        return st;
    }
    *out = g;
    return SQ_OK;
}

sq_status
sq_gguf_open_memory(const void *data, size_t size, sq_gguf **out, sq_error *err)
{
    if (!out || (!data && size))
        return sq_error_set(err, SQ_ERR_INVALID_ARG, "sq_gguf_open_memory: no buffer");
    *out = NULL;
    sq_gguf *g = calloc(1, sizeof *g);
    if (!g)
        return sq_error_set(err, SQ_ERR_NOMEM, "out of memory");
    g->base = data;
    g->size = size;
    return finish_open(g, out, err);
}

sq_status
sq_gguf_open(const char *path, sq_gguf **out, sq_error *err)
{
    if (!out || !path)
        return sq_error_set(err, SQ_ERR_INVALID_ARG, "sq_gguf_open: no path");
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return sq_error_set(err, SQ_ERR_IO, "cannot open %s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return sq_error_set(err, SQ_ERR_IO, "%s is not a regular file", path);
    }
    if (st.st_size == 0) {
        close(fd);
        return sq_error_set(err, SQ_ERR_FORMAT, "%s is empty", path);
    }
    void *map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
    close(fd);
    if (map == MAP_FAILED)
        return sq_error_set(err, SQ_ERR_IO, "cannot map %s: %s", path, strerror(errno));
    sq_gguf *g = calloc(1, sizeof *g);
    if (!g || !(g->path = strdup(path))) {
        free(g);
        munmap(map, (size_t)st.st_size);
        return sq_error_set(err, SQ_ERR_NOMEM, "out of memory");
    }
    g->base = map;
    g->size = (size_t)st.st_size;
    g->mapped = true;
    return finish_open(g, out, err);
}

void
sq_gguf_close(sq_gguf *g)
{
    if (!g)
        return;
    for (int64_t i = 0; i < g->n_kv; i++) {
        free(g->kv[i].key);
        free(g->kv[i].str_offsets);
    }
    for (int64_t i = 0; i < g->n_tensors; i++)
        free((char *)g->tensors[i].name);
    free(g->kv);
    free(g->tensors);
    free(g->tensor_index);
    if (g->mapped)
        munmap((void *)g->base, g->size);
    free(g->path);
    free(g);
}

uint32_t sq_gguf_version(const sq_gguf *g) { return g->version; }
uint32_t sq_gguf_alignment(const sq_gguf *g) { return g->alignment; }
size_t sq_gguf_data_offset(const sq_gguf *g) { return g->data_offset; }
size_t sq_gguf_file_size(const sq_gguf *g) { return g->size; }
const char *sq_gguf_path(const sq_gguf *g) { return g->path ? g->path : ""; }
int64_t sq_gguf_n_kv(const sq_gguf *g) { return g->n_kv; }
int64_t sq_gguf_find_key(const sq_gguf *g, const char *key) { return find_kv(g, key); }

const char *
sq_gguf_kv_key(const sq_gguf *g, int64_t i)
{
    return (i >= 0 && i < g->n_kv) ? g->kv[i].key : NULL;
}

sq_gguf_type
sq_gguf_kv_type(const sq_gguf *g, int64_t i)
{
    return (i >= 0 && i < g->n_kv) ? g->kv[i].type : SQ_GGUF_TYPE_COUNT;
}

/* ---- typed access ---- */

/* Reads a scalar integer of any width as int64 (u64 above INT64_MAX fails). */
static bool
read_int(sq_gguf_type type, const uint8_t *p, int64_t *out)
{
    switch (type) {
    case SQ_GGUF_UINT8:  *out = *p; return true;
    case SQ_GGUF_INT8:   *out = (int8_t)*p; return true;
    case SQ_GGUF_UINT16: { uint16_t v; memcpy(&v, p, 2); *out = v; return true; }
    case SQ_GGUF_INT16:  { int16_t v; memcpy(&v, p, 2); *out = v; return true; }
    case SQ_GGUF_UINT32: { uint32_t v; memcpy(&v, p, 4); *out = v; return true; }
    case SQ_GGUF_INT32:  { int32_t v; memcpy(&v, p, 4); *out = v; return true; }
    case SQ_GGUF_INT64:  { int64_t v; memcpy(&v, p, 8); *out = v; return true; }
    case SQ_GGUF_UINT64: {
        uint64_t v;
        memcpy(&v, p, 8);
        if (v > (uint64_t)INT64_MAX)
            return false;
        *out = (int64_t)v;
        return true;
    }
    default:
        return false;
    }
}

static bool
is_int_type(sq_gguf_type t)
{
    return t <= SQ_GGUF_INT32 || t == SQ_GGUF_UINT64 || t == SQ_GGUF_INT64;
}

static sq_status
lookup(const sq_gguf *g, const char *key, const gguf_kv **kv, sq_error *err)
{
    int64_t i = find_kv(g, key);
    if (i < 0)
        return sq_error_set(err, SQ_ERR_NOT_FOUND, "metadata key '%s' is missing", key);
    *kv = &g->kv[i];
    return SQ_OK;
}

static sq_status
get_int(const sq_gguf *g, const char *key, int64_t lo, int64_t hi, int64_t *out, sq_error *err)
{
    const gguf_kv *kv = NULL;
    sq_status st = lookup(g, key, &kv, err);
    if (st != SQ_OK)
        return st;
    if (!is_int_type(kv->type))
        return sq_error_set(err, SQ_ERR_TYPE, "metadata key '%s' has type %s, expected an integer",
                            key, type_names[kv->type]);
    int64_t v;
    if (!read_int(kv->type, kv->value, &v) || v < lo || v > hi)
        return sq_error_set(err, SQ_ERR_TYPE, "metadata key '%s': value out of range", key);
    *out = v;
    return SQ_OK;
}

sq_status
sq_gguf_get_u32(const sq_gguf *g, const char *key, uint32_t *out, sq_error *err)
{
    int64_t v;
    sq_status st = get_int(g, key, 0, UINT32_MAX, &v, err);
    if (st == SQ_OK)
        *out = (uint32_t)v;
    return st;
}

sq_status
sq_gguf_get_i32(const sq_gguf *g, const char *key, int32_t *out, sq_error *err)
{
    int64_t v;
    sq_status st = get_int(g, key, INT32_MIN, INT32_MAX, &v, err);
    if (st == SQ_OK)
        *out = (int32_t)v;
    return st;
}

sq_status
sq_gguf_get_i64(const sq_gguf *g, const char *key, int64_t *out, sq_error *err)
{
    return get_int(g, key, INT64_MIN, INT64_MAX, out, err);
}

sq_status
sq_gguf_get_u64(const sq_gguf *g, const char *key, uint64_t *out, sq_error *err)
{
    const gguf_kv *kv = NULL;
    sq_status st = lookup(g, key, &kv, err);
    if (st != SQ_OK)
        return st;
    if (kv->type == SQ_GGUF_UINT64) {
        memcpy(out, kv->value, 8);
        return SQ_OK;
    }
    int64_t v;
    st = get_int(g, key, 0, INT64_MAX, &v, err);
    if (st == SQ_OK)
        *out = (uint64_t)v;
    return st;
}

sq_status
sq_gguf_get_f32(const sq_gguf *g, const char *key, float *out, sq_error *err)
{
    const gguf_kv *kv = NULL;
    sq_status st = lookup(g, key, &kv, err);
    if (st != SQ_OK)
        return st;
    if (kv->type == SQ_GGUF_FLOAT32) {
        memcpy(out, kv->value, 4);
        return SQ_OK;
    }
    if (kv->type == SQ_GGUF_FLOAT64) {
        double d;
        memcpy(&d, kv->value, 8);
        *out = (float)d;
        return SQ_OK;
    }
    return sq_error_set(err, SQ_ERR_TYPE, "metadata key '%s' has type %s, expected a float", key,
                        type_names[kv->type]);
}

sq_status
sq_gguf_get_bool(const sq_gguf *g, const char *key, bool *out, sq_error *err)
{
    const gguf_kv *kv = NULL;
    sq_status st = lookup(g, key, &kv, err);
    if (st != SQ_OK)
        return st;
    if (kv->type != SQ_GGUF_BOOL)
        return sq_error_set(err, SQ_ERR_TYPE, "metadata key '%s' has type %s, expected bool", key,
                            type_names[kv->type]);
    *out = kv->value[0] != 0;
    return SQ_OK;
}

sq_status
sq_gguf_get_str(const sq_gguf *g, const char *key, sq_str *out, sq_error *err)
{
    const gguf_kv *kv = NULL;
    sq_status st = lookup(g, key, &kv, err);
    if (st != SQ_OK)
        return st;
    if (kv->type != SQ_GGUF_STRING)
        return sq_error_set(err, SQ_ERR_TYPE, "metadata key '%s' has type %s, expected a string",
                            key, type_names[kv->type]);
    uint64_t len;
    memcpy(&len, kv->value, 8);
    out->ptr = (const char *)kv->value + 8;
    out->len = (size_t)len;
    return SQ_OK;
}

sq_status
sq_gguf_get_array(const sq_gguf *g, const char *key, sq_gguf_array *out, sq_error *err)
{
    const gguf_kv *kv = NULL;
    sq_status st = lookup(g, key, &kv, err);
    if (st != SQ_OK)
        return st;
    if (kv->type != SQ_GGUF_ARRAY)
        return sq_error_set(err, SQ_ERR_TYPE, "metadata key '%s' has type %s, expected an array",
                            key, type_names[kv->type]);
    out->file = g;
    out->kv = kv - g->kv;
    out->elem_type = kv->elem_type;
    out->count = kv->count;
    out->data = (kv->elem_type == SQ_GGUF_STRING || kv->elem_type == SQ_GGUF_ARRAY)
                    ? NULL
                    : kv->value + 12;
    return SQ_OK;
}

static sq_status
or_default(sq_status st, sq_error *err)
{
    if (st == SQ_ERR_NOT_FOUND) {
        sq_error_clear(err);
        return SQ_OK;
    }
    return st;
}

sq_status
sq_gguf_get_u32_or(const sq_gguf *g, const char *key, uint32_t dflt, uint32_t *out, sq_error *err)
{
    *out = dflt;
    return or_default(sq_gguf_get_u32(g, key, out, err), err);
}

sq_status
sq_gguf_get_f32_or(const sq_gguf *g, const char *key, float dflt, float *out, sq_error *err)
{
    *out = dflt;
    return or_default(sq_gguf_get_f32(g, key, out, err), err);
}

sq_status
sq_gguf_get_bool_or(const sq_gguf *g, const char *key, bool dflt, bool *out, sq_error *err)
{
    *out = dflt;
    return or_default(sq_gguf_get_bool(g, key, out, err), err);
}

sq_status
sq_gguf_array_ints(const sq_gguf_array *arr, int64_t *out, sq_error *err)
{
    const char *key = arr->file->kv[arr->kv].key;
    if (!is_int_type(arr->elem_type))
        return sq_error_set(err, SQ_ERR_TYPE, "array '%s' holds %s, expected integers", key,
                            type_names[arr->elem_type]);
    size_t esz = scalar_size[arr->elem_type];
    const uint8_t *p = arr->data;
    for (uint64_t i = 0; i < arr->count; i++)
        if (!read_int(arr->elem_type, p + i * esz, &out[i]))
            return sq_error_set(err, SQ_ERR_TYPE, "array '%s': element %" PRIu64 " out of range", key, i);
    return SQ_OK;
}

sq_status
sq_gguf_array_floats(const sq_gguf_array *arr, float *out, sq_error *err)
{
    const uint8_t *p = arr->data;
    if (arr->elem_type == SQ_GGUF_FLOAT32) {
        memcpy(out, p, (size_t)arr->count * 4);
        return SQ_OK;
    }
    if (arr->elem_type == SQ_GGUF_FLOAT64) {
        for (uint64_t i = 0; i < arr->count; i++) {
            double d;
            memcpy(&d, p + i * 8, 8);
            out[i] = (float)d;
        }
        return SQ_OK;
    }
    return sq_error_set(err, SQ_ERR_TYPE, "array '%s' holds %s, expected floats",
                        arr->file->kv[arr->kv].key, type_names[arr->elem_type]);
}

sq_str
sq_gguf_array_str(const sq_gguf_array *arr, uint64_t i)
{
    sq_str s = { "", 0 };
    const gguf_kv *kv = &arr->file->kv[arr->kv];
    if (arr->elem_type != SQ_GGUF_STRING || i >= arr->count)
        return s;
    const uint8_t *p = arr->file->base + kv->str_offsets[i];
    uint64_t len;
    memcpy(&len, p, 8);
    s.ptr = (const char *)p + 8;
    s.len = (size_t)len;
    return s;
}

/* ---- formatting (inspect) ---- */

static size_t
format_scalar(sq_gguf_type type, const uint8_t *p, char *buf, size_t size)
{
    int64_t iv;
    int n;
    if (read_int(type, p, &iv)) {
        n = snprintf(buf, size, "%" PRId64, iv);
    } else if (type == SQ_GGUF_UINT64) {
        uint64_t v;
        memcpy(&v, p, 8);
        n = snprintf(buf, size, "%" PRIu64, v);
    } else if (type == SQ_GGUF_FLOAT32) {
        float f;
        memcpy(&f, p, 4);
        n = snprintf(buf, size, "%.9g", (double)f);
    } else if (type == SQ_GGUF_FLOAT64) {
        double d;
        memcpy(&d, p, 8);
        n = snprintf(buf, size, "%.17g", d);
    } else if (type == SQ_GGUF_BOOL) {
        n = snprintf(buf, size, "%s", *p ? "true" : "false");
    } else {
        n = snprintf(buf, size, "?");
    }
    return n < 0 ? 0 : (size_t)n;
}

/* Appends a quoted, escaped, truncated string. */
static size_t
format_str(const char *s, size_t len, char *buf, size_t size, size_t max_chars)
{
    size_t o = 0;
    if (size < 8) {
        if (size)
            buf[0] = '\0';
        return 0;
    }
    buf[o++] = '"';
    for (size_t i = 0; i < len && o + 6 < size; i++) {
        if (i == max_chars) {
            memcpy(buf + o, "...", 3);
            o += 3;
            break;
        }
        unsigned char ch = (unsigned char)s[i];
        if (ch == '\n') { buf[o++] = '\\'; buf[o++] = 'n'; }
        else if (ch == '"' || ch == '\\') { buf[o++] = '\\'; buf[o++] = (char)ch; }
        else if (ch < 0x20) o += (size_t)snprintf(buf + o, size - o, "\\x%02x", ch);
        else buf[o++] = (char)ch;
    }
    buf[o++] = '"';
    buf[o] = '\0';
    return o;
}

void
sq_gguf_kv_format(const sq_gguf *g, int64_t i, char *buf, size_t size)
{
    if (size == 0)
        return;
    buf[0] = '\0';
    if (i < 0 || i >= g->n_kv)
        return;
    const gguf_kv *kv = &g->kv[i];
    if (kv->type == SQ_GGUF_STRING) {
        uint64_t len;
        memcpy(&len, kv->value, 8);
        format_str((const char *)kv->value + 8, (size_t)len, buf, size, 60);
        return;
    }
    if (kv->type != SQ_GGUF_ARRAY) {
        format_scalar(kv->type, kv->value, buf, size);
        return;
    }
    size_t o = (size_t)snprintf(buf, size, "[%s × %" PRIu64 "] ", type_names[kv->elem_type], kv->count);
    if (o >= size)
        return;
    sq_gguf_array arr = { g, i, kv->elem_type, kv->count,
                          kv->elem_type == SQ_GGUF_STRING || kv->elem_type == SQ_GGUF_ARRAY ? NULL : kv->value + 12 };
    buf[o++] = '[';
    uint64_t shown = kv->count < 6 ? kv->count : 6;
    if (kv->elem_type == SQ_GGUF_ARRAY)
        shown = 0;
    for (uint64_t k = 0; k < shown && o + 32 < size; k++) {
        if (k)
            o += (size_t)snprintf(buf + o, size - o, ", ");
        if (kv->elem_type == SQ_GGUF_STRING) {
            sq_str s = sq_gguf_array_str(&arr, k);
            o += format_str(s.ptr, s.len, buf + o, size - o, 20);
        } else {
            o += format_scalar(kv->elem_type, (const uint8_t *)arr.data + k * scalar_size[kv->elem_type],
                               buf + o, size - o);
        }
    }
    if (o + 6 < size)
        o += (size_t)snprintf(buf + o, size - o, "%s]", shown < kv->count ? ", ..." : "");
}

/* ---- tensors ---- */

int64_t sq_gguf_n_tensors(const sq_gguf *g) { return g->n_tensors; }

const sq_gguf_tensor *
sq_gguf_tensor_at(const sq_gguf *g, int64_t i)
{
    return (i >= 0 && i < g->n_tensors) ? &g->tensors[i] : NULL;
}

const sq_gguf_tensor *
sq_gguf_find_tensor(const sq_gguf *g, const char *name)
{
    if (g->n_tensors == 0)
        return NULL;
    size_t mask = g->tensor_index_cap - 1;
    size_t slot = (size_t)name_hash(name) & mask;
    while (g->tensor_index[slot] >= 0) {
        const sq_gguf_tensor *t = &g->tensors[g->tensor_index[slot]];
        if (strcmp(t->name, name) == 0)
            return t;
        slot = (slot + 1) & mask;
    }
    return NULL;
}

int64_t
sq_gguf_tensor_nelements(const sq_gguf_tensor *t)
{
    return t->ne[0] * t->ne[1] * t->ne[2] * t->ne[3];
}
