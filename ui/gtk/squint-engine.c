/* squint-engine.c
 *
 * One GThreadPool with a single thread runs every job in order: loading a
 * model, answering a question, freeing a session or a model.  Models and
 * sessions are reference-counted boxes; the engine and each queued job hold
 * references, and the last one is always dropped on the worker (the engine
 * hands its own references over in "release" jobs), so nothing is freed
 * under a running computation.
 *
 * Jobs never keep the engine alive: they talk back through weak references
 * and g_main_context_invoke(), and every delivery checks the job's
 * GCancellable first, so tokens still queued after Stop are dropped.
 *
 * In remote mode (squint_engine_use_remote()) questions go to an
 * OpenAI-compatible endpoint through SquintRemote on the main thread
 * instead; its stream and its zoom are turned into the same events a local
 * answer gives, so the reply changes the same way.
 *
 * SPDX-License-Identifier: MIT
 */
#define G_LOG_DOMAIN "squint-engine"

#include "squint-config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "squint-engine.h"
#include "squint-error.h"
#include "squint.h"

#ifdef SQUINT_HAVE_API
#include "remote.h"
#endif

#define MAX_SESSIONS 4

typedef struct
{
  sq_model *m;
  char     *name;
  char     *text_path;
  char     *mmproj_path;
  gboolean  has_vision;
  char     *backend;       /* the choice it was loaded with: "cpu", "opencl", "auto" */
  char     *device;        /* what it runs on: "cpu", "opencl" */
  char     *fallback;      /* why it runs on the CPU though a GPU was chosen, or NULL */
} Model;

typedef struct
{
  Model      *model;
  sq_session *s;
  int         n_ctx;
} Session;

/* The endpoint of remote mode (main thread only): every answer in flight
 * holds a reference, since a SquintRemote must outlive its requests. */
typedef struct
{
#ifdef SQUINT_HAVE_API
  SquintRemote *remote;
#endif
  char         *url;
  char         *name;
} Remote;

/* The engine's side of a conversation's session. */
typedef struct
{
  Session  *session;
  guint64   last_use;
  gboolean  used;       /* answered at least once: it remembers */
} Entry;

struct _SquintEngine
{
  GObject            parent_instance;

  GThreadPool       *pool;
  Model             *model;
  Remote            *remote;        /* remote mode: then model is NULL */
  GHashTable        *entries;       /* guint64 uid → Entry */
  guint64            use_counter;
  guint              load_serial;
  guint              n_asks;
  SquintEngineState  state;
  double             progress;
  char              *error;
  char              *forced_reply;
  char              *backend;       /* for the next loads */
};

enum {
  PROP_0,
  PROP_STATE,
  PROP_BUSY,
  PROP_PROGRESS,
  PROP_MODEL_NAME,
  PROP_TEXT_PATH,
  PROP_MMPROJ_PATH,
  PROP_ERROR,
  PROP_HAS_VISION,
  PROP_FORCED_REPLY,
  PROP_BACKEND,
  PROP_DEVICE,
  PROP_FALLBACK_REASON,
  N_PROPS
};

enum {
  BACKEND_FALLBACK,
  N_SIGNALS
};

G_DEFINE_ENUM_TYPE (SquintEngineState, squint_engine_state,
                    G_DEFINE_ENUM_VALUE (SQUINT_ENGINE_EMPTY, "empty"),
                    G_DEFINE_ENUM_VALUE (SQUINT_ENGINE_LOADING, "loading"),
                    G_DEFINE_ENUM_VALUE (SQUINT_ENGINE_READY, "ready"),
                    G_DEFINE_ENUM_VALUE (SQUINT_ENGINE_FAILED, "failed"))

G_DEFINE_FINAL_TYPE (SquintEngine, squint_engine, G_TYPE_OBJECT)

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

/* What sq_model_params.backend takes. */
static const char *const backends[] = { "cpu", "opencl", "auto", NULL };

/* ---- boxes ---- */

static void
model_clear (Model *m)
{
  g_debug ("Freeing model %s", m->name);
  sq_model_free (m->m);
  g_free (m->name);
  g_free (m->text_path);
  g_free (m->mmproj_path);
  g_free (m->backend);
  g_free (m->device);
  g_free (m->fallback);
}

static Model *
model_ref (Model *m)
{
  return g_atomic_rc_box_acquire (m);
}

static void
model_unref (Model *m)
{
  g_atomic_rc_box_release_full (m, (GDestroyNotify)model_clear);
}

static void
remote_clear (Remote *r)
{
#ifdef SQUINT_HAVE_API
  g_clear_pointer (&r->remote, squint_remote_free);
#endif
  g_free (r->url);
  g_free (r->name);
}

static void
remote_unref (Remote *r)
{
  g_rc_box_release_full (r, (GDestroyNotify)remote_clear);
}

static void
session_clear (Session *s)
{
  if (s->s != NULL)
    sq_session_free (s->s);
  model_unref (s->model);
}

static Session *
session_ref (Session *s)
{
  return g_atomic_rc_box_acquire (s);
}

static void
session_unref (Session *s)
{
  g_atomic_rc_box_release_full (s, (GDestroyNotify)session_clear);
}

/* ---- deliveries to the main thread ---- */

typedef struct
{
  GWeakRef      engine;
  GWeakRef      reply;
  GCancellable *cancellable;
  guint         load_serial;
} Stream;

static void
stream_clear (Stream *s)
{
  g_weak_ref_clear (&s->engine);
  g_weak_ref_clear (&s->reply);
  g_clear_object (&s->cancellable);
}

static Stream *
stream_new (SquintEngine  *engine,
            SquintMessage *reply,
            GCancellable  *cancellable)
{
  Stream *s = g_atomic_rc_box_new0 (Stream);

  g_weak_ref_init (&s->engine, engine);
  g_weak_ref_init (&s->reply, reply);
  s->cancellable = cancellable ? g_object_ref (cancellable) : g_cancellable_new ();
  return s;
}

static void
stream_unref (Stream *s)
{
  g_atomic_rc_box_release_full (s, (GDestroyNotify)stream_clear);
}

typedef enum
{
  DELIVER_TOKEN,
  DELIVER_EVENT,
  DELIVER_LOAD_PROGRESS,
} DeliveryKind;

typedef struct
{
  Stream        *stream;
  DeliveryKind   kind;
  char          *text;
  sq_event_kind  event;
  gint64         value;
  gint64         total;
  int            low_w, low_h, full_w, full_h;
  gint64         low_tokens, full_tokens;
  double         progress;
} Delivery;

static void
delivery_free (gpointer data)
{
  Delivery *d = data;

  stream_unref (d->stream);
  g_free (d->text);
  g_free (d);
}

/* ---- jobs ---- */

typedef enum
{
  JOB_LOAD,
  JOB_ASK,
  JOB_RELEASE,
} JobKind;

