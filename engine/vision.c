/* vision.c — the Qwen2.5-VL ViT: patch embedding (two temporal kernels),
 * blocks with 2-D RoPE and window/full attention, SwiGLU MLPs, and the 2×2
 * patch merger.
 *
 * Patches stay in merge-block order throughout.  Instead of permuting them
 * into window order as Hugging Face and llama.cpp do, windowed layers mask by
 * window id: attention is permutation-equivariant given explicit positions,
 * so the results agree up to summation order and the merger output is
 * already in raster order.
 */
#include "vision.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quant.h"

static sq_status
read_hparams(const sq_gguf *g, sq_vision_hparams *hp, sq_error *err)
{
    sq_str s;
    sq_status st = sq_gguf_get_str(g, "general.architecture", &s, err);
    if (st != SQ_OK)
        return st;
    if (s.len != 4 || memcmp(s.ptr, "clip", 4) != 0)
        return sq_error_set(err, SQ_ERR_UNSUPPORTED, "architecture '%.*s' is not a vision projector ('clip')",
                            (int)s.len, s.ptr);
    if ((st = sq_gguf_get_str(g, "clip.projector_type", &s, err)) != SQ_OK)
        return st;
    bool ok = (s.len == 16 && memcmp(s.ptr, "qwen2.5vl_merger", 16) == 0) ||
              (s.len == 9 && memcmp(s.ptr, "qwen2.5o", 8) == 0);
    if (!ok)
        return sq_error_set(err, SQ_ERR_UNSUPPORTED, "projector '%.*s' is not supported (Qwen2.5-VL: qwen2.5vl_merger)",
                            (int)s.len, s.ptr);
    uint32_t v[7];
    const char *keys[] = { "clip.vision.embedding_length", "clip.vision.block_count",
                           "clip.vision.attention.head_count", "clip.vision.feed_forward_length",
                           "clip.vision.patch_size", "clip.vision.projection_dim", NULL };
    for (int i = 0; keys[i]; i++)
        if ((st = sq_gguf_get_u32(g, keys[i], &v[i], err)) != SQ_OK)
            return st;
    hp->n_embd = (int)v[0];
    hp->n_layer = (int)v[1];
    hp->n_head = (int)v[2];
    hp->n_ff = (int)v[3];
    hp->patch_size = (int)v[4];
    hp->proj_dim = (int)v[5];
    uint32_t merge, wa;
    if ((st = sq_gguf_get_u32_or(g, "clip.vision.spatial_merge_size", 2, &merge, err)) != SQ_OK ||
        (st = sq_gguf_get_u32_or(g, "clip.vision.n_wa_pattern", 8, &wa, err)) != SQ_OK ||
        (st = sq_gguf_get_f32_or(g, "clip.vision.attention.layer_norm_epsilon", 1e-6f, &hp->eps, err)) != SQ_OK)
        return st;
    hp->merge = (int)merge;
    hp->n_wa_pattern = (int)wa;
    if (hp->n_embd <= 0 || hp->n_layer <= 0 || hp->n_layer > 256 || hp->n_head <= 0 ||
        hp->n_embd % hp->n_head != 0 || hp->n_ff <= 0 || hp->proj_dim <= 0 || hp->n_wa_pattern <= 0)
        return sq_error_set(err, SQ_ERR_FORMAT, "implausible vision sizes (n_embd %d, layers %d, heads %d)",
                            hp->n_embd, hp->n_layer, hp->n_head);
    if (hp->patch_size != 14 || hp->merge != 2)
        return sq_error_set(err, SQ_ERR_UNSUPPORTED, "patch size %d / merge %d: only 14 / 2 (Qwen2.5-VL) is supported",
                            hp->patch_size, hp->merge);
    hp->head_dim = hp->n_embd / hp->n_head;
    if (hp->head_dim % 4 != 0 || hp->head_dim > 1024)
        return sq_error_set(err, SQ_ERR_FORMAT, "vision head dimension %d is not a multiple of 4", hp->head_dim);
    hp->window_px = 112; /* not stored in GGUF; llama.cpp and HF use 112 */
    hp->n_merge_in = hp->merge * hp->merge * hp->n_embd;
    hp->min_pixels = 3136;
    hp->max_pixels = 12845056;
    const char *mk[2] = { "clip.vision.image_mean", "clip.vision.image_std" };
    float *dst[2] = { hp->mean, hp->std };
    for (int i = 0; i < 2; i++) {
        sq_gguf_array a;
        if ((st = sq_gguf_get_array(g, mk[i], &a, err)) != SQ_OK)
            return st;
        if (a.count != 3)
            return sq_error_set(err, SQ_ERR_FORMAT, "%s has %llu values, expected 3", mk[i], (unsigned long long)a.count);
        if ((st = sq_gguf_array_floats(&a, dst[i], err)) != SQ_OK)
            return st;
    }
    for (int c = 0; c < 3; c++)
        if (!(hp->std[c] > 0.0f))
            return sq_error_set(err, SQ_ERR_FORMAT, "clip.vision.image_std[%d] is not positive", c);
    return SQ_OK;
}

