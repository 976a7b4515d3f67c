/* remote.c — see remote.h.
 *
 * One Ask per question: pass 1 (the protocol prompt with half-size images,
 * or the plain one with originals for policy full), streamed; a resize call
 * adds the assistant's reply and a tool-response turn with the originals and
 * streams pass 2.  Replies are read as server-sent events line by line; an
 * endpoint that answers with one JSON object instead is accepted too.
 *
 * SPDX-License-Identifier: MIT
 */
#include "remote.h"

#include <json-glib/json-glib.h>
#include <string.h>

#include "reply.h"

G_DEFINE_QUARK (squint-remote-error-quark, squint_remote_error)

struct _SquintRemote
{
  SoupSession *session;
  char        *url;       /* …/v1/chat/completions */
  char        *api_key;
  char        *model;
};

void
squint_remote_answer_free (SquintRemoteAnswer *a)
{
  if (a == NULL)
    return;
  g_free (a->reply);
  g_free (a->answer);
  g_free (a->think);
  g_free (a);
}

SquintRemote *
squint_remote_new (const char  *base_url,
                   const char  *api_key,
                   const char  *model,
                   GError     **error)
{
  g_autoptr(GUri) uri = g_uri_parse (base_url, G_URI_FLAGS_NONE, error);
  g_autofree char *base = NULL;
  SquintRemote *self;

  if (uri == NULL)
    return NULL;
  if (g_strcmp0 (g_uri_get_scheme (uri), "http") != 0 && g_strcmp0 (g_uri_get_scheme (uri), "https") != 0)
    {
      g_set_error (error, SQUINT_REMOTE_ERROR, SQUINT_REMOTE_ERROR_NETWORK,
                   "'%s' is not an http(s) URL", base_url);
      return NULL;
    }
  base = g_strdup (base_url);
  while (g_str_has_suffix (base, "/"))
    base[strlen (base) - 1] = '\0';
  if (g_str_has_suffix (base, "/chat/completions"))
    base[strlen (base) - strlen ("/chat/completions")] = '\0';
  self = g_new0 (SquintRemote, 1);
  self->url = g_str_has_suffix (base, "/v1") ? g_strconcat (base, "/chat/completions", NULL)
                                             : g_strconcat (base, "/v1/chat/completions", NULL);
  self->api_key = api_key && api_key[0] ? g_strdup (api_key) : NULL;
  self->model = model && model[0] ? g_strdup (model) : NULL;   /* NULL: the first the endpoint lists */
  self->session = soup_session_new_with_options ("user-agent", "squint/0.1", "timeout", 600, NULL);
  return self;
}

void
squint_remote_free (SquintRemote *self)
{
  if (self == NULL)
    return;
  g_object_unref (self->session);
  g_free (self->url);
  g_free (self->api_key);
  g_free (self->model);
  g_free (self);
}

/* ---- one question ---- */

typedef struct
{
  SquintRemote          *self;
  sq_policy              policy;
  int                    max_tokens;
  double                 temperature, top_p;
  SquintRemoteCallbacks  cb;
  gpointer               cb_data;
  GPtrArray             *low_urls, *full_urls;   /* data: URLs */
  SquintRemoteZoom       zoom;
  GPtrArray             *messages;               /* of JsonNode* */
  int                    pass;
  gboolean               sse;                    /* the reply is an event stream */
  GString               *pass_text;
  gint64                 pass_prompt, pass_completion;   /* the pass's last usage report */
  GString               *reply;
  GString               *body;                   /* a non-stream reply's lines */
  guint                  status;
  GDataInputStream      *lines;
  SquintRemoteAnswer    *answer;
} Ask;

static void
ask_free (gpointer data)
{
  Ask *ask = data;

  g_ptr_array_unref (ask->low_urls);
  g_ptr_array_unref (ask->full_urls);
  g_ptr_array_unref (ask->messages);
  g_string_free (ask->pass_text, TRUE);
  g_string_free (ask->reply, TRUE);
  g_string_free (ask->body, TRUE);
  g_clear_object (&ask->lines);
  squint_remote_answer_free (ask->answer);
  g_free (ask);
}

