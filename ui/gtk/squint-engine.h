/* squint-engine.h — the model runtime behind a GObject: loads a model and
 * answers questions on a worker thread, streaming tokens and zoom events to
 * the main thread.
 *
 * Every call is made from the main thread; every signal and notification
 * arrives there.  Work is serialized on one worker (the engine's CPU backend
 * runs one session at a time per model).
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <gio/gio.h>

#include "squint-conversation.h"

G_BEGIN_DECLS

typedef enum
{
  SQUINT_ENGINE_EMPTY,     /* no model configured */
  SQUINT_ENGINE_LOADING,
  SQUINT_ENGINE_READY,
  SQUINT_ENGINE_FAILED,    /* the last load failed and no model is loaded */
} SquintEngineState;

typedef struct
{
  const char *policy;       /* "adaptive", "low", "full" */
  int         n_predict;    /* per pass */
  double      temperature;
  double      top_p;
  int         n_ctx;
} SquintAskOptions;

#define SQUINT_TYPE_ENGINE_STATE (squint_engine_state_get_type ())
#define SQUINT_TYPE_ENGINE       (squint_engine_get_type ())

GType squint_engine_state_get_type (void) G_GNUC_CONST;

G_DECLARE_FINAL_TYPE (SquintEngine, squint_engine, SQUINT, ENGINE, GObject)

SquintEngine      *squint_engine_new              (void);
SquintEngineState  squint_engine_get_state        (SquintEngine        *self);
gboolean           squint_engine_get_busy         (SquintEngine        *self);
double             squint_engine_get_progress     (SquintEngine        *self);
const char        *squint_engine_get_model_name   (SquintEngine        *self);
const char        *squint_engine_get_text_path    (SquintEngine        *self);
const char        *squint_engine_get_mmproj_path  (SquintEngine        *self);
const char        *squint_engine_get_error        (SquintEngine        *self);
gboolean           squint_engine_get_has_vision   (SquintEngine        *self);
void               squint_engine_load_async       (SquintEngine        *self,
                                                   const char          *text_path,
                                                   const char          *mmproj_path,
                                                   int                  n_threads,
                                                   GCancellable        *cancellable,
                                                   GAsyncReadyCallback  callback,
                                                   gpointer             user_data);
gboolean           squint_engine_load_finish      (SquintEngine        *self,
                                                   GAsyncResult        *result,
                                                   GError             **error);
void               squint_engine_unload           (SquintEngine        *self);
/* The compute backend later loads use: "cpu" (the default), "opencl", or
 * "auto" (OpenCL when there is a GPU).  Anything else is refused.  A load
 * whose OpenCL backend fails (no device, out of device memory) falls back
 * to the CPU and emits ::backend-fallback with the reason. */
const char        *squint_engine_get_backend      (SquintEngine        *self);
gboolean           squint_engine_set_backend      (SquintEngine        *self,
                                                   const char          *backend,
                                                   GError             **error);
/* What the loaded model runs on ("cpu", "opencl"), else NULL. */
const char        *squint_engine_get_device       (SquintEngine        *self);
/* Why the loaded model runs on the CPU though a GPU was chosen, else NULL. */
const char        *squint_engine_get_fallback_reason (SquintEngine     *self);
/* Whether that model is loaded and ready, with the backend now chosen. */
gboolean           squint_engine_is_loaded        (SquintEngine        *self,
                                                   const char          *text_path,
                                                   const char          *mmproj_path);
/* Answers through an OpenAI-compatible endpoint instead of a local model
 * (model NULL or "": the first the endpoint lists); the VisionThink loop
 * still runs here, so zooming and the ledger show as with a local model.
 * Loading or unloading a model leaves remote mode.  Fails (state FAILED)
 * for a URL that is not http(s), or when Squint was built without
 * libsoup. */
gboolean           squint_engine_use_remote       (SquintEngine        *self,
                                                   const char          *url,
                                                   const char          *api_key,
                                                   const char          *model,
                                                   GError             **error);
/* The endpoint in remote mode, else NULL. */
const char        *squint_engine_get_remote_url   (SquintEngine        *self);
/* Streams the answer into reply (text, status, zoom state, then the
 * ledger); images is a GPtrArray of SquintImage, may be NULL. */
void               squint_engine_ask_async        (SquintEngine        *self,
                                                   SquintConversation  *conversation,
                                                   const char          *question,
                                                   GPtrArray           *images,
                                                   SquintMessage       *reply,
                                                   const SquintAskOptions *options,
                                                   GCancellable        *cancellable,
                                                   GAsyncReadyCallback  callback,
                                                   gpointer             user_data);
gboolean           squint_engine_ask_finish       (SquintEngine        *self,
                                                   GAsyncResult        *result,
                                                   GError             **error);
/* Whether the conversation's earlier turns are in a live context. */
gboolean           squint_engine_remembers        (SquintEngine        *self,
                                                   SquintConversation  *conversation);
void               squint_engine_forget           (SquintEngine        *self,
                                                   SquintConversation  *conversation);

G_END_DECLS