typedef struct
{
  JobKind        kind;
  GTask         *task;          /* load, ask: the inner task (ref held by the pool) */
  GMainContext  *context;
  Stream        *stream;
  /* load */
  char          *text_path;
  char          *mmproj_path;
  int            n_threads;
  char          *backend;
  float          last_progress;
  /* ask */
  Session       *session;
  char          *question;
  sq_image      *images;        /* n_images; an empty one is loaded from paths[i] */
  char         **paths;
  guint          n_images;
  sq_policy      policy;
  int            n_predict;
  float          temperature;
  float          top_p;
  char          *forced_reply;
  gboolean       has_images;
  /* release */
  Session       *release_session;
  Model         *release_model;
} Job;

static void
job_free (Job *job)
{
  g_clear_pointer (&job->context, g_main_context_unref);
  g_clear_pointer (&job->stream, stream_unref);
  g_free (job->text_path);
  g_free (job->mmproj_path);
  g_free (job->backend);
  g_clear_pointer (&job->session, session_unref);
  g_free (job->question);
  for (guint i = 0; i < job->n_images; i++)
    sq_image_free (&job->images[i]);
  g_free (job->images);
  g_strfreev (job->paths);
  g_free (job->forced_reply);
  g_clear_pointer (&job->release_session, session_unref);
  g_clear_pointer (&job->release_model, model_unref);
  g_free (job);
}

typedef struct
{
  sq_answer answer;
  gboolean  has_images;
} AskResult;

static void
ask_result_free (AskResult *r)
{
  sq_answer_free (&r->answer);
  g_free (r);
}

static void engine_set_progress (SquintEngine *self, double progress);
static void apply_event (SquintMessage *reply, const Delivery *d);

/* Main thread: one token, event or progress step. */
static gboolean
deliver_on_main (gpointer data)
{
  Delivery *d = data;
  g_autoptr(SquintMessage) reply = NULL;
  g_autoptr(SquintEngine) engine = NULL;

  if (d->kind == DELIVER_LOAD_PROGRESS)
    {
      engine = g_weak_ref_get (&d->stream->engine);
      if (engine != NULL && engine->load_serial == d->stream->load_serial)
        engine_set_progress (engine, d->progress);
      return G_SOURCE_REMOVE;
    }

  /* stale: the user stopped this answer */
  if (g_cancellable_is_cancelled (d->stream->cancellable))
    return G_SOURCE_REMOVE;
  if ((reply = g_weak_ref_get (&d->stream->reply)) == NULL)
    return G_SOURCE_REMOVE;

  if (d->kind == DELIVER_TOKEN)
    {
      if (squint_message_get_state (reply) != SQUINT_MESSAGE_GENERATING)
        squint_message_set_state (reply, SQUINT_MESSAGE_GENERATING);
      squint_message_append_text (reply, d->text);
    }
  else
    apply_event (reply, d);

  return G_SOURCE_REMOVE;
}

static void
deliver (Job      *job,
         Delivery *d)
{
  d->stream = g_atomic_rc_box_acquire (job->stream);
  g_main_context_invoke_full (job->context, G_PRIORITY_DEFAULT, deliver_on_main, d, delivery_free);
}

static void
apply_event (SquintMessage  *reply,
             const Delivery *d)
{
  switch (d->event)
    {
    case SQ_EVENT_ENCODING_IMAGE:
      squint_message_set_status (reply,
                                 squint_message_get_zoom_state (reply) == SQUINT_ZOOM_ZOOMING
                                 ? _("Looking closer…") : _("Looking at the image…"));
      break;

    case SQ_EVENT_PREFILL_PROGRESS:
      if (d->total > 0 && squint_message_get_zoom_state (reply) != SQUINT_ZOOM_ZOOMING)
        {
          g_autofree char *status = NULL;

          /* Translators: the prompt is being read; %d is a percentage */
          status = g_strdup_printf (_("Reading… %d%%"), (int)(100 * d->value / d->total));
          squint_message_set_status (reply, status);
        }
      break;

    case SQ_EVENT_TURN_STARTED:
      squint_message_set_state (reply, SQUINT_MESSAGE_GENERATING);
      if (d->value == 1)
        {
          const char *policy = squint_message_get_policy (reply);

          if (squint_message_get_subject (reply) != NULL)
            squint_message_set_zoom_state (reply, g_strcmp0 (policy, "full") == 0
                                                   ? SQUINT_ZOOM_FULL : SQUINT_ZOOM_LOW);
          squint_message_set_status (reply, _("Thinking…"));
        }
      else
        squint_message_set_status (reply, _("Answering…"));
      break;

    case SQ_EVENT_ZOOM_REQUESTED:
      {
        g_autofree char *status = NULL;

        squint_message_set_zoom_state (reply, SQUINT_ZOOM_ZOOMING);
        /* Translators: the model asked for the full image: "Zooming in: 224 × 168 → 448 × 336" */
        status = g_strdup_printf (_("Zooming in: %d × %d → %d × %d"), d->low_w, d->low_h, d->full_w, d->full_h);
        squint_message_set_status (reply, status);
      }
      break;

    case SQ_EVENT_ZOOM_DONE:
      squint_message_set_zoom_state (reply, SQUINT_ZOOM_ZOOMED);
      squint_message_set_status (reply, _("Answering…"));
      break;

    case SQ_EVENT_IMAGE_ENCODED:
    default:
      break;
    }
}

/* ---- the worker ---- */

static void
on_load_progress (float    fraction,
                  gpointer user_data)
{
  Job *job = user_data;
  Delivery *d;

  if (fraction < 1.0f && fraction - job->last_progress < 0.01f)
    return;
  job->last_progress = fraction;
  d = g_new0 (Delivery, 1);
  d->kind = DELIVER_LOAD_PROGRESS;
  d->progress = fraction;
  deliver (job, d);
}

static void
run_load (Job *job)
{
  sq_model_params p = sq_model_default_params ();
  sq_model *m = NULL;
  sq_error err = { 0 };
  g_autofree char *fallback = NULL;
  Model *model;
  GError *error = NULL;

  p.text_path = job->text_path;
  p.mmproj_path = job->mmproj_path;
  p.backend = job->backend;
  p.n_threads = job->n_threads;
  p.progress = on_load_progress;
  p.user_data = job;

  if (sq_model_load (&p, &m, &err) != SQ_OK && g_strcmp0 (job->backend, "cpu") != 0)
    {
      /* No device, out of device memory, a driver error: the CPU then.
       * Should the file be at fault, the CPU says so too. */
      g_debug ("Loading on %s failed (%s); trying the CPU", job->backend, err.msg);
      fallback = g_strdup (err.msg);
      memset (&err, 0, sizeof err);
      p.backend = "cpu";
      job->last_progress = 0;
      sq_model_load (&p, &m, &err);
    }
  if (m == NULL)
    {
      squint_set_sq_error (&error, SQUINT_ERROR_MODEL, &err);
      g_task_return_error (job->task, error);
      return;
    }

  model = g_atomic_rc_box_new0 (Model);
  model->m = m;
  model->name = g_strdup (sq_model_get_info (m).name);
  model->has_vision = sq_model_get_info (m).has_vision;
  model->text_path = g_strdup (job->text_path);
  model->mmproj_path = g_strdup (job->mmproj_path);
  model->backend = g_strdup (job->backend);
  model->device = g_strdup (sq_model_get_info (m).backend);
  model->fallback = g_steal_pointer (&fallback);
  g_task_return_pointer (job->task, model, (GDestroyNotify)model_unref);
}

