/* text.c — loading and running the Qwen2 decoder.
 *
 * One forward call processes a batch of rows; per layer:
 *   xn = rmsnorm(x)·attn_norm;  q, k, v = W·xn + b;  M-RoPE on q and k;
 *   k, v → cache;  attn = softmax(q·Kᵀ/√d, causal)·V;  x += Wo·attn
 *   xn = rmsnorm(x)·ffn_norm;   x += Wdown·(silu(Wgate·xn) ⊙ Wup·xn)
 * and, for the last row only, logits = Wout·(rmsnorm(x)·output_norm).
 */
#include "text.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARCH "qwen2vl"

static sq_status
read_hparams(const sq_gguf *g, sq_text_hparams *hp, sq_error *err)
{
    sq_str arch;
    sq_status st = sq_gguf_get_str(g, "general.architecture", &arch, err);
    if (st != SQ_OK)
        return st;
    if (arch.len != strlen(ARCH) || memcmp(arch.ptr, ARCH, arch.len) != 0)
        return sq_error_set(err, SQ_ERR_UNSUPPORTED,
                            "architecture '%.*s' is not a Qwen2-VL/Qwen2.5-VL text model ('" ARCH "')",
                            (int)arch.len, arch.ptr);
    uint32_t v[7];
    const char *keys[7] = { ARCH ".embedding_length", ARCH ".block_count", ARCH ".attention.head_count",
                            ARCH ".attention.head_count_kv", ARCH ".feed_forward_length",
                            ARCH ".context_length", NULL };
    for (int i = 0; keys[i]; i++)
        if ((st = sq_gguf_get_u32(g, keys[i], &v[i], err)) != SQ_OK)
            return st;
    hp->n_embd = (int)v[0];
    hp->n_layer = (int)v[1];
    hp->n_head = (int)v[2];
    hp->n_head_kv = (int)v[3];
    hp->n_ff = (int)v[4];
    hp->n_ctx_train = (int)v[5];
    if (hp->n_embd <= 0 || hp->n_layer <= 0 || hp->n_head <= 0 || hp->n_head_kv <= 0 || hp->n_ff <= 0 ||
        hp->n_embd % hp->n_head != 0 || hp->n_head % hp->n_head_kv != 0 || hp->n_layer > 1024 ||
        hp->n_embd > 65536 || hp->n_ff > 1 << 20)
        return sq_error_set(err, SQ_ERR_FORMAT, "implausible text model sizes (n_embd %d, layers %d, heads %d/%d, ffn %d)",
                            hp->n_embd, hp->n_layer, hp->n_head, hp->n_head_kv, hp->n_ff);
    hp->head_dim = hp->n_embd / hp->n_head;
    if (hp->head_dim % 2 != 0 || hp->head_dim > 1024)
        return sq_error_set(err, SQ_ERR_FORMAT, "head dimension %d is not supported", hp->head_dim);
    if ((st = sq_gguf_get_f32_or(g, ARCH ".rope.freq_base", 1e6f, &hp->rope_base, err)) != SQ_OK ||
        (st = sq_gguf_get_f32_or(g, ARCH ".attention.layer_norm_rms_epsilon", 1e-6f, &hp->eps, err)) != SQ_OK)
        return st;
    sq_gguf_array sec;
    if ((st = sq_gguf_get_array(g, ARCH ".rope.dimension_sections", &sec, err)) != SQ_OK)
        return st;
    int64_t s[4] = { 0 };
    if (sec.count != 4)
        return sq_error_set(err, SQ_ERR_FORMAT, ARCH ".rope.dimension_sections has %llu entries, expected 4",
                            (unsigned long long)sec.count);
    if ((st = sq_gguf_array_ints(&sec, s, err)) != SQ_OK)
        return st;
    int64_t sum = 0;
    for (int i = 0; i < 4; i++) {
        if (s[i] < 0 || s[i] > 1024)
            return sq_error_set(err, SQ_ERR_FORMAT, "rope section %d is %lld", i, (long long)s[i]);
        hp->rope_sections[i] = (int)s[i];
        sum += s[i];
    }
    if (sum != hp->head_dim / 2)
        return sq_error_set(err, SQ_ERR_FORMAT, "rope sections sum to %lld, expected head_dim/2 = %d",
                            (long long)sum, hp->head_dim / 2);
    return SQ_OK;
}

