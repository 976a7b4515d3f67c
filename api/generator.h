/* generator.h — one model, one worker thread, a bounded FIFO of chat jobs.
 *
 * The server submits jobs from its main context; the worker answers them one
 * at a time (the engine runs one session at a time per model) with the
 * VisionThink loop, and every callback comes back on the submitting thread's
 * main context, in order: deltas and zooms, then exactly one done.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <gio/gio.h>

#include "openai-request.h"
#include "squint.h"

G_BEGIN_DECLS

typedef struct _SquintGenerator SquintGenerator;

typedef struct
{
  int         n_ctx;          /* per request (default 8192) */
  int         n_predict;      /* per pass when the request sets none (default 1024) */
  int         max_waiting;    /* jobs that may wait behind the running one (default 8) */
  const char *policy;         /* NULL: the model's default */
  /* Test hook, as squint-cli's --debug-forced-reply: the first pass of every
   * question is this text instead of generated (NULL normally). */
  const char *forced_reply;
} SquintGeneratorOptions;

typedef struct
{
  char   *content;            /* the answer, as streamed */
  char   *reasoning;          /* the <think> parts */
  char   *finish_reason;      /* "stop" or "length" */
  char   *policy;
  gint64  prompt_tokens, completion_tokens;
  gint64  visual_used, visual_baseline, visual_saved;
  gboolean zoomed;
  double  encode_ms, prefill_ms, decode_ms, total_ms;
} SquintGenerationResult;

void squint_generation_result_free (SquintGenerationResult *r);

typedef struct
{
  /* Called as text streams; either may be "". */
  void (*delta) (const char *content, const char *reasoning, gpointer user_data);
  /* The model asked for the full image(s): low and full visual tokens. */
  void (*zoom)  (gint64 low_tokens, gint64 full_tokens, gpointer user_data);
  /* Exactly once: a result, or an error (SQUINT_API_ERROR or G_IO_ERROR_CANCELLED). */
  void (*done)  (const SquintGenerationResult *result, const GError *error, gpointer user_data);
} SquintGenerationCallbacks;

/* Takes ownership of the model. */
SquintGenerator *squint_generator_new    (sq_model                     *model,
                                          const SquintGeneratorOptions *options,
                                          GError                      **error);
/* Cancels what waits and runs, joins the worker. */
void             squint_generator_free   (SquintGenerator *self);
const char      *squint_generator_get_policy (SquintGenerator *self);

/* Queues a request whose images are already fetched (images: one GPtrArray of
 * GBytes per message, parallel to request->messages).  SQUINT_API_ERROR_BUSY
 * when max_waiting jobs already wait.  user_data is freed with destroy after
 * done. */
gboolean         squint_generator_submit (SquintGenerator                 *self,
                                          SquintChatRequest               *request,
                                          GPtrArray                       *images,
                                          const SquintGenerationCallbacks *callbacks,
                                          gpointer                         user_data,
                                          GDestroyNotify                   destroy,
                                          GCancellable                    *cancellable,
                                          GError                         **error);

/* Jobs waiting and running now, and answered so far (refusals are counted
 * by the server, which turns them into 429s). */
void             squint_generator_counts (SquintGenerator *self,
                                          guint           *waiting,
                                          gboolean        *running,
                                          guint64         *served);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SquintGenerator, squint_generator_free)

G_END_DECLS