static bool
should_abort (void *user_data)
{
  Job *job = user_data;

  return g_cancellable_is_cancelled (job->stream->cancellable);
}

static void
on_event (const sq_event *ev,
          gpointer        user_data)
{
  Job *job = user_data;
  Delivery *d = g_new0 (Delivery, 1);

  d->kind = DELIVER_EVENT;
  d->event = ev->kind;
  d->value = ev->value;
  d->total = ev->total;
  if (ev->zoom != NULL && ev->zoom->n_images > 0)
    {
      d->low_w = ev->zoom->low_w[0];
      d->low_h = ev->zoom->low_h[0];
      d->full_w = ev->zoom->full_w[0];
      d->full_h = ev->zoom->full_h[0];
      d->low_tokens = ev->zoom->low_tokens;
      d->full_tokens = ev->zoom->full_tokens;
    }
  deliver (job, d);
}

static bool
on_token (int32_t     id,
          const char *text,
          size_t      len,
          void       *user_data)
{
  Job *job = user_data;
  Delivery *d;

  if (g_cancellable_is_cancelled (job->stream->cancellable))
    return false;
  if (len == 0)
    return true;
  d = g_new0 (Delivery, 1);
  d->kind = DELIVER_TOKEN;
  d->text = g_strndup (text, len);
  deliver (job, d);
  return true;
}

static void
run_ask (Job *job)
{
  Session *session = job->session;
  g_autofree const sq_image **ptrs = NULL;
  sq_callbacks cb = { on_event, should_abort, job };
  sq_ask_params p = sq_ask_default_params ();
  sq_error err = { 0 };
  GError *error = NULL;
  AskResult *result;
  sq_status st;

  if (g_task_return_error_if_cancelled (job->task))
    return;

  if (session->s == NULL)
    {
      sq_session_params sp = sq_session_default_params ();

      sp.n_ctx = session->n_ctx;
      if (sq_session_new (session->model->m, &sp, &session->s, &err) != SQ_OK)
        {
          squint_set_sq_error (&error, SQUINT_ERROR_ENGINE, &err);
          g_task_return_error (job->task, error);
          return;
        }
    }

  ptrs = g_new0 (const sq_image *, job->n_images + 1);
  for (guint i = 0; i < job->n_images; i++)
    {
      if (job->images[i].rgb == NULL &&
          sq_image_load_file (job->paths[i], NULL, &job->images[i], &err) != SQ_OK)
        {
          squint_set_sq_error (&error, SQUINT_ERROR_IMAGE, &err);
          g_task_return_error (job->task, error);
          return;
        }
      ptrs[i] = &job->images[i];
    }

  sq_session_set_callbacks (session->s, &cb);
  p.policy = job->policy;
  p.gen.n_predict = job->n_predict;
  p.gen.sampling.temperature = job->temperature;
  p.gen.sampling.top_p = job->top_p;
  p.gen.sampling.seed = g_random_int ();
  p.gen.on_token = on_token;
  p.gen.user_data = job;
  p.forced_reply = job->forced_reply;

  result = g_new0 (AskResult, 1);
  result->has_images = job->has_images;
  st = sq_session_ask (session->s, job->question, ptrs, job->n_images, &p, &result->answer, &err);
  sq_session_set_callbacks (session->s, &(sq_callbacks) { 0 });
  if (st != SQ_OK)
    {
      ask_result_free (result);
      squint_set_sq_error (&error, SQUINT_ERROR_ENGINE, &err);
      g_task_return_error (job->task, error);
      return;
    }
  g_task_return_pointer (job->task, result, (GDestroyNotify)ask_result_free);
}

static void
worker (gpointer data,
        gpointer user_data)
{
  Job *job = data;

  switch (job->kind)
    {
    case JOB_LOAD:
      run_load (job);
      g_object_unref (job->task);
      break;
    case JOB_ASK:
      run_ask (job);
      g_object_unref (job->task);
      break;
    case JOB_RELEASE:
    default:
      job_free (job);
      break;
    }
}

/* Hands references over to the worker, which drops them in order. */
static void
release_on_worker (SquintEngine *self,
                   Session      *session,
                   Model        *model)
{
  Job *job = g_new0 (Job, 1);

  job->kind = JOB_RELEASE;
  job->release_session = session;
  job->release_model = model;
  g_thread_pool_push (self->pool, job, NULL);
}

static void
entry_free (gpointer data)
{
  g_free (data);
}

static void
forget_all (SquintEngine *self)
{
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->entries);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      Entry *e = value;

      release_on_worker (self, g_steal_pointer (&e->session), NULL);
      g_hash_table_iter_remove (&iter);
    }
}

static void
forget_uid (SquintEngine *self,
            guint64       uid)
{
  Entry *e = g_hash_table_lookup (self->entries, &uid);

  if (e == NULL)
    return;
  release_on_worker (self, g_steal_pointer (&e->session), NULL);
  g_hash_table_remove (self->entries, &uid);
}

/* ---- state ---- */

static void
engine_set_progress (SquintEngine *self,
                     double        progress)
{
  if (self->progress == progress)
    return;
  self->progress = progress;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PROGRESS]);
}

static void
engine_set_state (SquintEngine      *self,
                  SquintEngineState  state)
{
  if (self->state == state)
    return;
  self->state = state;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
}

static void
engine_set_error (SquintEngine *self,
                  const char   *error)
{
  if (g_strcmp0 (self->error, error) == 0)
    return;
  g_free (self->error);
  self->error = g_strdup (error);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ERROR]);
}

static void
notify_model (SquintEngine *self)
{
  g_object_freeze_notify (G_OBJECT (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MODEL_NAME]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TEXT_PATH]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MMPROJ_PATH]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_HAS_VISION]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DEVICE]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FALLBACK_REASON]);
  g_object_thaw_notify (G_OBJECT (self));
}

static void
engine_set_model (SquintEngine *self,
                  Model        *model)
{
  if (self->model == model)
    return;
  forget_all (self);
  if (self->model != NULL)
    release_on_worker (self, NULL, g_steal_pointer (&self->model));
  self->model = model;
  notify_model (self);
}

/* Enters (remote owned) or leaves (NULL) remote mode; answers in flight
 * keep their own reference. */
static void
engine_set_remote (SquintEngine *self,
                   Remote       *remote)
{
  if (self->remote == NULL && remote == NULL)
    return;
  g_clear_pointer (&self->remote, remote_unref);
  self->remote = remote;
  notify_model (self);
}

static void
set_busy (SquintEngine *self,
          gboolean      started)
{
  gboolean was = self->n_asks > 0;

  if (started)
    self->n_asks++;
  else
    self->n_asks--;
  if (was != (self->n_asks > 0))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BUSY]);
}