static sq_status
bind_layer(sq_text_model *m, const sq_gguf *g, int il, sq_error *err)
{
    const sq_text_hparams *hp = &m->hp;
    sq_text_layer *l = &m->layers[il];
    sq_weight_set *ws = &m->weights;
    int64_t d = hp->n_embd, dq = (int64_t)hp->n_head * hp->head_dim, dkv = (int64_t)hp->n_head_kv * hp->head_dim;
    char name[96];
    sq_status st;
#define BIND(field, suffix, cols, rows)                                                   \
    do {                                                                                  \
        snprintf(name, sizeof name, "blk.%d.%s", il, suffix);                             \
        if ((st = sq_weight_bind(ws, g, name, cols, rows, &l->field, err)) != SQ_OK)      \
            return st;                                                                    \
    } while (0)
#define BIND_VEC(field, suffix, n)                                                        \
    do {                                                                                  \
        snprintf(name, sizeof name, "blk.%d.%s", il, suffix);                             \
        if ((st = sq_weight_bind_vec(ws, g, name, n, &l->field, err)) != SQ_OK)           \
            return st;                                                                    \
    } while (0)
    BIND_VEC(attn_norm, "attn_norm.weight", d);
    BIND(wq, "attn_q.weight", d, dq);
    BIND_VEC(bq, "attn_q.bias", dq);
    BIND(wk, "attn_k.weight", d, dkv);
    BIND_VEC(bk, "attn_k.bias", dkv);
    BIND(wv, "attn_v.weight", d, dkv);
    BIND_VEC(bv, "attn_v.bias", dkv);
    BIND(wo, "attn_output.weight", dq, d);
    BIND_VEC(ffn_norm, "ffn_norm.weight", d);
    BIND(w_gate, "ffn_gate.weight", d, hp->n_ff);
    BIND(w_up, "ffn_up.weight", d, hp->n_ff);
    BIND(w_down, "ffn_down.weight", hp->n_ff, d);
#undef BIND
#undef BIND_VEC
    const sq_mat *all[] = { &l->wq, &l->wk, &l->wv, &l->wo, &l->w_gate, &l->w_up, &l->w_down };
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        m->weight_bytes += sq_mat_bytes(all[i]);
    return SQ_OK;
}

sq_status
sq_text_model_load(sq_backend *be, const sq_gguf *g, sq_text_model *m, sq_error *err)
{
    memset(m, 0, sizeof *m);
    m->weights.be = be;
    sq_status st = read_hparams(g, &m->hp, err);
    if (st != SQ_OK)
        return st;
    const sq_gguf_tensor *emb = sq_gguf_find_tensor(g, "token_embd.weight");
    if (!emb)
        return sq_error_set(err, SQ_ERR_NOT_FOUND, "tensor 'token_embd.weight' is missing");
    m->hp.n_vocab = (int)emb->ne[1];
    if (emb->ne[1] <= 0 || emb->ne[1] > 1 << 24)
        return sq_error_set(err, SQ_ERR_FORMAT, "implausible vocabulary size %lld", (long long)emb->ne[1]);
    int64_t d = m->hp.n_embd;
    if ((st = sq_weight_bind(&m->weights, g, "token_embd.weight", d, m->hp.n_vocab, &m->tok_embd, err)) != SQ_OK ||
        (st = sq_weight_bind_vec(&m->weights, g, "output_norm.weight", d, &m->output_norm, err)) != SQ_OK)
        goto fail;
    if (sq_gguf_find_tensor(g, "output.weight"))
        st = sq_weight_bind(&m->weights, g, "output.weight", d, m->hp.n_vocab, &m->output, err);
    else
        m->output = m->tok_embd; /* tied embeddings (Qwen2.5-VL-3B) */
    if (st != SQ_OK)
        goto fail;
    m->weight_bytes = sq_mat_bytes(&m->output);
    m->layers = calloc((size_t)m->hp.n_layer, sizeof *m->layers);
    if (!m->layers) {
        st = sq_error_set(err, SQ_ERR_NOMEM, "out of memory");
        goto fail;
    }
    for (int il = 0; il < m->hp.n_layer; il++)
        if ((st = bind_layer(m, g, il, err)) != SQ_OK)
            goto fail;
    return SQ_OK;
fail:
    sq_text_model_free(m);
    return st;
}

void
sq_text_model_free(sq_text_model *m)
{
    sq_weight_set_free(&m->weights);
    free(m->layers);
    m->layers = NULL;
}

/* ---- run state ---- */

