/* test-model-errors.c — bad input through the public API and through
 * squint-cli: broken model files, mismatched model pairs, bad images and
 * prompts that do not fit.  Every case must end in an error status with a
 * message naming the problem — never a crash, and (the suite also runs under
 * ASan) never a leak.
 *
 * The broken models are rewrites of the tiny reference models
 * (tests/data/tiny/models): every key and tensor copied through the GGUF
 * writer except one change, into a temporary directory that is removed at
 * the end.  An unchanged rewrite must load, which shows the copy is
 * faithful and that each failure comes from its one change.
 *
 * argv[1] is the squint-cli executable (tests/meson.build passes it); without
 * it the CLI checks are skipped.
 */
#include <dirent.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gguf.h"
#include "squint.h"
#include "tap.h"

extern char **environ;

static char tmp_dir[512];
static char text_f32[1024], mmproj_f32[1024];

static void *
xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    return p;
}

static void *
xcalloc(size_t n)
{
    void *p = calloc(1, n ? n : 1);
    if (!p) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    return p;
}

static char *
tmp_path(const char *name)
{
    static char buf[8][1024];
    static int next;
    char *p = buf[next++ % 8];
    snprintf(p, sizeof buf[0], "%s/%s", tmp_dir, name);
    return p;
}

/* True when msg contains every '|'-separated part of `parts`. */
static bool
has_all(const char *msg, const char *parts)
{
    char buf[512];
    snprintf(buf, sizeof buf, "%s", parts);
    for (char *save = NULL, *p = strtok_r(buf, "|", &save); p; p = strtok_r(NULL, "|", &save))
        if (!strstr(msg, p))
            return false;
    return true;
}

static bool
write_bytes(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return false;
    bool good = fwrite(data, 1, n, f) == n;
    return fclose(f) == 0 && good;
}

static void *
read_bytes(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    void *buf = xmalloc((size_t)len);
    *n = fread(buf, 1, (size_t)len, f);
    fclose(f);
    return buf;
}

/* A binary PPM of w × h grey pixels: the simplest image file to make. */
static bool
write_ppm(const char *path, int w, int h)
{
    char hdr[64];
    int n = snprintf(hdr, sizeof hdr, "P6\n%d %d\n255\n", w, h);
    size_t px = (size_t)w * (size_t)h * 3;
    uint8_t *buf = xmalloc((size_t)n + px);
    memcpy(buf, hdr, (size_t)n);
    memset(buf + n, 128, px);
    bool good = write_bytes(path, buf, (size_t)n + px);
    free(buf);
    return good;
}

/* ---- rewriting a GGUF with one change ---- */

typedef enum { K_DROP, K_STR, K_U32, K_SECTIONS } key_op;

typedef struct {
    const char *key;
    key_op      op;
    const char *str;
    uint32_t    u32;
    int32_t     sections[4];
} key_edit;

typedef enum { T_DROP, T_REPLACE } tensor_op;

/* T_REPLACE: the tensor gets type and shape ne[0..n_dims); its bytes are
 * the original's prefix, zero-filled when the new tensor is larger. */
typedef struct {
    const char *name;
    tensor_op   op;
    sq_type     type;
    uint32_t    n_dims;
    int64_t     ne[4];
} tensor_edit;

typedef struct {
    const key_edit    *keys;
    size_t             n_keys;
    const tensor_edit *tensors;
    size_t             n_tensors;
} edits;

