/* test-tokenizer.c — the Qwen2 BPE tokenizer against llama.cpp's own test
 * strings and the reference cases (tests/data/tokenizer/), streaming
 * detokenization, hostile input and hand-made vocabularies. */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gguf.h"
#include "tap.h"
#include "tokenizer.h"

static double
now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static char *
read_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap + 1);
    size_t got;
    while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            char *nb = realloc(buf, cap * 2 + 1);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
    }
    fclose(f);
    if (buf)
        buf[n] = '\0';
    *size = n;
    return buf;
}

static sq_tokenizer *
load_vocab(const char *rel, double *ms)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", tap_data_dir(), rel);
    sq_error err = { 0 };
    sq_gguf *g = NULL;
    sq_tokenizer *t = NULL;
    double t0 = now_ms();
    if (sq_gguf_open(path, &g, &err) != SQ_OK) {
        diag("%s: %s", path, err.msg);
        return NULL;
    }
    double t1 = now_ms();
    if (sq_tokenizer_load(g, &t, &err) != SQ_OK)
        diag("%s: %s", path, err.msg);
    double t2 = now_ms();
    sq_gguf_close(g);
    if (ms)
        *ms = t2 - t0;
    diag("%s: GGUF open %.1f ms, tokenizer load %.1f ms", rel, t1 - t0, t2 - t1);
    return t;
}

/* ---- a tiny JSON-lines reader for the cases files ---- */

typedef struct {
    char   *s;
    size_t  n, cap;
} str;

static void
str_add(str *b, const void *p, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        b->cap = (b->n + n + 1) * 2;
        b->s = realloc(b->s, b->cap);
        if (!b->s)
            abort();
    }
    memcpy(b->s + b->n, p, n);
    b->n += n;
    b->s[b->n] = '\0';
}

