/* zoom.c — VisionThink's adaptive-resolution loop on top of a session.
 *
 * Pass 1 shows the images at half width and height with the tool-agent
 * prompt; if the reply ends with a resize tool call, the tool-response turn
 * with the original images is appended to the same KV cache and pass 2
 * continues from there.  The prompt texts are the protocol's, byte for byte,
 * embedded from engine/prompts/ at build time.
 *
 * Images seen only at half size stay in the session: a later question with
 * no new image can still ask to zoom, and then gets those originals.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "prompts.h"
#include "reply.h"
#include "session-private.h"

const char *
sq_policy_name(sq_policy p)
{
    switch (p) {
    case SQ_POLICY_ADAPTIVE: return "adaptive";
    case SQ_POLICY_LOW:      return "low";
    case SQ_POLICY_FULL:     return "full";
    }
    return "?";
}

sq_status
sq_policy_parse(const char *name, sq_policy *out, sq_error *err)
{
    for (int p = SQ_POLICY_ADAPTIVE; p <= SQ_POLICY_FULL; p++) {
        if (strcmp(name, sq_policy_name((sq_policy)p)) == 0) {
            *out = (sq_policy)p;
            return SQ_OK;
        }
    }
    return sq_error_set(err, SQ_ERR_INVALID_ARG, "unknown policy '%s' (adaptive, low or full)", name);
}

sq_policy
sq_model_default_policy(const sq_model *m)
{
    sq_str s;
    if (sq_gguf_get_str(m->text_file, "squint.prompt_profile", &s, NULL) == SQ_OK)
        return s.len == 11 && strncmp(s.ptr, "visionthink", 11) == 0 ? SQ_POLICY_ADAPTIVE : SQ_POLICY_FULL;
    return m->name && strcasestr(m->name, "visionthink") ? SQ_POLICY_ADAPTIVE : SQ_POLICY_FULL;
}

sq_ask_params
sq_ask_default_params(void)
{
    sq_ask_params p = { .policy = SQ_POLICY_ADAPTIVE, .gen = sq_generate_default_params() };
    p.gen.n_predict = 1024;
    return p;
}

void
sq_answer_free(sq_answer *a)
{
    if (!a)
        return;
    free(a->reply);
    free(a->think);
    free(a->answer);
    free(a->boxed);
    memset(a, 0, sizeof *a);
}

/* ---- a growable string ---- */

typedef struct {
    char  *s;
    size_t n, cap;
    bool   failed;
} strbuf;

static void
sb_add(strbuf *b, const char *text, size_t len)
{
    if (b->failed)
        return;
    if (b->n + len + 1 > b->cap) {
        size_t cap = (b->n + len + 1) * 2;
        char *p = realloc(b->s, cap);
        if (!p) {
            b->failed = true;
            return;
        }
        b->s = p;
        b->cap = cap;
    }
    memcpy(b->s + b->n, text, len);
    b->n += len;
    b->s[b->n] = '\0';
}

static void
sb_str(strbuf *b, const char *text)
{
    sb_add(b, text, strlen(text));
}

/* ---- prompts ---- */

/* What closes the previous turn and opens a new user turn. */
static void
open_user_turn(sq_session *s, strbuf *b, const char *system)
{
    if (s->n_kv == 0 && s->pending < 0) {
        sb_str(b, "<|im_start|>system\n");
        sb_str(b, system);
        sb_str(b, "<|im_end|>\n");
    } else if (s->assistant_open) {
        sb_str(b, "<|im_end|>\n");  /* the reply was cut short: close it */
    } else {
        sb_str(b, "\n");            /* after the reply's <|im_end|> */
    }
    s->assistant_open = false;
    sb_str(b, "<|im_start|>user\n");
}