sq_status
sq_text_ctx_new(const sq_text_model *m, sq_backend *be, int64_t n_ctx, int64_t n_batch, sq_type kv_type,
                sq_text_ctx *c, sq_error *err)
{
    memset(c, 0, sizeof *c);
    c->m = m;
    c->be = be;
    c->n_ctx = n_ctx;
    c->n_batch = n_batch;
    const sq_text_hparams *hp = &m->hp;
    int64_t dq = (int64_t)hp->n_head * hp->head_dim, dkv = (int64_t)hp->n_head_kv * hp->head_dim;
    if (n_ctx <= 0 || n_batch <= 0 || (kv_type != SQ_TYPE_F16 && kv_type != SQ_TYPE_F32))
        return sq_error_set(err, SQ_ERR_INVALID_ARG, "bad context size, batch size or KV cache type");
    c->k_cache = calloc((size_t)hp->n_layer, sizeof *c->k_cache);
    c->v_cache = calloc((size_t)hp->n_layer, sizeof *c->v_cache);
    c->pos_host = calloc((size_t)(4 * n_batch), sizeof *c->pos_host);
    sq_status st = SQ_OK;
    if (!c->k_cache || !c->v_cache || !c->pos_host) {
        st = sq_error_set(err, SQ_ERR_NOMEM, "out of memory");
        goto fail;
    }
    for (int il = 0; il < hp->n_layer && st == SQ_OK; il++) {
        st = sq_mat_alloc(be, kv_type, dkv, n_ctx, &c->k_cache[il], err);
        if (st == SQ_OK)
            st = sq_mat_alloc(be, kv_type, dkv, n_ctx, &c->v_cache[il], err);
    }
    struct { sq_mat *m; int64_t cols, rows; sq_type t; } bufs[] = {
        { &c->x, hp->n_embd, n_batch, SQ_TYPE_F32 },   { &c->xn, hp->n_embd, n_batch, SQ_TYPE_F32 },
        { &c->q, dq, n_batch, SQ_TYPE_F32 },           { &c->k, dkv, n_batch, SQ_TYPE_F32 },
        { &c->v, dkv, n_batch, SQ_TYPE_F32 },          { &c->attn, dq, n_batch, SQ_TYPE_F32 },
        { &c->o, hp->n_embd, n_batch, SQ_TYPE_F32 },   { &c->gate, hp->n_ff, n_batch, SQ_TYPE_F32 },
        { &c->up, hp->n_ff, n_batch, SQ_TYPE_F32 },    { &c->pos, 4, n_batch, SQ_TYPE_I32 },
        { &c->last_norm, hp->n_embd, 1, SQ_TYPE_F32 }, { &c->logits, hp->n_vocab, 1, SQ_TYPE_F32 },
    };
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0] && st == SQ_OK; i++)
        st = sq_mat_alloc(be, bufs[i].t, bufs[i].cols, bufs[i].rows, bufs[i].m, err);
    if (st == SQ_OK)
        return SQ_OK;
fail:
    sq_error_prefix(err, "KV cache of %lld tokens", (long long)n_ctx);
    sq_text_ctx_free(c);
    return st;
}

void
sq_text_ctx_free(sq_text_ctx *c)
{
    if (!c->m)
        return;
    for (int il = 0; il < c->m->hp.n_layer; il++) {
        if (c->k_cache)
            sq_mat_free(c->be, &c->k_cache[il]);
        if (c->v_cache)
            sq_mat_free(c->be, &c->v_cache[il]);
    }
    sq_mat *all[] = { &c->x, &c->xn, &c->q, &c->k, &c->v, &c->attn, &c->o, &c->gate, &c->up, &c->pos,
                      &c->last_norm, &c->logits };
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        sq_mat_free(c->be, all[i]);
    free(c->k_cache);
    free(c->v_cache);
    free(c->pos_host);
    memset(c, 0, sizeof *c);
}

sq_status
sq_text_embed(sq_text_ctx *c, const int32_t *ids, int64_t n, sq_mat *out, sq_error *err)
{
    return c->be->ops->get_rows(c->be, &c->m->tok_embd, ids, n, out, err);
}

#define TRY(call)                      \
    do {                               \
        sq_status st_ = (call);        \
        if (st_ != SQ_OK)              \
            return st_;                \
    } while (0)