static void
str_put_cp(str *b, uint32_t cp)
{
    char o[4];
    size_t n;
    if (cp < 0x80) {
        o[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        o[0] = (char)(0xC0 | cp >> 6);
        o[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        o[0] = (char)(0xE0 | cp >> 12);
        o[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        o[0] = (char)(0xF0 | cp >> 18);
        o[1] = (char)(0x80 | (cp >> 12 & 0x3F));
        o[2] = (char)(0x80 | (cp >> 6 & 0x3F));
        o[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    str_add(b, o, n);
}

typedef struct {
    const char *p, *end;
} json;

static void
j_ws(json *j)
{
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\r' || *j->p == '\n'))
        j->p++;
}

static bool
j_lit(json *j, const char *lit)
{
    j_ws(j);
    size_t n = strlen(lit);
    if ((size_t)(j->end - j->p) < n || memcmp(j->p, lit, n) != 0)
        return false;
    j->p += n;
    return true;
}

static bool
j_hex4(json *j, uint32_t *v)
{
    if (j->end - j->p < 4)
        return false;
    *v = 0;
    for (int i = 0; i < 4; i++) {
        char c = *j->p++;
        *v <<= 4;
        if (c >= '0' && c <= '9')
            *v |= (uint32_t)(c - '0');
        else if (c >= 'a' && c <= 'f')
            *v |= (uint32_t)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            *v |= (uint32_t)(c - 'A' + 10);
        else
            return false;
    }
    return true;
}

/* A JSON string into out (UTF-8; \uD83D\uDE00 pairs combined). */
static bool
j_string(json *j, str *out)
{
    if (!j_lit(j, "\""))
        return false;
    out->n = 0;
    str_add(out, "", 0);
    while (j->p < j->end && *j->p != '"') {
        if (*j->p != '\\') {
            str_add(out, j->p++, 1);
            continue;
        }
        if (++j->p >= j->end)
            return false;
        char c = *j->p++;
        uint32_t cp;
        switch (c) {
        case 'n': str_add(out, "\n", 1); break;
        case 'r': str_add(out, "\r", 1); break;
        case 't': str_add(out, "\t", 1); break;
        case 'b': str_add(out, "\b", 1); break;
        case 'f': str_add(out, "\f", 1); break;
        case '/': str_add(out, "/", 1); break;
        case '\\': str_add(out, "\\", 1); break;
        case '"': str_add(out, "\"", 1); break;
        case 'u':
            if (!j_hex4(j, &cp))
                return false;
            if (cp >= 0xD800 && cp <= 0xDBFF && j->end - j->p >= 6 && j->p[0] == '\\' && j->p[1] == 'u') {
                json save = *j;
                uint32_t lo;
                j->p += 2;
                if (j_hex4(j, &lo) && lo >= 0xDC00 && lo <= 0xDFFF)
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                else
                    *j = save;
            }
            str_put_cp(out, cp);
            break;
        default:
            return false;
        }
    }
    return j_lit(j, "\"");
}

static bool j_skip(json *j);

static bool
j_skip(json *j)
{
    j_ws(j);
    if (j->p >= j->end)
        return false;
    if (*j->p == '"') {
        str tmp = { 0 };
        bool r = j_string(j, &tmp);
        free(tmp.s);
        return r;
    }
    if (*j->p == '[' || *j->p == '{') {
        char close = *j->p == '[' ? ']' : '}';
        j->p++;
        if (j_lit(j, (char[]){ close, 0 }))
            return true;
        do {
            if (close == '}') {
                str tmp = { 0 };
                bool r = j_string(j, &tmp) && j_lit(j, ":");
                free(tmp.s);
                if (!r)
                    return false;
            }
            if (!j_skip(j))
                return false;
        } while (j_lit(j, ","));
        return j_lit(j, (char[]){ close, 0 });
    }
    while (j->p < j->end && !strchr(",]} \t\r\n", *j->p))
        j->p++;
    return true;
}

typedef struct {
    str       text, detok;
    bool      parse_special, roundtrip;
    sq_tokens ids;
} tcase;

static bool
parse_case(const char *line, size_t n, tcase *c)
{
    json j = { line, line + n };
    c->ids.n = 0;
    if (!j_lit(&j, "{"))
        return false;
    do {
        str key = { 0 };
        if (!j_string(&j, &key) || !j_lit(&j, ":")) {
            free(key.s);
            return false;
        }
        bool r = true;
        if (!strcmp(key.s, "text")) {
            r = j_string(&j, &c->text);
        } else if (!strcmp(key.s, "detok")) {
            r = j_string(&j, &c->detok);
        } else if (!strcmp(key.s, "parse_special") || !strcmp(key.s, "roundtrip")) {
            bool v = j_lit(&j, "true");
            r = v || j_lit(&j, "false");
            *(!strcmp(key.s, "roundtrip") ? &c->roundtrip : &c->parse_special) = v;
        } else if (!strcmp(key.s, "ids")) {
            r = j_lit(&j, "[");
            if (r && !j_lit(&j, "]")) {
                do {
                    j_ws(&j);
                    char *e;
                    long v = strtol(j.p, &e, 10);
                    if (e == j.p)
                        return false;
                    j.p = e;
                    sq_tokens_push(&c->ids, (int32_t)v, NULL);
                } while (j_lit(&j, ","));
                r = j_lit(&j, "]");
            }
        } else {
            r = j_skip(&j);
        }
        free(key.s);
        if (!r)
            return false;
    } while (j_lit(&j, ","));
    return j_lit(&j, "}");
}

/* ---- helpers ---- */

static bool
same_ids(const sq_tokens *a, const int32_t *b, size_t nb)
{
    return a->n == nb && (nb == 0 || memcmp(a->ids, b, nb * sizeof *b) == 0);
}

static void
diag_ids(const char *what, const int32_t *ids, size_t n)
{
    char buf[600];
    size_t o = 0;
    for (size_t i = 0; i < n && o + 16 < sizeof buf; i++)
        o += (size_t)snprintf(buf + o, sizeof buf - o, " %d", ids[i]);
    diag("%s (%zu):%s%s", what, n, buf, o + 16 >= sizeof buf ? " …" : "");
}

/* printable excerpt of a text for test names */
static const char *
excerpt(const char *s, size_t n)
{
    static char buf[48];
    size_t o = 0;
    for (size_t i = 0; i < n && o < 36; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\n') {
            buf[o++] = '\\';
            buf[o++] = 'n';
        } else if (c < 0x20 || c == 0x7F) {
            buf[o++] = '?';
        } else if (c >= 0x80) {
            /* whole UTF-8 characters only */
            size_t l = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
            if (i + l > n || o + l > 40)
                break;
            memcpy(buf + o, s + i, l);
            o += l;
            i += l - 1;
        } else {
            buf[o++] = (char)c;
        }
    }
    buf[o] = '\0';
    return buf;
}

static sq_status
encode(const sq_tokenizer *t, const char *s, size_t n, bool special, sq_tokens *out)
{
    sq_error err = { 0 };
    out->n = 0;
    sq_status st = sq_tokenizer_encode(t, s, n, special, out, &err);
    if (st != SQ_OK)
        diag("encode: %s", err.msg);
    return st;
}

/* ---- llama.cpp's test-tokenizer-0 files ---- */

static void
test_inp_out(const sq_tokenizer *t)
{
    char p1[1024], p2[1024];
    size_t ni, no;
    snprintf(p1, sizeof p1, "%s/tokenizer/ggml-vocab-qwen2.gguf.inp", tap_data_dir());
    snprintf(p2, sizeof p2, "%s/tokenizer/ggml-vocab-qwen2.gguf.out", tap_data_dir());
    char *inp = read_file(p1, &ni), *out = read_file(p2, &no);
    if (!ok(inp && out, "read the .inp/.out files")) {
        free(inp);
        free(out);
        return;
    }
    static const char sep[] = "\n__ggml_vocab_test__\n";
    const char *p = inp, *end = inp + ni, *o = out;
    int n_strings = 0, n_ok = 0;
    sq_tokens got = { 0 }, want = { 0 };
    while (p < end) {
        const char *s = memmem(p, (size_t)(end - p), sep, sizeof sep - 1);
        if (!s)
            break;
        const char *eol = strchr(o, '\n');
        if (!eol)
            eol = o + strlen(o);
        want.n = 0;
        for (const char *q = o; q < eol;) {
            char *e;
            long v = strtol(q, &e, 10);
            if (e == q)
                break;
            sq_tokens_push(&want, (int32_t)v, NULL);
            q = e;
        }
        o = *eol ? eol + 1 : eol;
        encode(t, p, (size_t)(s - p), false, &got);
        bool same = same_ids(&got, want.ids, want.n);
        n_strings++;
        n_ok += same;
        if (!ok(same, "inp/out string %d '%s'", n_strings, excerpt(p, (size_t)(s - p)))) {
            diag_ids("got", got.ids, got.n);
            diag_ids("want", want.ids, want.n);
        }
        p = s + sizeof sep - 1;
    }
    ok(n_strings == 46 && n_ok == 46, "all 46 llama.cpp test strings agree (%d/%d)", n_ok, n_strings);
    sq_tokens_free(&got);
    sq_tokens_free(&want);
    free(inp);
    free(out);
}

/* ---- cases.jsonl ---- */

static void
test_cases(const sq_tokenizer *t, const char *rel)
{
    char path[1024];
    size_t n;
    snprintf(path, sizeof path, "%s/tokenizer/%s", tap_data_dir(), rel);
    char *data = read_file(path, &n);
    if (!ok(data != NULL, "read %s", rel))
        return;
    tcase c = { 0 };
    sq_tokens got = { 0 };
    int n_lines = 0, n_ok = 0, n_bad_json = 0;
    for (char *line = data; line < data + n;) {
        char *eol = memchr(line, '\n', (size_t)(data + n - line));
        if (!eol)
            eol = data + n;
        if (eol > line) {
            if (!parse_case(line, (size_t)(eol - line), &c)) {
                n_bad_json++;
                diag("%s: cannot parse line %d", rel, n_lines + 1);
            } else {
                n_lines++;
                encode(t, c.text.s, c.text.n, c.parse_special, &got);
                bool same = same_ids(&got, c.ids.ids, c.ids.n);
                char *dt = NULL;
                size_t dl = 0;
                sq_error err = { 0 };
                bool detok_ok = sq_tokenizer_decode(t, c.ids.ids, c.ids.n, false, &dt, &dl, &err) == SQ_OK &&
                                dl == c.detok.n && memcmp(dt, c.detok.s, dl) == 0;
                bool rt_ok = !c.roundtrip || (dl == c.text.n && memcmp(dt, c.text.s, dl) == 0);
                free(dt);
                n_ok += same && detok_ok && rt_ok;
                if (!ok(same && detok_ok && rt_ok, "%s:%d special=%d '%s'", rel, n_lines, c.parse_special,
                        excerpt(c.text.s, c.text.n))) {
                    diag_ids("got", got.ids, got.n);
                    diag_ids("want", c.ids.ids, c.ids.n);
                    diag("detok %s, roundtrip %s", detok_ok ? "ok" : "differs", rt_ok ? "ok" : "differs");
                }
            }
        }
        line = eol + 1;
    }
    ok(n_lines == 158 && n_ok == 158 && n_bad_json == 0, "%s: %d/%d cases agree with llama.cpp", rel, n_ok,
       n_lines);
    free(c.text.s);
    free(c.detok.s);
    sq_tokens_free(&c.ids);
    sq_tokens_free(&got);
    free(data);
}

/* ---- vocabulary queries ---- */

static void
test_vocab_queries(const sq_tokenizer *base, const sq_tokenizer *tiny)
{
    ok(sq_tokenizer_n_vocab(base) == 151936 && sq_tokenizer_n_merges(base) == 151387,
       "base vocab: %d tokens, %d merges", sq_tokenizer_n_vocab(base), sq_tokenizer_n_merges(base));
    int32_t im_end = sq_tokenizer_find(base, "<|im_end|>");
    int32_t eot = sq_tokenizer_find(base, "<|endoftext|>");
    ok(im_end == 151645 && eot == 151643 && sq_tokenizer_find(base, "<|im_start|>") == 151644,
       "specials found by text (%d, %d)", im_end, eot);
    ok(sq_tokenizer_find(base, "<|vision_start|>") == -1 && sq_tokenizer_find(base, "") == -1,
       "absent texts give -1");
    ok(sq_tokenizer_find(base, "\xC4\xA0the") >= 0 && sq_tokenizer_find(base, "!") == 0, "'Ġthe' and '!' are tokens");
    ok(sq_tokenizer_eos(base) == 151643 && sq_tokenizer_bos(base) == 151643 && sq_tokenizer_pad(base) == 151643 &&
           !sq_tokenizer_add_bos(base),
       "base bos/eos/pad from the GGUF");
    ok(sq_tokenizer_is_eog(base, im_end) && sq_tokenizer_is_eog(base, eot) && !sq_tokenizer_is_eog(base, 151644) &&
           !sq_tokenizer_is_eog(base, 0) && !sq_tokenizer_is_eog(base, -1),
       "base end-of-generation set");
    /* the reference README calls [PAD151646]… UNUSED; the GGUF says USER_DEFINED */
    ok(sq_tokenizer_token_type(base, 151644) == SQ_TOKEN_CONTROL &&
           sq_tokenizer_token_type(base, 151700) == SQ_TOKEN_USER_DEFINED &&
           sq_tokenizer_token_type(base, 100) == SQ_TOKEN_NORMAL &&
           sq_tokenizer_token_type(base, 151936) == SQ_TOKEN_UNDEFINED,
       "token types");
    size_t len;
    const char *txt = sq_tokenizer_token_text(base, 151645, &len);
    ok(txt && len == 10 && !strcmp(txt, "<|im_end|>") && !sq_tokenizer_token_text(base, -5, NULL), "token text");

    ok(sq_tokenizer_n_vocab(tiny) == 4160 && sq_tokenizer_n_merges(tiny) == 3840, "tiny vocab: %d tokens, %d merges",
       sq_tokenizer_n_vocab(tiny), sq_tokenizer_n_merges(tiny));
    ok(sq_tokenizer_eos(tiny) == 4098 && sq_tokenizer_find(tiny, "<|vision_start|>") == 4105 &&
           sq_tokenizer_find(tiny, "<tool_call>") == 4110 &&
           sq_tokenizer_token_type(tiny, 4110) == SQ_TOKEN_USER_DEFINED,
       "tiny vocab specials");
    ok(sq_tokenizer_is_eog(tiny, 4098) && sq_tokenizer_is_eog(tiny, 4096) && !sq_tokenizer_is_eog(tiny, 4097),
       "tiny end-of-generation set");

    /* decoding: skip_special drops CONTROL tokens only */
    int32_t ids[] = { 4097, 872, 4110, 4098 };
    char *s = NULL;
    size_t n = 0;
    sq_error err = { 0 };
    sq_status st = sq_tokenizer_decode(tiny, ids, 4, false, &s, &n, &err);
    ok(st == SQ_OK && !strcmp(s, "<|im_start|>user<tool_call><|im_end|>"), "decode with specials: '%s'",
       s ? s : "");
    free(s);
    st = sq_tokenizer_decode(tiny, ids, 4, true, &s, &n, &err);
    ok(st == SQ_OK && !strcmp(s, "user<tool_call>"), "decode skipping specials: '%s'", s ? s : "");
    free(s);
    int32_t bad[] = { 1, 4160 };
    st = sq_tokenizer_decode(tiny, bad, 2, false, &s, &n, &err);
    ok(st == SQ_ERR_INVALID_ARG && !s, "decode rejects a bad id: %s", err.msg);
    sq_tokens pad = { 0 };
    ok(encode(base, "x[PAD151700]", 12, false, &pad) == SQ_OK && pad.n == 2 && pad.ids[1] == 151700,
       "USER_DEFINED [PAD151700] matches even without parse_special");
    sq_tokens_free(&pad);
}

/* The GPT-2 byte-level character of byte b (spec F.3), NUL-terminated in out. */
static const char *
byte_char(unsigned b, char out[3])
{
    uint32_t cp = b;
    bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || b >= 174;
    if (!printable) {
        cp = 256;
        for (unsigned x = 0; x < b; x++)
            cp += !((x >= 33 && x <= 126) || (x >= 161 && x <= 172) || x >= 174);
    }
    if (cp < 0x80) {
        out[0] = (char)cp;
        out[1] = 0;
    } else {
        out[0] = (char)(0xC0 | cp >> 6);
        out[1] = (char)(0x80 | (cp & 0x3F));
        out[2] = 0;
    }
    return out;
}

/* ---- streaming detokenization ---- */

static void
stream_all(sq_detok_stream *ds, const int32_t *ids, size_t n, str *out, bool *chunks_valid)
{
    out->n = 0;
    str_add(out, "", 0);
    for (size_t i = 0; i < n; i++) {
        const char *p;
        size_t l;
        sq_error err = { 0 };
        if (sq_detok_stream_push(ds, ids[i], &p, &l, &err) != SQ_OK) {
            diag("push: %s", err.msg);
            *chunks_valid = false;
            continue;
        }
        /* each chunk must be whole characters */
        for (size_t k = 0; k < l;) {
            unsigned char c = (unsigned char)p[k];
            size_t cl = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 0;
            if (!cl || k + cl > l) {
                *chunks_valid = false;
                break;
            }
            k += cl;
        }
        str_add(out, p, l);
    }
    const char *p;
    size_t l;
    sq_detok_stream_flush(ds, &p, &l);
    str_add(out, p, l);
}

static void
test_stream(const sq_tokenizer *base, const sq_tokenizer *tiny)
{
    sq_detok_stream ds;
    str out = { 0 };
    sq_tokens ids = { 0 };
    bool valid = true;

    /* the tiny vocab spells most CJK and emoji byte by byte */
    static const char text[] = "Hi 👋🏽 你好，世界! 👨‍👩‍👧 café\n";
    encode(tiny, text, sizeof text - 1, true, &ids);
    sq_detok_stream_init(&ds, tiny, false);
    stream_all(&ds, ids.ids, ids.n, &out, &valid);
    ok(valid && out.n == sizeof text - 1 && !memcmp(out.s, text, out.n),
       "stream: %zu tokens back to the text, whole characters per chunk", ids.n);

    /* "é" = C3 A9 as two byte tokens: nothing, then the character */
    int32_t c3 = sq_tokenizer_find(base, "\xC3\x83"), a9 = sq_tokenizer_find(base, "\xC2\xA9");
    const char *p;
    size_t l;
    sq_error err = { 0 };
    ok(c3 >= 0 && a9 >= 0, "byte tokens for C3 and A9 (%d, %d)", c3, a9);
    sq_detok_stream_free(&ds);
    sq_detok_stream_init(&ds, base, false);
    ok(sq_detok_stream_push(&ds, c3, &p, &l, &err) == SQ_OK && l == 0, "stream holds back a lead byte");
    ok(sq_detok_stream_push(&ds, a9, &p, &l, &err) == SQ_OK && l == 2 && !memcmp(p, "\xC3\xA9", 2),
       "stream completes the character");
    /* a lone continuation byte, then an unfinished lead at the end */
    ok(sq_detok_stream_push(&ds, a9, &p, &l, &err) == SQ_OK && l == 3 && !memcmp(p, "\xEF\xBF\xBD", 3),
       "stream replaces a stray continuation byte with U+FFFD");
    ok(sq_detok_stream_push(&ds, c3, &p, &l, &err) == SQ_OK && l == 0, "held again");
    int32_t A = sq_tokenizer_find(base, "A");
    ok(sq_detok_stream_push(&ds, A, &p, &l, &err) == SQ_OK && l == 4 && !memcmp(p, "\xEF\xBF\xBD" "A", 4),
       "a broken sequence becomes U+FFFD before the next character");
    sq_detok_stream_push(&ds, c3, &p, &l, &err);
    sq_detok_stream_flush(&ds, &p, &l);
    ok(l == 3 && !memcmp(p, "\xEF\xBF\xBD", 3), "flush turns an unfinished character into U+FFFD");
    sq_detok_stream_flush(&ds, &p, &l);
    ok(l == 0, "a second flush gives nothing");
    ok(sq_detok_stream_push(&ds, -1, &p, &l, &err) == SQ_ERR_INVALID_ARG, "stream rejects a bad id");

    /* 4-byte emoji split over four byte tokens (F0 9F 98 80 = 😀) */
    static const unsigned char smile[4] = { 0xF0, 0x9F, 0x98, 0x80 };
    int32_t bytes[4];
    bool all = true;
    for (int i = 0; i < 4; i++) {
        char c[3];
        bytes[i] = sq_tokenizer_find(base, byte_char(smile[i], c));
        all = all && bytes[i] >= 0;
    }
    ok(all, "byte tokens for F0 9F 98 80");
    sq_detok_stream_free(&ds);
    sq_detok_stream_init(&ds, base, false);
    size_t total = 0;
    for (int i = 0; i < 3; i++) {
        sq_detok_stream_push(&ds, bytes[i], &p, &l, &err);
        total += l;
    }
    ok(total == 0, "three bytes of an emoji give nothing yet");
    sq_detok_stream_push(&ds, bytes[3], &p, &l, &err);
    ok(l == 4 && !memcmp(p, smile, 4), "the fourth completes it");
    sq_detok_stream_free(&ds);

    /* special tokens in a stream */
    sq_detok_stream_init(&ds, tiny, true);
    int32_t chat[] = { 4097, 872, 4098 };
    valid = true;
    stream_all(&ds, chat, 3, &out, &valid);
    ok(valid && !strcmp(out.s, "user"), "stream skipping specials: '%s'", out.s);
    sq_detok_stream_free(&ds);

    free(out.s);
    sq_tokens_free(&ids);
}

/* ---- hostile input ---- */

static void
test_invalid_utf8(const sq_tokenizer *base, const sq_tokenizer *tiny)
{
    sq_tokens a = { 0 }, b = { 0 };
    /* a truncated 3-byte sequence: each byte becomes U+FFFD, as in llama.cpp */
    ok(encode(base, "\xE4\xB8" "A", 3, false, &a) == SQ_OK &&
           encode(base, "\xEF\xBF\xBD\xEF\xBF\xBD" "A", 7, false, &b) == SQ_OK && a.n == b.n &&
           !memcmp(a.ids, b.ids, a.n * sizeof *a.ids),
       "truncated sequence = U+FFFD per byte (%zu ids)", a.n);
    ok(encode(base, "x\xFF\xFEy", 4, false, &a) == SQ_OK &&
           encode(base, "x\xEF\xBF\xBD\xEF\xBF\xBDy", 8, false, &b) == SQ_OK && a.n == b.n &&
           !memcmp(a.ids, b.ids, a.n * sizeof *a.ids),
       "invalid lead bytes = U+FFFD");
    /* a lone surrogate (ED A0 80) passes through as its bytes */
    char *s = NULL;
    size_t n = 0;
    sq_error err = { 0 };
    ok(encode(base, "a\xED\xA0\x80z", 5, false, &a) == SQ_OK &&
           sq_tokenizer_decode(base, a.ids, a.n, false, &s, &n, &err) == SQ_OK && n == 5 &&
           !memcmp(s, "a\xED\xA0\x80z", 5),
       "a surrogate round-trips byte for byte");
    free(s);
    /* an overlong NUL (C0 80) is read as U+0000, as llama.cpp reads it */
    ok(encode(base, "\xC0\x80", 2, false, &a) == SQ_OK && encode(base, "\0", 1, false, &b) == SQ_OK &&
           a.n == 1 && b.n == 1 && a.ids[0] == b.ids[0],
       "overlong NUL reads as U+0000");
    /* above U+10FFFF: one U+FFFD */
    ok(encode(base, "\xF7\xBF\xBF\xBF", 4, false, &a) == SQ_OK &&
           encode(base, "\xEF\xBF\xBD", 3, false, &b) == SQ_OK && a.n == b.n &&
           !memcmp(a.ids, b.ids, a.n * sizeof *a.ids),
       "a code point above U+10FFFF becomes U+FFFD");

    /* every byte value, random garbage, and a special token with a broken tail */
    unsigned char all[512];
    for (int i = 0; i < 512; i++)
        all[i] = (unsigned char)(i * 167 + 13);
    ok(encode(base, (const char *)all, sizeof all, true, &a) == SQ_OK && a.n > 0, "all byte values: %zu ids", a.n);
    uint32_t x = 12345;
    bool fine = true;
    for (int round = 0; round < 200 && fine; round++) {
        char buf[257];
        size_t len = (size_t)(round % 64) * 4 + 1;
        for (size_t i = 0; i < len; i++) {
            x = x * 1103515245u + 12345u;
            buf[i] = (char)(x >> 16);
            if ((x >> 8 & 7) == 0)
                buf[i] = "<|im_end|>\xF0\x9F\n "[(x >> 12) % 15];
        }
        fine = encode(tiny, buf, len, round & 1, &a) == SQ_OK && encode(base, buf, len, round & 1, &b) == SQ_OK;
        for (size_t i = 0; fine && i < a.n; i++)
            fine = a.ids[i] >= 0 && a.ids[i] < sq_tokenizer_n_vocab(tiny);
    }
    ok(fine, "200 random byte strings tokenize without error");
    /* encode appends; NULL text with length 0 is an empty text */
    a.n = 0;
    ok(sq_tokenizer_encode(base, "hi", 2, false, &a, &err) == SQ_OK &&
           sq_tokenizer_encode(base, "hi", 2, false, &a, &err) == SQ_OK && a.n == 2 && a.ids[0] == a.ids[1] &&
           sq_tokenizer_encode(base, NULL, 0, false, &a, &err) == SQ_OK && a.n == 2,
       "encode appends");
    sq_tokens_free(&a);
    sq_tokens_free(&b);
}

/* ---- hand-made vocabularies ---- */

typedef struct {
    const char *model, *pre;
    const char *const *tokens;
    size_t n_tokens;
    const int32_t *types;
    size_t n_types;
    const char *const *merges;
    size_t n_merges;
    int64_t eos;
} vocab_spec;

static sq_status
load_spec(const vocab_spec *v, sq_tokenizer **t, sq_error *err)
{
    sq_gguf_writer *w = sq_gguf_writer_new();
    sq_gguf_writer_set_str(w, "general.architecture", "qwen2");
    if (v->model)
        sq_gguf_writer_set_str(w, "tokenizer.ggml.model", v->model);
    if (v->pre)
        sq_gguf_writer_set_str(w, "tokenizer.ggml.pre", v->pre);
    if (v->tokens)
        sq_gguf_writer_set_str_array(w, "tokenizer.ggml.tokens", v->tokens, v->n_tokens);
    if (v->types)
        sq_gguf_writer_set_array(w, "tokenizer.ggml.token_type", SQ_GGUF_INT32, v->types, v->n_types);
    if (v->merges)
        sq_gguf_writer_set_str_array(w, "tokenizer.ggml.merges", v->merges, v->n_merges);
    if (v->eos >= 0)
        sq_gguf_writer_set_u32(w, "tokenizer.ggml.eos_token_id", (uint32_t)v->eos);
    void *data = NULL;
    size_t size = 0;
    sq_gguf *g = NULL;
    *t = NULL;
    sq_status st = sq_gguf_writer_to_memory(w, &data, &size, err);
    sq_gguf_writer_free(w);
    if (st == SQ_OK)
        st = sq_gguf_open_memory(data, size, &g, err);
    if (st == SQ_OK)
        st = sq_tokenizer_load(g, t, err);
    sq_gguf_close(g);
    free(data);
    return st;
}

static void
test_handmade(void)
{
    /* the 256 byte-level characters, then "ab", "abc", "Ġa", a CONTROL and two
     * USER_DEFINED tokens, "bcd" (made through "bc", a merge-only symbol that
     * is no token) and an UNUSED token */
    static char texts[256][3];
    const char *tokens[264];
    int32_t types[264];
    for (unsigned b = 0; b < 256; b++) {
        tokens[b] = byte_char(b, texts[b]);
        types[b] = SQ_TOKEN_NORMAL;
    }
    tokens[256] = "ab";
    tokens[257] = "abc";
    tokens[258] = "\xC4\xA0" "a";
    tokens[259] = "<|end|>";
    tokens[260] = "<x>";
    tokens[261] = "bcd";
    tokens[262] = "[PAD262]";
    tokens[263] = "x>yz";
    for (int i = 256; i < 264; i++)
        types[i] = SQ_TOKEN_NORMAL;
    types[262] = SQ_TOKEN_UNUSED;
    types[263] = SQ_TOKEN_USER_DEFINED;
    types[259] = SQ_TOKEN_CONTROL;
    types[260] = SQ_TOKEN_USER_DEFINED;
    const char *merges[] = { "a b", "b c", "ab c", "\xC4\xA0 a", "bc d" };
    vocab_spec v = { "gpt2", "qwen2", tokens, 264, types, 264, merges, 5, 259 };
    sq_tokenizer *t = NULL;
    sq_error err = { 0 };
    if (!ok(load_spec(&v, &t, &err) == SQ_OK, "hand-made vocab loads: %s", err.msg))
        return;
    sq_tokens ids = { 0 };
    /* "abcd": a+b (rank 0) → ab, then b+c can no longer apply, ab+c (rank 2) → abc, then d */
    encode(t, "abcd", 4, false, &ids);
    ok(ids.n == 2 && ids.ids[0] == 257 && ids.ids[1] == 'd' - 0, "lowest rank first: abcd → abc d");
    /* "bcd": b+c → bc (not a token), bc+d → bcd */
    encode(t, "bcd", 3, false, &ids);
    ok(ids.n == 1 && ids.ids[0] == 261, "a merge-only symbol merges on: bcd → bcd");
    /* "bc": merge-only symbol left over → byte fallback b, c */
    encode(t, "bc", 2, false, &ids);
    ok(ids.n == 2 && ids.ids[0] == 'b' && ids.ids[1] == 'c', "byte fallback for a symbol that is no token");
    encode(t, " a<|end|><x>", 12, false, &ids);
    ok(ids.n == 9 && ids.ids[0] == 258 && ids.ids[8] == 260, "CONTROL as text, USER_DEFINED matched (%zu ids)",
       ids.n);
    encode(t, " a<|end|><x>", 12, true, &ids);
    ok(ids.n == 3 && ids.ids[0] == 258 && ids.ids[1] == 259 && ids.ids[2] == 260, "parse_special matches CONTROL");
    ok(sq_tokenizer_is_eog(t, 259) && sq_tokenizer_eos(t) == 259, "eos from the GGUF is end-of-generation");
    /* llama.cpp matches added tokens longest first, not leftmost first */
    encode(t, "<x>yz<x>", 8, false, &ids);
    ok(ids.n == 3 && ids.ids[0] == '<' && ids.ids[1] == 263 && ids.ids[2] == 260,
       "the longer added token wins over an earlier, shorter one");
    encode(t, "[PAD262]", 8, true, &ids);
    size_t pl = 99;
    ok(ids.n > 1 && sq_tokenizer_piece(t, 262, false, &pl) && pl == 0,
       "UNUSED tokens are never matched and decode to nothing");
    sq_tokens_free(&ids);
    sq_tokenizer_free(t);

    /* rejections */
    vocab_spec bad = v;
    bad.pre = "llama3";
    ok(load_spec(&bad, &t, &err) == SQ_ERR_UNSUPPORTED && !t && strstr(err.msg, "llama3"),
       "unknown pre-tokenizer rejected: %s", err.msg);
    bad = v;
    bad.pre = NULL;
    ok(load_spec(&bad, &t, &err) == SQ_ERR_UNSUPPORTED, "missing pre-tokenizer rejected: %s", err.msg);
    bad = v;
    bad.model = "llama";
    ok(load_spec(&bad, &t, &err) == SQ_ERR_UNSUPPORTED && strstr(err.msg, "llama"),
       "SentencePiece model rejected: %s", err.msg);
    bad = v;
    bad.model = NULL;
    ok(load_spec(&bad, &t, &err) == SQ_ERR_NOT_FOUND, "no tokenizer at all: %s", err.msg);
    bad = v;
    bad.n_types = 263;
    ok(load_spec(&bad, &t, &err) == SQ_ERR_FORMAT, "token_type length mismatch: %s", err.msg);
    bad = v;
    int32_t types2[264];
    memcpy(types2, types, sizeof types2);
    types2[7] = 9;
    bad.types = types2;
    ok(load_spec(&bad, &t, &err) == SQ_ERR_FORMAT, "bad token type: %s", err.msg);
    bad = v;
    bad.eos = 264;
    ok(load_spec(&bad, &t, &err) == SQ_ERR_FORMAT, "eos out of range: %s", err.msg);
    bad = v;
    const char *merges2[] = { "a b", "abc" };
    bad.merges = merges2;
    bad.n_merges = 2;
    ok(load_spec(&bad, &t, &err) == SQ_ERR_FORMAT && strstr(err.msg, "merge 1"), "malformed merge: %s", err.msg);
    bad = v;
    bad.merges = NULL;
    ok(load_spec(&bad, &t, &err) == SQ_ERR_FORMAT, "missing merges: %s", err.msg);
    bad = v;
    bad.n_tokens = 0;
    bad.types = NULL;
    ok(load_spec(&bad, &t, &err) == SQ_ERR_FORMAT, "empty vocabulary: %s", err.msg);
    bad = v;
    bad.types = NULL;
    ok(load_spec(&bad, &t, &err) == SQ_OK && sq_tokenizer_token_type(t, 259) == SQ_TOKEN_NORMAL,
       "no token_type: all NORMAL");
    sq_tokenizer_free(t);
}

/* ---- speed ---- */

static void
test_speed(const sq_tokenizer *t)
{
    char path[1024];
    size_t n;
    snprintf(path, sizeof path, "%s/tokenizer/cases.jsonl", tap_data_dir());
    char *src = read_file(path, &n); /* mixed prose, code, CJK, emoji (as JSON, close enough) */
    if (!src)
        return;
    size_t reps = (1 << 20) / n + 1, total = n * reps;
    char *big = malloc(total);
    for (size_t i = 0; i < reps; i++)
        memcpy(big + i * n, src, n);
    sq_tokens ids = { 0 };
    double t0 = now_ms();
    encode(t, big, total, true, &ids);
    double ms = now_ms() - t0;
    ok(ids.n > total / 8, "encoded %.1f MB into %zu tokens", total / 1e6, ids.n);
    diag("encode speed: %.1f MB/s, %.2f M tokens/s", total / 1e3 / ms, ids.n / 1e3 / ms);
    /* many short calls: a chat prompt */
    static const char prompt[] = "<|im_start|>user\nWhat is the capital of France? Answer in one word.<|im_end|>\n"
                                 "<|im_start|>assistant\n";
    t0 = now_ms();
    for (int i = 0; i < 2000; i++)
        encode(t, prompt, sizeof prompt - 1, true, &ids);
    diag("short prompt: %.1f µs per encode (%zu tokens)", (now_ms() - t0) * 1e3 / 2000, ids.n);
    sq_tokens_free(&ids);
    free(big);
    free(src);
}

int
main(void)
{
    double ms_base = 0;
    sq_tokenizer *base = load_vocab("tokenizer/ggml-vocab-qwen2.gguf", &ms_base);
    sq_tokenizer *tiny = load_vocab("tiny/models/qwen25vl-text-q8_0.gguf", NULL);
    ok(base != NULL, "load the 151936-token Qwen2 vocabulary (%.1f ms with the GGUF open)", ms_base);
    ok(tiny != NULL, "load the tiny model's 4160-token vocabulary");
    if (base && tiny) {
        test_inp_out(base);
        test_cases(base, "cases.jsonl");
        test_cases(tiny, "cases_tiny_vocab.jsonl");
        test_vocab_queries(base, tiny);
        test_stream(base, tiny);
        test_invalid_utf8(base, tiny);
        test_speed(base);
    }
    test_handmade();
    sq_tokenizer_free(base);
    sq_tokenizer_free(tiny);
    return tap_done();
}