static void
first_pass_prompt(sq_session *s, strbuf *b, sq_policy policy, const char *question, size_t n_images)
{
    if (policy == SQ_POLICY_FULL) {
        /* the Qwen2.5-VL chat template: images first, then the text */
        open_user_turn(s, b, sq_text_plain_system);
        for (size_t i = 0; i < n_images; i++)
            sb_str(b, "<image>");
        sb_str(b, question);
    } else {
        open_user_turn(s, b, sq_text_visionthink_system);
        if (n_images > 0) {
            sb_str(b, sq_text_visionthink_user);
            sb_str(b, "\n");
            for (size_t i = 0; i < n_images; i++)
                sb_str(b, "<image>\n");
        }
        sb_str(b, question);
    }
    sb_str(b, "<|im_end|>\n<|im_start|>assistant\n");
}

/* Appended right after the assistant's <|im_end|>, no newline between. */
static void
tool_response_prompt(strbuf *b, size_t n_images)
{
    sb_str(b, "<|im_start|>user\n<tool_response>\n");
    sb_str(b, sq_text_visionthink_tool_response_intro);
    sb_str(b, "\n");
    for (size_t i = 0; i < n_images; i++)
        sb_str(b, "<image>\n");
    sb_str(b, "</tool_response>\n");
    sb_str(b, sq_text_visionthink_tool_response_after);
    sb_str(b, "<|im_end|>\n<|im_start|>assistant\n");
}

static void
tool_error_prompt(strbuf *b, const char *error)
{
    sb_str(b, "<|im_start|>user\n");
    sb_str(b, error);
    sb_str(b, sq_text_visionthink_tool_error_after);
    sb_str(b, "<|im_end|>\n<|im_start|>assistant\n");
}

/* ---- one pass of generation ---- */

typedef struct {
    sq_session             *s;
    const sq_generate_params *user;
    strbuf                 *reply;
} pass_ctx;

/* Collects the reply and forwards it, without control tokens (<|im_end|>). */
static bool
collect_token(int32_t id, const char *text, size_t len, void *data)
{
    pass_ctx *pc = data;
    if (id >= 0 && sq_tokenizer_token_type(pc->s->m->tok, id) == SQ_TOKEN_CONTROL)
        return true;
    sb_add(pc->reply, text, len);
    return pc->user->on_token ? pc->user->on_token(id, text, len, pc->user->user_data) : true;
}

/* Feeds a fixed reply as if generated (the test hook), ending the turn. */
static sq_status
feed_forced_reply(sq_session *s, const char *text, pass_ctx *pc, sq_error *err)
{
    sq_tokens t;
    sq_tokens_init(&t);
    sq_status st = sq_tokenizer_encode(s->m->tok, text, strlen(text), true, &t, err);
    if (st == SQ_OK)
        st = sq_session_feed_pending(s, err);
    for (size_t i = 0; st == SQ_OK && i < t.n; i++) {
        size_t len;
        const char *piece = sq_tokenizer_piece(s->m->tok, t.ids[i], false, &len);
        collect_token(t.ids[i], piece, len, pc);
        s->stats.n_generated++;
        st = sq_session_eval_ids(s, &t.ids[i], 1, false, err);
    }
    sq_tokens_free(&t);
    if (st == SQ_OK)
        s->pending = sq_tokenizer_find(s->m->tok, "<|im_end|>");
    return st;
}

static sq_status
run_pass(sq_session *s, const sq_ask_params *p, const char *forced, strbuf *reply, sq_error *err)
{
    pass_ctx pc = { s, &p->gen, reply };
    if (forced)
        return feed_forced_reply(s, forced, &pc, err);
    sq_generate_params gp = p->gen;
    gp.on_token = collect_token;
    gp.user_data = &pc;
    gp.ignore_eos = false;
    sq_stop_reason why;
    sq_status st = sq_session_generate(s, &gp, NULL, &why, err);
    s->assistant_open = st == SQ_OK && why != SQ_STOP_EOG;
    return st;
}

/* ---- images ---- */

static sq_status
make_half_images(const sq_image *const *images, size_t n, sq_image *half, sq_error *err)
{
    for (size_t i = 0; i < n; i++) {
        sq_status st = sq_image_half(images[i], &half[i], err);
        if (st == SQ_ERR_UNSUPPORTED) /* a 1-px side cannot be halved: show it as it is */
            st = sq_image_copy(images[i], &half[i], err);
        if (st != SQ_OK)
            return st;
    }
    return SQ_OK;
}

