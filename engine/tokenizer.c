/* tokenizer.c — loading the vocabulary and merges from a GGUF, vocabulary
 * queries, decoding and the streaming detokenizer.  Encoding lives in
 * tokenizer-pretok.c and tokenizer-bpe.c. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "tokenizer-private.h"

#define MAX_VOCAB  (1 << 24)  /* far above any real vocabulary; keeps offsets in 32 bits */
#define MAX_MERGES (1 << 24)

#ifndef MAP_POPULATE
#define MAP_POPULATE 0
#endif

bool
sq_tok_grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return true;
    size_t c = *cap ? *cap : 16;
    while (c < need) {
        if (c > SIZE_MAX / 2 / elem)
            return false;
        c *= 2;
    }
    void *q = realloc(*p, c * elem);
    if (!q)
        return false;
    *p = q;
    *cap = c;
    return true;
}

void
sq_tokens_init(sq_tokens *v)
{
    v->ids = NULL;
    v->n = v->cap = 0;
}

void
sq_tokens_free(sq_tokens *v)
{
    free(v->ids);
    sq_tokens_init(v);
}

sq_status
sq_tokens_push(sq_tokens *v, int32_t id, sq_error *err)
{
    if (v->n == v->cap && !sq_tok_grow((void **)&v->ids, &v->cap, v->n + 1, sizeof *v->ids))
        return sq_error_set(err, SQ_ERR_NOMEM, "out of memory for %zu token ids", v->n + 1);
    v->ids[v->n++] = id;
    return SQ_OK;
}

/* ---- the GPT-2 byte-level map (spec F.3) ---- */

static bool
byte_is_printable(unsigned b)
{
    return (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || b >= 174;
}

/* Printable bytes map to themselves; the other 68, in increasing order, to
 * U+0100 … U+0143 (space → U+0120 'Ġ', newline → U+010A 'Ċ'). */
static uint32_t
byte_to_cp(unsigned b)
{
    if (byte_is_printable(b))
        return b;
    uint32_t k = 0;
    for (unsigned c = 0; c < b; c++)
        k += !byte_is_printable(c);
    return 256 + k;
}

/* ---- the symbol table: text → symbol id ---- */

static uint32_t
hash_bytes(const char *s, size_t n)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 16777619u;
    }
    return h;
}

/* The slot holding text s, or the empty slot where it would go. */
static size_t
sym_slot(const sq_tokenizer *t, const char *s, size_t n, uint32_t h)
{
    size_t mask = t->sym_cap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        const sq_tok_sym_slot *e = &t->sym_slots[i];
        if (!e->id1)
            return i;
        if (e->hash == h) {
            size_t len;
            const char *txt = sq_tok_sym_text(t, (int32_t)e->id1 - 1, &len);
            if (len == n && memcmp(txt, s, n) == 0)
                return i;
        }
    }
}

static int32_t
sym_lookup(const sq_tokenizer *t, const char *s, size_t n)
{
    return (int32_t)t->sym_slots[sym_slot(t, s, n, hash_bytes(s, n))].id1 - 1;
}

/* Loader state beyond the tokenizer itself. */
typedef struct {
    size_t n_used;              /* occupied symbol slots */
    size_t extra_cap, extra_off_cap;
    size_t extra_len;           /* bytes used in extra_texts */
    bool   duplicates;          /* two tokens share a text */
} loader;

static bool
sym_grow_table(sq_tokenizer *t)
{
    size_t cap = t->sym_cap * 2;
    sq_tok_sym_slot *slots = calloc(cap, sizeof *slots);
    if (!slots)
        return false;
    for (size_t i = 0; i < t->sym_cap; i++) {
        if (!t->sym_slots[i].id1)
            continue;
        size_t j = t->sym_slots[i].hash & (cap - 1);
        while (slots[j].id1)
            j = (j + 1) & (cap - 1);
        slots[j] = t->sym_slots[i];
    }
    if (t->sym_slots_owned)
        free(t->sym_slots);
    t->sym_slots = slots;
    t->sym_cap = cap;
    t->sym_slots_owned = true;
    return true;
}

/* Maps symbol id's text to id; a later token with the same text wins, as in
 * llama.cpp. */
