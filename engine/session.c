/* session.c — one conversation: its KV cache, positions, prompt evaluation
 * (text and images) and generation.
 *
 * Positions follow Qwen2.5-VL's M-RoPE rules: a text token takes (p, p, p);
 * an image of gw × gh merged tokens starting at p gives token (row y, col x)
 * the position (p, p + y, p + x) and advances p by max(gw, gh).  KV slots, on
 * the other hand, advance by one per row, so n_pos ≤ n_kv after an image.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "session-private.h"



double
sq_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

sq_session_params
sq_session_default_params(void)
{
    return (sq_session_params){ .n_ctx = 4096, .n_batch = 512, .kv_f32 = false };
}

sq_generate_params
sq_generate_default_params(void)
{
    return (sq_generate_params){ .n_predict = 256, .sampling = sq_sampler_default_params() };
}

sq_status
sq_session_new(sq_model *m, const sq_session_params *p, sq_session **out, sq_error *err)
{
    sq_session_params dp = sq_session_default_params();
    if (!p)
        p = &dp;
    if (p->n_ctx <= 0 || p->n_batch <= 0)
        return sq_error_set(err, SQ_ERR_INVALID_ARG, "context and batch sizes must be positive");
    sq_session *s = calloc(1, sizeof *s);
    if (!s)
        return sq_error_set(err, SQ_ERR_NOMEM, "out of memory");
    s->m = m;
    s->p = *p;
    s->pending = -1;
    s->image_pad = sq_tokenizer_find(m->tok, "<|image_pad|>");
    sq_tokens_init(&s->history);
    sq_tokens_init(&s->seq);
    s->logits = malloc((size_t)m->text.hp.n_vocab * sizeof *s->logits);
    if (!s->logits) {
        free(s);
        return sq_error_set(err, SQ_ERR_NOMEM, "out of memory");
    }
    sq_status st = sq_text_ctx_new(&m->text, m->be, p->n_ctx, p->n_batch,
                                   p->kv_f32 ? SQ_TYPE_F32 : SQ_TYPE_F16, &s->ctx, err);
    if (st != SQ_OK) {
        free(s->logits);
        free(s);
        return st;
    }
    s->stats.n_ctx = p->n_ctx;
    *out = s;
    return SQ_OK;
}

void
sq_session_free(sq_session *s)
{
    if (!s)
        return;
    sq_text_ctx_free(&s->ctx);
    sq_tokens_free(&s->history);
    sq_tokens_free(&s->seq);
    free(s->logits);
    free(s->image_embd);
    free(s->images);
    sq_session_forget_unzoomed(s);
    free(s->unzoomed);
    free(s);
}

void
sq_session_reset(sq_session *s)
{
    s->n_kv = s->n_pos = 0;
    s->pending = -1;
    s->assistant_open = false;
    sq_session_forget_unzoomed(s);
    s->have_logits = false;
    s->history.n = 0;
    s->seq.n = 0;
    s->image_rows = 0;
    s->n_images = 0;
    s->stats = (sq_stats){ .n_ctx = s->p.n_ctx };
}

void
sq_session_set_callbacks(sq_session *s, const sq_callbacks *cb)
{
    s->cb = cb ? *cb : (sq_callbacks){ 0 };
}

static void
emit(sq_session *s, sq_event_kind kind, int64_t value, int64_t total)
{
    if (s->cb.on_event) {
        sq_event ev = { kind, value, total, NULL };
        s->cb.on_event(&ev, s->cb.user_data);
    }
}

static bool
aborted(sq_session *s)
{
    return s->cb.should_abort && s->cb.should_abort(s->cb.user_data);
}

/* Feeds rows (already embedded, F32 in ctx.x) with their positions. */
static sq_status
forward_rows(sq_session *s, const int32_t *pos, int64_t n, sq_error *err)
{
    sq_status st = sq_text_forward(&s->ctx, &s->ctx.x, pos, n, s->n_kv, true, err);
    if (st != SQ_OK)
        return st;
    st = s->m->be->ops->read(s->m->be, s->ctx.logits.buf, s->ctx.logits.offset, s->logits,
                             (size_t)s->m->text.hp.n_vocab * sizeof(float), err);
    if (st != SQ_OK)
        return st;
    s->n_kv += n;
    s->have_logits = true;
    return SQ_OK;
}

static sq_status
check_room(sq_session *s, int64_t n, sq_error *err)
{
    if (s->n_kv + n > s->p.n_ctx)
        return sq_error_set(err, SQ_ERR_LIMIT,
                            "the conversation needs %lld more tokens but only %lld of the %d-token context are free",
                            (long long)n, (long long)(s->p.n_ctx - s->n_kv), s->p.n_ctx);
    return SQ_OK;
}


