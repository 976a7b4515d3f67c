/* test-gguf.c — the GGUF reader and writer: round trips, every validation
 * path with hand-made broken files, truncation at every byte, and the
 * reference models from llama.cpp. */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gguf.h"
#include "tap.h"

/* A small but complete file: every scalar type, strings, arrays (numeric and
 * string), three tensors of different types. */
static void *
make_sample(size_t *size)
{
    sq_gguf_writer *w = sq_gguf_writer_new();
    sq_gguf_writer_set_str(w, "general.architecture", "qwen2vl");
    sq_gguf_writer_set_u8(w, "t.u8", 200);
    sq_gguf_writer_set_i8(w, "t.i8", -100);
    sq_gguf_writer_set_u16(w, "t.u16", 60000);
    sq_gguf_writer_set_i16(w, "t.i16", -30000);
    sq_gguf_writer_set_u32(w, "t.u32", 4000000000u);
    sq_gguf_writer_set_i32(w, "t.i32", -2000000000);
    sq_gguf_writer_set_u64(w, "t.u64", 18000000000000000000ull);
    sq_gguf_writer_set_i64(w, "t.i64", -9000000000000000000ll);
    sq_gguf_writer_set_f32(w, "t.f32", 1e-6f);
    sq_gguf_writer_set_f64(w, "t.f64", 3.141592653589793);
    sq_gguf_writer_set_bool(w, "t.bool", true);
    const int32_t sections[4] = { 16, 24, 24, 0 };
    sq_gguf_writer_set_array(w, "t.sections", SQ_GGUF_INT32, sections, 4);
    const float mean[3] = { 0.48145466f, 0.4578275f, 0.40821073f };
    sq_gguf_writer_set_array(w, "t.mean", SQ_GGUF_FLOAT32, mean, 3);
    const char *const words[3] = { "alpha", "", "g\xc3\xa9" };
    sq_gguf_writer_set_str_array(w, "t.words", words, 3);

    float a[2 * 3];
    for (int i = 0; i < 6; i++)
        a[i] = (float)i - 2.5f;
    sq_gguf_writer_add_tensor(w, "a.weight", SQ_TYPE_F32, 2, (const int64_t[]){ 3, 2 }, a);
    uint16_t h[32];
    for (int i = 0; i < 32; i++)
        h[i] = (uint16_t)(0x3c00 + i);
    sq_gguf_writer_add_tensor(w, "b.weight", SQ_TYPE_F16, 1, (const int64_t[]){ 32 }, h);
    uint8_t q[2 * 34];
    for (int i = 0; i < (int)sizeof q; i++)
        q[i] = (uint8_t)(i * 7);
    sq_gguf_writer_add_tensor(w, "c.weight", SQ_TYPE_Q8_0, 2, (const int64_t[]){ 32, 2 }, q);

    void *data = NULL;
    sq_error err = { 0 };
    if (sq_gguf_writer_to_memory(w, &data, size, &err) != SQ_OK)
        diag("writer failed: %s", err.msg);
    sq_gguf_writer_free(w);
    return data;
}