static void
copy_kv(sq_gguf_writer *w, const sq_gguf *g, int64_t i)
{
    const char *key = sq_gguf_kv_key(g, i);
    int64_t iv = 0;
    uint64_t uv = 0;
    float fv = 0;
    bool bv = false;
    sq_str sv;
    sq_gguf_array arr;
    switch (sq_gguf_kv_type(g, i)) {
    case SQ_GGUF_UINT8:   sq_gguf_get_i64(g, key, &iv, NULL); sq_gguf_writer_set_u8(w, key, (uint8_t)iv); break;
    case SQ_GGUF_INT8:    sq_gguf_get_i64(g, key, &iv, NULL); sq_gguf_writer_set_i8(w, key, (int8_t)iv); break;
    case SQ_GGUF_UINT16:  sq_gguf_get_i64(g, key, &iv, NULL); sq_gguf_writer_set_u16(w, key, (uint16_t)iv); break;
    case SQ_GGUF_INT16:   sq_gguf_get_i64(g, key, &iv, NULL); sq_gguf_writer_set_i16(w, key, (int16_t)iv); break;
    case SQ_GGUF_UINT32:  sq_gguf_get_i64(g, key, &iv, NULL); sq_gguf_writer_set_u32(w, key, (uint32_t)iv); break;
    case SQ_GGUF_INT32:   sq_gguf_get_i64(g, key, &iv, NULL); sq_gguf_writer_set_i32(w, key, (int32_t)iv); break;
    case SQ_GGUF_UINT64:  sq_gguf_get_u64(g, key, &uv, NULL); sq_gguf_writer_set_u64(w, key, uv); break;
    case SQ_GGUF_INT64:   sq_gguf_get_i64(g, key, &iv, NULL); sq_gguf_writer_set_i64(w, key, iv); break;
    case SQ_GGUF_FLOAT32: sq_gguf_get_f32(g, key, &fv, NULL); sq_gguf_writer_set_f32(w, key, fv); break;
    case SQ_GGUF_FLOAT64: sq_gguf_get_f32(g, key, &fv, NULL); sq_gguf_writer_set_f64(w, key, fv); break;
    case SQ_GGUF_BOOL:    sq_gguf_get_bool(g, key, &bv, NULL); sq_gguf_writer_set_bool(w, key, bv); break;
    case SQ_GGUF_STRING: {
        sq_gguf_get_str(g, key, &sv, NULL);
        char *s = strndup(sv.ptr, sv.len);
        sq_gguf_writer_set_str(w, key, s);
        free(s);
        break;
    }
    case SQ_GGUF_ARRAY:
        sq_gguf_get_array(g, key, &arr, NULL);
        if (arr.elem_type == SQ_GGUF_STRING) {
            char **strs = xmalloc((size_t)arr.count * sizeof *strs);
            for (uint64_t k = 0; k < arr.count; k++) {
                sq_str e = sq_gguf_array_str(&arr, k);
                strs[k] = strndup(e.ptr, e.len);
            }
            sq_gguf_writer_set_str_array(w, key, (const char *const *)strs, arr.count);
            for (uint64_t k = 0; k < arr.count; k++)
                free(strs[k]);
            free(strs);
        } else {
            sq_gguf_writer_set_array(w, key, arr.elem_type, arr.data, arr.count);
        }
        break;
    default:
        break;
    }
}

static const key_edit *
find_key_edit(const edits *e, const char *key)
{
    for (size_t i = 0; e && i < e->n_keys; i++)
        if (strcmp(e->keys[i].key, key) == 0)
            return &e->keys[i];
    return NULL;
}

static const tensor_edit *
find_tensor_edit(const edits *e, const char *name)
{
    for (size_t i = 0; e && i < e->n_tensors; i++)
        if (strcmp(e->tensors[i].name, name) == 0)
            return &e->tensors[i];
    return NULL;
}

/* Copies src to dst (in the temp dir) with the edits applied. */
static bool
rewrite(const char *src, const char *dst, const edits *e)
{
    sq_gguf *g = NULL;
    sq_error err = { 0 };
    if (sq_gguf_open(src, &g, &err) != SQ_OK) {
        diag("cannot read %s: %s", src, err.msg);
        return false;
    }
    sq_gguf_writer *w = sq_gguf_writer_new();
    if (sq_gguf_alignment(g) != SQ_GGUF_DEFAULT_ALIGNMENT)
        sq_gguf_writer_set_alignment(w, sq_gguf_alignment(g));
    for (int64_t i = 0; i < sq_gguf_n_kv(g); i++) {
        const char *key = sq_gguf_kv_key(g, i);
        const key_edit *ke = find_key_edit(e, key);
        if (strcmp(key, "general.alignment") == 0)
            continue;
        if (!ke) {
            copy_kv(w, g, i);
            continue;
        }
        switch (ke->op) {
        case K_DROP: break;
        case K_STR: sq_gguf_writer_set_str(w, key, ke->str); break;
        case K_U32: sq_gguf_writer_set_u32(w, key, ke->u32); break;
        case K_SECTIONS: sq_gguf_writer_set_array(w, key, SQ_GGUF_INT32, ke->sections, 4); break;
        }
    }
    for (int64_t i = 0; i < sq_gguf_n_tensors(g); i++) {
        const sq_gguf_tensor *t = sq_gguf_tensor_at(g, i);
        const tensor_edit *te = find_tensor_edit(e, t->name);
        if (!te) {
            sq_gguf_writer_add_tensor(w, t->name, t->type, t->n_dims, t->ne, t->data);
        } else if (te->op == T_REPLACE) {
            int64_t rows = 1;
            for (uint32_t d = 1; d < te->n_dims; d++)
                rows *= te->ne[d];
            size_t size = sq_type_row_size(te->type, te->ne[0]) * (size_t)rows;
            uint8_t *data = xcalloc(size);
            memcpy(data, t->data, size < t->nbytes ? size : t->nbytes);
            sq_gguf_writer_add_tensor(w, t->name, te->type, te->n_dims, te->ne, data);
            free(data);
        }
    }
    sq_status st = sq_gguf_writer_write(w, dst, &err);
    if (st != SQ_OK)
        diag("cannot write %s: %s", dst, err.msg);
    sq_gguf_writer_free(w);
    sq_gguf_close(g);
    return st == SQ_OK;
}

