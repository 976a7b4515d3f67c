/* make-model.c — `squint-make-model`: writes a random-weight Qwen2.5-VL model
 * pair (text GGUF + mmproj GGUF) with the tensor names, shapes, types and
 * metadata keys of llama.cpp's converter and quantizer, for benchmarks and
 * tests that need a real-sized model but not a trained one.
 *
 *   squint-make-model [--preset tiny|3b] [--type q4_0|q8_0|f16|f32]
 *                     [--vision-type f16|f32] [--seed N] [--vocab FILE.gguf]
 *                     [--layers N] [--vision-layers N] -o PREFIX
 *
 * writes PREFIX-text.gguf and PREFIX-mmproj.gguf.  The tokenizer keys are
 * copied from --vocab (any text GGUF; by default the tiny test model), so the
 * result tokenizes; the embedding table has the preset's row count, which
 * must be at least the vocabulary size, and the token list is padded to it
 * with unused "[PAD<id>]" tokens, as Qwen's own vocabulary is.
 *
 * Weights are N(0, 0.02), norm weights 1 + N(0, 0.02), biases N(0, 0.02), from
 * a seeded xoshiro256** stream per tensor (the same seed gives the same
 * bytes).  Quantization uses the engine's own quantizers (quant.h), the file
 * the engine's GGUF writer.  Layout per --type:
 *   f16/f32  as convert_hf_to_gguf writes it: token_embd, then each block's
 *            tensors in converter order, output_norm (and output if untied);
 *            1-D tensors F32.
 *   q8_0     as llama-quantize writes it: output, output_norm, token_embd,
 *            then each block's tensors sorted by name; every matrix Q8_0.
 *   q4_0     the same, matrices Q4_0; the output matrix (token_embd when
 *            tied) is Q6_K, as llama-quantize picks for Q4_0 files.
 * The writer keeps each tensor in memory until the file is written, so the
 * peak memory is about one file's size (printed at the end).
 */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "gguf.h"
#include "quant.h"

/* ---- model shapes ---- */

typedef struct {
    const char *name;
    int  n_embd, n_layer, n_head, n_head_kv, n_ff, n_vocab_rows;
    bool tied;
    int  sections[4];
    int  v_embd, v_layer, v_head, v_ff, v_wa_pattern;
} preset;

static const preset presets[] = {
    /* the shapes of tests/data/tiny (its config.json) */
    { "tiny", 256, 4, 8, 2, 512, 4160, false, { 4, 6, 6, 0 }, 128, 4, 4, 256, 2 },
    /* Qwen2.5-VL-3B-Instruct */
    { "3b", 2048, 36, 16, 2, 11008, 151936, true, { 16, 24, 24, 0 }, 1280, 32, 16, 3420, 8 },
};

/* ---- random numbers: xoshiro256**, seeded through splitmix64 ---- */

typedef struct {
    uint64_t s[4];
} rng;

static uint64_t
splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static void
rng_seed(rng *r, uint64_t seed, const char *name)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a of the tensor name */
    for (const char *p = name; *p; p++)
        h = (h ^ (uint8_t)*p) * 1099511628211ULL;
    uint64_t x = seed ^ h;
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&x);
}