static char *
data_url (const sq_image *img,
          GError        **error)
{
  unsigned char *png = NULL;
  size_t n = 0;
  sq_error err = { 0 };
  g_autofree char *b64 = NULL;

  if (sq_image_encode_png (img, &png, &n, &err) != SQ_OK)
    {
      g_set_error (error, SQUINT_REMOTE_ERROR, SQUINT_REMOTE_ERROR_IMAGE, "%s", err.msg);
      return NULL;
    }
  b64 = g_base64_encode (png, n);
  free (png);
  return g_strconcat ("data:image/png;base64,", b64, NULL);
}

/* Visual tokens the model will see for a w×h image (Qwen2.5-VL's smart_resize). */
static gint64
tokens_for (int w,
            int h)
{
  int sw = 0, sh = 0;

  if (sq_image_smart_size (w, h, SQ_IMAGE_QWEN25VL_MIN_PIXELS, SQ_IMAGE_QWEN25VL_MAX_PIXELS, &sw, &sh, NULL) != SQ_OK)
    return 0;
  return (gint64)(sw / 28) * (sh / 28);
}

static gboolean
prepare_images (Ask                   *ask,
                const sq_image *const *images,
                guint                  n,
                GError               **error)
{
  for (guint i = 0; i < n; i++)
    {
      sq_image half = { 0 };
      sq_error err = { 0 };
      char *full_url = data_url (images[i], error);
      char *low_url;

      if (full_url == NULL)
        return FALSE;
      g_ptr_array_add (ask->full_urls, full_url);
      if (sq_image_half (images[i], &half, &err) != SQ_OK && sq_image_copy (images[i], &half, &err) != SQ_OK)
        {
          g_set_error (error, SQUINT_REMOTE_ERROR, SQUINT_REMOTE_ERROR_IMAGE, "%s", err.msg);
          return FALSE;
        }
      low_url = data_url (&half, error);
      if (i == 0)
        {
          ask->zoom.low_w = half.w;
          ask->zoom.low_h = half.h;
          ask->zoom.full_w = images[i]->w;
          ask->zoom.full_h = images[i]->h;
        }
      ask->zoom.low_tokens += tokens_for (half.w, half.h);
      ask->zoom.full_tokens += tokens_for (images[i]->w, images[i]->h);
      sq_image_free (&half);
      if (low_url == NULL)
        return FALSE;
      g_ptr_array_add (ask->low_urls, low_url);
    }
  ask->zoom.n_images = n;
  return TRUE;
}

/* ---- messages ---- */

static void
add_text_part (JsonBuilder *b,
               const char  *text)
{
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "type");
  json_builder_add_string_value (b, "text");
  json_builder_set_member_name (b, "text");
  json_builder_add_string_value (b, text);
  json_builder_end_object (b);
}

static void
add_image_part (JsonBuilder *b,
                const char  *url)
{
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "type");
  json_builder_add_string_value (b, "image_url");
  json_builder_set_member_name (b, "image_url");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "url");
  json_builder_add_string_value (b, url);
  json_builder_end_object (b);
  json_builder_end_object (b);
}

static JsonBuilder *
begin_message (const char *role)
{
  JsonBuilder *b = json_builder_new ();

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "role");
  json_builder_add_string_value (b, role);
  json_builder_set_member_name (b, "content");
  return b;
}

static void
end_message (Ask         *ask,
             JsonBuilder *b)
{
  json_builder_end_object (b);
  g_ptr_array_add (ask->messages, json_builder_get_root (b));
  g_object_unref (b);
}

static void
add_plain_message (Ask        *ask,
                   const char *role,
                   const char *text)
{
  JsonBuilder *b = begin_message (role);

  json_builder_add_string_value (b, text);
  end_message (ask, b);
}