static sq_status
bind_layer(sq_vision_model *m, const sq_gguf *g, int il, sq_error *err)
{
    const sq_vision_hparams *hp = &m->hp;
    sq_vision_layer *l = &m->layers[il];
    sq_weight_set *ws = &m->weights;
    int64_t d = hp->n_embd, f = hp->n_ff;
    char name[96];
    sq_status st;
    /* Old converters swapped ffn_up and ffn_down (llama.cpp detects it by
     * ffn_down's input width); accept both layouts. */
    snprintf(name, sizeof name, "v.blk.%d.ffn_down.weight", il);
    const sq_gguf_tensor *down = sq_gguf_find_tensor(g, name);
    bool swapped = down && down->ne[0] == d && f != d;
    const char *up_name = swapped ? "ffn_down" : "ffn_up", *down_name = swapped ? "ffn_up" : "ffn_down";
    struct { sq_mat *m; const char *stem; const char *suffix; int64_t cols, rows; } w[] = {
        { &l->ln1, "ln1", "weight", d, 1 },
        { &l->wq, "attn_q", "weight", d, d },       { &l->bq, "attn_q", "bias", d, 1 },
        { &l->wk, "attn_k", "weight", d, d },       { &l->bk, "attn_k", "bias", d, 1 },
        { &l->wv, "attn_v", "weight", d, d },       { &l->bv, "attn_v", "bias", d, 1 },
        { &l->wo, "attn_out", "weight", d, d },     { &l->bo, "attn_out", "bias", d, 1 },
        { &l->ln2, "ln2", "weight", d, 1 },
        { &l->w_gate, "ffn_gate", "weight", d, f }, { &l->b_gate, "ffn_gate", "bias", f, 1 },
        { &l->w_up, up_name, "weight", d, f },      { &l->b_up, up_name, "bias", f, 1 },
        { &l->w_down, down_name, "weight", f, d },  { &l->b_down, down_name, "bias", d, 1 },
    };
    for (size_t i = 0; i < sizeof w / sizeof w[0]; i++) {
        snprintf(name, sizeof name, "v.blk.%d.%s.%s", il, w[i].stem, w[i].suffix);
        st = w[i].rows == 1 ? sq_weight_bind_vec(ws, g, name, w[i].cols, w[i].m, err)
                            : sq_weight_bind(ws, g, name, w[i].cols, w[i].rows, w[i].m, err);
        if (st != SQ_OK)
            return st;
    }
    return SQ_OK;
}

/* llama.cpp's patch embedding runs im2col in F16, rounding the kernel to
 * F16 even in F32 files; doing the same keeps embeddings within a few ulp. */