static void
test_round_trip(void)
{
    size_t size;
    void *data = make_sample(&size);
    sq_gguf *g = NULL;
    sq_error err = { 0 };
    ok(sq_gguf_open_memory(data, size, &g, &err) == SQ_OK, "sample file parses (%s)", err.msg);
    if (!g) {
        free(data);
        return;
    }
    ok(sq_gguf_version(g) == 3 && sq_gguf_alignment(g) == 32, "version 3, default alignment");
    ok(sq_gguf_n_kv(g) == 15 && sq_gguf_n_tensors(g) == 3, "15 keys, 3 tensors");

    uint32_t u32 = 0;
    int32_t i32 = 0;
    uint64_t u64 = 0;
    int64_t i64 = 0;
    float f = 0;
    bool b = false;
    sq_str s;
    ok(sq_gguf_get_u32(g, "t.u32", &u32, &err) == SQ_OK && u32 == 4000000000u, "u32 value");
    ok(sq_gguf_get_i32(g, "t.i32", &i32, &err) == SQ_OK && i32 == -2000000000, "i32 value");
    ok(sq_gguf_get_u64(g, "t.u64", &u64, &err) == SQ_OK && u64 == 18000000000000000000ull, "u64 value");
    ok(sq_gguf_get_i64(g, "t.i64", &i64, &err) == SQ_OK && i64 == -9000000000000000000ll, "i64 value");
    ok(sq_gguf_get_u32(g, "t.u8", &u32, &err) == SQ_OK && u32 == 200, "u8 widens to u32");
    ok(sq_gguf_get_i32(g, "t.i16", &i32, &err) == SQ_OK && i32 == -30000, "i16 widens to i32");
    ok(sq_gguf_get_i32(g, "t.i8", &i32, &err) == SQ_OK && i32 == -100, "i8 widens");
    ok(sq_gguf_get_u32(g, "t.u16", &u32, &err) == SQ_OK && u32 == 60000, "u16 widens");
    ok(sq_gguf_get_f32(g, "t.f32", &f, &err) == SQ_OK && f == 1e-6f, "f32 value");
    ok(sq_gguf_get_f32(g, "t.f64", &f, &err) == SQ_OK && f == (float)3.141592653589793, "f64 read as f32");
    ok(sq_gguf_get_bool(g, "t.bool", &b, &err) == SQ_OK && b, "bool value");
    ok(sq_gguf_get_str(g, "general.architecture", &s, &err) == SQ_OK && s.len == 7 &&
           memcmp(s.ptr, "qwen2vl", 7) == 0, "string value");

    /* Wrong types and missing keys name the key. */
    ok(sq_gguf_get_u32(g, "t.i32", &u32, &err) == SQ_ERR_TYPE && strstr(err.msg, "t.i32"),
       "negative i32 does not fit u32: %s", err.msg);
    ok(sq_gguf_get_i32(g, "t.u64", &i32, &err) == SQ_ERR_TYPE, "huge u64 does not fit i32");
    ok(sq_gguf_get_str(g, "t.u32", &s, &err) == SQ_ERR_TYPE && strstr(err.msg, "expected a string"),
       "u32 is not a string: %s", err.msg);
    ok(sq_gguf_get_f32(g, "t.u32", &f, &err) == SQ_ERR_TYPE, "u32 is not a float");
    ok(sq_gguf_get_bool(g, "t.u8", &b, &err) == SQ_ERR_TYPE, "u8 is not a bool");
    ok(sq_gguf_get_u32(g, "no.such.key", &u32, &err) == SQ_ERR_NOT_FOUND && strstr(err.msg, "no.such.key"),
       "missing key: %s", err.msg);
    u32 = 0;
    ok(sq_gguf_get_u32_or(g, "no.such.key", 77, &u32, &err) == SQ_OK && u32 == 77, "default for a missing key");
    ok(sq_gguf_get_u32_or(g, "t.words", 77, &u32, &err) == SQ_ERR_TYPE, "default does not hide a wrong type");

    sq_gguf_array arr;
    int64_t ints[4];
    ok(sq_gguf_get_array(g, "t.sections", &arr, &err) == SQ_OK && arr.count == 4 &&
           arr.elem_type == SQ_GGUF_INT32, "int array");
    ok(sq_gguf_array_ints(&arr, ints, &err) == SQ_OK && ints[0] == 16 && ints[1] == 24 && ints[3] == 0,
       "int array values");
    float floats[3];
    ok(sq_gguf_get_array(g, "t.mean", &arr, &err) == SQ_OK &&
           sq_gguf_array_floats(&arr, floats, &err) == SQ_OK && floats[2] == 0.40821073f,
       "float array values");
    ok(sq_gguf_array_ints(&arr, ints, &err) == SQ_ERR_TYPE, "float array is not ints");
    ok(sq_gguf_get_array(g, "t.words", &arr, &err) == SQ_OK && arr.count == 3, "string array");
    sq_str w0 = sq_gguf_array_str(&arr, 0), w1 = sq_gguf_array_str(&arr, 1), w2 = sq_gguf_array_str(&arr, 2);
    ok(w0.len == 5 && memcmp(w0.ptr, "alpha", 5) == 0 && w1.len == 0 && w2.len == 3 &&
           memcmp(w2.ptr, "g\xc3\xa9", 3) == 0, "string array elements");
    ok(sq_gguf_array_str(&arr, 3).len == 0, "out-of-range string element is empty");

    const sq_gguf_tensor *t = sq_gguf_find_tensor(g, "a.weight");
    ok(t && t->type == SQ_TYPE_F32 && t->n_dims == 2 && t->ne[0] == 3 && t->ne[1] == 2 && t->ne[2] == 1 &&
           t->nbytes == 24, "f32 tensor info");
    ok(t && ((const float *)t->data)[5] == 2.5f, "f32 tensor data");
    t = sq_gguf_find_tensor(g, "b.weight");
    ok(t && t->type == SQ_TYPE_F16 && t->nbytes == 64 && ((const uint16_t *)t->data)[31] == 0x3c00 + 31,
       "f16 tensor");
    t = sq_gguf_find_tensor(g, "c.weight");
    ok(t && t->type == SQ_TYPE_Q8_0 && t->nbytes == 68 && ((const uint8_t *)t->data)[67] == (uint8_t)(67 * 7),
       "q8_0 tensor");
    ok(t && (size_t)((const uint8_t *)t->data - (const uint8_t *)data) % 32 == 0, "tensor data aligned");
    ok(sq_gguf_find_tensor(g, "missing") == NULL, "missing tensor is NULL");
    ok(sq_gguf_tensor_nelements(sq_gguf_tensor_at(g, 2)) == 64, "element count");

    char buf[256];
    sq_gguf_kv_format(g, sq_gguf_find_key(g, "t.sections"), buf, sizeof buf);
    ok(strcmp(buf, "[i32 × 4] [16, 24, 24, 0]") == 0, "array formatting: %s", buf);
    sq_gguf_kv_format(g, sq_gguf_find_key(g, "t.words"), buf, sizeof buf);
    ok(strstr(buf, "\"alpha\"") != NULL, "string array formatting: %s", buf);
    sq_gguf_close(g);
    free(data);
}

