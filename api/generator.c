/* generator.c — see generator.h.
 *
 * SPDX-License-Identifier: MIT
 */
#include "generator.h"

#include <string.h>

#include "reply-stream.h"

struct _SquintGenerator
{
  sq_model      *model;
  sq_session    *session;     /* the worker's, reset for every job */
  SquintGeneratorOptions opts;
  char          *policy;
  char          *forced_reply;
  GThread       *thread;
  GMutex         lock;
  GCond          cond;
  GQueue         waiting;     /* of Job* */
  gboolean       running;
  gboolean       stopping;
  guint64        served;
};

typedef struct
{
  SquintGenerator                *gen;
  SquintChatRequest              *req;
  GPtrArray                      *images;      /* per message: GPtrArray of GBytes */
  SquintGenerationCallbacks       cb;
  gpointer                        user_data;
  GDestroyNotify                  destroy;
  GCancellable                   *cancellable;
  GMainContext                   *context;
  /* worker side */
  SquintReplyStream              *filter;
  GString                        *content;     /* filtered, stop strings applied */
  gsize                           posted;      /* bytes of content already sent */
  gsize                           max_stop;
  gboolean                        stop_hit;
  gboolean                        raw;         /* the reply as generated, no tag filtering */
} Job;

static void
job_free (Job *job)
{
  if (job->destroy != NULL)
    job->destroy (job->user_data);
  squint_chat_request_free (job->req);
  g_clear_pointer (&job->images, g_ptr_array_unref);
  g_clear_object (&job->cancellable);
  g_main_context_unref (job->context);
  g_clear_pointer (&job->filter, squint_reply_stream_free);
  if (job->content != NULL)
    g_string_free (job->content, TRUE);
  g_free (job);
}

void
squint_generation_result_free (SquintGenerationResult *r)
{
  if (r == NULL)
    return;
  g_free (r->content);
  g_free (r->reasoning);
  g_free (r->finish_reason);
  g_free (r->policy);
  g_free (r);
}

/* ---- events to the submitter's main context ---- */

typedef enum
{
  EV_DELTA,
  EV_ZOOM,
  EV_DONE,
} EventKind;

typedef struct
{
  Job                    *job;
  EventKind               kind;
  char                   *content, *reasoning;
  gint64                  low, full;
  SquintGenerationResult *result;
  GError                 *error;
} Event;

static gboolean
dispatch_event (gpointer data)
{
  Event *ev = data;
  Job *job = ev->job;

  switch (ev->kind)
    {
    case EV_DELTA:
      if (job->cb.delta != NULL)
        job->cb.delta (ev->content, ev->reasoning, job->user_data);
      break;
    case EV_ZOOM:
      if (job->cb.zoom != NULL)
        job->cb.zoom (ev->low, ev->full, job->user_data);
      break;
    case EV_DONE:
      job->cb.done (ev->result, ev->error, job->user_data);
      job_free (job);
      break;
    }
  g_free (ev->content);
  g_free (ev->reasoning);
  squint_generation_result_free (ev->result);
  g_clear_error (&ev->error);
  g_free (ev);
  return G_SOURCE_REMOVE;
}

/* Events are idle sources of one priority on one context: they run in the
 * order they were posted. */
static void
post (Job   *job,
      Event *ev)
{
  GSource *src = g_idle_source_new ();

  ev->job = job;
  g_source_set_priority (src, G_PRIORITY_DEFAULT);
  g_source_set_callback (src, dispatch_event, ev, NULL);
  g_source_attach (src, job->context);
  g_source_unref (src);
}

static void
post_done (Job                    *job,
           SquintGenerationResult *result,
           GError                 *error)
{
  Event *ev = g_new0 (Event, 1);

  ev->kind = EV_DONE;
  ev->result = result;
  ev->error = error;
  post (job, ev);
}

/* ---- streaming text with stop strings ---- */