static sq_status
bind_patch_kernel(sq_vision_model *m, const sq_gguf *g, const char *name, sq_mat *out, sq_error *err)
{
    int64_t cols = 3LL * m->hp.patch_size * m->hp.patch_size;
    sq_status st = sq_weight_bind(&m->weights, g, name, m->hp.patch_size, cols / m->hp.patch_size * m->hp.n_embd,
                                  out, err);
    if (st != SQ_OK)
        return st;
    const sq_gguf_tensor *t = sq_gguf_find_tensor(g, name);
    if (t->ne[1] != m->hp.patch_size || t->ne[2] != 3 || t->ne[3] != m->hp.n_embd)
        return sq_error_set(err, SQ_ERR_FORMAT, "tensor '%s' is not a [%d, %d, 3, %d] kernel", name,
                            m->hp.patch_size, m->hp.patch_size, m->hp.n_embd);
    if (t->type == SQ_TYPE_F16) {
        *out = sq_mat_reshape(out, cols, m->hp.n_embd);
        return SQ_OK;
    }
    int64_t n = cols * m->hp.n_embd;
    float *f = malloc((size_t)n * sizeof *f);
    uint16_t *h = malloc((size_t)n * sizeof *h);
    if (!f || !h) {
        free(f);
        free(h);
        return sq_error_set(err, SQ_ERR_NOMEM, "out of memory converting '%s'", name);
    }
    const sq_quant_kernels *k = sq_quant_kernels_get();
    k->dequantize[t->type](t->data, f, n);
    k->quantize[SQ_TYPE_F16](f, h, n);
    st = sq_weight_upload(&m->weights, h, SQ_TYPE_F16, cols, m->hp.n_embd, out, err);
    free(f);
    free(h);
    return st;
}

sq_status
sq_vision_model_load(sq_backend *be, const sq_gguf *g, sq_vision_model *m, sq_error *err)
{
    memset(m, 0, sizeof *m);
    m->weights.be = be;
    sq_status st = read_hparams(g, &m->hp, err);
    if (st != SQ_OK)
        return st;
    const sq_vision_hparams *hp = &m->hp;
    m->layers = calloc((size_t)hp->n_layer, sizeof *m->layers);
    if (!m->layers)
        return sq_error_set(err, SQ_ERR_NOMEM, "out of memory");
    if ((st = bind_patch_kernel(m, g, "v.patch_embd.weight", &m->patch_w0, err)) != SQ_OK ||
        (st = bind_patch_kernel(m, g, "v.patch_embd.weight.1", &m->patch_w1, err)) != SQ_OK)
        goto fail;
    for (int il = 0; il < hp->n_layer; il++)
        if ((st = bind_layer(m, g, il, err)) != SQ_OK)
            goto fail;
    int64_t mi = hp->n_merge_in;
    if ((st = sq_weight_bind_vec(&m->weights, g, "v.post_ln.weight", hp->n_embd, &m->post_ln, err)) != SQ_OK ||
        (st = sq_weight_bind(&m->weights, g, "mm.0.weight", mi, mi, &m->mm0_w, err)) != SQ_OK ||
        (st = sq_weight_bind_vec(&m->weights, g, "mm.0.bias", mi, &m->mm0_b, err)) != SQ_OK ||
        (st = sq_weight_bind(&m->weights, g, "mm.2.weight", mi, hp->proj_dim, &m->mm2_w, err)) != SQ_OK ||
        (st = sq_weight_bind_vec(&m->weights, g, "mm.2.bias", hp->proj_dim, &m->mm2_b, err)) != SQ_OK)
        goto fail;
    return SQ_OK;
fail:
    sq_vision_model_free(m);
    return st;
}

void
sq_vision_model_free(sq_vision_model *m)
{
    sq_weight_set_free(&m->weights);
    free(m->layers);
    m->layers = NULL;
}

/* ---- encoding ---- */

typedef struct {
    sq_mat x, xn, q, k, v, attn, o, gate, up, pos, win, tmp;
} vision_bufs;

static void
free_bufs(sq_backend *be, vision_bufs *b)
{
    sq_mat *all[] = { &b->x, &b->xn, &b->q, &b->k, &b->v, &b->attn, &b->o, &b->gate, &b->up, &b->pos, &b->win, &b->tmp };
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        sq_mat_free(be, all[i]);
}