/* The last generated token is fed only when the conversation goes on, so a
 * reply that ends the context or the session costs no extra forward pass. */
sq_status
sq_session_feed_pending(sq_session *s, sq_error *err)
{
    if (s->pending < 0)
        return SQ_OK;
    int32_t id = s->pending;
    s->pending = -1;
    return sq_session_eval_ids(s, &id, 1, false, err);
}

sq_status
sq_session_eval_ids(sq_session *s, const int32_t *ids, size_t n, bool count_prefill, sq_error *err)
{
    sq_status st = check_room(s, (int64_t)n, err);
    if (st != SQ_OK)
        return st;
    int32_t *pos = s->ctx.pos_host;
    double t0 = sq_now_ms();
    for (size_t done = 0; done < n;) {
        if (aborted(s))
            return sq_error_set(err, SQ_ERR_ABORTED, "stopped");
        int64_t b = (int64_t)(n - done) < s->ctx.n_batch ? (int64_t)(n - done) : s->ctx.n_batch;
        for (int64_t i = 0; i < b; i++) {
            int32_t p = (int32_t)(s->n_pos + i);
            pos[i] = pos[b + i] = pos[2 * b + i] = p;
            pos[3 * b + i] = 0;
        }
        sq_mat x = sq_mat_rows(&s->ctx.x, 0, b);
        if ((st = sq_text_embed(&s->ctx, ids + done, b, &x, err)) != SQ_OK ||
            (st = forward_rows(s, pos, b, err)) != SQ_OK)
            return st;
        for (int64_t i = 0; i < b; i++)
            if ((st = sq_tokens_push(&s->history, ids[done + (size_t)i], err)) != SQ_OK ||
                (st = sq_tokens_push(&s->seq, ids[done + (size_t)i], err)) != SQ_OK)
                return st;
        s->n_pos += b;
        done += (size_t)b;
        if (count_prefill)
            emit(s, SQ_EVENT_PREFILL_PROGRESS, (int64_t)done, (int64_t)n);
    }
    if (count_prefill) {
        s->stats.prefill_ms += sq_now_ms() - t0;
        s->stats.n_prompt_tokens += (int64_t)n;
    }
    return SQ_OK;
}

sq_status
sq_session_eval_tokens(sq_session *s, const int32_t *ids, size_t n, sq_error *err)
{
    s->eval_start_ms = sq_now_ms();
    sq_status st = sq_session_feed_pending(s, err);
    return st != SQ_OK ? st : sq_session_eval_ids(s, ids, n, true, err);
}

sq_status
sq_session_eval_text(sq_session *s, const char *text, bool parse_special, sq_error *err)
{
    sq_tokens t;
    sq_tokens_init(&t);
    sq_status st = sq_tokenizer_encode(s->m->tok, text, strlen(text), parse_special, &t, err);
    if (st == SQ_OK && t.n > 0)
        st = sq_session_eval_tokens(s, t.ids, t.n, err);
    sq_tokens_free(&t);
    return st;
}

/* Keeps a host copy of the embeddings (for --dump-image-embd and tests). */
static sq_status
keep_embd(sq_session *s, const sq_mat *embd, sq_error *err)
{
    size_t cols = (size_t)embd->cols, rows = (size_t)embd->rows;
    if (s->image_rows + rows > s->image_cap) {
        size_t cap = (s->image_rows + rows) * 2;
        float *p = realloc(s->image_embd, cap * cols * sizeof *p);
        if (!p)
            return sq_error_set(err, SQ_ERR_NOMEM, "out of memory");
        s->image_embd = p;
        s->image_cap = cap;
    }
    sq_status st = s->m->be->ops->read(s->m->be, embd->buf, embd->offset, s->image_embd + s->image_rows * cols,
                                       rows * cols * sizeof(float), err);
    if (st == SQ_OK)
        s->image_rows += rows;
    return st;
}

