/* tokenizer-private.h — state shared by tokenizer.c (loading, vocabulary,
 * decoding), tokenizer-pretok.c (added tokens, UTF-8 repair, the regex) and
 * tokenizer-bpe.c (the merge loop and sq_tokenizer_encode).
 *
 * BPE runs on integer symbols.  Every string that can appear while merging —
 * each vocabulary token, plus any merge part or result that is not a token —
 * has a symbol id; vocabulary ids come first, so a symbol below n_vocab IS
 * the token id.  A piece starts as one symbol per byte (that byte's
 * byte-level character) and the merge table maps (left, right) → rank, the
 * rank indexes the result, so no string is built or hashed while encoding.
 */
#pragma once

#define PCRE2_CODE_UNIT_WIDTH 8

#include <pcre2.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tokenizer.h"

/* Hash slots are zero when empty, so freshly mapped memory needs no setup. */
typedef struct {
    uint32_t hash;
    uint32_t id1;     /* symbol id + 1 */
} sq_tok_sym_slot;

typedef struct {
    uint32_t left, right;  /* symbol ids */
    uint32_t rank1;        /* merge rank + 1 */
} sq_tok_merge_slot;

struct sq_tokenizer {
    int32_t   n_vocab;
    int32_t   n_merges;
    int32_t   n_symbols;      /* n_vocab + merge-only symbols */
    uint8_t  *types;          /* (n_vocab) sq_token_type */

    char     *texts;          /* token texts, each followed by a NUL */
    uint32_t *text_off;       /* (n_vocab + 1) offsets into texts */
    char     *extra_texts;    /* merge-only symbols' texts (n_symbols - n_vocab of them) */
    uint32_t *extra_off;      /* (n_symbols - n_vocab + 1) offsets into extra_texts */

    char     *pieces;         /* every token's decoded bytes, back to back */
    uint32_t *piece_off;      /* (n_vocab + 1) offsets into pieces */
    size_t    max_piece_len;

    sq_tok_sym_slot   *sym_slots;     /* symbol text → id, open addressing */
    size_t             sym_cap;       /* a power of two */
    sq_tok_merge_slot *merge_slots;   /* (left, right) → rank */
    size_t             merge_cap;     /* a power of two */
    int32_t           *merge_result;  /* (n_merges) symbol made by each merge */

    int32_t   byte_sym[256];  /* symbol of each byte's byte-level character, or -1 */
    int32_t   byte_tok[256];  /* the same when it is a token, else -1 (byte fallback) */
    int16_t   cp_byte[324];   /* inverse byte-level map: code point → byte, or -1 */

    int32_t  *specials;       /* CONTROL/USER_DEFINED/UNKNOWN ids, longest text first */
    size_t    n_specials;
    uint32_t  first_off[257]; /* first_idx[first_off[b] … first_off[b+1]) are the */
    uint32_t *first_idx;      /*   indices in specials of the texts starting with byte b */

    int32_t   bos, eos, pad;
    bool      add_bos;
    int32_t   eog[3];
    size_t    n_eog;

    pcre2_code *re;           /* the pre-tokenizer */

    void     *block;          /* one mapping holding the big arrays above */
    size_t    block_size;
    bool      sym_slots_owned; /* the symbol table outgrew the block */
};

/* ---- symbol and merge tables ---- */

static inline const char *
sq_tok_sym_text(const sq_tokenizer *t, int32_t id, size_t *len)
{
    if (id < t->n_vocab) {
        *len = t->text_off[id + 1] - t->text_off[id] - 1;
        return t->texts + t->text_off[id];
    }
    id -= t->n_vocab;
    *len = t->extra_off[id + 1] - t->extra_off[id] - 1;
    return t->extra_texts + t->extra_off[id];
}

static inline size_t
sq_tok_merge_hash(uint32_t l, uint32_t r)
{
    uint64_t k = (uint64_t)l << 32 | r;
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdull;
    k ^= k >> 33;
    return (size_t)k;
}