static sq_status
alloc_bufs(const sq_vision_hparams *hp, sq_backend *be, int64_t n, vision_bufs *b, sq_error *err)
{
    memset(b, 0, sizeof *b);
    struct { sq_mat *m; int64_t cols; sq_type t; } spec[] = {
        { &b->x, hp->n_embd, SQ_TYPE_F32 },  { &b->xn, hp->n_embd, SQ_TYPE_F32 },
        { &b->q, hp->n_embd, SQ_TYPE_F32 },  { &b->k, hp->n_embd, SQ_TYPE_F32 },
        { &b->v, hp->n_embd, SQ_TYPE_F32 },  { &b->attn, hp->n_embd, SQ_TYPE_F32 },
        { &b->o, hp->n_embd, SQ_TYPE_F32 },  { &b->gate, hp->n_ff, SQ_TYPE_F32 },
        { &b->up, hp->n_ff, SQ_TYPE_F32 },
    };
    sq_status st = SQ_OK;
    for (size_t i = 0; i < sizeof spec / sizeof spec[0] && st == SQ_OK; i++)
        st = sq_mat_alloc(be, spec[i].t, spec[i].cols, n, spec[i].m, err);
    if (st == SQ_OK)
        st = sq_mat_alloc(be, SQ_TYPE_I32, n, 4, &b->pos, err);
    if (st == SQ_OK)
        st = sq_mat_alloc(be, SQ_TYPE_I32, n, 1, &b->win, err);
    if (st == SQ_OK)
        st = sq_mat_alloc(be, SQ_TYPE_F32, hp->n_merge_in, n / 4, &b->tmp, err);
    if (st != SQ_OK)
        free_bufs(be, b);
    return st;
}

/* Positions (row, col, row, col) and window ids of each patch, in
 * merge-block order. */
static sq_status
upload_layout(const sq_vision_hparams *hp, sq_backend *be, int gw_p, int gh_p, vision_bufs *b, sq_error *err)
{
    int64_t n = (int64_t)gw_p * gh_p;
    int gw = gw_p / 2, wcells = hp->window_px / (hp->patch_size * hp->merge);
    int n_win_x = (gw + wcells - 1) / wcells;
    int32_t *pos = malloc((size_t)n * 4 * sizeof *pos), *win = malloc((size_t)n * sizeof *win);
    if (!pos || !win) {
        free(pos);
        free(win);
        return sq_error_set(err, SQ_ERR_NOMEM, "out of memory");
    }
    int64_t i = 0;
    for (int R = 0; R < gh_p / 2; R++)
        for (int C = 0; C < gw; C++)
            for (int dy = 0; dy < 2; dy++)
                for (int dx = 0; dx < 2; dx++, i++) {
                    int r = 2 * R + dy, c = 2 * C + dx;
                    pos[i] = r;
                    pos[n + i] = c;
                    pos[2 * n + i] = r;
                    pos[3 * n + i] = c;
                    win[i] = (R / wcells) * n_win_x + C / wcells;
                }
    sq_status st = be->ops->write(be, b->pos.buf, 0, pos, (size_t)n * 4 * sizeof *pos, err);
    if (st == SQ_OK)
        st = be->ops->write(be, b->win.buf, 0, win, (size_t)n * sizeof *win, err);
    free(pos);
    free(win);
    return st;
}

#define TRY(call)                      \
    do {                               \
        sq_status st_ = (call);        \
        if (st_ != SQ_OK)              \
            return st_;                \
    } while (0)