/* Pass 1, laid out as the engine lays it out (engine/zoom.c). */
static void
first_messages (Ask        *ask,
                const char *question)
{
  JsonBuilder *b;

  if (ask->policy == SQ_POLICY_FULL)
    {
      add_plain_message (ask, "system", sq_protocol_text (SQ_TEXT_PLAIN_SYSTEM));
      b = begin_message ("user");
      json_builder_begin_array (b);
      for (guint i = 0; i < ask->full_urls->len; i++)
        add_image_part (b, g_ptr_array_index (ask->full_urls, i));
      add_text_part (b, question);
      json_builder_end_array (b);
      end_message (ask, b);
      return;
    }
  add_plain_message (ask, "system", sq_protocol_text (SQ_TEXT_VISIONTHINK_SYSTEM));
  b = begin_message ("user");
  json_builder_begin_array (b);
  if (ask->low_urls->len > 0)
    {
      g_autofree char *intro = g_strconcat (sq_protocol_text (SQ_TEXT_VISIONTHINK_USER), "\n", NULL);

      add_text_part (b, intro);
      for (guint i = 0; i < ask->low_urls->len; i++)
        {
          add_image_part (b, g_ptr_array_index (ask->low_urls, i));
          add_text_part (b, "\n");
        }
    }
  add_text_part (b, question);
  json_builder_end_array (b);
  end_message (ask, b);
}

static void
tool_response_messages (Ask *ask)
{
  g_autofree char *intro = g_strconcat ("<tool_response>\n", sq_protocol_text (SQ_TEXT_TOOL_RESPONSE_INTRO), "\n",
                                        NULL);
  g_autofree char *after = g_strconcat ("</tool_response>\n", sq_protocol_text (SQ_TEXT_TOOL_RESPONSE_AFTER), NULL);
  JsonBuilder *b;

  add_plain_message (ask, "assistant", ask->pass_text->str);
  b = begin_message ("user");
  json_builder_begin_array (b);
  add_text_part (b, intro);
  for (guint i = 0; i < ask->full_urls->len; i++)
    {
      add_image_part (b, g_ptr_array_index (ask->full_urls, i));
      add_text_part (b, "\n");
    }
  add_text_part (b, after);
  json_builder_end_array (b);
  end_message (ask, b);
}

static void
tool_error_messages (Ask        *ask,
                     const char *error)
{
  g_autofree char *text = g_strconcat (error, sq_protocol_text (SQ_TEXT_TOOL_ERROR_AFTER), NULL);

  add_plain_message (ask, "assistant", ask->pass_text->str);
  add_plain_message (ask, "user", text);
}

static char *
request_body (Ask *ask)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "model");
  json_builder_add_string_value (b, ask->self->model);
  json_builder_set_member_name (b, "stream");
  json_builder_add_boolean_value (b, TRUE);
  json_builder_set_member_name (b, "stream_options");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "include_usage");
  json_builder_add_boolean_value (b, TRUE);
  json_builder_end_object (b);
  if (ask->max_tokens > 0)
    {
      json_builder_set_member_name (b, "max_tokens");
      json_builder_add_int_value (b, ask->max_tokens);
    }
  json_builder_set_member_name (b, "temperature");
  json_builder_add_double_value (b, ask->temperature);
  if (ask->top_p > 0.0 && ask->top_p < 1.0)
    {
      json_builder_set_member_name (b, "top_p");
      json_builder_add_double_value (b, ask->top_p);
    }
  json_builder_set_member_name (b, "messages");
  json_builder_begin_array (b);
  for (guint i = 0; i < ask->messages->len; i++)
    json_builder_add_value (b, json_node_copy (g_ptr_array_index (ask->messages, i)));
  json_builder_end_array (b);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  return json_to_string (root, FALSE);
}