/* How many bytes at the end of content could still grow into a stop string. */
static gsize
stop_prefix_tail (Job *job)
{
  gsize best = 0;

  for (char **s = job->req->stop; s != NULL && *s != NULL; s++)
    {
      gsize n = strlen (*s);

      for (gsize k = MIN (n - 1, job->content->len); k > best; k--)
        if (memcmp (job->content->str + job->content->len - k, *s, k) == 0)
          {
            best = k;
            break;
          }
    }
  return best;
}

/* Cuts content at the first stop string; TRUE when one is there. */
static gboolean
apply_stop (Job  *job,
            gsize from)
{
  gsize cut = G_MAXSIZE;

  for (char **s = job->req->stop; s != NULL && *s != NULL; s++)
    {
      const char *hit = g_strstr_len (job->content->str + from, job->content->len - from, *s);

      if (hit != NULL)
        cut = MIN (cut, (gsize)(hit - job->content->str));
    }
  if (cut == G_MAXSIZE)
    return FALSE;
  g_string_truncate (job->content, cut);
  return TRUE;
}

static void
flush_text (Job        *job,
            const char *reasoning,
            gboolean    final)
{
  gsize upto = final ? job->content->len : job->content->len - stop_prefix_tail (job);
  Event *ev;

  if (upto <= job->posted && (reasoning == NULL || reasoning[0] == '\0'))
    return;
  ev = g_new0 (Event, 1);
  ev->kind = EV_DELTA;
  ev->content = upto > job->posted ? g_strndup (job->content->str + job->posted, upto - job->posted) : g_strdup ("");
  ev->reasoning = g_strdup (reasoning ? reasoning : "");
  job->posted = MAX (job->posted, upto);
  post (job, ev);
}

static bool
on_token (int32_t     id,
          const char *text,
          size_t      len,
          void       *user_data)
{
  Job *job = user_data;
  g_autoptr(GString) content = g_string_new (NULL);
  g_autoptr(GString) reasoning = g_string_new (NULL);
  gsize before = job->content->len;

  if (job->stop_hit)
    return FALSE;
  if (job->raw)
    {
      /* the end-of-turn token itself is not text */
      if (id < 0 || sq_tokenizer_token_type (sq_model_tokenizer (job->gen->model), id) != SQ_TOKEN_CONTROL)
        g_string_append_len (content, text, len);
    }
  else
    squint_reply_stream_feed (job->filter, text, len, content, reasoning);
  g_string_append_len (job->content, content->str, content->len);
  if (job->req->stop != NULL && apply_stop (job, before > job->max_stop ? before - job->max_stop : 0))
    job->stop_hit = TRUE;
  flush_text (job, reasoning->str, job->stop_hit);
  return !job->stop_hit && !g_cancellable_is_cancelled (job->cancellable);
}

static bool
should_abort (void *user_data)
{
  Job *job = user_data;

  return g_cancellable_is_cancelled (job->cancellable);
}

static void
on_event (const sq_event *e,
          void           *user_data)
{
  Job *job = user_data;

  if (e->kind == SQ_EVENT_ZOOM_REQUESTED && e->zoom != NULL)
    {
      Event *ev = g_new0 (Event, 1);

      ev->kind = EV_ZOOM;
      ev->low = e->zoom->low_tokens;
      ev->full = e->zoom->full_tokens;
      post (job, ev);
    }
  else if (e->kind == SQ_EVENT_TURN_STARTED)
    squint_reply_stream_new_pass (job->filter);
}

/* ---- running a job ---- */

static GError *
engine_error (const sq_error *err,
              const char     *what)
{
  SquintApiError code = SQUINT_API_ERROR_INTERNAL;

  if (err->status == SQ_ERR_ABORTED)
    return g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED, "The request was cancelled");
  if (err->status == SQ_ERR_FORMAT || err->status == SQ_ERR_LIMIT || err->status == SQ_ERR_UNSUPPORTED ||
      err->status == SQ_ERR_INVALID_ARG)
    code = SQUINT_API_ERROR_INVALID;
  return g_error_new (SQUINT_API_ERROR, code, "%s: %s", what, err->msg);
}