/* ---- loading ---- */

static sq_status
try_load(const char *text, const char *mmproj, sq_error *err)
{
    sq_model_params p = sq_model_default_params();
    p.text_path = text;
    p.mmproj_path = mmproj;
    p.n_threads = 1;
    sq_model *m = NULL;
    *err = (sq_error){ 0 };
    sq_status st = sq_model_load(&p, &m, err);
    if (st == SQ_OK && !m)
        st = sq_error_set(err, SQ_ERR_INVALID_ARG, "sq_model_load returned SQ_OK without a model");
    sq_model_free(m);
    return st;
}

typedef struct {
    const char *what;       /* the description */
    const char *file;       /* temp file name of the broken model */
    bool        is_mmproj;  /* the broken file is the vision model */
    edits       e;
    sq_status   want;
    const char *msg_parts;  /* '|'-separated substrings the message must have */
} broken_model;

#define KEYS(...) (const key_edit[]){ __VA_ARGS__ }, sizeof((const key_edit[]){ __VA_ARGS__ }) / sizeof(key_edit)
#define TENSORS(...) (const tensor_edit[]){ __VA_ARGS__ }, sizeof((const tensor_edit[]){ __VA_ARGS__ }) / sizeof(tensor_edit)

static const broken_model broken_models[] = {
    { "missing tensor blk.2.ffn_up.weight", "missing-tensor.gguf", false,
      { NULL, 0, TENSORS({ "blk.2.ffn_up.weight", T_DROP, 0, 0, { 0 } }) },
      SQ_ERR_NOT_FOUND, "blk.2.ffn_up.weight|missing" },
    { "blk.0.attn_k.weight of shape [256, 128] instead of [256, 64]", "wrong-shape.gguf", false,
      { NULL, 0, TENSORS({ "blk.0.attn_k.weight", T_REPLACE, SQ_TYPE_F32, 2, { 256, 128 } }) },
      SQ_ERR_FORMAT, "blk.0.attn_k.weight|[256, 128]|[256, 64]" },
    { "architecture 'llama'", "wrong-arch.gguf", false,
      { KEYS({ "general.architecture", K_STR, "llama", 0, { 0 } }), NULL, 0 },
      SQ_ERR_UNSUPPORTED, "architecture|llama" },
    { "no qwen2vl.feed_forward_length", "missing-key.gguf", false,
      { KEYS({ "qwen2vl.feed_forward_length", K_DROP, NULL, 0, { 0 } }), NULL, 0 },
      SQ_ERR_NOT_FOUND, "qwen2vl.feed_forward_length|missing" },
    { "qwen2vl.embedding_length stored as a string", "key-type.gguf", false,
      { KEYS({ "qwen2vl.embedding_length", K_STR, "256", 0, { 0 } }), NULL, 0 },
      SQ_ERR_TYPE, "qwen2vl.embedding_length|type" },
    { "rope sections [4,6,5,0] (sum 15, head_dim/2 = 16)", "rope-sections.gguf", false,
      { KEYS({ "qwen2vl.rope.dimension_sections", K_SECTIONS, NULL, 0, { 4, 6, 5, 0 } }), NULL, 0 },
      SQ_ERR_FORMAT, "rope sections|15|16" },
    { "blk.1.ffn_gate.weight as Q2_K", "q2k.gguf", false,
      { NULL, 0, TENSORS({ "blk.1.ffn_gate.weight", T_REPLACE, SQ_TYPE_Q2_K, 2, { 256, 512 } }) },
      SQ_ERR_UNSUPPORTED, "blk.1.ffn_gate.weight|Q2_K" },
    { "4160 tokens but 4096 embedding rows", "short-embd.gguf", false,
      { NULL, 0, TENSORS({ "token_embd.weight", T_REPLACE, SQ_TYPE_F32, 2, { 256, 4096 } },
                         { "output.weight", T_REPLACE, SQ_TYPE_F32, 2, { 256, 4096 } }) },
      SQ_ERR_FORMAT, "vocabulary|4160|4096" },
    { "mmproj projecting to 128 dimensions for a 256-wide text model", "mmproj-128.gguf", true,
      { KEYS({ "clip.vision.projection_dim", K_U32, NULL, 128, { 0 } }),
        TENSORS({ "mm.2.weight", T_REPLACE, SQ_TYPE_F32, 2, { 512, 128 } },
                { "mm.2.bias", T_REPLACE, SQ_TYPE_F32, 1, { 128 } }) },
      SQ_ERR_FORMAT, "128|256|not a pair" },
    { "mmproj projection_dim 128 but mm.2.weight 512 × 256", "mmproj-dim.gguf", true,
      { KEYS({ "clip.vision.projection_dim", K_U32, NULL, 128, { 0 } }), NULL, 0 },
      SQ_ERR_FORMAT, "mm.2.weight|shape" },
    { "mmproj without v.blk.1.ffn_down.weight", "mmproj-missing.gguf", true,
      { NULL, 0, TENSORS({ "v.blk.1.ffn_down.weight", T_DROP, 0, 0, { 0 } }) },
      SQ_ERR_NOT_FOUND, "v.blk.1.ffn_down.weight|missing" },
    { "mmproj without clip.vision.projection_dim", "mmproj-nokey.gguf", true,
      { KEYS({ "clip.vision.projection_dim", K_DROP, NULL, 0, { 0 } }), NULL, 0 },
      SQ_ERR_NOT_FOUND, "clip.vision.projection_dim|missing" },
    { "mmproj projector 'mlp'", "mmproj-projector.gguf", true,
      { KEYS({ "clip.projector_type", K_STR, "mlp", 0, { 0 } }), NULL, 0 },
      SQ_ERR_UNSUPPORTED, "projector|mlp" },
};
#define N_BROKEN (sizeof broken_models / sizeof broken_models[0])

