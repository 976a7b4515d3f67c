/* remote.h — any OpenAI-compatible endpoint (vLLM serving VisionThink,
 * another squint-server, …) as Squint's model, with the VisionThink loop run
 * here: the half-size images go out with the protocol prompt, a resize tool
 * call in the streamed reply brings the originals in a tool-response turn,
 * so the zoom and the visual-token ledger are known on this side.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <libsoup/soup.h>

#include "squint.h"

G_BEGIN_DECLS

#define SQUINT_REMOTE_ERROR (squint_remote_error_quark ())
GQuark squint_remote_error_quark (void);

typedef enum
{
  SQUINT_REMOTE_ERROR_NETWORK,   /* could not reach the endpoint */
  SQUINT_REMOTE_ERROR_HTTP,      /* it answered with an error status (its message kept) */
  SQUINT_REMOTE_ERROR_PROTOCOL,  /* it answered, but not as an OpenAI endpoint does */
  SQUINT_REMOTE_ERROR_IMAGE,     /* an image could not be prepared */
} SquintRemoteError;

typedef struct _SquintRemote SquintRemote;

typedef struct
{
  int     n_images;
  int     low_w, low_h, full_w, full_h;   /* the first image's sizes */
  gint64  low_tokens, full_tokens;        /* summed over the images */
} SquintRemoteZoom;

typedef struct
{
  /* the raw reply text as it streams (both passes) */
  void (*delta) (const char *text, gpointer user_data);
  /* the model asked for the full image(s); pass 2 follows */
  void (*zoom)  (const SquintRemoteZoom *zoom, gpointer user_data);
} SquintRemoteCallbacks;

typedef struct
{
  char     *reply;          /* everything the model wrote, both passes */
  char     *answer;         /* as sq_answer: the last <answer>, else the visible reply */
  char     *think;          /* may be NULL */
  gboolean  zoom_requested, zoomed, tool_call_error;
  gint64    visual_low, visual_full, visual_used, visual_baseline, visual_saved;
  gint64    prompt_tokens, completion_tokens;   /* as the endpoint reported them (0: not given) */
} SquintRemoteAnswer;

void squint_remote_answer_free (SquintRemoteAnswer *a);

/* base_url: e.g. http://127.0.0.1:8080/v1 (a missing /v1 is added). */
SquintRemote *squint_remote_new    (const char  *base_url,
                                    const char  *api_key,
                                    const char  *model,
                                    GError     **error);
void          squint_remote_free   (SquintRemote *self);

/* images: decoded originals (kept alive by the caller until finished).
 * top_p outside (0, 1) is not sent: the endpoint's default. */
void          squint_remote_ask_async  (SquintRemote                *self,
                                        const char                  *question,
                                        const sq_image *const       *images,
                                        guint                        n_images,
                                        sq_policy                    policy,
                                        int                          max_tokens,
                                        double                       temperature,
                                        double                       top_p,
                                        const SquintRemoteCallbacks *callbacks,
                                        gpointer                     callback_data,
                                        GCancellable                *cancellable,
                                        GAsyncReadyCallback          ready,
                                        gpointer                     user_data);
SquintRemoteAnswer *squint_remote_ask_finish (SquintRemote  *self,
                                              GAsyncResult  *result,
                                              GError       **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SquintRemote, squint_remote_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SquintRemoteAnswer, squint_remote_answer_free)

G_END_DECLS