typedef struct
{
  GString   *question;
  GPtrArray *images;   /* of sq_image* (borrowed from the decoded set) */
} Turn;

static void
free_images (GPtrArray *decoded)
{
  for (guint i = 0; i < decoded->len; i++)
    {
      sq_image *img = g_ptr_array_index (decoded, i);

      sq_image_free (img);
      g_free (img);
    }
  g_ptr_array_unref (decoded);
}

/* Decodes every image of every message, in order, into `decoded`. */
static GError *
decode_images (Job       *job,
               GPtrArray *decoded)
{
  for (guint m = 0; m < job->images->len; m++)
    {
      GPtrArray *list = g_ptr_array_index (job->images, m);

      for (guint k = 0; list != NULL && k < list->len; k++)
        {
          gsize size;
          const void *data = g_bytes_get_data (g_ptr_array_index (list, k), &size);
          sq_image *img = g_new0 (sq_image, 1);
          sq_error err = { 0 };

          if (sq_image_load_memory (data, size, NULL, img, &err) != SQ_OK)
            {
              g_free (img);
              return g_error_new (SQUINT_API_ERROR, SQUINT_API_ERROR_INVALID,
                                  "messages[%u].content: image %u: %s", m, k + 1, err.msg);
            }
          g_ptr_array_add (decoded, img);
        }
    }
  return NULL;
}

static sq_ask_params
ask_params (Job       *job,
            sq_policy  policy)
{
  sq_ask_params p = sq_ask_default_params ();

  p.policy = policy;
  p.gen.n_predict = job->req->max_tokens > 0 ? job->req->max_tokens : job->gen->opts.n_predict;
  p.gen.sampling = sq_sampler_default_params ();
  if (job->req->temperature >= 0)
    p.gen.sampling.temperature = (float)job->req->temperature;
  if (job->req->top_p >= 0)
    p.gen.sampling.top_p = (float)job->req->top_p;
  if (job->req->seed >= 0)
    p.gen.sampling.seed = (uint64_t)job->req->seed;
  return p;
}

/* An earlier answer, as the protocol would have written it. */
static char *
replayed_reply (const char *text,
                sq_policy   policy)
{
  if (policy == SQ_POLICY_FULL || strstr (text, "<answer>") != NULL)
    return g_strdup (text);
  return g_strdup_printf ("<answer>%s</answer>", text);
}

/* What both modes report alike: the streamed content (trailing space
 * dropped), the reasoning, why it ended, under which policy, and how long
 * the whole request took. */
static SquintGenerationResult *
result_new (Job        *job,
            const char *reasoning,
            gboolean    hit_length,
            const char *policy,
            gint64      t0)
{
  SquintGenerationResult *r = g_new0 (SquintGenerationResult, 1);

  r->content = g_strchomp (g_strndup (job->content->str, job->content->len));
  r->reasoning = g_strdup (reasoning);
  r->finish_reason = g_strdup (hit_length ? "length" : "stop");
  r->policy = g_strdup (policy);
  r->total_ms = (g_get_monotonic_time () - t0) / 1000.0;
  return r;
}

static SquintGenerationResult *
make_result (Job             *job,
             const sq_answer *a,
             sq_policy        policy,
             int              n_predict,
             gint64           t0)
{
  int last = a->zoomed ? 1 : 0;
  SquintGenerationResult *r = result_new (job, a->think ? a->think : "",
                                          !job->stop_hit && a->generated[last] >= n_predict,
                                          sq_policy_name (policy), t0);
  sq_stats st = sq_session_stats (job->gen->session);

  r->prompt_tokens = st.n_prompt_tokens;
  r->completion_tokens = a->generated[0] + a->generated[1];
  r->visual_used = a->visual_used;
  r->visual_baseline = a->visual_baseline;
  r->visual_saved = a->visual_saved;
  r->zoomed = a->zoomed;
  r->encode_ms = a->encode_ms[0] + a->encode_ms[1];
  r->prefill_ms = a->prefill_ms[0] + a->prefill_ms[1];
  r->decode_ms = a->decode_ms[0] + a->decode_ms[1];
  return r;
}

