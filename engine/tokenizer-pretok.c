/* tokenizer-pretok.c — text → pieces: added tokens are cut out first, the
 * rest is repaired if it is not valid UTF-8 and split by the Qwen2 regex. */
#include <stdlib.h>
#include <string.h>

#include "tokenizer-private.h"

/* The Qwen2 pre-tokenizer (spec F.2):
 *   (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
 * written out the way llama.cpp evaluates it: the contractions are only
 * ASCII-case-insensitive (PCRE2's (?i) would also fold U+017F ſ to s and
 * U+212A K to k), and \s is the Unicode White_Space set llama.cpp uses
 * (PCRE2's Unicode \s would add U+180E).  \p{L} and \p{N} are the Unicode
 * general categories, as in llama.cpp's tables. */
#define WS "\\t\\n\\x0B\\f\\r \\x{85}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}\\x{205F}\\x{3000}"
static const char qwen2_pattern[] =
    "'(?:[sS]|[tT]|[rR][eE]|[vV][eE]|[mM]|[lL][lL]|[dD])"
    "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+"
    "|\\p{N}"
    "| ?[^" WS "\\p{L}\\p{N}]+[\\r\\n]*"
    "|[" WS "]*[\\r\\n]+"
    "|[" WS "]+(?![^" WS "])"
    "|[" WS "]+";

sq_status
sq_tok_pretok_compile(sq_tokenizer *t, sq_error *err)
{
    int ec;
    PCRE2_SIZE eo;
    t->re = pcre2_compile((PCRE2_SPTR)qwen2_pattern, PCRE2_ZERO_TERMINATED, PCRE2_UTF | PCRE2_UCP, &ec, &eo,
                          NULL);
    if (!t->re) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(ec, msg, sizeof msg);
        return sq_error_set(err, SQ_ERR_UNSUPPORTED, "tokenizer: PCRE2 rejects the pre-tokenizer regex at %zu: %s",
                            (size_t)eo, (const char *)msg);
    }
    (void)pcre2_jit_compile(t->re, PCRE2_JIT_COMPLETE); /* without JIT, pcre2_match interprets */
    return SQ_OK;
}

/* Scratch for one call. */
typedef struct {
    const sq_tokenizer *t;
    const sq_tok_sink  *sink;
    sq_error           *err;
    char               *canon, *safe;   /* a repaired copy of an invalid fragment */
    size_t              canon_cap, safe_cap;
    pcre2_match_data   *md;
} pretok;

static bool
utf8_valid(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        if (s[i] < 0x80) {
            i++;
            continue;
        }
        bool inc;
        size_t l = sq_utf8_strict(s + i, n - i, &inc);
        if (!l)
            return false;
        i += l;
    }
    return true;
}

/* Repairs an invalid UTF-8 fragment as llama.cpp reads it (see tokenizer.h):
 * canon gets the bytes to tokenize, safe the same text for PCRE2, which
 * refuses surrogates — those become U+FFFD there.  Both encodings take 3
 * bytes, so offsets agree. */
static sq_status
repair(pretok *P, const unsigned char *s, size_t n, size_t *out_n)
{
    if (n > SIZE_MAX / 3 || !sq_tok_grow((void **)&P->canon, &P->canon_cap, n * 3, 1) ||
        !sq_tok_grow((void **)&P->safe, &P->safe_cap, n * 3, 1))
        return sq_error_set(P->err, SQ_ERR_NOMEM, "tokenizer: out of memory");
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        i += sq_utf8_lenient(s + i, n - i, &cp);
        if (cp > 0x10FFFF)
            cp = 0xFFFD;
        size_t l = sq_utf8_put(cp, P->canon + o);
        if (cp >= 0xD800 && cp <= 0xDFFF)
            sq_utf8_put(0xFFFD, P->safe + o);
        else
            memcpy(P->safe + o, P->canon + o, l);
        o += l;
    }
    *out_n = o;
    return SQ_OK;
}

/* Splits one fragment (no added tokens in it) into pieces. */
static sq_status
split_fragment(pretok *P, const char *text, size_t n)
{
    const unsigned char *bytes = (const unsigned char *)text; /* what BPE gets */
    const char *subject = text;                               /* what the regex sees */
    sq_status st;
    if (!utf8_valid(bytes, n)) {
        if ((st = repair(P, bytes, n, &n)) != SQ_OK)
            return st;
        bytes = (const unsigned char *)P->canon;
        subject = P->safe;
    }
    if (!P->md && !(P->md = pcre2_match_data_create_from_pattern(P->t->re, NULL)))
        return sq_error_set(P->err, SQ_ERR_NOMEM, "tokenizer: out of memory");
    uint32_t opts = PCRE2_NO_UTF_CHECK;
    for (size_t pos = 0; pos < n;) {
        int rc = pcre2_match(P->t->re, (PCRE2_SPTR)subject, n, pos, opts, P->md, NULL);
        if (rc == PCRE2_ERROR_JIT_STACKLIMIT && !(opts & PCRE2_NO_JIT)) {
            opts |= PCRE2_NO_JIT; /* the interpreter's stack is on the heap */
            continue;
        }
        size_t ms = n, me = n;
        if (rc >= 0) {
            const PCRE2_SIZE *ov = pcre2_get_ovector_pointer(P->md);
            ms = ov[0];
            me = ov[1];
        } else if (rc != PCRE2_ERROR_NOMATCH) {
            PCRE2_UCHAR msg[128];
            pcre2_get_error_message(rc, msg, sizeof msg);
            return sq_error_set(P->err, SQ_ERR_LIMIT, "tokenizer: pre-tokenizer failed at byte %zu: %s", pos,
                                (const char *)msg);
        }
        /* text the regex skipped is a piece of its own (as in llama.cpp;
         * this regex matches every character, so it does not happen) */
        if (ms > pos && (st = P->sink->piece(P->sink->ctx, bytes + pos, ms - pos)) != SQ_OK)
            return st;
        if (me == ms) { /* no alternative matches empty; never loop on one */
            if (ms >= n)
                break;
            bool inc;
            size_t l = sq_utf8_strict((const unsigned char *)subject + ms, n - ms, &inc);
            me = ms + (l ? l : 1);
        }
        if ((st = P->sink->piece(P->sink->ctx, bytes + ms, me - ms)) != SQ_OK)
            return st;
        pos = me;
    }
    return SQ_OK;
}