/* ---- the class ---- */

static void
squint_engine_dispose (GObject *object)
{
  SquintEngine *self = (SquintEngine *)object;

  if (self->pool != NULL)
    {
      forget_all (self);
      if (self->model != NULL)
        release_on_worker (self, NULL, g_steal_pointer (&self->model));
      /* waits for the queue: everything is freed on the worker */
      g_thread_pool_free (g_steal_pointer (&self->pool), FALSE, TRUE);
    }
  g_clear_pointer (&self->remote, remote_unref);

  G_OBJECT_CLASS (squint_engine_parent_class)->dispose (object);
}

static void
squint_engine_finalize (GObject *object)
{
  SquintEngine *self = (SquintEngine *)object;

  g_clear_pointer (&self->entries, g_hash_table_unref);
  g_clear_pointer (&self->error, g_free);
  g_clear_pointer (&self->forced_reply, g_free);
  g_clear_pointer (&self->backend, g_free);

  G_OBJECT_CLASS (squint_engine_parent_class)->finalize (object);
}

static void
squint_engine_get_property (GObject    *object,
                            guint       prop_id,
                            GValue     *value,
                            GParamSpec *pspec)
{
  SquintEngine *self = SQUINT_ENGINE (object);

  switch (prop_id)
    {
    case PROP_STATE:
      g_value_set_enum (value, self->state);
      break;
    case PROP_BUSY:
      g_value_set_boolean (value, self->n_asks > 0);
      break;
    case PROP_PROGRESS:
      g_value_set_double (value, self->progress);
      break;
    case PROP_MODEL_NAME:
      g_value_set_string (value, squint_engine_get_model_name (self));
      break;
    case PROP_TEXT_PATH:
      g_value_set_string (value, squint_engine_get_text_path (self));
      break;
    case PROP_MMPROJ_PATH:
      g_value_set_string (value, squint_engine_get_mmproj_path (self));
      break;
    case PROP_ERROR:
      g_value_set_string (value, self->error);
      break;
    case PROP_HAS_VISION:
      g_value_set_boolean (value, squint_engine_get_has_vision (self));
      break;
    case PROP_FORCED_REPLY:
      g_value_set_string (value, self->forced_reply);
      break;
    case PROP_BACKEND:
      g_value_set_string (value, self->backend);
      break;
    case PROP_DEVICE:
      g_value_set_string (value, squint_engine_get_device (self));
      break;
    case PROP_FALLBACK_REASON:
      g_value_set_string (value, squint_engine_get_fallback_reason (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
squint_engine_set_property (GObject      *object,
                            guint         prop_id,
                            const GValue *value,
                            GParamSpec   *pspec)
{
  SquintEngine *self = SQUINT_ENGINE (object);

  switch (prop_id)
    {
    case PROP_FORCED_REPLY:
      if (g_strcmp0 (self->forced_reply, g_value_get_string (value)) != 0)
        {
          g_free (self->forced_reply);
          self->forced_reply = g_value_dup_string (value);
          g_object_notify_by_pspec (object, pspec);
        }
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
squint_engine_class_init (SquintEngineClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  const GParamFlags ro = G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->dispose = squint_engine_dispose;
  object_class->finalize = squint_engine_finalize;
  object_class->get_property = squint_engine_get_property;
  object_class->set_property = squint_engine_set_property;

  properties[PROP_STATE] =
    g_param_spec_enum ("state", NULL, NULL, SQUINT_TYPE_ENGINE_STATE, SQUINT_ENGINE_EMPTY, ro);
  properties[PROP_BUSY] = g_param_spec_boolean ("busy", NULL, NULL, FALSE, ro);
  properties[PROP_PROGRESS] = g_param_spec_double ("progress", NULL, NULL, 0, 1, 0, ro);
  properties[PROP_MODEL_NAME] = g_param_spec_string ("model-name", NULL, NULL, NULL, ro);
  properties[PROP_TEXT_PATH] = g_param_spec_string ("text-path", NULL, NULL, NULL, ro);
  properties[PROP_MMPROJ_PATH] = g_param_spec_string ("mmproj-path", NULL, NULL, NULL, ro);
  properties[PROP_ERROR] = g_param_spec_string ("error", NULL, NULL, NULL, ro);
  properties[PROP_HAS_VISION] = g_param_spec_boolean ("has-vision", NULL, NULL, FALSE, ro);
  /**
   * SquintEngine:forced-reply:
   *
   * A test hook: the model's first reply, fed instead of generated (for
   * instance a resize tool call, so a random test model asks to zoom).
   */
  properties[PROP_FORCED_REPLY] =
    g_param_spec_string ("forced-reply", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_BACKEND] = g_param_spec_string ("backend", NULL, NULL, "cpu", ro);
  properties[PROP_DEVICE] = g_param_spec_string ("device", NULL, NULL, NULL, ro);
  properties[PROP_FALLBACK_REASON] = g_param_spec_string ("fallback-reason", NULL, NULL, NULL, ro);

  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * SquintEngine::backend-fallback:
   * @reason: why the chosen GPU backend could not be used
   *
   * A model was loaded on the CPU because loading it on the chosen OpenCL
   * backend failed (no device, out of device memory, a driver error).
   */
  signals[BACKEND_FALLBACK] =
    g_signal_new ("backend-fallback", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, G_TYPE_STRING);
}

static void
squint_engine_init (SquintEngine *self)
{
  self->pool = g_thread_pool_new (worker, self, 1, FALSE, NULL);
  self->entries = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, entry_free);
  self->backend = g_strdup ("cpu");
}

SquintEngine *
squint_engine_new (void)
{
  return g_object_new (SQUINT_TYPE_ENGINE, NULL);
}

SquintEngineState
squint_engine_get_state (SquintEngine *self)
{
  g_return_val_if_fail (SQUINT_IS_ENGINE (self), SQUINT_ENGINE_EMPTY);

  return self->state;
}

gboolean
squint_engine_get_busy (SquintEngine *self)
{
  g_return_val_if_fail (SQUINT_IS_ENGINE (self), FALSE);

  return self->n_asks > 0;
}

double
squint_engine_get_progress (SquintEngine *self)
{
  g_return_val_if_fail (SQUINT_IS_ENGINE (self), 0);

  return self->progress;
}

const char *
squint_engine_get_model_name (SquintEngine *self)
{
  g_return_val_if_fail (SQUINT_IS_ENGINE (self), NULL);

  if (self->remote != NULL)
    return self->remote->name;
  return self->model ? self->model->name : NULL;
}

const char *
squint_engine_get_text_path (SquintEngine *self)
{
  g_return_val_if_fail (SQUINT_IS_ENGINE (self), NULL);

  return self->model ? self->model->text_path : NULL;
}

const char *
squint_engine_get_mmproj_path (SquintEngine *self)
{
  g_return_val_if_fail (SQUINT_IS_ENGINE (self), NULL);

  return self->model ? self->model->mmproj_path : NULL;
}

const char *
squint_engine_get_error (SquintEngine *self)
{
  g_return_val_if_fail (SQUINT_IS_ENGINE (self), NULL);

  return self->error;
}

gboolean
squint_engine_get_has_vision (SquintEngine *self)
{
  g_return_val_if_fail (SQUINT_IS_ENGINE (self), FALSE);

  /* an endpoint gets the images; whether its model sees them is its business */
  if (self->remote != NULL)
    return TRUE;
  return self->model != NULL && self->model->has_vision;
}

const char *
squint_engine_get_backend (SquintEngine *self)
{
  g_return_val_if_fail (SQUINT_IS_ENGINE (self), NULL);

  return self->backend;
}

gboolean
squint_engine_set_backend (SquintEngine  *self,
                           const char    *backend,
                           GError       **error)
{
  g_return_val_if_fail (SQUINT_IS_ENGINE (self), FALSE);
  g_return_val_if_fail (backend != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!g_strv_contains (backends, backend))
    {
      g_set_error (error, SQUINT_ERROR, SQUINT_ERROR_FAILED,
                   /* Translators: %s is what was asked for; cpu, opencl and auto are not translated */
                   _("There is no compute device “%s” (choose cpu, opencl or auto)"), backend);
      return FALSE;
    }
  if (g_strcmp0 (self->backend, backend) == 0)
    return TRUE;
  g_free (self->backend);
  self->backend = g_strdup (backend);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BACKEND]);
  return TRUE;
}

const char *
squint_engine_get_device (SquintEngine *self)
{
  g_return_val_if_fail (SQUINT_IS_ENGINE (self), NULL);

  return self->model ? self->model->device : NULL;
}

const char *
squint_engine_get_fallback_reason (SquintEngine *self)
{
  g_return_val_if_fail (SQUINT_IS_ENGINE (self), NULL);

  return self->model ? self->model->fallback : NULL;
}

gboolean
squint_engine_is_loaded (SquintEngine *self,
                         const char   *text_path,
                         const char   *mmproj_path)
{
  g_return_val_if_fail (SQUINT_IS_ENGINE (self), FALSE);

  if (mmproj_path != NULL && mmproj_path[0] == '\0')
    mmproj_path = NULL;
  return self->state == SQUINT_ENGINE_READY && self->remote == NULL && self->model != NULL &&
         g_strcmp0 (self->model->text_path, text_path) == 0 &&
         g_strcmp0 (self->model->mmproj_path, mmproj_path) == 0 &&
         g_strcmp0 (self->model->backend, self->backend) == 0;
}

/* ---- loading ---- */

static void
load_done (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(GTask) outer = user_data;
  SquintEngine *self = g_task_get_source_object (outer);
  Job *job = g_task_get_task_data (G_TASK (result));
  g_autoptr(GError) error = NULL;
  Model *model = g_task_propagate_pointer (G_TASK (result), &error);

  if (job->stream->load_serial != self->load_serial)
    {
      /* a newer load was started meanwhile: this one is stale */
      if (model != NULL)
        release_on_worker (self, NULL, model);
      g_task_return_new_error (outer, G_IO_ERROR, G_IO_ERROR_CANCELLED, _("Another model is being loaded"));
      return;
    }
  if (g_task_return_error_if_cancelled (outer))
    {
      /* loading cannot be interrupted; its result is dropped */
      if (model != NULL)
        release_on_worker (self, NULL, model);
      engine_set_state (self, self->model ? SQUINT_ENGINE_READY
                                          : self->error ? SQUINT_ENGINE_FAILED : SQUINT_ENGINE_EMPTY);
      return;
    }

  if (model == NULL)
    {
      engine_set_error (self, error->message);
      engine_set_state (self, self->model ? SQUINT_ENGINE_READY : SQUINT_ENGINE_FAILED);
      g_task_return_error (outer, g_steal_pointer (&error));
      return;
    }

  engine_set_error (self, NULL);
  engine_set_model (self, model);
  engine_set_state (self, SQUINT_ENGINE_READY);
  if (model->fallback != NULL)
    g_signal_emit (self, signals[BACKEND_FALLBACK], 0, model->fallback);
  g_task_return_boolean (outer, TRUE);
}

void
squint_engine_load_async (SquintEngine        *self,
                          const char          *text_path,
                          const char          *mmproj_path,
                          int                  n_threads,
                          GCancellable        *cancellable,
                          GAsyncReadyCallback  callback,
                          gpointer             user_data)
{
  g_autoptr(GTask) outer = NULL;
  GTask *inner;
  Job *job;

  g_return_if_fail (SQUINT_IS_ENGINE (self));
  g_return_if_fail (text_path != NULL);

  outer = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (outer, squint_engine_load_async);

  job = g_new0 (Job, 1);
  job->kind = JOB_LOAD;
  job->context = g_main_context_ref_thread_default ();
  job->stream = stream_new (self, NULL, cancellable);
  job->stream->load_serial = ++self->load_serial;
  job->text_path = g_strdup (text_path);
  job->mmproj_path = mmproj_path && mmproj_path[0] ? g_strdup (mmproj_path) : NULL;
  job->n_threads = n_threads;
  job->backend = g_strdup (self->backend);

  inner = g_task_new (NULL, NULL, load_done, g_steal_pointer (&outer));
  g_task_set_source_tag (inner, squint_engine_load_async);
  g_task_set_task_data (inner, job, (GDestroyNotify)job_free);
  job->task = inner;

  engine_set_remote (self, NULL);
  engine_set_progress (self, 0);
  engine_set_state (self, SQUINT_ENGINE_LOADING);
  g_thread_pool_push (self->pool, job, NULL);
}

gboolean
squint_engine_load_finish (SquintEngine  *self,
                           GAsyncResult  *result,
                           GError       **error)
{
  g_return_val_if_fail (SQUINT_IS_ENGINE (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

void
squint_engine_unload (SquintEngine *self)
{
  g_return_if_fail (SQUINT_IS_ENGINE (self));

  self->load_serial++;   /* a load in flight is now stale */
  engine_set_remote (self, NULL);
  engine_set_model (self, NULL);
  engine_set_error (self, NULL);
  engine_set_state (self, SQUINT_ENGINE_EMPTY);
}

/* ---- remote mode ---- */

#ifdef SQUINT_HAVE_API
/* What the model button shows: the model's name, else the endpoint's host. */
static char *
remote_display_name (const char *url,
                     const char *model)
{
  g_autoptr(GUri) uri = NULL;

  if (model != NULL && model[0] != '\0')
    return g_strdup (model);
  uri = g_uri_parse (url, G_URI_FLAGS_NONE, NULL);
  if (uri == NULL || g_uri_get_host (uri) == NULL)
    return g_strdup (url);
  if (g_uri_get_port (uri) > 0)
    return g_strdup_printf ("%s:%d", g_uri_get_host (uri), g_uri_get_port (uri));
  return g_strdup (g_uri_get_host (uri));
}
#endif

gboolean
squint_engine_use_remote (SquintEngine  *self,
                          const char    *url,
                          const char    *api_key,
                          const char    *model,
                          GError       **error)
{
  g_autoptr(GError) local_error = NULL;

  g_return_val_if_fail (SQUINT_IS_ENGINE (self), FALSE);
  g_return_val_if_fail (url != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  self->load_serial++;   /* a load in flight is now stale */
  g_object_freeze_notify (G_OBJECT (self));
  engine_set_model (self, NULL);   /* the endpoint answers instead: free the memory */
  {
#ifdef SQUINT_HAVE_API
    SquintRemote *remote = squint_remote_new (url, api_key, model, &local_error);

    if (remote != NULL)
      {
        Remote *r = g_rc_box_new0 (Remote);

        r->remote = remote;
        r->url = g_strdup (url);
        r->name = remote_display_name (url, model);
        engine_set_remote (self, r);
        engine_set_error (self, NULL);
        engine_set_state (self, SQUINT_ENGINE_READY);
        g_object_thaw_notify (G_OBJECT (self));
        return TRUE;
      }
    /* Translators: the reason follows, e.g. "'ftp://x' is not an http(s) URL" */
    g_prefix_error (&local_error, _("The remote model cannot be used: "));
#else
    g_set_error_literal (&local_error, SQUINT_ERROR, SQUINT_ERROR_MODEL,
                         _("This copy of Squint was built without remote model support (libsoup)"));
#endif
  }
  engine_set_remote (self, NULL);
  engine_set_error (self, local_error->message);
  engine_set_state (self, SQUINT_ENGINE_FAILED);
  g_object_thaw_notify (G_OBJECT (self));
  g_propagate_error (error, g_steal_pointer (&local_error));
  return FALSE;
}

const char *
squint_engine_get_remote_url (SquintEngine *self)
{
  g_return_val_if_fail (SQUINT_IS_ENGINE (self), NULL);

  return self->remote ? self->remote->url : NULL;
}

/* ---- asking ---- */

static void
ask_done (GObject      *object,
          GAsyncResult *result,
          gpointer      user_data)
{
  g_autoptr(GTask) outer = user_data;
  SquintEngine *self = g_task_get_source_object (outer);
  Job *job = g_task_get_task_data (G_TASK (result));
  g_autoptr(SquintMessage) reply = g_weak_ref_get (&job->stream->reply);
  guint64 uid = GPOINTER_TO_SIZE (g_task_get_task_data (outer));
  g_autoptr(GError) error = NULL;
  AskResult *r = g_task_propagate_pointer (G_TASK (result), &error);
  Entry *entry = g_hash_table_lookup (self->entries, &uid);

  set_busy (self, FALSE);

  if (r == NULL)
    {
      /* the context may hold half a turn now: start afresh next time */
      if (entry != NULL && entry->session == job->session)
        forget_uid (self, uid);
      if (reply != NULL)
        {
          gboolean cancelled = g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);

          squint_message_set_status (reply, NULL);
          if (!cancelled)
            squint_message_set_error (reply, error->message);
          squint_message_set_state (reply, cancelled ? SQUINT_MESSAGE_STOPPED : SQUINT_MESSAGE_FAILED);
        }
      g_task_return_error (outer, g_steal_pointer (&error));
      return;
    }

  if (entry != NULL && entry->session == job->session)
    entry->used = TRUE;

  if (reply != NULL)
    {
      const sq_answer *a = &r->answer;
      double decode_ms = a->decode_ms[0] + a->decode_ms[1];
      gint64 generated = a->generated[0] + a->generated[1];
      SquintMessageStats stats = {
        .visual_low = a->visual_low,
        .visual_full = a->visual_full,
        .visual_used = a->visual_used,
        .visual_baseline = a->visual_baseline,
        .tokens_per_second = decode_ms > 0 ? 1000.0 * (double)generated / decode_ms : 0,
        .first_token_ms = a->first_token_ms,
      };

      g_object_freeze_notify (G_OBJECT (reply));
      squint_message_set_text (reply, a->reply);
      squint_message_set_parts (reply, a->think, a->answer);
      if (a->zoomed)
        squint_message_set_zoom_state (reply, SQUINT_ZOOM_ZOOMED);
      if (a->visual_used > 0 || a->visual_baseline > 0)
        squint_message_set_stats (reply, &stats);
      squint_message_set_status (reply, NULL);
      squint_message_set_state (reply, SQUINT_MESSAGE_DONE);
      g_object_thaw_notify (G_OBJECT (reply));
    }

  ask_result_free (r);
  g_task_return_boolean (outer, TRUE);
}

static Entry *
lookup_entry (SquintEngine *self,
              guint64       uid,
              int           n_ctx)
{
  Entry *entry = g_hash_table_lookup (self->entries, &uid);

  if (entry == NULL)
    {
      Session *session;
      gint64 *key;

      /* keep a few contexts: each one holds a KV cache */
      while (g_hash_table_size (self->entries) >= MAX_SESSIONS)
        {
          GHashTableIter iter;
          gpointer k, v;
          guint64 oldest = 0, oldest_use = G_MAXUINT64;

          g_hash_table_iter_init (&iter, self->entries);
          while (g_hash_table_iter_next (&iter, &k, &v))
            if (((Entry *)v)->last_use < oldest_use)
              {
                oldest_use = ((Entry *)v)->last_use;
                oldest = *(guint64 *)k;
              }
          forget_uid (self, oldest);
        }

      session = g_atomic_rc_box_new0 (Session);
      session->model = model_ref (self->model);
      session->n_ctx = n_ctx > 0 ? n_ctx : sq_session_default_params ().n_ctx;
      entry = g_new0 (Entry, 1);
      entry->session = session;
      key = g_new (gint64, 1);
      *key = (gint64)uid;
      g_hash_table_insert (self->entries, key, entry);
    }
  entry->last_use = ++self->use_counter;
  return entry;
}

/* ---- asking an endpoint ---- */

#ifdef SQUINT_HAVE_API
typedef struct
{
  GTask         *task;          /* the caller's */
  Remote        *remote;
  GWeakRef       reply;
  GCancellable  *cancellable;
  char          *question;
  sq_image      *images;        /* n_images; an empty one is loaded from paths[i] */
  char         **paths;
  guint          n_images;
  sq_policy      policy;
  int            n_predict;
  double         temperature, top_p;
  gint64         start_us;      /* monotonic: asked */
  gint64         first_us;      /* the first text (0: none yet) */
  gint64         zoom_us;       /* the model asked for the full image (0: not waiting for it) */
  gint64         gap_us;        /* spent waiting for the endpoint to look closer */
} RemoteAsk;

static void
remote_ask_free (RemoteAsk *ra)
{
  g_clear_object (&ra->task);
  g_clear_pointer (&ra->remote, remote_unref);
  g_weak_ref_clear (&ra->reply);
  g_clear_object (&ra->cancellable);
  g_free (ra->question);
  for (guint i = 0; i < ra->n_images; i++)
    sq_image_free (&ra->images[i]);
  g_free (ra->images);
  g_strfreev (ra->paths);
  g_free (ra);
}

/* The reply to update, or NULL once the user stopped it or it is gone. */
static SquintMessage *
remote_dup_reply (RemoteAsk *ra)
{
  if (g_cancellable_is_cancelled (ra->cancellable))
    return NULL;
  return g_weak_ref_get (&ra->reply);
}

/* What a local answer's engine event does to the reply. */
static void
remote_event (SquintMessage          *reply,
              sq_event_kind           kind,
              gint64                  value,
              const SquintRemoteZoom *zoom)
{
  Delivery d = { .kind = DELIVER_EVENT, .event = kind, .value = value };

  if (zoom != NULL)
    {
      d.low_w = zoom->low_w;
      d.low_h = zoom->low_h;
      d.full_w = zoom->full_w;
      d.full_h = zoom->full_h;
      d.low_tokens = zoom->low_tokens;
      d.full_tokens = zoom->full_tokens;
    }
  apply_event (reply, &d);
}

/* The endpoint began to answer: the first turn has started. */
static void
remote_begin (RemoteAsk     *ra,
              SquintMessage *reply)
{
  if (ra->first_us != 0)
    return;
  ra->first_us = g_get_monotonic_time ();
  remote_event (reply, SQ_EVENT_TURN_STARTED, 1, NULL);
}

static void
on_remote_delta (const char *text,
                 gpointer    user_data)
{
  RemoteAsk *ra = user_data;
  g_autoptr(SquintMessage) reply = remote_dup_reply (ra);

  if (reply == NULL)
    return;
  remote_begin (ra, reply);
  if (ra->zoom_us != 0)
    {
      /* the answer after the full image has begun */
      ra->gap_us += g_get_monotonic_time () - ra->zoom_us;
      ra->zoom_us = 0;
      remote_event (reply, SQ_EVENT_ZOOM_DONE, 0, NULL);
    }
  if (squint_message_get_state (reply) != SQUINT_MESSAGE_GENERATING)
    squint_message_set_state (reply, SQUINT_MESSAGE_GENERATING);
  squint_message_append_text (reply, text);
}

static void
on_remote_zoom (const SquintRemoteZoom *zoom,
                gpointer                user_data)
{
  RemoteAsk *ra = user_data;
  g_autoptr(SquintMessage) reply = remote_dup_reply (ra);

  if (reply == NULL)
    return;
  remote_begin (ra, reply);
  remote_event (reply, SQ_EVENT_ZOOM_REQUESTED, 0, zoom);
  /* the originals are on their way: "Looking closer…" */
  remote_event (reply, SQ_EVENT_ENCODING_IMAGE, 0, NULL);
  ra->zoom_us = g_get_monotonic_time ();
}

/* Ends the answer as a local one ends; error (owned) or a is NULL. */
static void
remote_finish (RemoteAsk          *ra,
               SquintRemoteAnswer *a,
               GError             *error)
{
  SquintEngine *self = g_task_get_source_object (ra->task);
  g_autoptr(SquintMessage) reply = g_weak_ref_get (&ra->reply);

  set_busy (self, FALSE);

  if (error != NULL)
    {
      if (reply != NULL)
        {
          gboolean cancelled = g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) ||
                               g_cancellable_is_cancelled (ra->cancellable);

          squint_message_set_status (reply, NULL);
          if (!cancelled)
            squint_message_set_error (reply, error->message);
          squint_message_set_state (reply, cancelled ? SQUINT_MESSAGE_STOPPED : SQUINT_MESSAGE_FAILED);
        }
      g_task_return_error (ra->task, error);
      remote_ask_free (ra);
      return;
    }

  if (reply != NULL)
    {
      gint64 now = g_get_monotonic_time ();
      double writing_s = ra->first_us != 0 ? (double)(now - ra->first_us - ra->gap_us) / G_USEC_PER_SEC : 0;
      SquintMessageStats stats = {
        .visual_low = a->visual_low,
        .visual_full = a->visual_full,
        .visual_used = a->visual_used,
        .visual_baseline = a->visual_baseline,
        /* only when the endpoint counted its tokens */
        .tokens_per_second = a->completion_tokens > 0 && writing_s > 0 ? (double)a->completion_tokens / writing_s : 0,
        .first_token_ms = ra->first_us != 0 ? (double)(ra->first_us - ra->start_us) / 1000.0 : 0,
      };

      g_object_freeze_notify (G_OBJECT (reply));
      squint_message_set_text (reply, a->reply);
      squint_message_set_parts (reply, a->think, a->answer);
      if (a->zoomed)
        squint_message_set_zoom_state (reply, SQUINT_ZOOM_ZOOMED);
      if (a->visual_used > 0 || a->visual_baseline > 0)
        squint_message_set_stats (reply, &stats);
      squint_message_set_status (reply, NULL);
      squint_message_set_state (reply, SQUINT_MESSAGE_DONE);
      g_object_thaw_notify (G_OBJECT (reply));
    }
  squint_remote_answer_free (a);
  g_task_return_boolean (ra->task, TRUE);
  remote_ask_free (ra);
}

static void
remote_answered (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  RemoteAsk *ra = user_data;
  GError *error = NULL;
  SquintRemoteAnswer *a = squint_remote_ask_finish (ra->remote->remote, result, &error);

  remote_finish (ra, a, a != NULL ? NULL : error);
}

static void
remote_send (RemoteAsk *ra)
{
  static const SquintRemoteCallbacks callbacks = { on_remote_delta, on_remote_zoom };
  g_autofree const sq_image **ptrs = g_new0 (const sq_image *, ra->n_images + 1);

  for (guint i = 0; i < ra->n_images; i++)
    ptrs[i] = &ra->images[i];
  squint_remote_ask_async (ra->remote->remote, ra->question, ptrs, ra->n_images, ra->policy, ra->n_predict,
                           ra->temperature, ra->top_p, &callbacks, ra, ra->cancellable, remote_answered, ra);
}

/* A thread: images known only by their files (from the history) are read. */
static void
remote_load_images (GTask        *task,
                    gpointer      source,
                    gpointer      task_data,
                    GCancellable *cancellable)
{
  RemoteAsk *ra = task_data;
  sq_error err = { 0 };

  for (guint i = 0; i < ra->n_images; i++)
    if (ra->images[i].rgb == NULL &&
        sq_image_load_file (ra->paths[i], NULL, &ra->images[i], &err) != SQ_OK)
      {
        GError *error = NULL;

        squint_set_sq_error (&error, SQUINT_ERROR_IMAGE, &err);
        g_task_return_error (task, error);
        return;
      }
  g_task_return_boolean (task, TRUE);
}

static void
remote_images_loaded (GObject      *source,
                      GAsyncResult *result,
                      gpointer      user_data)
{
  RemoteAsk *ra = user_data;
  GError *error = NULL;

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    remote_finish (ra, NULL, error);
  else
    remote_send (ra);
}

static void
remote_ask (SquintEngine           *self,
            GTask                  *task,
            const char             *question,
            GPtrArray              *images,
            SquintMessage          *reply,
            const SquintAskOptions *options,
            GCancellable           *cancellable)
{
  RemoteAsk *ra = g_new0 (RemoteAsk, 1);
  gboolean missing = FALSE;

  ra->task = task;
  ra->remote = g_rc_box_acquire (self->remote);
  g_weak_ref_init (&ra->reply, reply);
  ra->cancellable = cancellable ? g_object_ref (cancellable) : g_cancellable_new ();
  ra->question = g_strdup (question);
  ra->n_images = images ? images->len : 0;
  ra->images = g_new0 (sq_image, ra->n_images + 1);
  ra->paths = g_new0 (char *, ra->n_images + 1);
  for (guint i = 0; i < ra->n_images; i++)
    {
      SquintImage *image = g_ptr_array_index (images, i);
      const sq_image *rgb = squint_image_peek_rgb (image);

      /* a copy: the request is built later, and the image may change meanwhile */
      if (rgb == NULL || sq_image_copy (rgb, &ra->images[i], NULL) != SQ_OK)
        ra->images[i] = (sq_image) { 0 };
      ra->paths[i] = g_strdup (squint_image_get_path (image));
      missing |= ra->images[i].rgb == NULL;
    }
  if (sq_policy_parse (options->policy ? options->policy : "adaptive", &ra->policy, NULL) != SQ_OK)
    ra->policy = SQ_POLICY_ADAPTIVE;
  ra->n_predict = options->n_predict > 0 ? options->n_predict : 1024;
  ra->temperature = options->temperature;
  ra->top_p = options->top_p;
  ra->start_us = g_get_monotonic_time ();

  squint_message_set_error (reply, NULL);
  squint_message_set_status (reply, ra->n_images > 0 ? _("Looking at the image…") : _("Reading…"));
  squint_message_set_state (reply, SQUINT_MESSAGE_WAITING);
  set_busy (self, TRUE);

  if (missing)
    {
      g_autoptr(GTask) load = g_task_new (NULL, ra->cancellable, remote_images_loaded, ra);

      g_task_set_source_tag (load, remote_load_images);
      g_task_set_task_data (load, ra, NULL);
      g_task_run_in_thread (load, remote_load_images);
    }
  else
    remote_send (ra);
}
#endif

void
squint_engine_ask_async (SquintEngine           *self,
                         SquintConversation     *conversation,
                         const char             *question,
                         GPtrArray              *images,
                         SquintMessage          *reply,
                         const SquintAskOptions *options,
                         GCancellable           *cancellable,
                         GAsyncReadyCallback     callback,
                         gpointer                user_data)
{
  g_autoptr(GTask) outer = NULL;
  GTask *inner;
  Entry *entry;
  Job *job;
  guint n_images = images ? images->len : 0;
  guint64 uid;

  g_return_if_fail (SQUINT_IS_ENGINE (self));
  g_return_if_fail (SQUINT_IS_CONVERSATION (conversation));
  g_return_if_fail (question != NULL);
  g_return_if_fail (SQUINT_IS_MESSAGE (reply));
  g_return_if_fail (options != NULL);

  outer = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (outer, squint_engine_ask_async);
  uid = squint_conversation_get_uid (conversation);
  g_task_set_task_data (outer, GSIZE_TO_POINTER ((gsize)uid), NULL);

  if ((self->model == NULL && self->remote == NULL) || self->state != SQUINT_ENGINE_READY)
    {
      g_task_return_new_error (outer, SQUINT_ERROR, SQUINT_ERROR_NO_MODEL, _("No model is loaded"));
      return;
    }
#ifdef SQUINT_HAVE_API
  if (self->remote != NULL)
    {
      remote_ask (self, g_steal_pointer (&outer), question, images, reply, options, cancellable);
      return;
    }
#endif
  if (n_images > 0 && !self->model->has_vision)
    {
      g_task_return_new_error (outer, SQUINT_ERROR, SQUINT_ERROR_MODEL,
                               _("This model cannot see images: add it with its vision projector (mmproj) file"));
      return;
    }

  entry = lookup_entry (self, uid, options->n_ctx);

  job = g_new0 (Job, 1);
  job->kind = JOB_ASK;
  job->context = g_main_context_ref_thread_default ();
  job->stream = stream_new (self, reply, cancellable);
  job->session = session_ref (entry->session);
  job->question = g_strdup (question);
  job->n_images = n_images;
  job->has_images = n_images > 0;
  job->images = g_new0 (sq_image, n_images + 1);
  job->paths = g_new0 (char *, n_images + 1);
  for (guint i = 0; i < n_images; i++)
    {
      SquintImage *image = g_ptr_array_index (images, i);
      const sq_image *rgb = squint_image_peek_rgb (image);

      /* a copy: the worker must not share pixels with the main thread */
      if (rgb == NULL || sq_image_copy (rgb, &job->images[i], NULL) != SQ_OK)
        job->images[i] = (sq_image) { 0 };
      job->paths[i] = g_strdup (squint_image_get_path (image));
    }
  if (sq_policy_parse (options->policy ? options->policy : "adaptive", &job->policy, NULL) != SQ_OK)
    job->policy = SQ_POLICY_ADAPTIVE;
  job->n_predict = options->n_predict > 0 ? options->n_predict : 1024;
  job->temperature = (float)options->temperature;
  job->top_p = (float)options->top_p;
  job->forced_reply = g_strdup (self->forced_reply);

  inner = g_task_new (NULL, job->stream->cancellable, ask_done, g_steal_pointer (&outer));
  g_task_set_source_tag (inner, squint_engine_ask_async);
  g_task_set_task_data (inner, job, (GDestroyNotify)job_free);
  job->task = inner;

  squint_message_set_error (reply, NULL);
  squint_message_set_status (reply, n_images > 0 ? _("Looking at the image…") : _("Reading…"));
  squint_message_set_state (reply, SQUINT_MESSAGE_WAITING);
  set_busy (self, TRUE);
  g_thread_pool_push (self->pool, job, NULL);
}

gboolean
squint_engine_ask_finish (SquintEngine  *self,
                          GAsyncResult  *result,
                          GError       **error)
{
  g_return_val_if_fail (SQUINT_IS_ENGINE (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

gboolean
squint_engine_remembers (SquintEngine       *self,
                         SquintConversation *conversation)
{
  guint64 uid;
  Entry *entry;

  g_return_val_if_fail (SQUINT_IS_ENGINE (self), FALSE);
  g_return_val_if_fail (SQUINT_IS_CONVERSATION (conversation), FALSE);

  uid = squint_conversation_get_uid (conversation);
  entry = g_hash_table_lookup (self->entries, &uid);
  return entry != NULL && entry->used;
}

void
squint_engine_forget (SquintEngine       *self,
                      SquintConversation *conversation)
{
  g_return_if_fail (SQUINT_IS_ENGINE (self));
  g_return_if_fail (SQUINT_IS_CONVERSATION (conversation));

  forget_uid (self, squint_conversation_get_uid (conversation));
}