static void
test_file_round_trip(void)
{
    char path[] = "/tmp/sq-test-gguf-XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    sq_gguf_writer *w = sq_gguf_writer_new();
    sq_gguf_writer_set_alignment(w, 64);
    sq_gguf_writer_set_str(w, "general.name", "file test");
    float v[5] = { 1, 2, 3, 4, 5 };
    sq_gguf_writer_add_tensor(w, "x", SQ_TYPE_F32, 1, (const int64_t[]){ 5 }, v);
    sq_gguf_writer_add_tensor(w, "y", SQ_TYPE_F32, 1, (const int64_t[]){ 5 }, v);
    sq_error err = { 0 };
    ok(sq_gguf_writer_write(w, path, &err) == SQ_OK, "write to a file (%s)", err.msg);
    sq_gguf_writer_free(w);
    sq_gguf *g = NULL;
    ok(sq_gguf_open(path, &g, &err) == SQ_OK, "open the written file (%s)", err.msg);
    if (g) {
        const sq_gguf_tensor *y = sq_gguf_find_tensor(g, "y");
        ok(sq_gguf_alignment(g) == 64 && y && y->offset == 64 && ((const float *)y->data)[4] == 5,
           "custom alignment honoured");
        sq_gguf_close(g);
    }
    unlink(path);
    ok(sq_gguf_open(path, &g, &err) == SQ_ERR_IO && strstr(err.msg, path), "missing file: %s", err.msg);
    ok(sq_gguf_open("/", &g, &err) == SQ_ERR_IO, "a directory is refused: %s", err.msg);

    w = sq_gguf_writer_new();
    sq_gguf_writer_set_u32(w, "k", 1);
    sq_gguf_writer_set_u32(w, "k", 2);
    void *d = NULL;
    size_t n = 0;
    ok(sq_gguf_writer_to_memory(w, &d, &n, &err) == SQ_ERR_INVALID_ARG && strstr(err.msg, "twice"),
       "writer refuses a duplicate key: %s", err.msg);
    sq_gguf_writer_free(w);
    w = sq_gguf_writer_new();
    sq_gguf_writer_add_tensor(w, "q", SQ_TYPE_Q4_0, 1, (const int64_t[]){ 33 }, v);
    ok(sq_gguf_writer_to_memory(w, &d, &n, &err) == SQ_ERR_INVALID_ARG && strstr(err.msg, "block"),
       "writer refuses a partial block: %s", err.msg);
    sq_gguf_writer_free(w);
}

/* ---- hand-made broken files ---- */

/* Offsets inside make_sample()'s output, found by scanning for known bytes. */
static size_t
find_bytes(const uint8_t *d, size_t n, const void *needle, size_t len)
{
    for (size_t i = 0; i + len <= n; i++)
        if (memcmp(d + i, needle, len) == 0)
            return i;
    return SIZE_MAX;
}

static void
put_u64_at(uint8_t *d, size_t at, uint64_t v)
{
    memcpy(d + at, &v, 8);
}

static void
put_u32_at(uint8_t *d, size_t at, uint32_t v)
{
    memcpy(d + at, &v, 4);
}

