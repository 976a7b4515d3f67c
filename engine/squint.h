/* squint.h — the public API of libsquint, Squint's model runtime.
 *
 * A model (text GGUF + optional mmproj GGUF) is loaded once and is read-only
 * afterwards; any number of sessions (conversations, each with its own KV
 * cache) can be created from it.
 *
 * Thread-safety: an sq_model may be shared by sessions on different threads
 * only when each session has its own backend (the default CPU backend of a
 * model is shared, so use one session at a time per model).  A session is
 * used by one thread at a time; callbacks run on that thread.
 *
 * Every function that can fail returns an sq_status and fills *err.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "image.h"
#include "sampler.h"
#include "status.h"
#include "tokenizer.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sq_model   sq_model;
typedef struct sq_session sq_session;

/* ---- models ---- */

typedef void (*sq_progress_fn)(float fraction, void *user_data);

/* ---- the built-in demo model ----
 * Squint ships a small model trained on synthetic screenshots (assets/,
 * installed under DATADIR/squint) so that it works with no download.
 * Looks in $SQUINT_DEMO_DIR, then the installed data folder, then the source
 * tree's assets/ (running from a build tree); fills both paths (NUL-terminated,
 * at most `size` bytes each) with the first folder holding both files.
 * SQ_ERR_NOT_FOUND with the folders tried when there is none. */
#define SQ_DEMO_TEXT_FILE   "squint-demo-text.gguf"
#define SQ_DEMO_MMPROJ_FILE "squint-demo-mmproj.gguf"

sq_status sq_demo_model_find(char *text, char *mmproj, size_t size, sq_error *err);

typedef struct {
    const char    *text_path;    /* the text GGUF (architecture qwen2vl) */
    const char    *mmproj_path;  /* the vision GGUF, or NULL for text only */
    const char    *backend;      /* "cpu" (default) */
    int            n_threads;    /* ≤ 0: one per core */
    sq_progress_fn progress;     /* called with 0 … 1 while loading; may be NULL */
    void          *user_data;
} sq_model_params;

sq_model_params sq_model_default_params(void);

sq_status sq_model_load(const sq_model_params *p, sq_model **out, sq_error *err);
void      sq_model_free(sq_model *m);

typedef struct {
    const char *name;           /* general.name, or the file name */
    int         n_vocab, n_embd, n_layer, n_ctx_train;
    bool        has_vision;
    int         vision_n_embd, vision_n_layer;
    size_t      weight_bytes;   /* text weights read per generated token */
    const char *backend;
} sq_model_info;

sq_model_info       sq_model_get_info(const sq_model *m);
const sq_tokenizer *sq_model_tokenizer(const sq_model *m);

/* ---- sessions ---- */

typedef struct {
    int     n_ctx;     /* KV cache slots (default 4096) */
    int     n_batch;   /* rows per forward pass (default 512) */
    bool    kv_f32;    /* F32 instead of F16 KV cache */
} sq_session_params;

sq_session_params sq_session_default_params(void);

sq_status sq_session_new(sq_model *m, const sq_session_params *p, sq_session **out, sq_error *err);
void      sq_session_free(sq_session *s);
/* Forgets the conversation (the KV cache is reused). */
void      sq_session_reset(sq_session *s);

typedef enum {
    SQ_EVENT_ENCODING_IMAGE,   /* an image is being encoded */
    SQ_EVENT_IMAGE_ENCODED,    /* value: milliseconds spent, total: its visual tokens */
    SQ_EVENT_PREFILL_PROGRESS, /* value: rows done of `total` */
    SQ_EVENT_ZOOM_REQUESTED,   /* the model asked for the full image; see zoom */
    SQ_EVENT_ZOOM_DONE,        /* the full images are in the context; decoding goes on */
    SQ_EVENT_TURN_STARTED,     /* value: the pass (1: first look, 2: after zooming) */
} sq_event_kind;

/* What a zoom is about, for the UI: per image, the size the model saw and
 * the size it will see now. */