/* ---- the exchange ---- */

static void send_pass (GTask *task);

static void
fail_protocol (GTask      *task,
               const char *what)
{
  g_task_return_new_error (task, SQUINT_REMOTE_ERROR, SQUINT_REMOTE_ERROR_PROTOCOL,
                           "The endpoint did not answer as an OpenAI-compatible server does: %s", what);
  g_object_unref (task);
}

/* The request never got an answer: cancelled, or a network error said as such. */
static void
fail_unreachable (GTask  *task,
                  GError *error)
{
  Ask *ask = g_task_get_task_data (task);

  if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      GError *e = g_error_new (SQUINT_REMOTE_ERROR, SQUINT_REMOTE_ERROR_NETWORK, "Could not reach %s: %s",
                               ask->self->url, error->message);

      g_error_free (error);
      error = e;
    }
  g_task_return_error (task, error);
  g_object_unref (task);
}

/* An error object's message, or the text itself (shortened). */
static char *
error_message_of (const char *text)
{
  g_autoptr(JsonParser) p = json_parser_new ();
  JsonNode *root;

  if (json_parser_load_from_data (p, text, -1, NULL) && (root = json_parser_get_root (p)) != NULL &&
      JSON_NODE_HOLDS_OBJECT (root))
    {
      JsonObject *o = json_node_get_object (root);
      JsonNode *e = json_object_get_member (o, "error");

      if (e != NULL && JSON_NODE_HOLDS_OBJECT (e) && json_object_has_member (json_node_get_object (e), "message"))
        return g_strdup (json_object_get_string_member (json_node_get_object (e), "message"));
      if (e != NULL && JSON_NODE_HOLDS_VALUE (e) && json_node_get_value_type (e) == G_TYPE_STRING)
        return g_strdup (json_node_get_string (e));
    }
  return g_strndup (text, 300);
}

static void
finish_answer (GTask *task)
{
  Ask *ask = g_task_get_task_data (task);
  SquintRemoteAnswer *a = ask->answer;

  a->reply = g_strdup (ask->reply->str);
  a->answer = sq_reply_answer (a->reply);
  if (a->answer == NULL)
    a->answer = sq_reply_visible (a->reply);
  a->think = sq_reply_think (a->reply);
  if (ask->policy == SQ_POLICY_FULL)
    a->visual_full = ask->zoom.full_tokens;
  else
    {
      a->visual_low = ask->zoom.low_tokens;
      a->visual_full = a->zoomed ? ask->zoom.full_tokens : 0;
    }
  a->visual_used = a->visual_low + a->visual_full;
  a->visual_baseline = ask->zoom.full_tokens;
  a->visual_saved = a->visual_baseline - a->visual_used;
  ask->answer = NULL;
  g_task_return_pointer (task, a, (GDestroyNotify)squint_remote_answer_free);
  g_object_unref (task);
}

static void
pass_done (GTask *task)
{
  Ask *ask = g_task_get_task_data (task);
  sq_tool_call tc;

  g_clear_object (&ask->lines);
  g_string_append (ask->reply, ask->pass_text->str);
  ask->answer->prompt_tokens += ask->pass_prompt;
  ask->answer->completion_tokens += ask->pass_completion;
  ask->pass_prompt = ask->pass_completion = 0;
  if (ask->pass == 1 && ask->policy == SQ_POLICY_ADAPTIVE && ask->zoom.n_images > 0)
    {
      tc = sq_reply_tool_call (ask->pass_text->str);
      if (tc.kind == SQ_TOOL_RESIZE)
        {
          ask->answer->zoom_requested = ask->answer->zoomed = TRUE;
          if (ask->cb.zoom != NULL)
            ask->cb.zoom (&ask->zoom, ask->cb_data);
          tool_response_messages (ask);
        }
      else if (tc.kind == SQ_TOOL_ERROR)
        {
          ask->answer->tool_call_error = TRUE;
          tool_error_messages (ask, tc.error);
        }
      if (tc.kind != SQ_TOOL_NONE)
        {
          ask->pass = 2;
          g_string_truncate (ask->pass_text, 0);
          send_pass (task);
          return;
        }
    }
  finish_answer (task);
}