/* Visual tokens the original would cost (without encoding it). */
static sq_status
full_tokens(const sq_session *s, const sq_image *img, int64_t *out, sq_error *err)
{
    const sq_vision_hparams *hp = &s->m->vision.hp;
    int w, h;
    sq_status st = sq_image_smart_size(img->w, img->h, hp->min_pixels, hp->max_pixels, &w, &h, err);
    if (st == SQ_OK)
        *out = (int64_t)(w / 28) * (h / 28);
    return st;
}

/* Remembers originals seen only at half size, for a later zoom. */
static sq_status
keep_unzoomed(sq_session *s, const sq_image *const *images, size_t n, sq_error *err)
{
    sq_image *grown = realloc(s->unzoomed, (s->n_unzoomed + n + 1) * sizeof *grown);
    if (!grown)
        return sq_error_set(err, SQ_ERR_NOMEM, "out of memory");
    s->unzoomed = grown;
    for (size_t i = 0; i < n; i++) {
        sq_status st = sq_image_copy(images[i], &s->unzoomed[s->n_unzoomed], err);
        if (st != SQ_OK)
            return st;
        s->n_unzoomed++;
    }
    return SQ_OK;
}

void
sq_session_forget_unzoomed(sq_session *s)
{
    for (size_t i = 0; i < s->n_unzoomed; i++)
        sq_image_free(&s->unzoomed[i]);
    s->n_unzoomed = 0;
}

/* ---- the loop ---- */

typedef struct {
    sq_stats before;
    size_t   images_before;
} pass_mark;

static pass_mark
mark(const sq_session *s)
{
    return (pass_mark){ sq_session_stats(s), s->n_images };
}

static int64_t
tokens_since(const sq_session *s, const pass_mark *m)
{
    int64_t n = 0;
    for (size_t i = m->images_before; i < s->n_images; i++)
        n += s->images[i].n_tokens;
    return n;
}

static void
close_pass(const sq_session *s, const pass_mark *m, sq_answer *a, int pass)
{
    sq_stats now = sq_session_stats(s);
    a->encode_ms[pass] = now.encode_ms - m->before.encode_ms;
    a->prefill_ms[pass] = now.prefill_ms - m->before.prefill_ms;
    a->decode_ms[pass] = now.decode_ms - m->before.decode_ms;
    a->prefill_tokens[pass] = now.n_prompt_tokens - m->before.n_prompt_tokens;
    a->generated[pass] = now.n_generated - m->before.n_generated;
}

static void
emit_zoom(sq_session *s, sq_event_kind kind, const sq_zoom_info *zi)
{
    if (s->cb.on_event) {
        sq_event ev = { kind, 0, zi->n_images, zi };
        s->cb.on_event(&ev, s->cb.user_data);
    }
}

static void
emit_turn(sq_session *s, int pass)
{
    if (s->cb.on_event) {
        sq_event ev = { SQ_EVENT_TURN_STARTED, pass, 2, NULL };
        s->cb.on_event(&ev, s->cb.user_data);
    }
}