/* Feeds gw × gh image rows in batches with their 2-D positions. */
static sq_status
feed_image_rows(sq_session *s, const sq_mat *embd, int gw, int gh, sq_error *err)
{
    int64_t n = (int64_t)gw * gh, p0 = s->n_pos;
    int32_t *pos = s->ctx.pos_host;
    for (int64_t done = 0; done < n;) {
        if (aborted(s))
            return sq_error_set(err, SQ_ERR_ABORTED, "stopped");
        int64_t b = n - done < s->ctx.n_batch ? n - done : s->ctx.n_batch;
        for (int64_t i = 0; i < b; i++) {
            int64_t r = done + i;
            pos[i] = (int32_t)p0;
            pos[b + i] = (int32_t)(p0 + r / gw);
            pos[2 * b + i] = (int32_t)(p0 + r % gw);
            pos[3 * b + i] = 0;
        }
        sq_mat src = sq_mat_rows(embd, done, b), x = sq_mat_rows(&s->ctx.x, 0, b);
        sq_status st = s->m->be->ops->copy_rows(s->m->be, &src, &x, 0, err);
        if (st == SQ_OK)
            st = forward_rows(s, pos, b, err);
        for (int64_t i = 0; i < b && st == SQ_OK; i++)
            st = sq_tokens_push(&s->seq, s->image_pad, err);
        if (st != SQ_OK)
            return st;
        done += b;
        emit(s, SQ_EVENT_PREFILL_PROGRESS, done, n);
    }
    s->n_pos = p0 + (gw > gh ? gw : gh);
    return SQ_OK;
}

static sq_status
encode_image(sq_session *s, const sq_image *img, sq_image_prepared *prep, sq_mat *embd, sq_error *err)
{
    const sq_vision_hparams *hp = &s->m->vision.hp;
    sq_image_prep_params pp = { hp->min_pixels, hp->max_pixels,
                                { hp->mean[0], hp->mean[1], hp->mean[2] }, { hp->std[0], hp->std[1], hp->std[2] } };
    sq_status st = sq_image_prepare(img, &pp, prep, err);
    if (st != SQ_OK)
        return st;
    if ((st = check_room(s, prep->n_tokens, err)) != SQ_OK)
        return st;
    float *patches = malloc((size_t)prep->n_patches * SQ_IMAGE_PATCH_DIM * sizeof *patches);
    if (!patches)
        return sq_error_set(err, SQ_ERR_NOMEM, "out of memory for %d image patches", prep->n_patches);
    st = sq_image_patchify(prep->pixels, prep->w, prep->h, patches, err);
    if (st == SQ_OK)
        st = sq_mat_alloc(s->m->be, SQ_TYPE_F32, hp->proj_dim, prep->n_tokens, embd, err);
    if (st == SQ_OK)
        st = sq_vision_encode(&s->m->vision, s->m->be, patches, prep->gw_p, prep->gh_p, embd, err);
    free(patches);
    return st;
}

sq_status
sq_session_eval_image(sq_session *s, const sq_image *img, sq_image_info *info, sq_error *err)
{
    if (!s->m->has_vision)
        return sq_error_set(err, SQ_ERR_UNSUPPORTED, "this model has no vision part: load it with its mmproj file");
    s->eval_start_ms = sq_now_ms();
    sq_status pst = sq_session_feed_pending(s, err);
    if (pst != SQ_OK)
        return pst;
    sq_image_prepared prep = { 0 };
    sq_mat embd = { 0 };
    double t0 = sq_now_ms();
    emit(s, SQ_EVENT_ENCODING_IMAGE, 0, 0);
    sq_status st = encode_image(s, img, &prep, &embd, err);
    double t1 = sq_now_ms();
    if (st == SQ_OK) {
        emit(s, SQ_EVENT_IMAGE_ENCODED, (int64_t)(t1 - t0), prep.n_tokens);
        st = keep_embd(s, &embd, err);
    }
    if (st == SQ_OK)
        st = feed_image_rows(s, &embd, prep.gw, prep.gh, err);
    if (st == SQ_OK) {
        s->stats.encode_ms += t1 - t0;
        s->stats.prefill_ms += sq_now_ms() - t1;
        s->stats.n_prompt_tokens += prep.n_tokens;
        s->stats.n_visual_tokens += prep.n_tokens;
        sq_image_info ii = { prep.w, prep.h, prep.gw, prep.gh, prep.n_tokens, t1 - t0 };
        sq_image_info *grown = realloc(s->images, (s->n_images + 1) * sizeof *grown);
        if (grown) {
            s->images = grown;
            s->images[s->n_images++] = ii;
        } else {
            st = sq_error_set(err, SQ_ERR_NOMEM, "out of memory");
        }
        if (info)
            *info = ii;
    }
    sq_mat_free(s->m->be, &embd);
    sq_image_prepared_free(&prep);
    return st;
}