static void
take_usage (Ask        *ask,
            JsonObject *o)
{
  JsonNode *u = json_object_get_member (o, "usage");

  if (u == NULL || !JSON_NODE_HOLDS_OBJECT (u))
    return;
  o = json_node_get_object (u);
  ask->pass_prompt = json_object_get_int_member_with_default (o, "prompt_tokens", 0);
  ask->pass_completion = json_object_get_int_member_with_default (o, "completion_tokens", 0);
}

/* One event's JSON: text to add (or an error). */
static gboolean
take_event (Ask         *ask,
            const char  *json,
            GError     **error)
{
  g_autoptr(JsonParser) p = json_parser_new ();
  JsonObject *o;
  JsonNode *choices;

  if (!json_parser_load_from_data (p, json, -1, NULL) || !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (p)))
    {
      g_set_error (error, SQUINT_REMOTE_ERROR, SQUINT_REMOTE_ERROR_PROTOCOL,
                   "The endpoint sent an event that is not JSON: %.120s", json);
      return FALSE;
    }
  o = json_node_get_object (json_parser_get_root (p));
  if (json_object_has_member (o, "error"))
    {
      g_autofree char *msg = error_message_of (json);

      g_set_error (error, SQUINT_REMOTE_ERROR, SQUINT_REMOTE_ERROR_HTTP, "The endpoint failed mid-answer: %s", msg);
      return FALSE;
    }
  take_usage (ask, o);
  choices = json_object_get_member (o, "choices");
  if (choices != NULL && JSON_NODE_HOLDS_ARRAY (choices) && json_array_get_length (json_node_get_array (choices)) > 0)
    {
      JsonNode *c = json_array_get_element (json_node_get_array (choices), 0);
      JsonNode *d = JSON_NODE_HOLDS_OBJECT (c) ? json_object_get_member (json_node_get_object (c), "delta") : NULL;
      JsonNode *m = JSON_NODE_HOLDS_OBJECT (c) ? json_object_get_member (json_node_get_object (c), "message") : NULL;
      JsonNode *holder = d != NULL ? d : m;
      JsonNode *content = holder && JSON_NODE_HOLDS_OBJECT (holder)
                            ? json_object_get_member (json_node_get_object (holder), "content") : NULL;

      if (content != NULL && JSON_NODE_HOLDS_VALUE (content) && json_node_get_value_type (content) == G_TYPE_STRING)
        {
          const char *text = json_node_get_string (content);

          g_string_append (ask->pass_text, text);
          if (ask->cb.delta != NULL && text[0] != '\0')
            ask->cb.delta (text, ask->cb_data);
        }
    }
  return TRUE;
}

static void read_line (GTask *task);