/* The zoom: the tool response with the originals, then pass 2. */
static sq_status
zoom_pass(sq_session *s, const sq_ask_params *p, const sq_image *const *orig, size_t n, const int *low_wh,
          strbuf *reply, sq_answer *a, sq_error *err)
{
    int *sizes = calloc(4 * n + 4, sizeof *sizes);
    if (!sizes)
        return sq_error_set(err, SQ_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        sizes[i] = low_wh[2 * i];
        sizes[n + i] = low_wh[2 * i + 1];
        sizes[2 * n + i] = orig[i]->w;
        sizes[3 * n + i] = orig[i]->h;
    }
    sq_zoom_info zi = { (int)n, sizes, sizes + n, sizes + 2 * n, sizes + 3 * n, a->visual_low, 0 };
    for (size_t i = 0; i < n; i++) {
        int64_t t = 0;
        full_tokens(s, orig[i], &t, NULL);
        zi.full_tokens += t;
    }
    emit_zoom(s, SQ_EVENT_ZOOM_REQUESTED, &zi);
    pass_mark m2 = mark(s);
    strbuf b = { 0 };
    tool_response_prompt(&b, n);
    sq_status st = b.failed ? sq_error_set(err, SQ_ERR_NOMEM, "out of memory")
                            : sq_session_eval_prompt(s, b.s, orig, n, err);
    free(b.s);
    if (st == SQ_OK) {
        a->zoomed = true;
        a->visual_full += tokens_since(s, &m2);
        emit_zoom(s, SQ_EVENT_ZOOM_DONE, &zi);
        if (p->on_prompt)
            p->on_prompt(s, 2, p->user_data);
        emit_turn(s, 2);
        st = run_pass(s, p, NULL, reply, err);
    }
    close_pass(s, &m2, a, 1);
    free(sizes);
    return st;
}

static sq_status
error_pass(sq_session *s, const sq_ask_params *p, const char *error, strbuf *reply, sq_answer *a, sq_error *err)
{
    pass_mark m2 = mark(s);
    strbuf b = { 0 };
    tool_error_prompt(&b, error);
    sq_status st = b.failed ? sq_error_set(err, SQ_ERR_NOMEM, "out of memory")
                            : sq_session_eval_prompt(s, b.s, NULL, 0, err);
    free(b.s);
    a->tool_call_error = true;
    if (st == SQ_OK) {
        if (p->on_prompt)
            p->on_prompt(s, 2, p->user_data);
        emit_turn(s, 2);
        st = run_pass(s, p, NULL, reply, err);
    }
    close_pass(s, &m2, a, 1);
    return st;
}

static void
finish_answer(sq_answer *a, strbuf *reply)
{
    a->reply = reply->s ? reply->s : strdup("");
    reply->s = NULL;
    a->think = sq_reply_think(a->reply);
    a->answer = sq_reply_answer(a->reply);
    if (!a->answer)
        a->answer = sq_reply_visible(a->reply);
    a->boxed = a->answer ? sq_reply_boxed(a->answer) : NULL;
    a->visual_used = a->visual_low + a->visual_full;
    a->visual_saved = a->visual_baseline - a->visual_used;
}

