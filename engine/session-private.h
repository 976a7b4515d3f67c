/* session-private.h — the session state the VisionThink loop (zoom.c)
 * shares with session.c. */
#pragma once

#include "model-private.h"

struct sq_session {
    sq_model         *m;
    sq_session_params p;
    sq_text_ctx       ctx;
    int64_t           n_kv, n_pos;
    float            *logits;       /* host copy of the last logits */
    bool              have_logits;
    sq_tokens         history;      /* every text token id fed (for penalties) */
    sq_tokens         seq;          /* every row fed: text ids, <|image_pad|> per visual token */
    int32_t           image_pad;    /* <|image_pad|> id, or -1 */
    float            *image_embd;   /* every image's embeddings, for inspection */
    size_t            image_rows, image_cap;
    sq_image_info    *images;       /* every image evaluated */
    size_t            n_images;
    int32_t           pending;      /* generated but not yet fed, or -1 */
    bool              assistant_open; /* a reply stopped before its <|im_end|> */
    sq_image         *unzoomed;     /* originals seen only at half size (zoom.c) */
    size_t            n_unzoomed;
    sq_callbacks      cb;
    sq_stats          stats;
    double            eval_start_ms;
};

double    sq_now_ms(void);
/* Feeds the last generated token if the conversation goes on. */
sq_status sq_session_feed_pending(sq_session *s, sq_error *err);
/* Feeds token ids as text positions; count_prefill: account them as prompt. */
sq_status sq_session_eval_ids(sq_session *s, const int32_t *ids, size_t n, bool count_prefill, sq_error *err);
/* Drops the originals kept for a later zoom. */
void      sq_session_forget_unzoomed(sq_session *s);
