/* tokenizer-bpe.c — the BPE merge loop (spec F.4) and sq_tokenizer_encode. */
#include <stdlib.h>
#include <string.h>

#include "tokenizer-private.h"

typedef struct {
    int32_t  sym;         /* symbol id, -1 for a byte with no symbol */
    int32_t  prev, next;  /* live neighbours, -1 at the ends */
    uint32_t start, len;  /* the bytes of the piece it covers; len 0 once merged away */
} bpe_symbol;

typedef struct {
    int32_t rank;
    int32_t left, right;  /* symbol indices */
    int32_t lsym, rsym;   /* their symbol ids when queued, to spot stale entries */
} bpe_pair;

/* Scratch for one sq_tokenizer_encode call. */
typedef struct {
    const sq_tokenizer *t;
    sq_tokens          *out;
    sq_error           *err;
    bpe_symbol         *syms;
    size_t              syms_cap;
    bpe_pair           *heap;      /* a binary min-heap on (rank, left) */
    size_t              heap_n, heap_cap;
} encoder;

static inline bool
pair_before(const bpe_pair *a, const bpe_pair *b)
{
    return a->rank < b->rank || (a->rank == b->rank && a->left < b->left);
}

static bool
heap_push(encoder *E, const bpe_pair *p)
{
    if (!sq_tok_grow((void **)&E->heap, &E->heap_cap, E->heap_n + 1, sizeof *E->heap))
        return false;
    size_t i = E->heap_n++;
    while (i > 0) {
        size_t up = (i - 1) / 2;
        if (!pair_before(p, &E->heap[up]))
            break;
        E->heap[i] = E->heap[up];
        i = up;
    }
    E->heap[i] = *p;
    return true;
}

static bpe_pair
heap_pop(encoder *E)
{
    bpe_pair top = E->heap[0];
    bpe_pair last = E->heap[--E->heap_n];
    size_t i = 0, n = E->heap_n;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && pair_before(&E->heap[c + 1], &E->heap[c]))
            c++;
        if (!pair_before(&E->heap[c], &last))
            break;
        E->heap[i] = E->heap[c];
        i = c;
    }
    if (n)
        E->heap[i] = last;
    return top;
}

/* Queues the pair (left, right) if the merge table has it. */
static bool
consider(encoder *E, int32_t left, int32_t right)
{
    if (left < 0 || right < 0)
        return true;
    int32_t l = E->syms[left].sym, r = E->syms[right].sym;
    if (l < 0 || r < 0)
        return true;
    int32_t rank = sq_tok_merge_rank(E->t, l, r);
    if (rank < 0)
        return true;
    bpe_pair p = { rank, left, right, l, r };
    return heap_push(E, &p);
}

static sq_status
emit_token(void *ctx, int32_t id)
{
    encoder *E = ctx;
    return sq_tokens_push(E->out, id, E->err);
}

/* BPE on one piece: start from one symbol per byte, repeatedly merge the
 * adjacent pair of lowest rank (leftmost on ties), then emit each symbol's
 * token.  A symbol that is no token falls back to the tokens of its bytes
 * (llama.cpp drops the bytes whose byte-level character is not ASCII there;
 * no Qwen vocabulary ever takes this path). */
static sq_status
bpe_piece(void *ctx, const unsigned char *s, size_t n)
{
    encoder *E = ctx;
    const sq_tokenizer *t = E->t;
    sq_status st;
    if (n == 1) /* the most common piece: nothing to merge */
        return t->byte_tok[s[0]] >= 0 ? emit_token(E, t->byte_tok[s[0]]) : SQ_OK;
    if (n > INT32_MAX || !sq_tok_grow((void **)&E->syms, &E->syms_cap, n, sizeof *E->syms))
        return sq_error_set(E->err, SQ_ERR_NOMEM, "tokenizer: out of memory for a %zu-byte piece", n);
    for (size_t i = 0; i < n; i++)
        E->syms[i] = (bpe_symbol){ t->byte_sym[s[i]], (int32_t)i - 1, i + 1 < n ? (int32_t)i + 1 : -1,
                                   (uint32_t)i, 1 };
    E->heap_n = 0;
    for (size_t i = 1; i < n; i++)
        if (!consider(E, (int32_t)i - 1, (int32_t)i))
            goto nomem;
    while (E->heap_n) {
        bpe_pair p = heap_pop(E);
        bpe_symbol *L = &E->syms[p.left], *R = &E->syms[p.right];
        if (L->len == 0 || R->len == 0 || L->next != p.right || L->sym != p.lsym || R->sym != p.rsym)
            continue; /* stale: a side has merged since */
        L->sym = t->merge_result[p.rank];
        L->len += R->len;
        R->len = 0;
        L->next = R->next;
        if (R->next >= 0)
            E->syms[R->next].prev = p.left;
        if (!consider(E, L->prev, p.left) || !consider(E, p.left, L->next))
            goto nomem;
    }
    for (int32_t i = 0; i >= 0; i = E->syms[i].next) {
        const bpe_symbol *y = &E->syms[i];
        if (y->sym >= 0 && y->sym < t->n_vocab) {
            if ((st = emit_token(E, y->sym)) != SQ_OK)
                return st;
            continue;
        }
        for (uint32_t k = 0; k < y->len; k++) {
            int32_t id = t->byte_tok[s[y->start + k]];
            if (id >= 0 && (st = emit_token(E, id)) != SQ_OK)
                return st;
        }
    }
    return SQ_OK;
nomem:
    return sq_error_set(E->err, SQ_ERR_NOMEM, "tokenizer: out of memory");
}

sq_status
sq_tokenizer_encode(const sq_tokenizer *t, const char *text, size_t len, bool parse_special, sq_tokens *out,
                    sq_error *err)
{
    if (!t || !out || (!text && len))
        return sq_error_set(err, SQ_ERR_INVALID_ARG, "tokenizer: encode needs a tokenizer, text and output");
    if (len == 0)
        return SQ_OK;
    encoder E = { .t = t, .out = out, .err = err };
    sq_tok_sink sink = { bpe_piece, emit_token, &E };
    sq_status st = sq_tok_pretokenize(t, text, len, parse_special, &sink, err);
    free(E.syms);
    free(E.heap);
    return st;
}