static bool
sym_insert(sq_tokenizer *t, loader *L, int32_t id)
{
    if ((L->n_used + 1) * 4 > t->sym_cap * 3 && !sym_grow_table(t))
        return false;
    size_t len;
    const char *s = sq_tok_sym_text(t, id, &len);
    uint32_t h = hash_bytes(s, len);
    size_t i = sym_slot(t, s, len, h);
    if (t->sym_slots[i].id1)
        L->duplicates = true;
    else
        L->n_used++;
    t->sym_slots[i].hash = h;
    t->sym_slots[i].id1 = (uint32_t)id + 1;
    return true;
}

/* The symbol for a merge part or result, created if it is no token. */
static int32_t
intern(sq_tokenizer *t, loader *L, const char *a, size_t na, const char *b, size_t nb)
{
    char tmp[256];
    char *s = tmp;
    size_t n = na + nb;
    if (nb) { /* a + b: concatenate */
        if (n > sizeof tmp && !(s = malloc(n)))
            return -1;
        memcpy(s, a, na);
        memcpy(s + na, b, nb);
    } else {
        s = (char *)a;
    }
    int32_t id = sym_lookup(t, s, n);
    if (id < 0) {
        size_t k = (size_t)(t->n_symbols - t->n_vocab);
        if (L->extra_len + n + 1 > UINT32_MAX || t->n_symbols == INT32_MAX ||
            !sq_tok_grow((void **)&t->extra_texts, &L->extra_cap, L->extra_len + n + 1, 1) ||
            !sq_tok_grow((void **)&t->extra_off, &L->extra_off_cap, k + 2, sizeof *t->extra_off))
            goto out;
        t->extra_off[0] = 0;
        memcpy(t->extra_texts + L->extra_len, s, n);
        t->extra_texts[L->extra_len + n] = '\0';
        L->extra_len += n + 1;
        t->extra_off[k + 1] = (uint32_t)L->extra_len;
        id = t->n_symbols++;
        if (!sym_insert(t, L, id))
            id = -1;
    }
out:
    if (s != tmp && s != a)
        free(s);
    return id;
}

/* ---- loading ---- */

static sq_status
get_string_array(const sq_gguf *g, const char *key, sq_gguf_array *arr, sq_error *err)
{
    sq_status st = sq_gguf_get_array(g, key, arr, err);
    if (st == SQ_ERR_NOT_FOUND)
        return sq_error_set(err, SQ_ERR_FORMAT, "tokenizer: the GGUF has no %s", key);
    if (st != SQ_OK)
        return st;
    if (arr->elem_type != SQ_GGUF_STRING)
        return sq_error_set(err, SQ_ERR_TYPE, "tokenizer: %s holds %s, expected strings", key,
                            sq_gguf_type_name(arr->elem_type));
    return SQ_OK;
}

static sq_status
check_kind(const sq_gguf *g, sq_error *err)
{
    sq_str s;
    sq_status st = sq_gguf_get_str(g, "tokenizer.ggml.model", &s, err);
    if (st == SQ_ERR_NOT_FOUND)
        return sq_error_set(err, SQ_ERR_NOT_FOUND, "tokenizer: the GGUF has no tokenizer.ggml.model");
    if (st != SQ_OK)
        return st;
    if (s.len != 4 || memcmp(s.ptr, "gpt2", 4) != 0)
        return sq_error_set(err, SQ_ERR_UNSUPPORTED,
                            "tokenizer: model '%.*s' is not supported (only 'gpt2' byte-level BPE)",
                            (int)(s.len > 64 ? 64 : s.len), s.ptr);
    st = sq_gguf_get_str(g, "tokenizer.ggml.pre", &s, err);
    if (st == SQ_ERR_NOT_FOUND)
        return sq_error_set(err, SQ_ERR_UNSUPPORTED,
                            "tokenizer: the GGUF has no tokenizer.ggml.pre (only the 'qwen2' pre-tokenizer is supported)");
    if (st != SQ_OK)
        return st;
    if (s.len != 5 || memcmp(s.ptr, "qwen2", 5) != 0)
        return sq_error_set(err, SQ_ERR_UNSUPPORTED, "tokenizer: pre-tokenizer '%.*s' is not supported (only 'qwen2')",
                            (int)(s.len > 64 ? 64 : s.len), s.ptr);
    return SQ_OK;
}

static size_t
pow2_at_least(size_t n)
{
    size_t c = 1024;
    while (c < n)
        c *= 2;
    return c;
}