static void
got_line (GObject      *source,
          GAsyncResult *result,
          gpointer      data)
{
  GTask *task = data;
  Ask *ask = g_task_get_task_data (task);
  GError *error = NULL;
  gsize len;
  g_autofree char *line = g_data_input_stream_read_line_finish_utf8 (G_DATA_INPUT_STREAM (source), result, &len,
                                                                      &error);

  if (line == NULL && error != NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_prefix_error (&error, "Reading the endpoint's reply failed: ");
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }
  if (ask->status < 200 || ask->status >= 300 || !ask->sse)
    {
      if (line != NULL)
        {
          g_string_append (ask->body, line);
          g_string_append_c (ask->body, '\n');
          read_line (task);
          return;
        }
      if (ask->status < 200 || ask->status >= 300)
        {
          g_autofree char *msg = error_message_of (ask->body->str);

          g_task_return_new_error (task, SQUINT_REMOTE_ERROR, SQUINT_REMOTE_ERROR_HTTP, "The endpoint answered HTTP %u: %s",
                                   ask->status, msg);
          g_object_unref (task);
          return;
        }
      /* a whole chat.completion instead of a stream */
      if (!take_event (ask, ask->body->str, &error))
        {
          g_task_return_error (task, error);
          g_object_unref (task);
          return;
        }
      pass_done (task);
      return;
    }
  if (line == NULL)
    {
      /* the stream ended without [DONE]: take what came */
      pass_done (task);
      return;
    }
  g_strchomp (line);
  if (g_str_has_prefix (line, "data:"))
    {
      const char *payload = line + 5;

      while (*payload == ' ')
        payload++;
      if (g_str_equal (payload, "[DONE]"))
        {
          pass_done (task);
          return;
        }
      if (!take_event (ask, payload, &error))
        {
          g_task_return_error (task, error);
          g_object_unref (task);
          return;
        }
    }
  read_line (task);
}

static void
read_line (GTask *task)
{
  Ask *ask = g_task_get_task_data (task);

  g_data_input_stream_read_line_async (ask->lines, G_PRIORITY_DEFAULT, g_task_get_cancellable (task), got_line, task);
}

static void
sent (GObject      *source,
      GAsyncResult *result,
      gpointer      data)
{
  GTask *task = data;
  Ask *ask = g_task_get_task_data (task);
  SoupMessage *msg = soup_session_get_async_result_message (SOUP_SESSION (source), result);
  GError *error = NULL;
  g_autoptr(GInputStream) in = soup_session_send_finish (SOUP_SESSION (source), result, &error);
  const char *type;

  if (in == NULL)
    {
      fail_unreachable (task, error);
      return;
    }
  ask->status = soup_message_get_status (msg);
  type = soup_message_headers_get_content_type (soup_message_get_response_headers (msg), NULL);
  ask->sse = g_strcmp0 (type, "text/event-stream") == 0;
  if (ask->status >= 200 && ask->status < 300 && !ask->sse && g_strcmp0 (type, "application/json") != 0)
    {
      g_autofree char *what = g_strdup_printf ("a %s reply instead of an event stream", type ? type : "untyped");

      fail_protocol (task, what);
      return;
    }
  g_string_truncate (ask->body, 0);
  ask->lines = g_data_input_stream_new (in);
  g_data_input_stream_set_newline_type (ask->lines, G_DATA_STREAM_NEWLINE_TYPE_ANY);
  read_line (task);
}

static void
send_pass (GTask *task)
{
  Ask *ask = g_task_get_task_data (task);
  g_autofree char *body = request_body (ask);
  g_autoptr(SoupMessage) msg = soup_message_new (SOUP_METHOD_POST, ask->self->url);
  gsize len = strlen (body);

  soup_message_set_request_body_from_bytes (msg, "application/json", g_bytes_new_take (g_steal_pointer (&body), len));
  soup_message_headers_replace (soup_message_get_request_headers (msg), "Accept", "text/event-stream");
  if (ask->self->api_key != NULL)
    {
      g_autofree char *auth = g_strdup_printf ("Bearer %s", ask->self->api_key);

      soup_message_headers_replace (soup_message_get_request_headers (msg), "Authorization", auth);
    }
  soup_session_send_async (ask->self->session, msg, G_PRIORITY_DEFAULT, g_task_get_cancellable (task), sent, task);
}