static void
test_faithful_copy(void)
{
    const edits none = { 0 };
    sq_error err;
    bool made = rewrite(text_f32, tmp_path("copy-text.gguf"), &none) &&
                rewrite(mmproj_f32, tmp_path("copy-mmproj.gguf"), &none);
    sq_status st = made ? try_load(tmp_path("copy-text.gguf"), tmp_path("copy-mmproj.gguf"), &err) : SQ_ERR_IO;
    ok(made && st == SQ_OK, "an unchanged rewrite of the tiny text + mmproj pair loads (%s)",
       st == SQ_OK ? "ok" : err.msg);
}

static void
test_broken_models(void)
{
    for (size_t i = 0; i < N_BROKEN; i++) {
        const broken_model *b = &broken_models[i];
        char *path = tmp_path(b->file);
        sq_error err = { 0 };
        bool made = rewrite(b->is_mmproj ? mmproj_f32 : text_f32, path, &b->e);
        sq_status st = made ? try_load(b->is_mmproj ? text_f32 : path, b->is_mmproj ? path : NULL, &err) : SQ_OK;
        ok(made && st == b->want && has_all(err.msg, b->msg_parts), "%s: %s \"%s\"", b->what,
           sq_status_string(st), err.msg);
        /* the mismatched pair is also what the CLI check uses; the rest go */
        if (strcmp(b->file, "mmproj-128.gguf") != 0 && strcmp(b->file, "missing-tensor.gguf") != 0 &&
            strcmp(b->file, "wrong-arch.gguf") != 0)
            unlink(path);
    }
}

/* A matmul weight whose type can be read but not multiplied. */
static void
test_q8k_weight(void)
{
    const edits e = { NULL, 0, TENSORS({ "blk.0.attn_q.weight", T_REPLACE, SQ_TYPE_Q8_K, 2, { 256, 256 } }) };
    char *path = tmp_path("q8k.gguf");
    if (!ok(rewrite(text_f32, path, &e), "Q8_K weight model written"))
        return;
    sq_error err;
    sq_status st = try_load(path, NULL, &err);
    ok(st == SQ_ERR_UNSUPPORTED && has_all(err.msg, "blk.0.attn_q.weight|Q8_K"),
       "blk.0.attn_q.weight as Q8_K refused at load: %s \"%s\"", sq_status_string(st), err.msg);
    if (st == SQ_OK) {
        /* then at least evaluation must fail cleanly */
        sq_model_params p = sq_model_default_params();
        p.text_path = path;
        p.n_threads = 1;
        sq_model *m = NULL;
        sq_session *s = NULL;
        err = (sq_error){ 0 };
        st = sq_model_load(&p, &m, &err);
        if (st == SQ_OK)
            st = sq_session_new(m, NULL, &s, &err);
        if (st == SQ_OK)
            st = sq_session_eval_text(s, "hello", false, &err);
        ok(st != SQ_OK && strstr(err.msg, "Q8_K"), "a loaded Q8_K-weight model fails to evaluate: %s \"%s\"",
           sq_status_string(st), err.msg);
        sq_session_free(s);
        sq_model_free(m);
    }
}