/* One mapping for every array whose size is known up front, populated in one
 * go: page faults, not arithmetic, dominate loading a 150k vocabulary. */
static sq_status
map_block(sq_tokenizer *t, size_t text_bytes, sq_error *err)
{
    size_t n = (size_t)t->n_vocab, m = (size_t)t->n_merges;
    t->sym_cap = pow2_at_least(n + n / 2);
    t->merge_cap = pow2_at_least(m + m / 2);
    struct {
        void  **ptr;
        size_t  size;
    } parts[] = {
        { (void **)&t->types, n },
        { (void **)&t->text_off, (n + 1) * sizeof *t->text_off },
        { (void **)&t->texts, text_bytes },
        { (void **)&t->piece_off, (n + 1) * sizeof *t->piece_off },
        { (void **)&t->pieces, text_bytes },
        { (void **)&t->sym_slots, t->sym_cap * sizeof *t->sym_slots },
        { (void **)&t->merge_slots, t->merge_cap * sizeof *t->merge_slots },
        { (void **)&t->merge_result, m * sizeof *t->merge_result },
    };
    size_t total = 0;
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
        total += (parts[i].size + 15) & ~(size_t)15;
    void *block = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    if (block == MAP_FAILED)
        return sq_error_set(err, SQ_ERR_NOMEM, "tokenizer: cannot map %zu bytes", total);
    t->block = block;
    t->block_size = total;
    char *p = block;
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        *parts[i].ptr = p;
        p += (parts[i].size + 15) & ~(size_t)15;
    }
    return SQ_OK;
}

static sq_status
load_texts(sq_tokenizer *t, loader *L, const sq_gguf_array *toks, sq_error *err)
{
    size_t o = 0;
    for (int32_t i = 0; i < t->n_vocab; i++) {
        sq_str s = sq_gguf_array_str(toks, (uint64_t)i);
        t->text_off[i] = (uint32_t)o;
        memcpy(t->texts + o, s.ptr, s.len);
        o += s.len;
        t->texts[o++] = '\0';
    }
    t->text_off[t->n_vocab] = (uint32_t)o;
    t->n_symbols = t->n_vocab;
    for (int32_t i = 0; i < t->n_vocab; i++)
        if (t->text_off[i + 1] - t->text_off[i] > 1 && !sym_insert(t, L, i))
            return sq_error_set(err, SQ_ERR_NOMEM, "tokenizer: out of memory");
    return SQ_OK;
}

static sq_status
load_types(const sq_gguf *g, sq_tokenizer *t, sq_error *err)
{
    sq_gguf_array arr;
    sq_status st = sq_gguf_get_array(g, "tokenizer.ggml.token_type", &arr, err);
    if (st == SQ_ERR_NOT_FOUND) { /* as in llama.cpp: all NORMAL */
        memset(t->types, SQ_TOKEN_NORMAL, (size_t)t->n_vocab);
        sq_error_clear(err);
        return SQ_OK;
    }
    if (st != SQ_OK)
        return st;
    if (arr.count != (uint64_t)t->n_vocab)
        return sq_error_set(err, SQ_ERR_FORMAT, "tokenizer: %" PRIu64 " token types for %d tokens", arr.count,
                            t->n_vocab);
    int64_t *v = NULL;
    if (arr.elem_type != SQ_GGUF_INT32) {
        if (!(v = malloc((size_t)t->n_vocab * sizeof *v)))
            return sq_error_set(err, SQ_ERR_NOMEM, "tokenizer: out of memory");
        if ((st = sq_gguf_array_ints(&arr, v, err)) != SQ_OK) {
            free(v);
            return st;
        }
    }
    for (int32_t i = 0; i < t->n_vocab; i++) {
        int64_t ty;
        if (v) {
            ty = v[i];
        } else {
            int32_t x;
            memcpy(&x, (const char *)arr.data + 4 * (size_t)i, 4);
            ty = x;
        }
        if (ty < SQ_TOKEN_UNDEFINED || ty > SQ_TOKEN_BYTE) {
            free(v);
            return sq_error_set(err, SQ_ERR_FORMAT, "tokenizer: token %d has type %" PRId64 " (valid: 0 … 6)", i,
                                ty);
        }
        t->types[i] = (uint8_t)ty;
    }
    free(v);
    return SQ_OK;
}