static sq_status
ask(sq_session *s, const char *question, const sq_image *const *images, size_t n, const sq_ask_params *p,
    sq_image *half, const sq_image **half_ptrs, sq_answer *a, sq_error *err)
{
    bool low_first = p->policy != SQ_POLICY_FULL;
    sq_status st = SQ_OK;
    for (size_t i = 0; i < n && st == SQ_OK; i++) {
        int64_t t = 0;
        st = full_tokens(s, images[i], &t, err);
        a->visual_baseline += t;
    }
    if (st == SQ_OK && low_first)
        st = make_half_images(images, n, half, err);
    if (st != SQ_OK)
        return st;
    int *low_wh = calloc(2 * n + 2, sizeof *low_wh);
    if (!low_wh)
        return sq_error_set(err, SQ_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        half_ptrs[i] = low_first ? &half[i] : images[i];
        low_wh[2 * i] = half_ptrs[i]->w;
        low_wh[2 * i + 1] = half_ptrs[i]->h;
    }
    strbuf prompt = { 0 }, reply = { 0 };
    first_pass_prompt(s, &prompt, p->policy, question, n);
    pass_mark m1 = mark(s);
    s->eval_start_ms = sq_now_ms();
    st = prompt.failed ? sq_error_set(err, SQ_ERR_NOMEM, "out of memory")
                       : sq_session_eval_prompt(s, prompt.s, half_ptrs, n, err);
    free(prompt.s);
    if (st == SQ_OK) {
        if (low_first)
            a->visual_low = tokens_since(s, &m1);
        else
            a->visual_full = tokens_since(s, &m1);
        if (p->on_prompt)
            p->on_prompt(s, 1, p->user_data);
        emit_turn(s, 1);
        st = run_pass(s, p, p->forced_reply, &reply, err);
        a->first_token_ms = s->stats.first_token_ms;
    }
    close_pass(s, &m1, a, 0);

    /* The images a zoom would show: this question's, else earlier ones
     * the conversation has only seen at half size. */
    const sq_image *const *zoom_imgs = images;
    size_t n_zoom = n;
    const sq_image **earlier = NULL;
    if (n == 0 && s->n_unzoomed > 0) {
        earlier = calloc(s->n_unzoomed, sizeof *earlier);
        if (!earlier)
            st = sq_error_set(err, SQ_ERR_NOMEM, "out of memory");
        for (size_t i = 0; earlier && i < s->n_unzoomed; i++)
            earlier[i] = &s->unzoomed[i];
        zoom_imgs = earlier;
        n_zoom = s->n_unzoomed;
    }
    if (st == SQ_OK && p->policy != SQ_POLICY_FULL) {
        sq_tool_call tc = sq_reply_tool_call(reply.s ? reply.s : "");
        a->zoom_requested = tc.kind == SQ_TOOL_RESIZE;
        if (tc.kind == SQ_TOOL_RESIZE && p->policy == SQ_POLICY_ADAPTIVE && n_zoom > 0) {
            if (n == 0) {
                /* earlier images: their half-size versions are already in the context */
                int *grown = realloc(low_wh, (2 * n_zoom + 2) * sizeof *grown);
                if (grown)
                    low_wh = grown;
                else
                    st = sq_error_set(err, SQ_ERR_NOMEM, "out of memory");
                for (size_t i = 0; grown && i < n_zoom; i++)
                    sq_image_half_size(zoom_imgs[i]->w, zoom_imgs[i]->h, &low_wh[2 * i], &low_wh[2 * i + 1], NULL);
            }
            if (st == SQ_OK)
                st = zoom_pass(s, p, zoom_imgs, n_zoom, low_wh, &reply, a, err);
            if (st == SQ_OK && n == 0)
                sq_session_forget_unzoomed(s);
        } else if (tc.kind == SQ_TOOL_ERROR && p->policy == SQ_POLICY_ADAPTIVE) {
            st = error_pass(s, p, tc.error, &reply, a, err);
        }
    }
    if (st == SQ_OK && low_first && n > 0 && !a->zoomed)
        st = keep_unzoomed(s, images, n, err);
    free(earlier);
    free(low_wh);
    if (st != SQ_OK) {
        free(reply.s);
        return st;
    }
    finish_answer(a, &reply);
    return SQ_OK;
}

sq_status
sq_session_ask(sq_session *s, const char *question, const sq_image *const *images, size_t n_images,
               const sq_ask_params *p, sq_answer *out, sq_error *err)
{
    sq_ask_params dp = sq_ask_default_params();
    if (!p)
        p = &dp;
    memset(out, 0, sizeof *out);
    if (!question)
        return sq_error_set(err, SQ_ERR_INVALID_ARG, "no question");
    if (n_images > 0 && !s->m->has_vision)
        return sq_error_set(err, SQ_ERR_UNSUPPORTED, "this model has no vision part: load it with its mmproj file");
    out->n_images = (int)n_images;
    sq_image *half = calloc(n_images + 1, sizeof *half);
    const sq_image **half_ptrs = calloc(n_images + 1, sizeof *half_ptrs);
    sq_status st = half && half_ptrs ? ask(s, question, images, n_images, p, half, half_ptrs, out, err)
                                     : sq_error_set(err, SQ_ERR_NOMEM, "out of memory");
    for (size_t i = 0; half && i < n_images; i++)
        sq_image_free(&half[i]);
    free(half);
    free(half_ptrs);
    if (st == SQ_OK) {
        s->stats.n_questions++;
        s->stats.n_zooms += out->zoomed;
        s->stats.visual_used += out->visual_used;
        s->stats.visual_baseline += out->visual_baseline;
    }
    return st;
}