static sq_status
layer_forward(sq_text_ctx *c, int il, int64_t n, int64_t slot, sq_error *err)
{
    const sq_backend_ops *op = c->be->ops;
    sq_backend *be = c->be;
    const sq_text_hparams *hp = &c->m->hp;
    const sq_text_layer *l = &c->m->layers[il];
    sq_mat x = sq_mat_rows(&c->x, 0, n), xn = sq_mat_rows(&c->xn, 0, n);
    sq_mat q = sq_mat_rows(&c->q, 0, n), k = sq_mat_rows(&c->k, 0, n), v = sq_mat_rows(&c->v, 0, n);
    sq_mat attn = sq_mat_rows(&c->attn, 0, n), o = sq_mat_rows(&c->o, 0, n);
    sq_mat gate = sq_mat_rows(&c->gate, 0, n), up = sq_mat_rows(&c->up, 0, n);
    sq_mat pos = sq_mat_reshape(&c->pos, n, 4);
    sq_rope_params rp = { SQ_ROPE_MROPE, hp->n_head, hp->head_dim,
                          { hp->rope_sections[0], hp->rope_sections[1], hp->rope_sections[2], hp->rope_sections[3] },
                          hp->rope_base };

    TRY(op->rmsnorm(be, &x, &l->attn_norm, hp->eps, &xn, err));
    TRY(op->matmul(be, &l->wq, &xn, &l->bq, &q, err));
    TRY(op->matmul(be, &l->wk, &xn, &l->bk, &k, err));
    TRY(op->matmul(be, &l->wv, &xn, &l->bv, &v, err));
    TRY(op->rope(be, &q, &pos, &rp, err));
    rp.n_head = hp->n_head_kv;
    TRY(op->rope(be, &k, &pos, &rp, err));
    TRY(op->copy_rows(be, &k, &c->k_cache[il], slot, err));
    TRY(op->copy_rows(be, &v, &c->v_cache[il], slot, err));
    sq_mat kc = sq_mat_rows(&c->k_cache[il], 0, slot + n), vc = sq_mat_rows(&c->v_cache[il], 0, slot + n);
    sq_attn_params ap = { hp->n_head, hp->n_head_kv, hp->head_dim, 1.0f / sqrtf((float)hp->head_dim),
                          SQ_MASK_CAUSAL, slot, NULL };
    TRY(op->attention(be, &q, &kc, &vc, &ap, &attn, err));
    TRY(op->matmul(be, &l->wo, &attn, NULL, &o, err));
    TRY(op->add(be, &x, &o, &x, err));

    TRY(op->rmsnorm(be, &x, &l->ffn_norm, hp->eps, &xn, err));
    TRY(op->matmul(be, &l->w_gate, &xn, NULL, &gate, err));
    TRY(op->matmul(be, &l->w_up, &xn, NULL, &up, err));
    TRY(op->silu_mul(be, &gate, &up, &gate, err));
    TRY(op->matmul(be, &l->w_down, &gate, NULL, &o, err));
    TRY(op->add(be, &x, &o, &x, err));
    return SQ_OK;
}

sq_status
sq_text_forward(sq_text_ctx *c, const sq_mat *embd, const int32_t *pos, int64_t n, int64_t slot,
                bool want_logits, sq_error *err)
{
    const sq_backend_ops *op = c->be->ops;
    const sq_text_hparams *hp = &c->m->hp;
    if (n <= 0 || n > c->n_batch || embd->rows < n || embd->cols != hp->n_embd)
        return sq_error_set(err, SQ_ERR_INVALID_ARG, "text forward: %lld rows for a batch of %lld",
                            (long long)n, (long long)c->n_batch);
    if (slot < 0 || slot + n > c->n_ctx)
        return sq_error_set(err, SQ_ERR_LIMIT, "the conversation is longer than the context (%lld tokens)",
                            (long long)c->n_ctx);
    /* x = embd; positions laid out as 4 blocks of n (t…, h…, w…, e…) */
    sq_mat src = sq_mat_rows(embd, 0, n), x = sq_mat_rows(&c->x, 0, n);
    if (src.buf != x.buf || src.offset != x.offset)
        TRY(op->copy_rows(c->be, &src, &x, 0, err));
    TRY(op->write(c->be, c->pos.buf, 0, pos, (size_t)(4 * n) * sizeof *pos, err));
    for (int il = 0; il < hp->n_layer; il++)
        TRY(layer_forward(c, il, n, slot, err));
    if (!want_logits)
        return SQ_OK;
    sq_mat last = sq_mat_rows(&c->x, n - 1, 1);
    TRY(op->rmsnorm(c->be, &last, &c->m->output_norm, hp->eps, &c->last_norm, err));
    TRY(op->matmul(c->be, &c->m->output, &c->last_norm, NULL, &c->logits, err));
    return SQ_OK;
}