sq_status
sq_session_eval_prompt(sq_session *s, const char *prompt, const sq_image *const *images, size_t n_images,
                       sq_error *err)
{
    static const char marker[] = "<image>";
    size_t used = 0;
    const char *p = prompt;
    double start = sq_now_ms();
    for (;;) {
        const char *hit = strstr(p, marker);
        size_t len = hit ? (size_t)(hit - p) : strlen(p);
        if (len > 0) {
            char *piece = strndup(p, len);
            if (!piece)
                return sq_error_set(err, SQ_ERR_NOMEM, "out of memory");
            sq_status st = sq_session_eval_text(s, piece, true, err);
            free(piece);
            if (st != SQ_OK)
                return st;
        }
        if (!hit)
            break;
        if (!s->m->has_vision)
            return sq_error_set(err, SQ_ERR_UNSUPPORTED,
                                "the prompt has an <image> but this model has no vision part: load it with its mmproj file");
        if (used >= n_images)
            return sq_error_set(err, SQ_ERR_INVALID_ARG, "the prompt has more <image> markers than the %zu image(s) given",
                                n_images);
        sq_status st = sq_session_feed_pending(s, err);
        if (st == SQ_OK)
            st = sq_session_eval_ids(s, &s->m->vision_start, 1, true, err);
        if (st == SQ_OK)
            st = sq_session_eval_image(s, images[used++], NULL, err);
        if (st == SQ_OK)
            st = sq_session_eval_ids(s, &s->m->vision_end, 1, true, err);
        if (st != SQ_OK)
            return st;
        p = hit + sizeof marker - 1;
    }
    s->eval_start_ms = start;
    return SQ_OK;
}

const sq_image_info *
sq_session_images(const sq_session *s, size_t *n)
{
    *n = s->n_images;
    return s->images;
}

const int32_t *
sq_session_sequence(const sq_session *s, size_t *n)
{
    *n = s->seq.n;
    return s->seq.ids;
}

const float *
sq_session_logits(const sq_session *s)
{
    return s->have_logits ? s->logits : NULL;
}

const float *
sq_session_image_embd(const sq_session *s, size_t *rows)
{
    *rows = s->image_rows;
    return s->image_embd;
}

sq_status
sq_session_generate(sq_session *s, const sq_generate_params *p, sq_tokens *out, sq_stop_reason *reason,
                    sq_error *err)
{
    if (!s->have_logits)
        return sq_error_set(err, SQ_ERR_INVALID_ARG, "nothing to continue: evaluate a prompt first");
    sq_status st = sq_session_feed_pending(s, err);
    if (st != SQ_OK)
        return st;
    sq_sampler *smp = NULL;
    st = sq_sampler_new(&p->sampling, s->m->text.hp.n_vocab, &smp, err);
    if (st != SQ_OK)
        return st;
    sq_detok_stream ds;
    sq_detok_stream_init(&ds, s->m->tok, false);
    sq_stop_reason why = SQ_STOP_LENGTH;
    double t0 = sq_now_ms();
    bool first = true;
    for (int i = 0; p->n_predict < 0 || i < p->n_predict; i++) {
        if (aborted(s)) {
            st = sq_error_set(err, SQ_ERR_ABORTED, "stopped");
            break;
        }
        int32_t id = sq_sampler_sample(smp, s->logits, s->history.ids, s->history.n);
        if (first) {
            s->stats.first_token_ms = sq_now_ms() - s->eval_start_ms;
            first = false;
        }
        if (out && (st = sq_tokens_push(out, id, err)) != SQ_OK)
            break;
        s->stats.n_generated++;
        const char *text = "";
        size_t len = 0;
        if ((st = sq_detok_stream_push(&ds, id, &text, &len, err)) != SQ_OK)
            break;
        if (p->on_token && !p->on_token(id, text, len, p->user_data)) {
            why = SQ_STOP_CALLBACK;
            break;
        }
        s->pending = id;
        if (!p->ignore_eos && sq_tokenizer_is_eog(s->m->tok, id)) {
            why = SQ_STOP_EOG;
            break;
        }
        if (p->n_predict >= 0 && i + 1 == p->n_predict)
            break;
        if (s->n_kv >= s->p.n_ctx) {
            why = SQ_STOP_CONTEXT;
            break;
        }
        if ((st = sq_session_feed_pending(s, err)) != SQ_OK)
            break;
    }
    const char *tail;
    size_t tail_len;
    sq_detok_stream_flush(&ds, &tail, &tail_len);
    if (st == SQ_OK && tail_len > 0 && p->on_token)
        p->on_token(-1, tail, tail_len, p->user_data);
    sq_detok_stream_free(&ds);
    sq_sampler_free(smp);
    s->stats.decode_ms += sq_now_ms() - t0;
    if (reason)
        *reason = why;
    return st;
}

sq_stats
sq_session_stats(const sq_session *s)
{
    sq_stats st = s->stats;
    st.n_kv = s->n_kv;
    st.n_pos = s->n_pos;
    return st;
}