static gboolean
has_system (SquintChatRequest *req)
{
  for (guint m = 0; m < req->messages->len; m++)
    if (g_str_equal (((SquintChatMessage *)g_ptr_array_index (req->messages, m))->role, "system"))
      return TRUE;
  return FALSE;
}

static sq_status
eval_text (sq_session  *s,
           const char  *text,
           sq_error    *err)
{
  return sq_session_eval_text (s, text, true, err);
}

/* A client that sends its own system prompt is in charge of the prompt (a
 * VisionThink client running the loop itself, or any other use): the
 * messages go through the Qwen2.5-VL chat template as they are, images where
 * they stand, and the reply comes back raw, tool calls and all. */
static void
run_raw (Job       *job,
         GPtrArray *decoded)
{
  SquintGenerator *gen = job->gen;
  sq_session *s = gen->session;
  sq_ask_params p = ask_params (job, SQ_POLICY_FULL);
  sq_generate_params gp = p.gen;
  sq_error err = { 0 };
  sq_status st = SQ_OK;
  sq_stop_reason why = SQ_STOP_EOG;
  sq_tokens out;
  guint next_image = 0;
  gint64 visual = 0, t0 = g_get_monotonic_time ();
  sq_stats before;
  SquintGenerationResult *r;

  sq_tokens_init (&out);
  for (guint m = 0; st == SQ_OK && m < job->req->messages->len; m++)
    {
      SquintChatMessage *msg = g_ptr_array_index (job->req->messages, m);
      g_autofree char *head = g_strdup_printf ("<|im_start|>%s\n", msg->role);

      st = eval_text (s, head, &err);
      for (guint k = 0; st == SQ_OK && k < msg->parts->len; k++)
        {
          SquintChatPart *part = g_ptr_array_index (msg->parts, k);
          sq_image_info info;

          if (part->text != NULL)
            {
              st = eval_text (s, part->text, &err);
              continue;
            }
          st = eval_text (s, "<|vision_start|>", &err);
          if (st == SQ_OK)
            st = sq_session_eval_image (s, g_ptr_array_index (decoded, next_image++), &info, &err);
          if (st == SQ_OK)
            {
              visual += info.n_tokens;
              st = eval_text (s, "<|vision_end|>", &err);
            }
        }
      if (st == SQ_OK)
        st = eval_text (s, "<|im_end|>\n", &err);
    }
  if (st == SQ_OK)
    st = eval_text (s, "<|im_start|>assistant\n", &err);
  before = sq_session_stats (s);
  gp.on_token = on_token;
  gp.user_data = job;
  if (st == SQ_OK)
    st = sq_session_generate (s, &gp, &out, &why, &err);
  if (st != SQ_OK)
    {
      sq_tokens_free (&out);
      post_done (job, NULL, engine_error (&err, "The model could not answer"));
      return;
    }
  flush_text (job, NULL, TRUE);
  r = result_new (job, "", why == SQ_STOP_LENGTH || why == SQ_STOP_CONTEXT, "raw", t0);
  r->prompt_tokens = before.n_prompt_tokens;
  r->completion_tokens = (gint64)out.n;
  r->visual_used = r->visual_baseline = visual;
  r->encode_ms = before.encode_ms;
  r->prefill_ms = before.prefill_ms;
  r->decode_ms = sq_session_stats (s).decode_ms;
  sq_tokens_free (&out);
  post_done (job, r, NULL);
}

/* No system message: Squint's own prompt and loop (the policy's).  Asks
 * every user turn in order: earlier ones replay their recorded answer
 * (forced), the last one generates and streams. */