typedef struct {
    size_t  off, len;
    int32_t id;  /* an added token, or -1 for text still to split */
} fragment;

static bool
matchable(const sq_tokenizer *t, int32_t id, bool parse_special)
{
    return parse_special || t->types[id] == SQ_TOKEN_USER_DEFINED;
}

/* Marks the added tokens that occur in the text at all (usually none or a
 * few of them), in one pass over the text. */
static void
find_present(const sq_tokenizer *t, const char *text, size_t len, bool parse_special, bool *present)
{
    for (size_t i = 0; i < len; i++) {
        unsigned b = (unsigned char)text[i];
        for (uint32_t j = t->first_off[b]; j < t->first_off[b + 1]; j++) {
            uint32_t k = t->first_idx[j];
            size_t tl;
            const char *tt = sq_tok_sym_text(t, t->specials[k], &tl);
            if (!present[k] && tl <= len - i && memcmp(text + i, tt, tl) == 0 &&
                matchable(t, t->specials[k], parse_special))
                present[k] = true;
        }
    }
}

/* Cuts added tokens out of the text the way llama.cpp does: token by token,
 * longest text first, every occurrence in every fragment still raw
 * (leftmost first, not overlapping).  So a longer token wins over a shorter
 * one even when the shorter one starts earlier. */
static sq_status
cut_added_tokens(const sq_tokenizer *t, const char *text, size_t len, bool parse_special, fragment **out,
                 size_t *n_out, sq_error *err)
{
    size_t n = 1, cap = 1, ncap = 0;
    fragment *f = malloc(sizeof *f), *next = NULL;
    bool *present = calloc(t->n_specials ? t->n_specials : 1, sizeof *present);
    if (!f || !present)
        goto nomem;
    f[0] = (fragment){ 0, len, -1 };
    find_present(t, text, len, parse_special, present);
    for (size_t k = 0; k < t->n_specials; k++) {
        if (!present[k])
            continue;
        size_t tl;
        const char *tt = sq_tok_sym_text(t, t->specials[k], &tl);
        int32_t id = t->specials[k];
        size_t m = 0;
        for (size_t i = 0; i < n; i++) {
            if (f[i].id >= 0) {
                if (!sq_tok_grow((void **)&next, &ncap, m + 1, sizeof *next))
                    goto nomem;
                next[m++] = f[i];
                continue;
            }
            size_t off = f[i].off, rest = f[i].len;
            while (rest) {
                const char *hit = memmem(text + off, rest, tt, tl);
                size_t before = hit ? (size_t)(hit - (text + off)) : rest;
                if (!sq_tok_grow((void **)&next, &ncap, m + 2, sizeof *next))
                    goto nomem;
                if (before)
                    next[m++] = (fragment){ off, before, -1 };
                if (!hit)
                    break;
                next[m++] = (fragment){ off + before, tl, id };
                off += before + tl;
                rest -= before + tl;
            }
        }
        fragment *tf = f;
        size_t tc = cap;
        f = next;
        cap = ncap;
        next = tf;
        ncap = tc;
        n = m;
    }
    free(next);
    free(present);
    *out = f;
    *n_out = n;
    return SQ_OK;
nomem:
    free(f);
    free(next);
    free(present);
    return sq_error_set(err, SQ_ERR_NOMEM, "tokenizer: out of memory");
}

sq_status
sq_tok_pretokenize(const sq_tokenizer *t, const char *text, size_t len, bool parse_special,
                   const sq_tok_sink *sink, sq_error *err)
{
    fragment *frags = NULL;
    size_t n_frags = 0;
    sq_status st = cut_added_tokens(t, text, len, parse_special, &frags, &n_frags, err);
    if (st != SQ_OK)
        return st;
    pretok P = { .t = t, .sink = sink, .err = err };
    for (size_t i = 0; i < n_frags && st == SQ_OK; i++) {
        if (frags[i].id >= 0)
            st = sink->token(sink->ctx, frags[i].id);
        else
            st = split_fragment(&P, text + frags[i].off, frags[i].len);
    }
    free(frags);
    free(P.canon);
    free(P.safe);
    pcre2_match_data_free(P.md);
    return st;
}