static sq_status
load_merges(sq_tokenizer *t, loader *L, const sq_gguf_array *arr, sq_error *err)
{
    /* In BPE-trained vocabularies merge r makes token 256 + r: try "the token
     * after the last result" before hashing (only without duplicate texts,
     * where any match is the id a lookup would give). */
    int32_t guess = L->duplicates ? INT32_MAX : 0;
    for (int32_t r = 0; r < t->n_merges; r++) {
        sq_str m = sq_gguf_array_str(arr, (uint64_t)r);
        /* "left right", split at the first space after the first byte */
        const char *sp = m.len > 1 ? memchr(m.ptr + 1, ' ', m.len - 1) : NULL;
        if (!sp || sp + 1 == m.ptr + m.len)
            return sq_error_set(err, SQ_ERR_FORMAT, "tokenizer: merge %d ('%.*s') is not 'left right'", r,
                                (int)(m.len > 64 ? 64 : m.len), m.ptr);
        const char *a = m.ptr, *b = sp + 1;
        size_t na = (size_t)(sp - m.ptr), nb = m.len - na - 1;
        int32_t left = intern(t, L, a, na, NULL, 0);
        int32_t right = left < 0 ? -1 : intern(t, L, b, nb, NULL, 0);
        int32_t res = -1;
        if (guess < t->n_vocab) {
            size_t gl;
            const char *gt = sq_tok_sym_text(t, guess, &gl);
            if (gl == na + nb && memcmp(gt, a, na) == 0 && memcmp(gt + na, b, nb) == 0)
                res = guess;
        }
        if (res < 0 && right >= 0)
            res = intern(t, L, a, na, b, nb);
        if (res < 0)
            return sq_error_set(err, SQ_ERR_NOMEM, "tokenizer: out of memory for merges");
        t->merge_result[r] = res;
        if (guess != INT32_MAX)
            guess = res + 1 < t->n_vocab ? res + 1 : 0;
        /* the first occurrence of a pair keeps its (lowest) rank */
        size_t mask = t->merge_cap - 1, i = sq_tok_merge_hash((uint32_t)left, (uint32_t)right) & mask;
        sq_tok_merge_slot *e;
        while ((e = &t->merge_slots[i])->rank1 && !(e->left == (uint32_t)left && e->right == (uint32_t)right))
            i = (i + 1) & mask;
        if (!e->rank1)
            *e = (sq_tok_merge_slot){ (uint32_t)left, (uint32_t)right, (uint32_t)r + 1 };
    }
    return SQ_OK;
}

static sq_status
load_special_id(const sq_gguf *g, const sq_tokenizer *t, const char *key, int32_t *out, sq_error *err)
{
    int64_t v;
    *out = -1;
    sq_status st = sq_gguf_get_i64(g, key, &v, err);
    if (st == SQ_ERR_NOT_FOUND) {
        sq_error_clear(err);
        return SQ_OK;
    }
    if (st != SQ_OK)
        return st;
    if (v < 0 || v >= t->n_vocab)
        return sq_error_set(err, SQ_ERR_FORMAT, "tokenizer: %s = %" PRId64 " is not a token id (vocabulary of %d)",
                            key, v, t->n_vocab);
    *out = (int32_t)v;
    return SQ_OK;
}

/* The bytes each token decodes to (see sq_tokenizer_piece). */
static void
build_pieces(sq_tokenizer *t)
{
    size_t o = 0;
    for (int32_t id = 0; id < t->n_vocab; id++) {
        t->piece_off[id] = (uint32_t)o;
        size_t n;
        const unsigned char *s = (const unsigned char *)sq_tok_sym_text(t, id, &n);
        switch (t->types[id]) {
        case SQ_TOKEN_NORMAL:
        case SQ_TOKEN_BYTE:
            for (size_t i = 0; i < n;) {
                uint32_t cp;
                size_t l = sq_utf8_lenient(s + i, n - i, &cp);
                int b = cp < 324 ? t->cp_byte[cp] : -1;
                if (b >= 0) {
                    t->pieces[o++] = (char)b;
                } else { /* not a byte-level character: keep it as it is */
                    memcpy(t->pieces + o, s + i, l);
                    o += l;
                }
                i += l;
            }
            break;
        case SQ_TOKEN_CONTROL:
        case SQ_TOKEN_UNKNOWN:
        case SQ_TOKEN_USER_DEFINED:
            memcpy(t->pieces + o, s, n);
            o += n;
            break;
        default: /* UNUSED, UNDEFINED: nothing, as in llama.cpp */
            break;
        }
        if (o - t->piece_off[id] > t->max_piece_len)
            t->max_piece_len = o - t->piece_off[id];
    }
    t->piece_off[t->n_vocab] = (uint32_t)o;
}