static void
run_job (Job *job)
{
  SquintGenerator *gen = job->gen;
  g_autoptr(GPtrArray) decoded = g_ptr_array_new ();
  g_autoptr(GString) question = g_string_new (NULL);
  g_autoptr(GPtrArray) turn_images = g_ptr_array_new ();
  sq_callbacks cbs = { on_event, should_abort, job };
  sq_policy policy;
  sq_error err = { 0 };
  guint next_image = 0;
  gint64 t0 = g_get_monotonic_time ();
  GError *error;

  if (g_cancellable_is_cancelled (job->cancellable))
    {
      post_done (job, NULL, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED, "The request was cancelled"));
      return;
    }
  sq_policy_parse (job->req->policy ? job->req->policy : gen->policy, &policy, &err);
  if ((error = decode_images (job, decoded)) != NULL)
    {
      free_images (g_steal_pointer (&decoded));
      post_done (job, NULL, error);
      return;
    }
  sq_session_reset (gen->session);
  sq_session_set_callbacks (gen->session, &cbs);
  job->filter = squint_reply_stream_new ();
  job->content = g_string_new (NULL);
  for (char **s = job->req->stop; s != NULL && *s != NULL; s++)
    job->max_stop = MAX (job->max_stop, strlen (*s));
  if ((job->raw = has_system (job->req)))
    {
      run_raw (job, decoded);
      free_images (g_steal_pointer (&decoded));
      return;
    }

  for (guint m = 0; m < job->req->messages->len; m++)
    {
      SquintChatMessage *msg = g_ptr_array_index (job->req->messages, m);
      gboolean last = m + 1 == job->req->messages->len;
      sq_ask_params p = ask_params (job, policy);
      g_autofree char *forced = NULL;
      sq_answer a = { 0 };

      if (g_str_equal (msg->role, "user"))
        {
          g_string_append_printf (question, "%s%s", question->len ? "\n" : "", msg->text);
          for (guint k = 0; k < msg->image_urls->len; k++)
            g_ptr_array_add (turn_images, g_ptr_array_index (decoded, next_image++));
          if (!last)
            continue;
        }
      if (!last)
        forced = replayed_reply (msg->text ? msg->text : "", policy);
      else
        {
          p.gen.on_token = on_token;
          p.gen.user_data = job;
          forced = g_strdup (gen->forced_reply);
        }
      p.forced_reply = forced;
      if (sq_session_ask (gen->session, question->str, (const sq_image *const *)turn_images->pdata, turn_images->len,
                          &p, &a, &err) != SQ_OK)
        {
          sq_answer_free (&a);
          free_images (g_steal_pointer (&decoded));
          post_done (job, NULL, engine_error (&err, "The model could not answer"));
          return;
        }
      g_string_truncate (question, 0);
      g_ptr_array_set_size (turn_images, 0);
      if (last)
        {
          g_autoptr(GString) c = g_string_new (NULL);
          g_autoptr(GString) r = g_string_new (NULL);

          squint_reply_stream_end (job->filter, c, r);
          g_string_append_len (job->content, c->str, c->len);
          if (job->req->stop != NULL && apply_stop (job, 0))
            job->stop_hit = TRUE;
          flush_text (job, r->str, TRUE);
          post_done (job, make_result (job, &a, policy, p.gen.n_predict, t0), NULL);
          sq_answer_free (&a);
          break;   /* the job belongs to the main thread now */
        }
      sq_answer_free (&a);
    }
  free_images (g_steal_pointer (&decoded));
}

static gpointer
worker (gpointer data)
{
  SquintGenerator *self = data;

  for (;;)
    {
      Job *job;

      g_mutex_lock (&self->lock);
      while (!self->stopping && g_queue_is_empty (&self->waiting))
        g_cond_wait (&self->cond, &self->lock);
      job = g_queue_pop_head (&self->waiting);
      if (job == NULL)
        {
          g_mutex_unlock (&self->lock);
          return NULL;
        }
      self->running = TRUE;
      g_mutex_unlock (&self->lock);

      run_job (job);

      g_mutex_lock (&self->lock);
      self->running = FALSE;
      self->served++;
      g_mutex_unlock (&self->lock);
    }
}