static sq_status
block_forward(const sq_vision_model *m, sq_backend *be, int il, vision_bufs *b, sq_error *err)
{
    const sq_backend_ops *op = be->ops;
    const sq_vision_hparams *hp = &m->hp;
    const sq_vision_layer *l = &m->layers[il];
    bool full = (il + 1) % hp->n_wa_pattern == 0;
    sq_rope_params rp = { SQ_ROPE_VISION, hp->n_head, hp->head_dim,
                          { hp->head_dim / 4, hp->head_dim / 4, 0, 0 }, 10000.0f };
    sq_attn_params ap = { hp->n_head, hp->n_head, hp->head_dim, 1.0f / sqrtf((float)hp->head_dim),
                          full ? SQ_MASK_NONE : SQ_MASK_WINDOW, 0, &b->win };
    TRY(op->rmsnorm(be, &b->x, &l->ln1, hp->eps, &b->xn, err));
    TRY(op->matmul(be, &l->wq, &b->xn, &l->bq, &b->q, err));
    TRY(op->matmul(be, &l->wk, &b->xn, &l->bk, &b->k, err));
    TRY(op->matmul(be, &l->wv, &b->xn, &l->bv, &b->v, err));
    TRY(op->rope(be, &b->q, &b->pos, &rp, err));
    TRY(op->rope(be, &b->k, &b->pos, &rp, err));
    TRY(op->attention(be, &b->q, &b->k, &b->v, &ap, &b->attn, err));
    TRY(op->matmul(be, &l->wo, &b->attn, &l->bo, &b->o, err));
    TRY(op->add(be, &b->x, &b->o, &b->x, err));
    TRY(op->rmsnorm(be, &b->x, &l->ln2, hp->eps, &b->xn, err));
    TRY(op->matmul(be, &l->w_gate, &b->xn, &l->b_gate, &b->gate, err));
    TRY(op->matmul(be, &l->w_up, &b->xn, &l->b_up, &b->up, err));
    TRY(op->silu_mul(be, &b->gate, &b->up, &b->gate, err));
    TRY(op->matmul(be, &l->w_down, &b->gate, &l->b_down, &b->o, err));
    TRY(op->add(be, &b->x, &b->o, &b->x, err));
    return SQ_OK;
}

static sq_status
encode(const sq_vision_model *m, sq_backend *be, const float *patches, int gw_p, int gh_p, vision_bufs *b,
       sq_mat *out, sq_error *err)
{
    const sq_backend_ops *op = be->ops;
    const sq_vision_hparams *hp = &m->hp;
    int64_t n = (int64_t)gw_p * gh_p, cols = m->patch_w0.cols;
    TRY(upload_layout(hp, be, gw_p, gh_p, b, err));
    sq_mat px; /* n × 3·p·p patch rows */
    TRY(sq_mat_alloc(be, SQ_TYPE_F32, cols, n, &px, err));
    sq_status st = op->write(be, px.buf, 0, patches, (size_t)(n * cols) * sizeof(float), err);
    if (st == SQ_OK)
        st = op->matmul(be, &m->patch_w0, &px, NULL, &b->x, err);
    if (st == SQ_OK)
        st = op->matmul(be, &m->patch_w1, &px, NULL, &b->o, err);
    sq_mat_free(be, &px);
    TRY(st);
    TRY(op->add(be, &b->x, &b->o, &b->x, err));
    for (int il = 0; il < hp->n_layer; il++)
        TRY(block_forward(m, be, il, b, err));
    /* merger: 4 consecutive patches form one row of 4·n_embd */
    TRY(op->rmsnorm(be, &b->x, &m->post_ln, hp->eps, &b->xn, err));
    sq_mat grouped = sq_mat_reshape(&b->xn, hp->n_merge_in, n / 4);
    TRY(op->matmul(be, &m->mm0_w, &grouped, &m->mm0_b, &b->tmp, err));
    TRY(op->gelu(be, &b->tmp, SQ_GELU_ERF, &b->tmp, err));
    TRY(op->matmul(be, &m->mm2_w, &b->tmp, &m->mm2_b, out, err));
    return SQ_OK;
}

sq_status
sq_vision_encode(const sq_vision_model *m, sq_backend *be, const float *patches, int gw_p, int gh_p,
                 sq_mat *out, sq_error *err)
{
    if (gw_p <= 0 || gh_p <= 0 || gw_p % 2 || gh_p % 2)
        return sq_error_set(err, SQ_ERR_INVALID_ARG, "patch grid %d × %d is not a positive even size", gw_p, gh_p);
    int64_t n = (int64_t)gw_p * gh_p;
    if (out->rows != n / 4 || out->cols != m->hp.proj_dim || out->type != SQ_TYPE_F32)
        return sq_error_set(err, SQ_ERR_INVALID_ARG, "vision output buffer has the wrong shape");
    vision_bufs b;
    sq_status st = alloc_bufs(&m->hp, be, n, &b, err);
    if (st != SQ_OK)
        return sq_error_prefix(err, "image of %d × %d patches", gw_p, gh_p);
    st = encode(m, be, patches, gw_p, gh_p, &b, out, err);
    free_bufs(be, &b);
    return st;
}