/* No model named: GET /v1/models and take the first. */
static void
got_models (GObject      *source,
            GAsyncResult *result,
            gpointer      data)
{
  GTask *task = data;
  Ask *ask = g_task_get_task_data (task);
  SoupMessage *msg = soup_session_get_async_result_message (SOUP_SESSION (source), result);
  GError *error = NULL;
  g_autoptr(GBytes) body = soup_session_send_and_read_finish (SOUP_SESSION (source), result, &error);
  g_autoptr(JsonParser) p = json_parser_new ();
  JsonNode *root, *data_node;
  JsonArray *list;

  if (body == NULL)
    {
      fail_unreachable (task, error);
      return;
    }
  if (soup_message_get_status (msg) != 200)
    {
      g_autofree char *text = g_strndup (g_bytes_get_data (body, NULL), g_bytes_get_size (body));
      g_autofree char *why = error_message_of (text);

      g_task_return_new_error (task, SQUINT_REMOTE_ERROR, SQUINT_REMOTE_ERROR_HTTP,
                               "Listing the endpoint's models failed (HTTP %u: %s); name one", soup_message_get_status (msg),
                               why);
      g_object_unref (task);
      return;
    }
  if (!json_parser_load_from_data (p, g_bytes_get_data (body, NULL), g_bytes_get_size (body), NULL) ||
      (root = json_parser_get_root (p)) == NULL || !JSON_NODE_HOLDS_OBJECT (root) ||
      (data_node = json_object_get_member (json_node_get_object (root), "data")) == NULL ||
      !JSON_NODE_HOLDS_ARRAY (data_node) || json_array_get_length (list = json_node_get_array (data_node)) == 0 ||
      !JSON_NODE_HOLDS_OBJECT (json_array_get_element (list, 0)) ||
      !json_object_has_member (json_array_get_object_element (list, 0), "id"))
    {
      fail_protocol (task, "GET /v1/models gave no model list");
      return;
    }
  ask->self->model = g_strdup (json_object_get_string_member (json_array_get_object_element (list, 0), "id"));
  send_pass (task);
}

static void
list_models (GTask *task)
{
  Ask *ask = g_task_get_task_data (task);
  g_autofree char *url = g_strndup (ask->self->url, strlen (ask->self->url) - strlen ("/chat/completions"));
  g_autofree char *models = g_strconcat (url, "/models", NULL);
  g_autoptr(SoupMessage) msg = soup_message_new (SOUP_METHOD_GET, models);

  if (ask->self->api_key != NULL)
    {
      g_autofree char *auth = g_strdup_printf ("Bearer %s", ask->self->api_key);

      soup_message_headers_replace (soup_message_get_request_headers (msg), "Authorization", auth);
    }
  soup_session_send_and_read_async (ask->self->session, msg, G_PRIORITY_DEFAULT, g_task_get_cancellable (task),
                                    got_models, task);
}

void
squint_remote_ask_async (SquintRemote                *self,
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
                         gpointer                     user_data)
{
  GTask *task = g_task_new (NULL, cancellable, ready, user_data);
  Ask *ask = g_new0 (Ask, 1);
  GError *error = NULL;

  g_task_set_source_tag (task, squint_remote_ask_async);
  ask->self = self;
  ask->policy = policy;
  ask->max_tokens = max_tokens;
  ask->temperature = temperature;
  ask->top_p = top_p;
  if (callbacks != NULL)
    ask->cb = *callbacks;
  ask->cb_data = callback_data;
  ask->low_urls = g_ptr_array_new_with_free_func (g_free);
  ask->full_urls = g_ptr_array_new_with_free_func (g_free);
  ask->messages = g_ptr_array_new_with_free_func ((GDestroyNotify)json_node_unref);
  ask->pass_text = g_string_new (NULL);
  ask->reply = g_string_new (NULL);
  ask->body = g_string_new (NULL);
  ask->answer = g_new0 (SquintRemoteAnswer, 1);
  ask->pass = 1;
  g_task_set_task_data (task, ask, ask_free);
  if (!prepare_images (ask, images, n_images, &error))
    {
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }
  first_messages (ask, question);
  if (self->model == NULL)
    list_models (task);
  else
    send_pass (task);
}

SquintRemoteAnswer *
squint_remote_ask_finish (SquintRemote  *self,
                          GAsyncResult  *result,
                          GError       **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}
