/* text.h — the Qwen2 decoder with M-RoPE (Qwen2.5-VL's language model). */
#pragma once

#include "backend.h"
#include "gguf.h"
#include "weights.h"

typedef struct {
    int   n_embd, n_layer, n_head, n_head_kv, head_dim, n_ff, n_vocab;
    int   n_ctx_train;
    int   rope_sections[4];
    float rope_base, eps;
} sq_text_hparams;

typedef struct {
    sq_mat attn_norm;          /* (n_embd)                       */
    sq_mat wq, bq;             /* (n_embd → n_head·head_dim), (n_head·head_dim)      */
    sq_mat wk, bk;             /* (n_embd → n_head_kv·head_dim), (n_head_kv·head_dim) */
    sq_mat wv, bv;             /* (n_embd → n_head_kv·head_dim), (n_head_kv·head_dim) */
    sq_mat wo;                 /* (n_head·head_dim → n_embd), no bias                */
    sq_mat ffn_norm;           /* (n_embd)                       */
    sq_mat w_gate, w_up;       /* (n_embd → n_ff)                */
    sq_mat w_down;             /* (n_ff → n_embd)                */
} sq_text_layer;

typedef struct {
    sq_text_hparams hp;
    sq_mat          tok_embd;      /* (n_vocab rows of n_embd) */
    sq_mat          output_norm;   /* (n_embd)                 */
    sq_mat          output;        /* (n_embd → n_vocab); token_embd when tied */
    sq_text_layer  *layers;        /* n_layer                  */
    sq_weight_set   weights;
    size_t          weight_bytes;  /* bytes read per token (for the roofline) */
} sq_text_model;

sq_status sq_text_model_load(sq_backend *be, const sq_gguf *g, sq_text_model *m, sq_error *err);
void      sq_text_model_free(sq_text_model *m);

/* Run state of one conversation: the KV cache and activation buffers. */
typedef struct {
    const sq_text_model *m;
    sq_backend          *be;
    int64_t              n_ctx;       /* KV slots */
    int64_t              n_batch;     /* rows per forward call */
    sq_mat              *k_cache, *v_cache; /* per layer: n_ctx × n_head_kv·head_dim, F16 or F32 */
    sq_mat               x, xn, q, k, v, attn, o, gate, up; /* n_batch rows each */
    sq_mat               pos;         /* I32 4 × n_batch */
    sq_mat               last_norm, logits; /* 1 × n_embd, 1 × n_vocab */
    int32_t             *pos_host;    /* 4 × n_batch staging */
} sq_text_ctx;

sq_status sq_text_ctx_new(const sq_text_model *m, sq_backend *be, int64_t n_ctx, int64_t n_batch,
                          sq_type kv_type, sq_text_ctx *c, sq_error *err);
void      sq_text_ctx_free(sq_text_ctx *c);

/* Runs n rows (≤ n_batch) through the decoder, writing their keys/values at
 * KV slots [slot, slot + n).  embd: F32 n × n_embd (already looked-up token
 * embeddings or image embeddings); pos: 4 × n positions (t…, h…, w…, e…).
 * With want_logits, the logits of the last row land in c->logits. */
sq_status sq_text_forward(sq_text_ctx *c, const sq_mat *embd, const int32_t *pos, int64_t n, int64_t slot,
                          bool want_logits, sq_error *err);

/* Token embeddings: out (F32 n × n_embd) = rows of token_embd. */
sq_status sq_text_embed(sq_text_ctx *c, const int32_t *ids, int64_t n, sq_mat *out, sq_error *err);