typedef void (*mutator)(uint8_t *d, size_t *n);

static void m_magic(uint8_t *d, size_t *n) { (void)n; d[0] = 'X'; }
static void m_version(uint8_t *d, size_t *n) { (void)n; put_u32_at(d, 4, 7); }
static void m_version1(uint8_t *d, size_t *n) { (void)n; put_u32_at(d, 4, 1); }
static void m_kv_count(uint8_t *d, size_t *n) { (void)n; put_u64_at(d, 16, UINT64_MAX / 2); }
static void m_tensor_count(uint8_t *d, size_t *n) { (void)n; put_u64_at(d, 8, 1ull << 40); }
static void m_short(uint8_t *d, size_t *n) { (void)d; *n = 20; }

/* The first key's length: a string that runs past the end. */
static void m_key_len(uint8_t *d, size_t *n) { (void)n; put_u64_at(d, 24, 1ull << 62); }

static void
m_value_type(uint8_t *d, size_t *n)
{
    size_t at = find_bytes(d, *n, "general.architecture", 20);
    put_u32_at(d, at + 20, 99);
}

static void
m_bool(uint8_t *d, size_t *n)
{
    size_t at = find_bytes(d, *n, "t.bool", 6);
    d[at + 6 + 4] = 2;
}

static void
m_array_len(uint8_t *d, size_t *n)
{
    size_t at = find_bytes(d, *n, "t.sections", 10);
    put_u64_at(d, at + 10 + 4 + 4, 1ull << 60);
}

static void
m_str_array_len(uint8_t *d, size_t *n)
{
    size_t at = find_bytes(d, *n, "t.words", 7);
    put_u64_at(d, at + 7 + 4 + 4, UINT64_MAX);
}

static void
m_dup_key(uint8_t *d, size_t *n)
{
    size_t at = find_bytes(d, *n, "t.u16", 5);
    memcpy(d + at, "t.u32", 5); /* same length, so the layout stays valid */
}

static void
m_dup_tensor(uint8_t *d, size_t *n)
{
    size_t at = find_bytes(d, *n, "b.weight", 8);
    d[at] = 'a';
}

static void
m_tensor_type(uint8_t *d, size_t *n)
{
    size_t at = find_bytes(d, *n, "b.weight", 8);
    put_u32_at(d, at + 8 + 4 + 8, 77);
}

static void
m_n_dims(uint8_t *d, size_t *n)
{
    size_t at = find_bytes(d, *n, "b.weight", 8);
    put_u32_at(d, at + 8, 9);
}

static void
m_block(uint8_t *d, size_t *n)
{
    size_t at = find_bytes(d, *n, "c.weight", 8);
    put_u64_at(d, at + 8 + 4, 33); /* Q8_0 rows must be multiples of 32 */
}

static void
m_overflow(uint8_t *d, size_t *n)
{
    size_t at = find_bytes(d, *n, "a.weight", 8);
    put_u64_at(d, at + 8 + 4, 1ull << 62);
    put_u64_at(d, at + 8 + 4 + 8, 1ull << 62);
}

static void
m_offset_align(uint8_t *d, size_t *n)
{
    size_t at = find_bytes(d, *n, "c.weight", 8);
    put_u64_at(d, at + 8 + 4 + 16 + 4, 3);
}

static void
m_offset_range(uint8_t *d, size_t *n)
{
    size_t at = find_bytes(d, *n, "c.weight", 8);
    put_u64_at(d, at + 8 + 4 + 16 + 4, 1ull << 20);
}

static void m_truncated_data(uint8_t *d, size_t *n) { (void)d; *n -= 40; }

typedef struct {
    const char *what;
    mutator     mutate;
    sq_status   status;
    const char *message; /* a fragment the error must contain */
} broken_case;