static void
test_truncated(void)
{
    size_t n = 0;
    uint8_t *data = read_bytes(text_f32, &n);
    if (!ok(data && n > 1000000, "read the tiny text model"))
        return;
    /* the header and the first tensors are whole; later tensors run past the end */
    char *path = tmp_path("truncated.gguf");
    bool made = write_bytes(path, data, n / 2);
    free(data);
    sq_error err;
    sq_status st = made ? try_load(path, NULL, &err) : SQ_OK;
    ok(made && st == SQ_ERR_FORMAT && has_all(err.msg, "truncated.gguf|outside the file"),
       "text GGUF cut in its tensor data: %s \"%s\"", sq_status_string(st), err.msg);

    data = read_bytes(mmproj_f32, &n);
    char *mpath = tmp_path("truncated-mmproj.gguf");
    made = data && write_bytes(mpath, data, n - 1000);
    free(data);
    st = made ? try_load(text_f32, mpath, &err) : SQ_OK;
    ok(made && st == SQ_ERR_FORMAT && has_all(err.msg, "truncated-mmproj.gguf|outside the file"),
       "mmproj cut 1000 bytes short: %s \"%s\"",
       sq_status_string(st), err.msg);
    unlink(mpath);

    /* the header alone, cut inside the metadata */
    data = read_bytes(text_f32, &n);
    char *hpath = tmp_path("truncated-header.gguf");
    made = data && write_bytes(hpath, data, 5000);
    free(data);
    st = made ? try_load(hpath, NULL, &err) : SQ_OK;
    ok(made && st == SQ_ERR_FORMAT && err.msg[0], "text GGUF cut in its metadata: %s \"%s\"", sq_status_string(st),
       err.msg);
    unlink(hpath);
}

static void
test_wrong_files(void)
{
    sq_error err;
    sq_status st = try_load(tmp_path("no-such-model.gguf"), NULL, &err);
    ok(st == SQ_ERR_IO && has_all(err.msg, "no-such-model.gguf"), "a missing text model: %s \"%s\"",
       sq_status_string(st), err.msg);
    st = try_load(text_f32, tmp_path("no-such-mmproj.gguf"), &err);
    ok(st == SQ_ERR_IO && has_all(err.msg, "no-such-mmproj.gguf"), "a missing mmproj: %s \"%s\"",
       sq_status_string(st), err.msg);
    st = try_load(tmp_dir, NULL, &err);
    ok(st == SQ_ERR_IO && err.msg[0], "a directory as the text model: %s \"%s\"", sq_status_string(st), err.msg);
    st = try_load(text_f32, text_f32, &err);
    ok(st == SQ_ERR_UNSUPPORTED && has_all(err.msg, "qwen2vl|clip"), "the text model given as the mmproj: %s \"%s\"",
       sq_status_string(st), err.msg);
    st = try_load(mmproj_f32, NULL, &err);
    ok(st != SQ_OK && err.msg[0], "the mmproj given as the text model fails: %s \"%s\"", sq_status_string(st),
       err.msg);
    ok(st != SQ_OK && strstr(err.msg, "clip") != NULL,
       "the mmproj given as the text model names its architecture 'clip': \"%s\"", err.msg);
}

/* ---- images ---- */

static void
test_image_files(void)
{
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/image", tap_data_dir());
    sq_image img = { 0 };
    sq_error err = { 0 };
    char *missing = tmp_path("no-such-image.png");
    sq_status st = sq_image_load_file(missing, NULL, &img, &err);
    ok(st == SQ_ERR_IO && strstr(err.msg, "no-such-image.png") && !img.rgb, "missing image: %s \"%s\"",
       sq_status_string(st), err.msg);
    err = (sq_error){ 0 };
    st = sq_image_load_file(tmp_dir, NULL, &img, &err);
    ok(st == SQ_ERR_IO && err.msg[0] && !img.rgb, "a directory as an image: %s \"%s\"", sq_status_string(st), err.msg);

    char path[1200];
    snprintf(path, sizeof path, "%s/not_an_image.txt", dir);
    err = (sq_error){ 0 };
    st = sq_image_load_file(path, NULL, &img, &err);
    ok(st == SQ_ERR_FORMAT && strstr(err.msg, "not_an_image.txt") && !img.rgb, "a text file as an image: %s \"%s\"",
       sq_status_string(st), err.msg);

    snprintf(path, sizeof path, "%s/tiny/images/img_224x168.png", tap_data_dir());
    size_t n = 0;
    uint8_t *png = read_bytes(path, &n);
    char *cut = tmp_path("truncated.png");
    bool made = png && write_bytes(cut, png, n / 2);
    free(png);
    err = (sq_error){ 0 };
    st = made ? sq_image_load_file(cut, NULL, &img, &err) : SQ_OK;
    ok(made && st == SQ_ERR_FORMAT && strstr(err.msg, "truncated") && !img.rgb, "a PNG cut in half: %s \"%s\"",
       sq_status_string(st), err.msg);
    sq_image_free(&img);

    char *empty = tmp_path("empty.png");
    made = write_bytes(empty, "", 0);
    err = (sq_error){ 0 };
    st = made ? sq_image_load_file(empty, NULL, &img, &err) : SQ_OK;
    ok(made && st == SQ_ERR_FORMAT && err.msg[0] && !img.rgb, "an empty image file: %s \"%s\"", sq_status_string(st),
       err.msg);
    sq_image_free(&img);
    unlink(empty);
}