static bool
is_added(const sq_tokenizer *t, int32_t id)
{
    uint8_t ty = t->types[id];
    return (ty == SQ_TOKEN_CONTROL || ty == SQ_TOKEN_USER_DEFINED || ty == SQ_TOKEN_UNKNOWN) &&
           t->text_off[id + 1] - t->text_off[id] > 1;
}

static int
cmp_added(const void *a, const void *b, void *ctx)
{
    const sq_tokenizer *t = ctx;
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    size_t lx = t->text_off[x + 1] - t->text_off[x], ly = t->text_off[y + 1] - t->text_off[y];
    if (lx != ly)
        return lx > ly ? -1 : 1;
    return (x > y) - (x < y);
}

static sq_status
build_specials(sq_tokenizer *t, sq_error *err)
{
    size_t n = 0;
    for (int32_t id = 0; id < t->n_vocab; id++)
        n += is_added(t, id);
    if (!(t->specials = malloc((n ? n : 1) * sizeof *t->specials)))
        return sq_error_set(err, SQ_ERR_NOMEM, "tokenizer: out of memory");
    for (int32_t id = 0; id < t->n_vocab; id++)
        if (is_added(t, id))
            t->specials[t->n_specials++] = id;
    qsort_r(t->specials, t->n_specials, sizeof *t->specials, cmp_added, t);

    /* bucket them by first byte, for the scan that finds which ones occur */
    if (!(t->first_idx = malloc((n ? n : 1) * sizeof *t->first_idx)))
        return sq_error_set(err, SQ_ERR_NOMEM, "tokenizer: out of memory");
    uint32_t count[256] = { 0 };
    for (size_t k = 0; k < n; k++)
        count[(unsigned char)t->texts[t->text_off[t->specials[k]]]]++;
    t->first_off[0] = 0;
    for (int b = 0; b < 256; b++)
        t->first_off[b + 1] = t->first_off[b] + count[b];
    memset(count, 0, sizeof count);
    for (size_t k = 0; k < n; k++) {
        unsigned b = (unsigned char)t->texts[t->text_off[t->specials[k]]];
        t->first_idx[t->first_off[b] + count[b]++] = (uint32_t)k;
    }
    return SQ_OK;
}

static void
add_eog(sq_tokenizer *t, int32_t id)
{
    if (id < 0 || sq_tokenizer_is_eog(t, id))
        return;
    t->eog[t->n_eog++] = id;
}