static const broken_case broken[] = {
    { "bad magic", m_magic, SQ_ERR_FORMAT, "not a GGUF file" },
    { "unknown version", m_version, SQ_ERR_FORMAT, "unknown GGUF version 7" },
    { "version 1", m_version1, SQ_ERR_UNSUPPORTED, "version 1" },
    { "huge metadata count", m_kv_count, SQ_ERR_FORMAT, "metadata count" },
    { "huge tensor count", m_tensor_count, SQ_ERR_FORMAT, "tensor count" },
    { "header cut short", m_short, SQ_ERR_FORMAT, "truncated" },
    { "key length past the end", m_key_len, SQ_ERR_FORMAT, "metadata key" },
    { "unknown value type", m_value_type, SQ_ERR_FORMAT, "unknown value type 99" },
    { "bool that is not 0/1", m_bool, SQ_ERR_FORMAT, "bool value 2" },
    { "array length past the end", m_array_len, SQ_ERR_FORMAT, "t.sections" },
    { "string array length past the end", m_str_array_len, SQ_ERR_FORMAT, "t.words" },
    { "duplicate key", m_dup_key, SQ_ERR_FORMAT, "duplicate metadata key 't.u32'" },
    { "duplicate tensor", m_dup_tensor, SQ_ERR_FORMAT, "duplicate tensor name 'a.weight'" },
    { "unknown tensor type", m_tensor_type, SQ_ERR_FORMAT, "unknown ggml type 77" },
    { "too many dimensions", m_n_dims, SQ_ERR_FORMAT, "9 dimensions" },
    { "partial quant block", m_block, SQ_ERR_FORMAT, "not a multiple of the Q8_0 block size" },
    { "shape overflows", m_overflow, SQ_ERR_FORMAT, "overflows" },
    { "misaligned tensor offset", m_offset_align, SQ_ERR_FORMAT, "not a multiple of the alignment" },
    { "tensor outside the file", m_offset_range, SQ_ERR_FORMAT, "outside the file" },
    { "tensor data cut short", m_truncated_data, SQ_ERR_FORMAT, "outside the file" },
};

static void
test_broken_files(void)
{
    size_t size;
    uint8_t *orig = make_sample(&size);
    const char *dir = getenv("SQ_WRITE_CORPUS"); /* writes the cases as fuzz seeds */
    if (dir) {
        char path[512];
        snprintf(path, sizeof path, "%s/valid-sample.gguf", dir);
        FILE *f = fopen(path, "wb");
        if (f) {
            fwrite(orig, 1, size, f);
            fclose(f);
        }
    }
    for (size_t i = 0; i < sizeof broken / sizeof broken[0]; i++) {
        uint8_t *d = malloc(size);
        memcpy(d, orig, size);
        size_t n = size;
        broken[i].mutate(d, &n);
        sq_gguf *g = NULL;
        sq_error err = { 0 };
        sq_status st = sq_gguf_open_memory(d, n, &g, &err);
        ok(st == broken[i].status && g == NULL && strstr(err.msg, broken[i].message),
           "%s → %s: %s", broken[i].what, sq_status_string(st), err.msg);
        if (dir) {
            char path[512];
            snprintf(path, sizeof path, "%s/broken-%02zu.gguf", dir, i);
            FILE *f = fopen(path, "wb");
            if (f) {
                fwrite(d, 1, n, f);
                fclose(f);
            }
        }
        sq_gguf_close(g);
        free(d);
    }

    /* A bad general.alignment, built directly. */
    sq_gguf_writer *w = sq_gguf_writer_new();
    sq_gguf_writer_set_u32(w, "general.alignment", 48);
    void *d = NULL;
    size_t n = 0;
    sq_error err = { 0 };
    sq_gguf_writer_to_memory(w, &d, &n, &err);
    sq_gguf_writer_free(w);
    sq_gguf *g = NULL;
    ok(sq_gguf_open_memory(d, n, &g, &err) == SQ_ERR_FORMAT && strstr(err.msg, "power of two"),
       "alignment 48 refused: %s", err.msg);
    free(d);
    w = sq_gguf_writer_new();
    sq_gguf_writer_set_str(w, "general.alignment", "32");
    sq_gguf_writer_to_memory(w, &d, &n, &err);
    sq_gguf_writer_free(w);
    ok(sq_gguf_open_memory(d, n, &g, &err) == SQ_ERR_FORMAT && strstr(err.msg, "expected u32"),
       "string alignment refused: %s", err.msg);
    free(d);

    /* Every truncation that cuts into what the tensors need fails cleanly
     * (ASan watches the reads); cutting only trailing padding is harmless. */
    size_t needed = 0;
    if (sq_gguf_open_memory(orig, size, &g, &err) == SQ_OK) {
        const sq_gguf_tensor *last = sq_gguf_tensor_at(g, sq_gguf_n_tensors(g) - 1);
        needed = sq_gguf_data_offset(g) + last->offset + last->nbytes;
        sq_gguf_close(g);
    }
    int right = 0;
    for (size_t cut = 0; cut < size; cut++) {
        uint8_t *t = malloc(cut ? cut : 1);
        memcpy(t, orig, cut);
        g = NULL;
        sq_status st = sq_gguf_open_memory(t, cut, &g, &err);
        if (cut < needed ? (st != SQ_OK && g == NULL && err.msg[0]) : st == SQ_OK)
            right++;
        sq_gguf_close(g);
        free(t);
    }
    ok(needed > 0 && right == (int)size, "truncations: %d of %zu handled right (data ends at %zu)", right, size, needed);

    /* Flip every byte of the header: no crash, and whatever parses is sane. */
    int parsed = 0;
    for (size_t i = 0; i < size; i++) {
        uint8_t *t = malloc(size);
        memcpy(t, orig, size);
        t[i] ^= 0xff;
        g = NULL;
        if (sq_gguf_open_memory(t, size, &g, &err) == SQ_OK) {
            parsed++;
            for (int64_t k = 0; k < sq_gguf_n_tensors(g); k++) {
                const sq_gguf_tensor *tt = sq_gguf_tensor_at(g, k);
                volatile uint8_t last = tt->nbytes ? ((const uint8_t *)tt->data)[tt->nbytes - 1] : 0;
                (void)last;
            }
        }
        sq_gguf_close(g);
        free(t);
    }
    ok(parsed > 0 && parsed < (int)size, "byte flips: %d of %zu still parse (data bytes), the rest fail", parsed, size);
    free(orig);
}