/* The rank of merging symbols l and r, or -1. */
static inline int32_t
sq_tok_merge_rank(const sq_tokenizer *t, int32_t l, int32_t r)
{
    size_t mask = t->merge_cap - 1;
    for (size_t i = sq_tok_merge_hash((uint32_t)l, (uint32_t)r) & mask;; i = (i + 1) & mask) {
        const sq_tok_merge_slot *e = &t->merge_slots[i];
        if (!e->rank1)
            return -1;
        if (e->left == (uint32_t)l && e->right == (uint32_t)r)
            return (int32_t)e->rank1 - 1;
    }
}

/* ---- UTF-8 ---- */

static inline size_t
sq_utf8_put(uint32_t cp, char *out)
{
    unsigned char *o = (unsigned char *)out;
    if (cp < 0x80) {
        o[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (unsigned char)(0xC0 | cp >> 6);
        o[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (unsigned char)(0xE0 | cp >> 12);
        o[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
        o[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (unsigned char)(0xF0 | cp >> 18);
    o[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3F));
    o[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
    o[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Decodes one code point the lenient way llama.cpp does: the lead byte gives
 * the length and the continuation bytes must be 10xxxxxx, but overlong forms
 * and surrogates pass.  A byte that starts no sequence gives U+FFFD, 1. */
static inline size_t
sq_utf8_lenient(const unsigned char *s, size_t n, uint32_t *cp)
{
    unsigned char b = s[0];
    size_t need;
    uint32_t v;
    if (b < 0x80) {
        *cp = b;
        return 1;
    }
    if (!(b & 0x40))
        goto bad;
    if (!(b & 0x20)) {
        need = 1;
        v = b & 0x1F;
    } else if (!(b & 0x10)) {
        need = 2;
        v = b & 0x0F;
    } else if (!(b & 0x08)) {
        need = 3;
        v = b & 0x07;
    } else {
        goto bad;
    }
    if (need >= n)
        goto bad;
    for (size_t i = 1; i <= need; i++) {
        if ((s[i] & 0xC0) != 0x80)
            goto bad;
        v = v << 6 | (s[i] & 0x3F);
    }
    *cp = v;
    return need + 1;
bad:
    *cp = 0xFFFD;
    return 1;
}

/* Strict UTF-8 (Unicode table 3-7).  Returns the length of the well-formed
 * character at s, or 0; then *incomplete tells whether the n bytes are a
 * valid but unfinished start of one. */
static inline size_t
sq_utf8_strict(const unsigned char *s, size_t n, bool *incomplete)
{
    unsigned char b = s[0];
    unsigned char lo = 0x80, hi = 0xBF;
    size_t len;
    *incomplete = false;
    if (b < 0x80)
        return 1;
    if (b >= 0xC2 && b <= 0xDF) {
        len = 2;
    } else if (b >= 0xE0 && b <= 0xEF) {
        len = 3;
        if (b == 0xE0)
            lo = 0xA0;
        else if (b == 0xED)
            hi = 0x9F;
    } else if (b >= 0xF0 && b <= 0xF4) {
        len = 4;
        if (b == 0xF0)
            lo = 0x90;
        else if (b == 0xF4)
            hi = 0x8F;
    } else {
        return 0;
    }
    for (size_t i = 1; i < len; i++) {
        if (i >= n) {
            *incomplete = true;
            return 0;
        }
        if (s[i] < lo || s[i] > hi)
            return 0;
        lo = 0x80;
        hi = 0xBF;
    }
    return len;
}

/* Grows *p (an array of *cap elements of `elem` bytes) to hold `need`. */
bool sq_tok_grow(void **p, size_t *cap, size_t need, size_t elem);

/* ---- tokenizer-pretok.c ---- */

/* Where pre-tokenization sends its output, in text order. */
typedef struct {
    sq_status (*piece)(void *ctx, const unsigned char *bytes, size_t n); /* for BPE */
    sq_status (*token)(void *ctx, int32_t id);                           /* an added token */
    void       *ctx;
} sq_tok_sink;

sq_status sq_tok_pretok_compile(sq_tokenizer *t, sq_error *err);
sq_status sq_tok_pretokenize(const sq_tokenizer *t, const char *text, size_t len, bool parse_special,
                             const sq_tok_sink *sink, sq_error *err);