sq_status
sq_tokenizer_load(const sq_gguf *g, sq_tokenizer **out, sq_error *err)
{
    *out = NULL;
    if (!g)
        return sq_error_set(err, SQ_ERR_INVALID_ARG, "tokenizer: no GGUF");
    sq_gguf_array toks, merges;
    sq_status st = check_kind(g, err);
    if (st != SQ_OK || (st = get_string_array(g, "tokenizer.ggml.tokens", &toks, err)) != SQ_OK ||
        (st = get_string_array(g, "tokenizer.ggml.merges", &merges, err)) != SQ_OK)
        return st;
    if (toks.count == 0 || toks.count > MAX_VOCAB)
        return sq_error_set(err, SQ_ERR_FORMAT, "tokenizer: %" PRIu64 " tokens (expected 1 … %d)", toks.count,
                            MAX_VOCAB);
    if (merges.count > MAX_MERGES)
        return sq_error_set(err, SQ_ERR_LIMIT, "tokenizer: %" PRIu64 " merges (at most %d)", merges.count,
                            MAX_MERGES);
    size_t text_bytes = 0;
    for (uint64_t i = 0; i < toks.count; i++)
        text_bytes += sq_gguf_array_str(&toks, i).len + 1;
    if (text_bytes > UINT32_MAX)
        return sq_error_set(err, SQ_ERR_LIMIT, "tokenizer: %zu bytes of token text", text_bytes);

    sq_tokenizer *t = calloc(1, sizeof *t);
    if (!t)
        return sq_error_set(err, SQ_ERR_NOMEM, "tokenizer: out of memory");
    t->n_vocab = (int32_t)toks.count;
    t->n_merges = (int32_t)merges.count;
    loader L = { 0 };
    if ((st = map_block(t, text_bytes, err)) != SQ_OK || (st = load_texts(t, &L, &toks, err)) != SQ_OK ||
        (st = load_types(g, t, err)) != SQ_OK || (st = load_merges(t, &L, &merges, err)) != SQ_OK)
        goto fail;

    for (int i = 0; i < 324; i++)
        t->cp_byte[i] = -1;
    for (unsigned b = 0; b < 256; b++) {
        char c[4];
        uint32_t cp = byte_to_cp(b);
        size_t n = sq_utf8_put(cp, c);
        t->cp_byte[cp] = (int16_t)b;
        t->byte_sym[b] = sym_lookup(t, c, n);
        t->byte_tok[b] = t->byte_sym[b] < t->n_vocab ? t->byte_sym[b] : -1;
    }

    if ((st = load_special_id(g, t, "tokenizer.ggml.bos_token_id", &t->bos, err)) != SQ_OK ||
        (st = load_special_id(g, t, "tokenizer.ggml.eos_token_id", &t->eos, err)) != SQ_OK ||
        (st = load_special_id(g, t, "tokenizer.ggml.padding_token_id", &t->pad, err)) != SQ_OK ||
        (st = sq_gguf_get_bool_or(g, "tokenizer.ggml.add_bos_token", false, &t->add_bos, err)) != SQ_OK)
        goto fail;
    add_eog(t, t->eos);
    add_eog(t, sq_tokenizer_find(t, "<|im_end|>"));
    add_eog(t, sq_tokenizer_find(t, "<|endoftext|>"));

    build_pieces(t);
    if ((st = build_specials(t, err)) != SQ_OK || (st = sq_tok_pretok_compile(t, err)) != SQ_OK)
        goto fail;
    *out = t;
    return SQ_OK;

fail:
    sq_tokenizer_free(t);
    return st;
}

void
sq_tokenizer_free(sq_tokenizer *t)
{
    if (!t)
        return;
    pcre2_code_free(t->re);
    if (t->sym_slots_owned)
        free(t->sym_slots);
    if (t->block)
        munmap(t->block, t->block_size);
    free(t->extra_texts);
    free(t->extra_off);
    free(t->specials);
    free(t->first_idx);
    free(t);
}

/* ---- vocabulary ---- */

int32_t sq_tokenizer_n_vocab(const sq_tokenizer *t) { return t->n_vocab; }
int32_t sq_tokenizer_n_merges(const sq_tokenizer *t) { return t->n_merges; }
int32_t sq_tokenizer_bos(const sq_tokenizer *t) { return t->bos; }
int32_t sq_tokenizer_eos(const sq_tokenizer *t) { return t->eos; }
int32_t sq_tokenizer_pad(const sq_tokenizer *t) { return t->pad; }
bool    sq_tokenizer_add_bos(const sq_tokenizer *t) { return t->add_bos; }
size_t  sq_tokenizer_max_piece_len(const sq_tokenizer *t) { return t->max_piece_len; }

const char *
sq_tokenizer_token_text(const sq_tokenizer *t, int32_t id, size_t *len)
{
    size_t n = 0;
    const char *s = (id >= 0 && id < t->n_vocab) ? sq_tok_sym_text(t, id, &n) : NULL;
    if (len)
        *len = n;
    return s;
}

sq_token_type
sq_tokenizer_token_type(const sq_tokenizer *t, int32_t id)
{
    return (id >= 0 && id < t->n_vocab) ? (sq_token_type)t->types[id] : SQ_TOKEN_UNDEFINED;
}

int32_t
sq_tokenizer_find_n(const sq_tokenizer *t, const char *text, size_t len)
{
    int32_t id = sym_lookup(t, text, len);
    return id < t->n_vocab ? id : -1;
}

int32_t
sq_tokenizer_find(const sq_tokenizer *t, const char *text)
{
    return sq_tokenizer_find_n(t, text, strlen(text));
}