/* The tiny reference models, as llama.cpp's converter wrote them. */
static void
test_reference_models(void)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/tiny/models/qwen25vl-text-q4_k_m.gguf", tap_data_dir());
    sq_gguf *g = NULL;
    sq_error err = { 0 };
    if (access(path, R_OK) != 0) {
        ok(0, "reference model %s is present", path);
        return;
    }
    ok(sq_gguf_open(path, &g, &err) == SQ_OK, "opens %s (%s)", path, err.msg);
    if (!g)
        return;
    sq_str arch;
    ok(sq_gguf_get_str(g, "general.architecture", &arch, &err) == SQ_OK && arch.len == 7 &&
           memcmp(arch.ptr, "qwen2vl", 7) == 0, "architecture qwen2vl");
    uint32_t n_embd = 0;
    ok(sq_gguf_get_u32(g, "qwen2vl.embedding_length", &n_embd, &err) == SQ_OK && n_embd == 256, "n_embd 256");
    sq_gguf_array sec;
    int64_t s[4] = { 0 };
    ok(sq_gguf_get_array(g, "qwen2vl.rope.dimension_sections", &sec, &err) == SQ_OK && sec.count == 4 &&
           sq_gguf_array_ints(&sec, s, &err) == SQ_OK && s[0] == 4 && s[1] == 6 && s[2] == 6,
       "rope sections [4, 6, 6, 0]");
    sq_gguf_array tokens;
    ok(sq_gguf_get_array(g, "tokenizer.ggml.tokens", &tokens, &err) == SQ_OK && tokens.count == 4160,
       "4160 tokens");
    sq_str im_end = sq_gguf_array_str(&tokens, 4098);
    ok(im_end.len == 10 && memcmp(im_end.ptr, "<|im_end|>", 10) == 0, "token 4098 is <|im_end|>");
    const sq_gguf_tensor *out = sq_gguf_find_tensor(g, "output.weight");
    ok(out && out->type == SQ_TYPE_Q6_K && out->ne[0] == 256 && out->ne[1] == 4160, "output.weight is Q6_K [256, 4160]");
    const sq_gguf_tensor *q = sq_gguf_find_tensor(g, "blk.0.attn_q.weight");
    ok(q && q->type == SQ_TYPE_Q4_K, "blk.0.attn_q.weight is Q4_K");
    /* Tensors are packed in order, each padded to the alignment. */
    bool packed = true;
    for (int64_t i = 1; i < sq_gguf_n_tensors(g); i++) {
        const sq_gguf_tensor *a = sq_gguf_tensor_at(g, i - 1), *b = sq_gguf_tensor_at(g, i);
        size_t end = a->offset + a->nbytes;
        end += (sq_gguf_alignment(g) - end % sq_gguf_alignment(g)) % sq_gguf_alignment(g);
        packed = packed && b->offset == end;
    }
    ok(packed, "tensor offsets are consecutive and aligned");
    sq_gguf_close(g);
}

int
main(void)
{
    test_round_trip();
    test_file_round_trip();
    test_broken_files();
    test_reference_models();
    return tap_done();
}