static sq_model *
load_pair(void)
{
    sq_model_params p = sq_model_default_params();
    p.text_path = text_f32;
    p.mmproj_path = mmproj_f32;
    p.n_threads = 2;
    sq_model *m = NULL;
    sq_error err = { 0 };
    if (sq_model_load(&p, &m, &err) != SQ_OK)
        diag("loading the tiny pair: %s", err.msg);
    return m;
}

static void
test_session_errors(void)
{
    sq_model *m = load_pair();
    if (!ok(m != NULL, "the tiny text + mmproj pair loads"))
        return;
    sq_session *s = NULL;
    sq_error err = { 0 };
    sq_session_params sp = sq_session_default_params();
    sp.n_ctx = 256;
    if (!ok(sq_session_new(m, &sp, &s, &err) == SQ_OK, "session (%s)", err.msg)) {
        sq_model_free(m);
        return;
    }

    /* images the model cannot take */
    static const struct {
        int         w, h;
        const char *what, *msg_parts;
    } bad[] = {
        { 20, 100, "a 20 × 100 image (side under 28 px)", "20x100|28" },
        { 100, 27, "a 100 × 27 image", "100x27|28" },
        { 5700, 28, "a 5700 × 28 image (aspect over 200)", "5700x28|200" },
        { 28, 6000, "a 28 × 6000 image", "28x6000|200" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sq_image img = { 0 };
        err = (sq_error){ 0 };
        sq_status st = sq_image_new(bad[i].w, bad[i].h, &img, &err);
        if (st == SQ_OK)
            st = sq_session_eval_image(s, &img, NULL, &err);
        ok(st == SQ_ERR_UNSUPPORTED && has_all(err.msg, bad[i].msg_parts), "%s: %s \"%s\"", bad[i].what,
           sq_status_string(st), err.msg);
        sq_image_free(&img);
    }
    sq_stats stats = sq_session_stats(s);
    ok(stats.n_kv == 0 && stats.n_visual_tokens == 0, "refused images leave the session empty (n_kv %lld)",
       (long long)stats.n_kv);

    /* more <image> markers than images */
    sq_image img = { 0 };
    sq_image_new(56, 56, &img, &err);
    const sq_image *imgs[1] = { &img };
    err = (sq_error){ 0 };
    sq_status st = sq_session_eval_prompt(s, "<|im_start|>user\n<image><image>two pictures?", imgs, 1, &err);
    ok(st == SQ_ERR_INVALID_ARG && has_all(err.msg, "<image>|1 image"), "two <image> markers, one image: %s \"%s\"",
       sq_status_string(st), err.msg);
    sq_session_reset(s);
    err = (sq_error){ 0 };
    st = sq_session_eval_prompt(s, "<image>", NULL, 0, &err);
    ok(st == SQ_ERR_INVALID_ARG && err.msg[0], "an <image> marker and no images: %s \"%s\"", sq_status_string(st),
       err.msg);
    sq_session_reset(s);

    /* the tiny context: 256 slots */
    char *long_text = xmalloc(8000);
    long_text[0] = '\0';
    for (int i = 0; i < 300; i++)
        strcat(long_text, "word ");
    err = (sq_error){ 0 };
    st = sq_session_eval_text(s, long_text, false, &err);
    ok(st == SQ_ERR_LIMIT && has_all(err.msg, "context"), "a 300-token prompt in a 256-token context: %s \"%s\"",
       sq_status_string(st), err.msg);
    stats = sq_session_stats(s);
    ok(stats.n_kv == 0, "the refused prompt used no KV slots (n_kv %lld)", (long long)stats.n_kv);
    err = (sq_error){ 0 };
    st = sq_session_eval_text(s, "word word word", false, &err);
    ok(st == SQ_OK && sq_session_logits(s) != NULL, "the session still takes a short prompt afterwards (%s)",
       err.msg);

    /* an image that does not fit what is left: 224 × 168 → 8 × 6 = 48 tokens */
    sq_session *small = NULL;
    sp.n_ctx = 40;
    char path[1200];
    snprintf(path, sizeof path, "%s/tiny/images/img_224x168.png", tap_data_dir());
    sq_image photo = { 0 };
    if (sq_session_new(m, &sp, &small, &err) == SQ_OK && sq_image_load_file(path, NULL, &photo, &err) == SQ_OK) {
        err = (sq_error){ 0 };
        st = sq_session_eval_image(small, &photo, NULL, &err);
        ok(st == SQ_ERR_LIMIT && has_all(err.msg, "48|40"), "a 48-token image in a 40-token context: %s \"%s\"",
           sq_status_string(st), err.msg);
        err = (sq_error){ 0 };
        st = sq_session_eval_prompt(small, "look: <image>", (const sq_image *const[]){ &photo }, 1, &err);
        ok(st == SQ_ERR_LIMIT, "the same image through a prompt: %s \"%s\"", sq_status_string(st), err.msg);
    } else {
        ok(0, "small session and photo (%s)", err.msg);
    }
    sq_image_free(&photo);
    sq_session_free(small);

    /* images on a text-only model */
    sq_model_params p = sq_model_default_params();
    p.text_path = text_f32;
    p.n_threads = 1;
    sq_model *text_only = NULL;
    sq_session *ts = NULL;
    err = (sq_error){ 0 };
    if (sq_model_load(&p, &text_only, &err) == SQ_OK && sq_session_new(text_only, &sp, &ts, &err) == SQ_OK) {
        st = sq_session_eval_image(ts, &img, NULL, &err);
        ok(st == SQ_ERR_UNSUPPORTED && has_all(err.msg, "mmproj"), "an image for a text-only model: %s \"%s\"",
           sq_status_string(st), err.msg);
        err = (sq_error){ 0 };
        st = sq_session_eval_prompt(ts, "<image> what is it?", imgs, 1, &err);
        ok(st == SQ_ERR_UNSUPPORTED && has_all(err.msg, "mmproj"),
           "an <image> prompt for a text-only model says it needs the mmproj: %s \"%s\"",
           sq_status_string(st), err.msg);
    } else {
        ok(0, "text-only model (%s)", err.msg);
    }
    sq_session_free(ts);
    sq_model_free(text_only);

    free(long_text);
    sq_image_free(&img);
    sq_session_free(s);
    sq_model_free(m);
}

/* ---- the CLI ---- */

typedef struct {
    int   status;  /* wait status */
    char *out, *err;
} cli_result;

static cli_result
run_cli(const char *cli, const char *const *args)
{
    cli_result r = { -1, NULL, NULL };
    char *const out_path = tmp_path("cli.out"), *const err_path = tmp_path("cli.err");
    char *argv[32];
    int n = 0;
    argv[n++] = (char *)cli;
    for (; args[n - 1] && n < 31; n++)
        argv[n] = (char *)args[n - 1];
    argv[n] = NULL;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&fa, 2, err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    pid_t pid;
    if (posix_spawn(&pid, cli, &fa, NULL, argv, environ) == 0)
        waitpid(pid, &r.status, 0);
    posix_spawn_file_actions_destroy(&fa);
    size_t len = 0;
    char *s = read_bytes(out_path, &len);
    r.out = xcalloc(len + 1);
    if (s)
        memcpy(r.out, s, len);
    free(s);
    s = read_bytes(err_path, &len);
    r.err = xcalloc(len + 1);
    if (s)
        memcpy(r.err, s, len);
    free(s);
    unlink(out_path);
    unlink(err_path);
    return r;
}

static void
check_cli(const char *cli, const char *what, const char *const *args, const char *msg_parts)
{
    cli_result r = run_cli(cli, args);
    static const char *const crash_marks[] = { "Segmentation", "AddressSanitizer", "LeakSanitizer",
                                               "runtime error", "Aborted", "core dumped" };
    const char *crash = NULL;
    for (size_t i = 0; i < sizeof crash_marks / sizeof crash_marks[0]; i++)
        if (strstr(r.err, crash_marks[i]) || strstr(r.out, crash_marks[i]))
            crash = crash_marks[i];
    bool exited = WIFEXITED(r.status);
    int code = exited ? WEXITSTATUS(r.status) : -1;
    char first_line[200];
    snprintf(first_line, sizeof first_line, "%s", r.err);
    first_line[strcspn(first_line, "\n")] = '\0';
    ok(exited && code != 0 && has_all(r.err, msg_parts) && !crash, "cli %s: exit %d%s, stderr \"%s\"%s%s", what, code,
       exited ? "" : " (killed by a signal)", first_line, crash ? ", found " : "", crash ? crash : "");
    if (!exited || crash)
        diag("stderr: %s", r.err);
    free(r.out);
    free(r.err);
}

static void
test_cli(const char *cli)
{
    if (!cli || access(cli, X_OK) != 0) {
        ok(1, "cli checks # SKIP no squint-cli given (argv[1])");
        return;
    }
    char bad_image[1200], png[1200];
    snprintf(bad_image, sizeof bad_image, "%s/image/not_an_image.txt", tap_data_dir());
    snprintf(png, sizeof png, "%s/tiny/images/img_224x168.png", tap_data_dir());
    char small[1024], thin[1024];
    snprintf(small, sizeof small, "%s", tmp_path("small-20x100.ppm"));
    snprintf(thin, sizeof thin, "%s", tmp_path("thin-5700x28.ppm"));
    bool made = write_ppm(small, 20, 100) && write_ppm(thin, 5700, 28);
    ok(made, "cli: test images written");
    char long_prompt[2000] = "";
    for (int i = 0; i < 60; i++)
        strcat(long_prompt, "word ");

    check_cli(cli, "missing tensor",
              (const char *const[]){ "run", "-m", tmp_path("missing-tensor.gguf"), "-p", "hi", "-n", "1", NULL },
              "blk.2.ffn_up.weight|missing");
    check_cli(cli, "wrong architecture",
              (const char *const[]){ "run", "-m", tmp_path("wrong-arch.gguf"), "-p", "hi", "-n", "1", NULL },
              "architecture|llama");
    check_cli(cli, "truncated text model",
              (const char *const[]){ "run", "-m", tmp_path("truncated.gguf"), "-p", "hi", "-n", "1", NULL },
              "outside the file");
    check_cli(cli, "missing model file",
              (const char *const[]){ "run", "-m", tmp_path("no-such-model.gguf"), "-p", "hi", NULL },
              "no-such-model.gguf");
    check_cli(cli, "mismatched pair",
              (const char *const[]){ "run", "-m", text_f32, "--mmproj", tmp_path("mmproj-128.gguf"), "--image", png,
                                     "-p", "hi", "-n", "1", NULL },
              "not a pair");
    check_cli(cli, "a text file as the image",
              (const char *const[]){ "run", "-m", text_f32, "--mmproj", mmproj_f32, "--image", bad_image, "-p", "hi",
                                     "-n", "1", NULL },
              "not_an_image.txt|not a readable");
    check_cli(cli, "a truncated PNG",
              (const char *const[]){ "run", "-m", text_f32, "--mmproj", mmproj_f32, "--image",
                                     tmp_path("truncated.png"), "-p", "hi", "-n", "1", NULL },
              "truncated.png|truncated");
    check_cli(cli, "a missing image",
              (const char *const[]){ "run", "-m", text_f32, "--mmproj", mmproj_f32, "--image",
                                     tmp_path("no-such-image.png"), "-p", "hi", "-n", "1", NULL },
              "no-such-image.png");
    check_cli(cli, "a 20 × 100 image",
              (const char *const[]){ "run", "-m", text_f32, "--mmproj", mmproj_f32, "--image", small, "-p", "hi",
                                     "-n", "1", NULL },
              "20x100|28");
    check_cli(cli, "a 5700 × 28 image",
              (const char *const[]){ "run", "-m", text_f32, "--mmproj", mmproj_f32, "--image", thin, "-p", "hi",
                                     "-n", "1", NULL },
              "5700x28|200");
    check_cli(cli, "more <image> markers than images",
              (const char *const[]){ "run", "-m", text_f32, "--mmproj", mmproj_f32, "--image", png, "--raw-prompt",
                                     "<image> and <image>?", "-n", "1", NULL },
              "<image>");
    check_cli(cli, "a prompt longer than the context",
              (const char *const[]){ "run", "-m", text_f32, "-c", "16", "-p", long_prompt, "-n", "1", NULL },
              "context");
    check_cli(cli, "an image larger than the context",
              (const char *const[]){ "run", "-m", text_f32, "--mmproj", mmproj_f32, "--image", png, "-c", "40", "-p",
                                     "hi", "-n", "1", NULL },
              "context");
    check_cli(cli, "inspect a truncated GGUF", (const char *const[]){ "inspect", tmp_path("truncated.gguf"), NULL },
              "outside the file");
    check_cli(cli, "inspect a text file", (const char *const[]){ "inspect", bad_image, NULL }, "not a GGUF");
    unlink(small);
    unlink(thin);
}

/* ---- setup ---- */

static void
remove_tmp_dir(void)
{
    DIR *d = opendir(tmp_dir);
    if (!d)
        return;
    struct dirent *e;
    char path[1400];
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
            snprintf(path, sizeof path, "%s/%s", tmp_dir, e->d_name);
            unlink(path);
        }
    closedir(d);
    rmdir(tmp_dir);
}

int
main(int argc, char **argv)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(tmp_dir, sizeof tmp_dir, "%s/squint-model-errors-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(tmp_dir)) {
        printf("Bail out! cannot create a temporary directory\n");
        return 1;
    }
    snprintf(text_f32, sizeof text_f32, "%s/tiny/models/qwen25vl-text-f32.gguf", tap_data_dir());
    snprintf(mmproj_f32, sizeof mmproj_f32, "%s/tiny/models/mmproj-qwen25vl-f32.gguf", tap_data_dir());

    test_faithful_copy();
    test_broken_models();
    test_q8k_weight();
    test_truncated();
    test_wrong_files();
    test_image_files();
    test_session_errors();
    test_cli(argc > 1 ? argv[1] : NULL);

    remove_tmp_dir();
    return tap_done();
}