bool
sq_tokenizer_is_eog(const sq_tokenizer *t, int32_t id)
{
    for (size_t i = 0; i < t->n_eog; i++)
        if (t->eog[i] == id)
            return true;
    return false;
}

/* ---- decoding ---- */

const char *
sq_tokenizer_piece(const sq_tokenizer *t, int32_t id, bool skip_special, size_t *len)
{
    *len = 0;
    if (id < 0 || id >= t->n_vocab)
        return NULL;
    uint8_t ty = t->types[id];
    if (!(skip_special && (ty == SQ_TOKEN_CONTROL || ty == SQ_TOKEN_UNKNOWN)))
        *len = t->piece_off[id + 1] - t->piece_off[id];
    return t->pieces + t->piece_off[id];
}

sq_status
sq_tokenizer_decode(const sq_tokenizer *t, const int32_t *ids, size_t n, bool skip_special, char **text,
                    size_t *len, sq_error *err)
{
    *text = NULL;
    if (len)
        *len = 0;
    size_t total = 0, l;
    for (size_t i = 0; i < n; i++) {
        if (!sq_tokenizer_piece(t, ids[i], skip_special, &l))
            return sq_error_set(err, SQ_ERR_INVALID_ARG, "tokenizer: %" PRId32 " is not a token id (vocabulary of %d)",
                                ids[i], t->n_vocab);
        total += l;
    }
    char *s = malloc(total + 1);
    if (!s)
        return sq_error_set(err, SQ_ERR_NOMEM, "tokenizer: out of memory for %zu bytes of text", total);
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        const char *p = sq_tokenizer_piece(t, ids[i], skip_special, &l);
        memcpy(s + o, p, l);
        o += l;
    }
    s[o] = '\0';
    *text = s;
    if (len)
        *len = o;
    return SQ_OK;
}

/* ---- streaming detokenizer ---- */

static const char replacement[] = "\xEF\xBF\xBD"; /* U+FFFD */

void
sq_detok_stream_init(sq_detok_stream *s, const sq_tokenizer *t, bool skip_special)
{
    memset(s, 0, sizeof *s);
    s->tok = t;
    s->skip_special = skip_special;
}

void
sq_detok_stream_free(sq_detok_stream *s)
{
    free(s->buf);
    s->buf = NULL;
    s->buf_cap = 0;
    s->n_pending = 0;
}

sq_status
sq_detok_stream_push(sq_detok_stream *s, int32_t id, const char **text, size_t *len, sq_error *err)
{
    *text = "";
    *len = 0;
    size_t pl;
    const char *piece = sq_tokenizer_piece(s->tok, id, s->skip_special, &pl);
    if (!piece)
        return sq_error_set(err, SQ_ERR_INVALID_ARG, "tokenizer: %" PRId32 " is not a token id", id);
    /* buf: output (at most 3 bytes per input byte), then the input:
     * the held-back bytes followed by the piece */
    size_t n = s->n_pending + pl;
    if (!sq_tok_grow((void **)&s->buf, &s->buf_cap, n * 4 + 4, 1))
        return sq_error_set(err, SQ_ERR_NOMEM, "tokenizer: out of memory");
    unsigned char *in = (unsigned char *)s->buf + n * 3;
    memcpy(in, s->pending, s->n_pending);
    memcpy(in + s->n_pending, piece, pl);
    s->n_pending = 0;
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        bool more;
        size_t l = sq_utf8_strict(in + i, n - i, &more);
        if (l) {
            memcpy(s->buf + o, in + i, l); /* the output never reaches the input */
            o += l;
            i += l;
        } else if (more) { /* a character still being spelled out: hold it back */
            memcpy(s->pending, in + i, n - i);
            s->n_pending = n - i;
            break;
        } else { /* one U+FFFD per maximal ill-formed prefix, as decoders do */
            size_t k = 1;
            while (i + k < n && !sq_utf8_strict(in + i, k + 1, &more) && more)
                k++;
            memcpy(s->buf + o, replacement, 3);
            o += 3;
            i += k;
        }
    }
    *text = s->buf;
    *len = o;
    return SQ_OK;
}

void
sq_detok_stream_flush(sq_detok_stream *s, const char **text, size_t *len)
{
    *text = s->n_pending ? replacement : "";
    *len = s->n_pending ? 3 : 0;
    s->n_pending = 0;
}