typedef struct {
    int        n_images;
    const int *low_w, *low_h, *full_w, *full_h;   /* n_images each */
    int64_t    low_tokens, full_tokens;           /* summed over the images */
} sq_zoom_info;

typedef struct {
    sq_event_kind       kind;
    int64_t             value, total;
    const sq_zoom_info *zoom;   /* ZOOM_REQUESTED and ZOOM_DONE, else NULL */
} sq_event;

typedef struct {
    void (*on_event)(const sq_event *ev, void *user_data);
    bool (*should_abort)(void *user_data);   /* polled between batches and tokens */
    void  *user_data;
} sq_callbacks;

void sq_session_set_callbacks(sq_session *s, const sq_callbacks *cb);

/* Appends text (special tokens parsed when parse_special) to the conversation. */
sq_status sq_session_eval_text(sq_session *s, const char *text, bool parse_special, sq_error *err);
sq_status sq_session_eval_tokens(sq_session *s, const int32_t *ids, size_t n, sq_error *err);

typedef struct {
    int w, h;            /* the size the model saw (multiples of 28) */
    int grid_w, grid_h;  /* merged tokens per row / column */
    int n_tokens;        /* visual tokens fed */
    double encode_ms;
} sq_image_info;

/* Encodes an image (smart_resize to the model's limits) and appends its
 * embeddings as visual tokens, WITHOUT the <|vision_start|>/<|vision_end|>
 * tokens around it (raw prompts and chat templates add those). */
sq_status sq_session_eval_image(sq_session *s, const sq_image *img, sq_image_info *info, sq_error *err);

/* Evaluates a raw prompt: the text is tokenized with special tokens parsed;
 * each "<image>" marker, in order, becomes <|vision_start|>, the next image's
 * tokens and <|vision_end|>.  More markers than images is an error. */
sq_status sq_session_eval_prompt(sq_session *s, const char *prompt, const sq_image *const *images,
                                 size_t n_images, sq_error *err);

/* Every image evaluated so far, in order. */
const sq_image_info *sq_session_images(const sq_session *s, size_t *n);

/* Every row in the context so far, as Hugging Face's input_ids would
 * show it: text token ids, and <|image_pad|> for each visual token. */
const int32_t *sq_session_sequence(const sq_session *s, size_t *n);

/* Logits of the last evaluated position (n_vocab floats), NULL before any. */
const float *sq_session_logits(const sq_session *s);

/* Copies of the embeddings of every image evaluated so far, in order:
 * rows × n_embd floats.  *rows may be 0. */
const float *sq_session_image_embd(const sq_session *s, size_t *rows);

typedef struct {
    int             n_predict;     /* tokens to generate at most (-1: until the context is full) */
    bool            ignore_eos;    /* keep going past end-of-generation tokens */
    sq_sampler_params sampling;
    /* Called for every generated token with its text (UTF-8 complete
     * characters only; may be empty); return false to stop. */
    bool (*on_token)(int32_t id, const char *text, size_t len, void *user_data);
    void  *user_data;
} sq_generate_params;

sq_generate_params sq_generate_default_params(void);

typedef enum {
    SQ_STOP_EOG,        /* an end-of-generation token */
    SQ_STOP_LENGTH,     /* n_predict reached */
    SQ_STOP_CONTEXT,    /* the context is full */
    SQ_STOP_CALLBACK,   /* on_token returned false */
} sq_stop_reason;

/* Samples from the current logits, feeds the token back, and repeats.  The
 * generated ids are appended to *out when out is not NULL. */
sq_status sq_session_generate(sq_session *s, const sq_generate_params *p, sq_tokens *out,
                              sq_stop_reason *reason, sq_error *err);

/* ---- asking questions: the VisionThink loop ---- */

typedef enum {
    SQ_POLICY_ADAPTIVE,  /* VisionThink: half-size first, the full image when the model asks */
    SQ_POLICY_LOW,       /* half-size only, never zoom */
    SQ_POLICY_FULL,      /* full resolution in one pass, plain chat prompt */
} sq_policy;

