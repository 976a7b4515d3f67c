/* vision.h — the Qwen2.5-VL vision tower and patch merger (mmproj GGUF). */
#pragma once

#include "backend.h"
#include "gguf.h"
#include "weights.h"

typedef struct {
    int   n_embd, n_layer, n_head, head_dim, n_ff;
    int   patch_size, merge;
    int   n_wa_pattern;     /* layer L is full-attention iff (L + 1) % n_wa_pattern == 0 */
    int   window_px;        /* 112: window side in pixels */
    int   proj_dim;         /* output width = the text model's n_embd */
    int   n_merge_in;       /* merge² · n_embd */
    float eps;
    float mean[3], std[3];
    int64_t min_pixels, max_pixels;
} sq_vision_hparams;

typedef struct {
    sq_mat ln1;                 /* (n_embd) */
    sq_mat wq, bq, wk, bk, wv, bv; /* (n_embd → n_embd), (n_embd) */
    sq_mat wo, bo;              /* (n_embd → n_embd), (n_embd) */
    sq_mat ln2;                 /* (n_embd) */
    sq_mat w_gate, b_gate;      /* (n_embd → n_ff), (n_ff) */
    sq_mat w_up, b_up;          /* (n_embd → n_ff), (n_ff) */
    sq_mat w_down, b_down;      /* (n_ff → n_embd), (n_embd) */
} sq_vision_layer;

typedef struct {
    sq_vision_hparams hp;
    sq_mat            patch_w0, patch_w1; /* (3·p·p → n_embd), the two temporal halves */
    sq_vision_layer  *layers;
    sq_mat            post_ln;            /* (n_embd) */
    sq_mat            mm0_w, mm0_b;       /* (4·n_embd → 4·n_embd), (4·n_embd) */
    sq_mat            mm2_w, mm2_b;       /* (4·n_embd → proj_dim), (proj_dim) */
    sq_weight_set     weights;
} sq_vision_model;

sq_status sq_vision_model_load(sq_backend *be, const sq_gguf *g, sq_vision_model *m, sq_error *err);
void      sq_vision_model_free(sq_vision_model *m);

/* Encodes one prepared image.  patches: host floats, n_patches rows of
 * 3·p·p in merge-block order (sq_image_patchify); gw_p × gh_p patch grid.
 * out: F32 (gw_p/2 · gh_p/2) × proj_dim, merged tokens in raster order. */
sq_status sq_vision_encode(const sq_vision_model *m, sq_backend *be, const float *patches, int gw_p, int gh_p,
                           sq_mat *out, sq_error *err);