static inline uint64_t
rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static inline uint64_t
rng_next(rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

/* n values of mean + std·N(0, 1), Box–Muller on pairs of 32-bit uniforms. */
static void
rng_normal(rng *r, float *out, size_t n, float mean, float std)
{
    const float two_pi = 6.28318530717958647692f;
    for (size_t i = 0; i < n; i += 2) {
        uint64_t bits = rng_next(r);
        float u1 = ((float)(uint32_t)(bits >> 40) + 0.5f) * (1.0f / 16777216.0f); /* (0, 1) */
        float u2 = (float)(uint32_t)(bits & 0xffffff) * (1.0f / 16777216.0f);
        float rad = std * sqrtf(-2.0f * logf(u1));
        float s, c;
        sincosf(two_pi * u2, &s, &c);
        out[i] = mean + rad * c;
        if (i + 1 < n)
            out[i + 1] = mean + rad * s;
    }
}

/* ---- tensors ---- */

typedef enum { INIT_WEIGHT, INIT_NORM, INIT_BIAS } init_kind;

typedef struct {
    sq_gguf_writer *w;
    uint64_t        seed;
    size_t          bytes;      /* tensor data written so far */
    sq_quantize_fn  quantize[SQ_TYPE_COUNT];
} maker;

static void
maker_init(maker *mk, uint64_t seed)
{
    memset(mk, 0, sizeof *mk);
    mk->seed = seed;
    const sq_quant_kernels *fast = sq_quant_kernels_get(), *ref = sq_quant_kernels_scalar();
    for (int t = 0; t < SQ_TYPE_COUNT; t++)
        mk->quantize[t] = fast->quantize[t] ? fast->quantize[t] : ref->quantize[t];
}

/* Generates and adds one tensor of ne = [cols, rows] (rows = 1: 1-D) in
 * chunks of rows, so only the converted tensor is held whole. */
static bool
add_tensor(maker *mk, const char *name, sq_type type, int64_t cols, int64_t rows, init_kind init)
{
    if (!mk->quantize[type]) {
        fprintf(stderr, "squint-make-model: no quantizer for %s\n", sq_type_get(type)->name);
        return false;
    }
    size_t row = sq_type_row_size(type, cols);
    if (row == 0) {
        fprintf(stderr, "squint-make-model: %s: %lld columns are not whole %s blocks\n", name,
                (long long)cols, sq_type_get(type)->name);
        return false;
    }
    const int64_t chunk = 256;
    uint8_t *data = malloc(row * (size_t)rows);
    float *f = malloc((size_t)(cols * chunk) * sizeof *f);
    if (!data || !f) {
        free(data);
        free(f);
        fprintf(stderr, "squint-make-model: out of memory for %s\n", name);
        return false;
    }
    rng r;
    rng_seed(&r, mk->seed, name);
    for (int64_t r0 = 0; r0 < rows; r0 += chunk) {
        int64_t nr = rows - r0 < chunk ? rows - r0 : chunk;
        rng_normal(&r, f, (size_t)(nr * cols), init == INIT_NORM ? 1.0f : 0.0f, 0.02f);
        for (int64_t i = 0; i < nr; i++)
            mk->quantize[type](f + i * cols, data + (size_t)(r0 + i) * row, cols);
    }
    int64_t ne[2] = { cols, rows };
    sq_gguf_writer_add_tensor(mk->w, name, type, rows == 1 ? 1 : 2, ne, data);
    mk->bytes += row * (size_t)rows;
    free(data);
    free(f);
    return true;
}

/* The patch kernel [14, 14, 3, n_embd]: 4-D, so added apart. */
static bool
add_patch_kernel(maker *mk, const char *name, sq_type type, int n_embd)
{
    int64_t ne[4] = { 14, 14, 3, n_embd };
    int64_t n = 14 * 14 * 3 * (int64_t)n_embd;
    float *f = malloc((size_t)n * sizeof *f);
    uint8_t *data = malloc(sq_type_row_size(type, n));
    bool ok = f && data;
    if (ok) {
        rng r;
        rng_seed(&r, mk->seed, name);
        rng_normal(&r, f, (size_t)n, 0.0f, 0.02f);
        mk->quantize[type](f, data, n);
        sq_gguf_writer_add_tensor(mk->w, name, type, 4, ne, data);
        mk->bytes += sq_type_row_size(type, n);
    } else {
        fprintf(stderr, "squint-make-model: out of memory for %s\n", name);
    }
    free(f);
    free(data);
    return ok;
}

/* ---- metadata ---- */

/* Copies every tokenizer.* key of the vocabulary file, in its order.  The
 * token list (and its types) is padded to n_rows entries with "[PAD<id>]"
 * tokens of type UNUSED, as in the real Qwen2.5 vocabulary, whose embedding
 * table is also larger than its token count. */
static bool
copy_tokenizer(sq_gguf_writer *w, const sq_gguf *g, int64_t n_rows, int *n_tokens)
{
    sq_error err = { 0 };
    *n_tokens = 0;
    for (int64_t i = 0; i < sq_gguf_n_kv(g); i++) {
        const char *key = sq_gguf_kv_key(g, i);
        if (strncmp(key, "tokenizer.", 10) != 0)
            continue;
        sq_status st = SQ_OK;
        switch (sq_gguf_kv_type(g, i)) {
        case SQ_GGUF_UINT32: {
            uint32_t v;
            if ((st = sq_gguf_get_u32(g, key, &v, &err)) == SQ_OK)
                sq_gguf_writer_set_u32(w, key, v);
            break;
        }
        case SQ_GGUF_INT32: {
            int32_t v;
            if ((st = sq_gguf_get_i32(g, key, &v, &err)) == SQ_OK)
                sq_gguf_writer_set_i32(w, key, v);
            break;
        }
        case SQ_GGUF_BOOL: {
            bool v;
            if ((st = sq_gguf_get_bool(g, key, &v, &err)) == SQ_OK)
                sq_gguf_writer_set_bool(w, key, v);
            break;
        }
        case SQ_GGUF_STRING: {
            sq_str s;
            if ((st = sq_gguf_get_str(g, key, &s, &err)) == SQ_OK) {
                char *v = strndup(s.ptr, s.len);
                if (!v)
                    return false;
                sq_gguf_writer_set_str(w, key, v);
                free(v);
            }
            break;
        }
        case SQ_GGUF_ARRAY: {
            sq_gguf_array a;
            if ((st = sq_gguf_get_array(g, key, &a, &err)) != SQ_OK)
                break;
            bool is_tokens = strcmp(key, "tokenizer.ggml.tokens") == 0;
            bool is_types = strcmp(key, "tokenizer.ggml.token_type") == 0;
            uint64_t count = (is_tokens || is_types) && (uint64_t)n_rows > a.count ? (uint64_t)n_rows : a.count;
            if (a.elem_type == SQ_GGUF_STRING) {
                char **strs = calloc(count ? count : 1, sizeof *strs);
                bool ok = strs != NULL;
                for (uint64_t k = 0; ok && k < count; k++) {
                    if (k < a.count) {
                        sq_str s = sq_gguf_array_str(&a, k);
                        strs[k] = strndup(s.ptr, s.len);
                    } else {
                        char pad[32];
                        snprintf(pad, sizeof pad, "[PAD%llu]", (unsigned long long)k);
                        strs[k] = strdup(pad);
                    }
                    ok = strs[k] != NULL;
                }
                if (ok)
                    sq_gguf_writer_set_str_array(w, key, (const char *const *)strs, count);
                for (uint64_t k = 0; strs && k < count; k++)
                    free(strs[k]);
                free(strs);
                if (!ok)
                    return false;
            } else if (is_types && a.elem_type == SQ_GGUF_INT32) {
                int32_t *types = malloc(count * sizeof *types);
                if (!types)
                    return false;
                memcpy(types, a.data, a.count * sizeof *types);
                for (uint64_t k = a.count; k < count; k++)
                    types[k] = 5; /* UNUSED */
                sq_gguf_writer_set_array(w, key, SQ_GGUF_INT32, types, count);
                free(types);
            } else if (a.data) {
                sq_gguf_writer_set_array(w, key, a.elem_type, a.data, a.count);
            } else {
                fprintf(stderr, "squint-make-model: %s: nested arrays are not copied\n", key);
                return false;
            }
            if (is_tokens)
                *n_tokens = (int)a.count;
            break;
        }
        default:
            fprintf(stderr, "squint-make-model: %s: value type %s is not copied\n", key,
                    sq_gguf_type_name(sq_gguf_kv_type(g, i)));
            return false;
        }
        if (st != SQ_OK) {
            fprintf(stderr, "squint-make-model: %s: %s\n", key, err.msg);
            return false;
        }
    }
    if (*n_tokens == 0) {
        fprintf(stderr, "squint-make-model: the vocabulary file has no tokenizer.ggml.tokens\n");
        return false;
    }
    return true;
}

/* ---- the two files ---- */

typedef struct {
    const preset *p;
    sq_type       type, vtype;
    const char   *type_name;
    uint64_t      seed;
    const char   *vocab;
    const char   *prefix;
} options;

static uint32_t
file_type(sq_type t)
{
    switch (t) {
    case SQ_TYPE_F32:  return 0;
    case SQ_TYPE_F16:  return 1;
    case SQ_TYPE_Q4_0: return 2;
    default:           return 7; /* LLAMA_FTYPE_MOSTLY_Q8_0 */
    }
}

/* One text block's tensors, in converter order (f16/f32) or sorted by name
 * (llama-quantize). */
static bool
add_text_block(maker *mk, const options *o, int il)
{
    const preset *p = o->p;
    int64_t d = p->n_embd, hd = d / p->n_head, dkv = hd * p->n_head_kv;
    sq_type t = o->type;
    struct { const char *suffix; int64_t cols, rows; init_kind init; } conv[] = {
        { "attn_norm.weight", d, 1, INIT_NORM },
        { "attn_q.weight", d, d, INIT_WEIGHT },     { "attn_q.bias", d, 1, INIT_BIAS },
        { "attn_k.weight", d, dkv, INIT_WEIGHT },   { "attn_k.bias", dkv, 1, INIT_BIAS },
        { "attn_v.weight", d, dkv, INIT_WEIGHT },   { "attn_v.bias", dkv, 1, INIT_BIAS },
        { "attn_output.weight", d, d, INIT_WEIGHT },
        { "ffn_norm.weight", d, 1, INIT_NORM },
        { "ffn_gate.weight", d, p->n_ff, INIT_WEIGHT },
        { "ffn_up.weight", d, p->n_ff, INIT_WEIGHT },
        { "ffn_down.weight", p->n_ff, d, INIT_WEIGHT },
    };
    /* llama-quantize's order: the names sorted */
    static const int sorted[] = { 4, 3, 0, 7, 2, 1, 6, 5, 11, 9, 8, 10 };
    bool quantized = t != SQ_TYPE_F16 && t != SQ_TYPE_F32;
    char name[96];
    for (int k = 0; k < 12; k++) {
        int i = quantized ? sorted[k] : k;
        snprintf(name, sizeof name, "blk.%d.%s", il, conv[i].suffix);
        sq_type tt = conv[i].rows == 1 ? SQ_TYPE_F32 : t;
        if (!add_tensor(mk, name, tt, conv[i].cols, conv[i].rows, conv[i].init))
            return false;
    }
    return true;
}

static bool
write_text(const options *o, int n_layer)
{
    const preset *p = o->p;
    sq_error err = { 0 };
    sq_gguf *vocab = NULL;
    if (sq_gguf_open(o->vocab, &vocab, &err) != SQ_OK) {
        fprintf(stderr, "squint-make-model: vocabulary %s: %s\n", o->vocab, err.msg);
        return false;
    }
    maker mk;
    maker_init(&mk, o->seed);
    mk.w = sq_gguf_writer_new();
    bool quantized = o->type != SQ_TYPE_F16 && o->type != SQ_TYPE_F32;
    sq_gguf_writer *w = mk.w;
    char name[128];
    snprintf(name, sizeof name, "rand-qwen2.5-vl-text-%s", p->name);
    sq_gguf_writer_set_str(w, "general.architecture", "qwen2vl");
    sq_gguf_writer_set_str(w, "general.type", "model");
    sq_gguf_writer_set_str(w, "general.name", name);
    sq_gguf_writer_set_u32(w, "qwen2vl.block_count", (uint32_t)n_layer);
    sq_gguf_writer_set_u32(w, "qwen2vl.context_length", 128000);
    sq_gguf_writer_set_u32(w, "qwen2vl.embedding_length", (uint32_t)p->n_embd);
    sq_gguf_writer_set_u32(w, "qwen2vl.feed_forward_length", (uint32_t)p->n_ff);
    sq_gguf_writer_set_u32(w, "qwen2vl.attention.head_count", (uint32_t)p->n_head);
    sq_gguf_writer_set_u32(w, "qwen2vl.attention.head_count_kv", (uint32_t)p->n_head_kv);
    int32_t sections[4] = { p->sections[0], p->sections[1], p->sections[2], p->sections[3] };
    sq_gguf_writer_set_array(w, "qwen2vl.rope.dimension_sections", SQ_GGUF_INT32, sections, 4);
    sq_gguf_writer_set_f32(w, "qwen2vl.rope.freq_base", 1000000.0f);
    sq_gguf_writer_set_f32(w, "qwen2vl.attention.layer_norm_rms_epsilon", 1e-6f);
    if (!quantized)
        sq_gguf_writer_set_u32(w, "general.file_type", file_type(o->type));
    int n_tokens = 0;
    bool ok = copy_tokenizer(w, vocab, p->n_vocab_rows, &n_tokens);
    sq_gguf_close(vocab);
    if (ok && n_tokens > p->n_vocab_rows) {
        fprintf(stderr, "squint-make-model: the vocabulary has %d tokens, more than the %d embedding rows\n",
                n_tokens, p->n_vocab_rows);
        ok = false;
    }
    sq_gguf_writer_set_u32(w, "general.quantization_version", 2);
    if (quantized)
        sq_gguf_writer_set_u32(w, "general.file_type", file_type(o->type));

    int64_t d = p->n_embd, rows = p->n_vocab_rows;
    /* the matrix that computes the logits: output, or token_embd when tied */
    sq_type out_t = o->type == SQ_TYPE_Q4_0 ? SQ_TYPE_Q6_K : o->type;
    sq_type embd_t = p->tied ? out_t : o->type;
    if (quantized) {
        if (ok && !p->tied)
            ok = add_tensor(&mk, "output.weight", out_t, d, rows, INIT_WEIGHT);
        ok = ok && add_tensor(&mk, "output_norm.weight", SQ_TYPE_F32, d, 1, INIT_NORM);
        ok = ok && add_tensor(&mk, "token_embd.weight", embd_t, d, rows, INIT_WEIGHT);
        for (int il = 0; ok && il < n_layer; il++)
            ok = add_text_block(&mk, o, il);
    } else {
        ok = ok && add_tensor(&mk, "token_embd.weight", embd_t, d, rows, INIT_WEIGHT);
        for (int il = 0; ok && il < n_layer; il++)
            ok = add_text_block(&mk, o, il);
        ok = ok && add_tensor(&mk, "output_norm.weight", SQ_TYPE_F32, d, 1, INIT_NORM);
        if (ok && !p->tied)
            ok = add_tensor(&mk, "output.weight", out_t, d, rows, INIT_WEIGHT);
    }
    char path[4096];
    snprintf(path, sizeof path, "%s-text.gguf", o->prefix);
    if (ok && sq_gguf_writer_write(w, path, &err) != SQ_OK) {
        fprintf(stderr, "squint-make-model: %s\n", err.msg);
        ok = false;
    }
    if (ok)
        printf("%s: %d layers, %lld × %d embedding (%d real tokens), %s, %.1f MB of tensors\n", path, n_layer,
               (long long)rows, p->n_embd, n_tokens, o->type_name, (double)mk.bytes / 1e6);
    sq_gguf_writer_free(w);
    return ok;
}

static bool
write_mmproj(const options *o, int n_layer)
{
    const preset *p = o->p;
    maker mk;
    maker_init(&mk, o->seed + 1);
    mk.w = sq_gguf_writer_new();
    sq_gguf_writer *w = mk.w;
    sq_type t = o->vtype;
    char name[128];
    snprintf(name, sizeof name, "rand-qwen2.5-vl-vision-%s", p->name);
    sq_gguf_writer_set_str(w, "general.architecture", "clip");
    sq_gguf_writer_set_str(w, "general.type", "mmproj");
    sq_gguf_writer_set_str(w, "general.name", name);
    sq_gguf_writer_set_u32(w, "general.file_type", file_type(t));
    sq_gguf_writer_set_bool(w, "clip.has_vision_encoder", true);
    sq_gguf_writer_set_u32(w, "clip.vision.projection_dim", (uint32_t)p->n_embd);
    sq_gguf_writer_set_u32(w, "clip.vision.image_size", 560);
    sq_gguf_writer_set_u32(w, "clip.vision.patch_size", 14);
    sq_gguf_writer_set_u32(w, "clip.vision.embedding_length", (uint32_t)p->v_embd);
    sq_gguf_writer_set_u32(w, "clip.vision.feed_forward_length", (uint32_t)p->v_ff);
    sq_gguf_writer_set_u32(w, "clip.vision.block_count", (uint32_t)n_layer);
    sq_gguf_writer_set_u32(w, "clip.vision.attention.head_count", (uint32_t)p->v_head);
    static const float mean[3] = { 0.48145466f, 0.4578275f, 0.40821073f };
    static const float std[3] = { 0.26862954f, 0.26130258f, 0.27577711f };
    sq_gguf_writer_set_array(w, "clip.vision.image_mean", SQ_GGUF_FLOAT32, mean, 3);
    sq_gguf_writer_set_array(w, "clip.vision.image_std", SQ_GGUF_FLOAT32, std, 3);
    sq_gguf_writer_set_str(w, "clip.projector_type", "qwen2.5vl_merger");
    sq_gguf_writer_set_bool(w, "clip.use_silu", true);
    sq_gguf_writer_set_u32(w, "clip.vision.n_wa_pattern", (uint32_t)p->v_wa_pattern);
    sq_gguf_writer_set_f32(w, "clip.vision.attention.layer_norm_epsilon", 1e-6f);

    bool ok = add_patch_kernel(&mk, "v.patch_embd.weight", t, p->v_embd) &&
              add_patch_kernel(&mk, "v.patch_embd.weight.1", t, p->v_embd);
    int64_t d = p->v_embd, f = p->v_ff, mi = 4 * d;
    char tn[96];
    for (int il = 0; ok && il < n_layer; il++) {
        /* ffn widths that are not whole blocks (3420) stay F16/F32 anyway:
         * the vision types are float types. */
        struct { const char *suffix; int64_t cols, rows; init_kind init; } v[] = {
            { "ln1.weight", d, 1, INIT_NORM },
            { "attn_q.weight", d, d, INIT_WEIGHT },   { "attn_q.bias", d, 1, INIT_BIAS },
            { "attn_k.weight", d, d, INIT_WEIGHT },   { "attn_k.bias", d, 1, INIT_BIAS },
            { "attn_v.weight", d, d, INIT_WEIGHT },   { "attn_v.bias", d, 1, INIT_BIAS },
            { "attn_out.weight", d, d, INIT_WEIGHT }, { "attn_out.bias", d, 1, INIT_BIAS },
            { "ln2.weight", d, 1, INIT_NORM },
            { "ffn_gate.weight", d, f, INIT_WEIGHT }, { "ffn_gate.bias", f, 1, INIT_BIAS },
            { "ffn_up.weight", d, f, INIT_WEIGHT },   { "ffn_up.bias", f, 1, INIT_BIAS },
            { "ffn_down.weight", f, d, INIT_WEIGHT }, { "ffn_down.bias", d, 1, INIT_BIAS },
        };
        for (size_t k = 0; ok && k < sizeof v / sizeof v[0]; k++) {
            snprintf(tn, sizeof tn, "v.blk.%d.%s", il, v[k].suffix);
            ok = add_tensor(&mk, tn, v[k].rows == 1 ? SQ_TYPE_F32 : t, v[k].cols, v[k].rows, v[k].init);
        }
    }
    ok = ok && add_tensor(&mk, "v.post_ln.weight", SQ_TYPE_F32, d, 1, INIT_NORM) &&
         add_tensor(&mk, "mm.0.weight", t, mi, mi, INIT_WEIGHT) &&
         add_tensor(&mk, "mm.0.bias", SQ_TYPE_F32, mi, 1, INIT_BIAS) &&
         add_tensor(&mk, "mm.2.weight", t, mi, p->n_embd, INIT_WEIGHT) &&
         add_tensor(&mk, "mm.2.bias", SQ_TYPE_F32, p->n_embd, 1, INIT_BIAS);
    char path[4096];
    snprintf(path, sizeof path, "%s-mmproj.gguf", o->prefix);
    sq_error err = { 0 };
    if (ok && sq_gguf_writer_write(w, path, &err) != SQ_OK) {
        fprintf(stderr, "squint-make-model: %s\n", err.msg);
        ok = false;
    }
    if (ok)
        printf("%s: %d blocks of %d, %s, %.1f MB of tensors\n", path, n_layer, p->v_embd,
               sq_type_get(t)->name, (double)mk.bytes / 1e6);
    sq_gguf_writer_free(w);
    return ok;
}

static void
usage(FILE *out)
{
    fprintf(out,
            "usage: squint-make-model [options] -o PREFIX\n"
            "Writes a random-weight Qwen2.5-VL pair: PREFIX-text.gguf and PREFIX-mmproj.gguf.\n"
            "\n"
            "  --preset tiny|3b       model shapes (default tiny; 3b = Qwen2.5-VL-3B)\n"
            "  --type q4_0|q8_0|f16|f32   text weight type (default q8_0)\n"
            "  --vision-type f16|f32  vision weight type (default f16)\n"
            "  --seed N               random seed (default 1234)\n"
            "  --vocab FILE           GGUF whose tokenizer.* keys are copied\n"
            "                         (default tests/data/tiny/models/qwen25vl-text-q8_0.gguf)\n"
            "  --layers N             override the text block count\n"
            "  --vision-layers N      override the vision block count\n"
            "  -o, --output PREFIX    output path prefix\n");
}

static bool
parse_type(const char *s, bool vision, sq_type *out)
{
    static const struct { const char *name; sq_type t; bool vision_ok; } types[] = {
        { "q4_0", SQ_TYPE_Q4_0, false }, { "q8_0", SQ_TYPE_Q8_0, false },
        { "f16", SQ_TYPE_F16, true },    { "f32", SQ_TYPE_F32, true },
    };
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (strcmp(s, types[i].name) == 0 && (!vision || types[i].vision_ok)) {
            *out = types[i].t;
            return true;
        }
    return false;
}

int
main(int argc, char **argv)
{
    options o = { .p = &presets[0], .type = SQ_TYPE_Q8_0, .vtype = SQ_TYPE_F16, .type_name = "q8_0",
                  .seed = 1234, .vocab = "tests/data/tiny/models/qwen25vl-text-q8_0.gguf" };
    int layers = -1, vlayers = -1;
    enum { OPT_PRESET = 256, OPT_TYPE, OPT_VTYPE, OPT_SEED, OPT_VOCAB, OPT_LAYERS, OPT_VLAYERS };
    static const struct option longopts[] = {
        { "preset", required_argument, NULL, OPT_PRESET },
        { "type", required_argument, NULL, OPT_TYPE },
        { "vision-type", required_argument, NULL, OPT_VTYPE },
        { "seed", required_argument, NULL, OPT_SEED },
        { "vocab", required_argument, NULL, OPT_VOCAB },
        { "layers", required_argument, NULL, OPT_LAYERS },
        { "vision-layers", required_argument, NULL, OPT_VLAYERS },
        { "output", required_argument, NULL, 'o' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int c;
    while ((c = getopt_long(argc, argv, "o:h", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_PRESET: {
            const preset *found = NULL;
            for (size_t i = 0; i < sizeof presets / sizeof presets[0]; i++)
                if (strcmp(optarg, presets[i].name) == 0)
                    found = &presets[i];
            if (!found) {
                fprintf(stderr, "squint-make-model: unknown preset '%s' (tiny, 3b)\n", optarg);
                return 2;
            }
            o.p = found;
            break;
        }
        case OPT_TYPE:
            if (!parse_type(optarg, false, &o.type)) {
                fprintf(stderr, "squint-make-model: unknown type '%s' (q4_0, q8_0, f16, f32)\n", optarg);
                return 2;
            }
            o.type_name = optarg;
            break;
        case OPT_VTYPE:
            if (!parse_type(optarg, true, &o.vtype)) {
                fprintf(stderr, "squint-make-model: unknown vision type '%s' (f16, f32)\n", optarg);
                return 2;
            }
            break;
        case OPT_SEED: o.seed = strtoull(optarg, NULL, 0); break;
        case OPT_VOCAB: o.vocab = optarg; break;
        case OPT_LAYERS: layers = atoi(optarg); break;
        case OPT_VLAYERS: vlayers = atoi(optarg); break;
        case 'o': o.prefix = optarg; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (!o.prefix || optind != argc) {
        usage(stderr);
        return 2;
    }
    if (layers == 0 || layers < -1 || layers > 1024 || vlayers == 0 || vlayers < -1 || vlayers > 256) {
        fprintf(stderr, "squint-make-model: layer counts must be 1 … 1024 (text) and 1 … 256 (vision)\n");
        return 2;
    }
    if (o.p->n_embd % 32 != 0 || o.p->n_ff % 32 != 0) {
        fprintf(stderr, "squint-make-model: preset widths must be whole blocks\n");
        return 2;
    }
    bool ok = write_text(&o, layers > 0 ? layers : o.p->n_layer) &&
              write_mmproj(&o, vlayers > 0 ? vlayers : o.p->v_layer);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    if (ok)
        printf("peak memory: %.1f MB\n", (double)ru.ru_maxrss / 1024.0);
    return ok ? 0 : 1;
}