const char *sq_policy_name(sq_policy p);                 /* "adaptive", "low", "full" */
sq_status   sq_policy_parse(const char *name, sq_policy *out, sq_error *err);
/* adaptive for VisionThink-trained models (metadata squint.prompt_profile =
 * "visionthink", or "visionthink" in general.name), else full. */
sq_policy   sq_model_default_policy(const sq_model *m);

typedef struct {
    sq_policy          policy;
    sq_generate_params gen;           /* per pass: n_predict, sampling, on_token */
    /* Test hook: the first pass's reply, fed instead of generated (as if the
     * model had written it, followed by <|im_end|>).  NULL normally. */
    const char        *forced_reply;
    /* Called when a pass's prompt is in the context, before it generates
     * (pass 1 or 2): the logits and image embeddings can be read then. */
    void             (*on_prompt)(sq_session *s, int pass, void *user_data);
    void              *user_data;
} sq_ask_params;

sq_ask_params sq_ask_default_params(void);

typedef struct {
    bool    zoom_requested;     /* the first pass asked for the full image */
    bool    zoomed;             /* … and got it */
    bool    tool_call_error;    /* a malformed tool call got the protocol's error turn */
    int     n_images;
    /* the ledger, in visual tokens */
    int64_t visual_low;         /* fed at half size (adaptive, low) */
    int64_t visual_full;        /* fed at full size (zoom, or policy full) */
    int64_t visual_used;        /* low + full */
    int64_t visual_baseline;    /* what always-full-resolution would have fed */
    int64_t visual_saved;       /* baseline − used: negative for a zoom (1.25× baseline) */
    /* per pass (0: first look, 1: after the zoom) */
    double  encode_ms[2], prefill_ms[2], decode_ms[2];
    int64_t prefill_tokens[2], generated[2];
    double  first_token_ms;
    char   *reply;              /* everything the model wrote, both passes */
    char   *think;              /* the <think> parts, joined by blank lines */
    char   *answer;             /* the last <answer>…</answer>, or the reply without
                                 * think/tool-call parts when there is none */
    char   *boxed;              /* the last \boxed{…} of the answer, or NULL */
} sq_answer;

void sq_answer_free(sq_answer *a);

/* Asks a question about images (which may be empty: a follow-up about what
 * the conversation already holds).  Pass 1 builds the profile's prompt with
 * half-size images (adaptive, low) or originals (full) and generates; with
 * adaptive, a resize tool call at the end of pass 1 emits ZOOM_REQUESTED,
 * feeds the tool-response turn with the original images into the same KV
 * cache (nothing before it is recomputed), emits ZOOM_DONE and generates
 * pass 2.  One zoom per question. */
/* The VisionThink protocol's fixed texts, byte for byte as the engine feeds
 * them (a client running the loop against a remote model sends the same). */
typedef enum {
    SQ_TEXT_VISIONTHINK_SYSTEM,
    SQ_TEXT_VISIONTHINK_USER,
    SQ_TEXT_TOOL_RESPONSE_INTRO,
    SQ_TEXT_TOOL_RESPONSE_AFTER,
    SQ_TEXT_TOOL_ERROR_AFTER,
    SQ_TEXT_PLAIN_SYSTEM,
} sq_protocol_text_id;

const char *sq_protocol_text(sq_protocol_text_id id);

sq_status sq_session_ask(sq_session *s, const char *question, const sq_image *const *images, size_t n_images,
                         const sq_ask_params *p, sq_answer *out, sq_error *err);

typedef struct {
    int64_t n_ctx;              /* KV slots */
    int64_t n_kv;               /* KV slots used */
    int64_t n_pos;              /* next rope position */
    int64_t n_prompt_tokens;    /* rows prefilled (text + visual) */
    int64_t n_visual_tokens;
    int64_t n_generated;
    double  encode_ms, prefill_ms, decode_ms;
    double  first_token_ms;     /* from the last eval's start to the first generated token */
    /* the conversation's visual-token ledger (sq_session_ask) */
    int64_t n_questions, n_zooms;
    int64_t visual_used, visual_baseline;
} sq_stats;

sq_stats sq_session_stats(const sq_session *s);

#ifdef __cplusplus
}
#endif