SquintGenerator *
squint_generator_new (sq_model                     *model,
                      const SquintGeneratorOptions *options,
                      GError                      **error)
{
  SquintGenerator *self = g_new0 (SquintGenerator, 1);
  sq_session_params sp = sq_session_default_params ();
  sq_error err = { 0 };

  self->opts = *options;
  if (self->opts.n_ctx <= 0)
    self->opts.n_ctx = 8192;
  if (self->opts.n_predict <= 0)
    self->opts.n_predict = 1024;
  if (self->opts.max_waiting < 0)
    self->opts.max_waiting = 8;
  self->policy = g_strdup (options->policy ? options->policy : sq_policy_name (sq_model_default_policy (model)));
  sp.n_ctx = self->opts.n_ctx;
  if (sq_session_new (model, &sp, &self->session, &err) != SQ_OK)
    {
      g_set_error (error, SQUINT_API_ERROR, SQUINT_API_ERROR_INTERNAL, "%s", err.msg);
      g_free (self->policy);
      g_free (self);
      return NULL;
    }
  self->model = model;
  self->opts.policy = NULL;
  self->forced_reply = g_strdup (options->forced_reply);
  self->opts.forced_reply = NULL;
  g_mutex_init (&self->lock);
  g_cond_init (&self->cond);
  g_queue_init (&self->waiting);
  self->thread = g_thread_new ("squint-generator", worker, self);
  return self;
}

void
squint_generator_free (SquintGenerator *self)
{
  if (self == NULL)
    return;
  g_mutex_lock (&self->lock);
  self->stopping = TRUE;
  for (GList *l = self->waiting.head; l != NULL; l = l->next)
    g_cancellable_cancel (((Job *)l->data)->cancellable);
  g_cond_signal (&self->cond);
  g_mutex_unlock (&self->lock);
  g_thread_join (self->thread);
  sq_session_free (self->session);
  sq_model_free (self->model);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->cond);
  g_free (self->policy);
  g_free (self->forced_reply);
  g_free (self);
}

const char *
squint_generator_get_policy (SquintGenerator *self)
{
  return self->policy;
}

gboolean
squint_generator_submit (SquintGenerator                 *self,
                         SquintChatRequest               *request,
                         GPtrArray                       *images,
                         const SquintGenerationCallbacks *callbacks,
                         gpointer                         user_data,
                         GDestroyNotify                   destroy,
                         GCancellable                    *cancellable,
                         GError                         **error)
{
  Job *job;

  g_mutex_lock (&self->lock);
  if (self->stopping ||
      g_queue_get_length (&self->waiting) >= (guint)self->opts.max_waiting + (self->running ? 0 : 1))
    {
      guint n = g_queue_get_length (&self->waiting);

      g_mutex_unlock (&self->lock);
      g_set_error (error, SQUINT_API_ERROR, SQUINT_API_ERROR_BUSY,
                   "The server is busy: %u requests are waiting for the model; try again later", n);
      return FALSE;
    }
  job = g_new0 (Job, 1);
  job->gen = self;
  job->req = request;
  job->images = images;
  job->cb = *callbacks;
  job->user_data = user_data;
  job->destroy = destroy;
  job->cancellable = cancellable ? g_object_ref (cancellable) : g_cancellable_new ();
  job->context = g_main_context_ref_thread_default ();
  g_queue_push_tail (&self->waiting, job);
  g_cond_signal (&self->cond);
  g_mutex_unlock (&self->lock);
  return TRUE;
}

void
squint_generator_counts (SquintGenerator *self,
                         guint           *waiting,
                         gboolean        *running,
                         guint64         *served)
{
  g_mutex_lock (&self->lock);
  if (waiting)
    *waiting = g_queue_get_length (&self->waiting);
  if (running)
    *running = self->running;
  if (served)
    *served = self->served;
  g_mutex_unlock (&self->lock);
}
