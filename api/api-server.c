/* api-server.c — see api-server.h.
 *
 * A chat request lives in a Request: parsed, its images decoded or fetched,
 * then queued on the generator; the SoupServerMessage stays paused until the
 * answer (or, streaming, each chunk) is there.  A client that goes away
 * cancels its Request: found by the message finishing early, or, while
 * nothing is written, by a watch on its socket.
 *
 * SPDX-License-Identifier: MIT
 */
#define G_LOG_DOMAIN "squint-server"

#include "api-server.h"

#include <errno.h>
#include <json-glib/json-glib.h>
#include <sys/socket.h>

#include "image-source.h"
#include "openai-request.h"

struct _SquintApiServer
{
  SoupServer      *server;
  SquintGenerator *gen;
  SoupSession     *fetcher;
  char            *model_id;
  char            *api_key;
  gsize            max_body, max_image;
  guint            fetch_timeout_s;
  gboolean         fetch_remote;
  gint64           created;
  guint64          n_requests, n_completed, n_rejected, n_failed;
};

typedef struct
{
  gatomicrefcount    ref;
  SquintApiServer   *srv;
  SoupServerMessage *msg;
  SquintChatRequest *req;       /* until queued */
  GPtrArray         *images;    /* per message: GPtrArray of GBytes; until queued */
  guint              pending;   /* image fetches in flight */
  GError            *fetch_error;
  GCancellable      *cancel;
  gboolean           gone;      /* the response is over (sent, or the client left) */
  gboolean           stream, include_usage, headers_sent;
  char              *id;
  gint64             created;
  GSource           *watch;
  gulong             finished_id;
} Request;

/* ---- responses ---- */

static char *
builder_to_string (JsonBuilder *b)
{
  g_autoptr(JsonNode) root = json_builder_get_root (b);

  return json_to_string (root, FALSE);
}

static void
send_json (SoupServerMessage *msg,
           guint              status,
           char              *json)   /* taken */
{
  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_TAKE, json, strlen (json));
}

static void
send_error (SoupServerMessage *msg,
            const GError      *error,
            const char        *param)
{
  send_json (msg, squint_api_error_http_status (error), squint_api_error_json (error, param));
}

static void
stop_watch (Request *r)
{
  if (r->watch != NULL)
    {
      g_source_destroy (r->watch);
      g_clear_pointer (&r->watch, g_source_unref);
    }
}

static void
request_unref (gpointer data)
{
  Request *r = data;

  if (!g_atomic_ref_count_dec (&r->ref))
    return;
  stop_watch (r);
  g_signal_handler_disconnect (r->msg, r->finished_id);
  g_object_unref (r->msg);
  squint_chat_request_free (r->req);
  g_clear_pointer (&r->images, g_ptr_array_unref);
  g_clear_error (&r->fetch_error);
  g_object_unref (r->cancel);
  g_free (r->id);
  g_free (r);
}

static Request *
request_ref (Request *r)
{
  g_atomic_ref_count_inc (&r->ref);
  return r;
}

/* The end of a paused exchange: whatever was set goes out. */
static void
finish (Request *r)
{
  stop_watch (r);
  soup_server_message_unpause (r->msg);
}

static void
fail (Request      *r,
      const GError *error)
{
  if (error->domain == SQUINT_API_ERROR && error->code == SQUINT_API_ERROR_BUSY)
    r->srv->n_rejected++;
  else
    r->srv->n_failed++;
  if (r->gone)
    return;
  if (r->headers_sent)
    {
      /* mid-stream: an error event, then the end */
      SoupMessageBody *body = soup_server_message_get_response_body (r->msg);
      g_autofree char *json = squint_api_error_json (error, NULL);
      g_autofree char *event = g_strdup_printf ("data: %s\n\ndata: [DONE]\n\n", json);

      soup_message_body_append (body, SOUP_MEMORY_COPY, event, strlen (event));
      soup_message_body_complete (body);
    }
  else
    send_error (r->msg, error, NULL);
  r->gone = TRUE;
  finish (r);
}

/* ---- JSON pieces ---- */

static void
add_usage (JsonBuilder                  *b,
           const SquintGenerationResult *res)
{
  json_builder_set_member_name (b, "usage");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "prompt_tokens");
  json_builder_add_int_value (b, res->prompt_tokens);
  json_builder_set_member_name (b, "completion_tokens");
  json_builder_add_int_value (b, res->completion_tokens);
  json_builder_set_member_name (b, "total_tokens");
  json_builder_add_int_value (b, res->prompt_tokens + res->completion_tokens);
  json_builder_set_member_name (b, "visual_tokens");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "used");
  json_builder_add_int_value (b, res->visual_used);
  json_builder_set_member_name (b, "baseline");
  json_builder_add_int_value (b, res->visual_baseline);
  json_builder_set_member_name (b, "saved");
  json_builder_add_int_value (b, res->visual_saved);
  json_builder_set_member_name (b, "zoomed");
  json_builder_add_boolean_value (b, res->zoomed);
  json_builder_set_member_name (b, "policy");
  json_builder_add_string_value (b, res->policy);
  json_builder_end_object (b);
  json_builder_set_member_name (b, "timings");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "encode_ms");
  json_builder_add_double_value (b, res->encode_ms);
  json_builder_set_member_name (b, "prefill_ms");
  json_builder_add_double_value (b, res->prefill_ms);
  json_builder_set_member_name (b, "decode_ms");
  json_builder_add_double_value (b, res->decode_ms);
  json_builder_set_member_name (b, "total_ms");
  json_builder_add_double_value (b, res->total_ms);
  json_builder_end_object (b);
  json_builder_end_object (b);
}

static JsonBuilder *
begin_completion (Request    *r,
                  const char *object)
{
  JsonBuilder *b = json_builder_new ();

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "id");
  json_builder_add_string_value (b, r->id);
  json_builder_set_member_name (b, "object");
  json_builder_add_string_value (b, object);
  json_builder_set_member_name (b, "created");
  json_builder_add_int_value (b, r->created);
  json_builder_set_member_name (b, "model");
  json_builder_add_string_value (b, r->srv->model_id);
  return b;
}

/* One chunk: a delta (content/reasoning, either may be NULL), a finish, usage, or a zoom. */
static char *
chunk_json (Request                      *r,
            gboolean                      role,
            const char                   *content,
            const char                   *reasoning,
            const char                   *finish_reason,
            gboolean                      with_choice,
            const SquintGenerationResult *usage,
            const gint64                 *zoom)
{
  g_autoptr(JsonBuilder) b = begin_completion (r, "chat.completion.chunk");

  json_builder_set_member_name (b, "choices");
  json_builder_begin_array (b);
  if (with_choice)
    {
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "index");
      json_builder_add_int_value (b, 0);
      json_builder_set_member_name (b, "delta");
      json_builder_begin_object (b);
      if (role)
        {
          json_builder_set_member_name (b, "role");
          json_builder_add_string_value (b, "assistant");
        }
      if (content != NULL)
        {
          json_builder_set_member_name (b, "content");
          json_builder_add_string_value (b, content);
        }
      if (reasoning != NULL)
        {
          json_builder_set_member_name (b, "reasoning_content");
          json_builder_add_string_value (b, reasoning);
        }
      json_builder_end_object (b);
      json_builder_set_member_name (b, "finish_reason");
      if (finish_reason != NULL)
        json_builder_add_string_value (b, finish_reason);
      else
        json_builder_add_null_value (b);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  if (usage != NULL)
    add_usage (b, usage);
  if (zoom != NULL)
    {
      /* Squint's own event: the model asked for the full image */
      json_builder_set_member_name (b, "squint");
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "event");
      json_builder_add_string_value (b, "zoom");
      json_builder_set_member_name (b, "low_tokens");
      json_builder_add_int_value (b, zoom[0]);
      json_builder_set_member_name (b, "full_tokens");
      json_builder_add_int_value (b, zoom[1]);
      json_builder_end_object (b);
    }
  json_builder_end_object (b);
  return builder_to_string (b);
}

static char *
completion_json (Request                      *r,
                 const SquintGenerationResult *res)
{
  g_autoptr(JsonBuilder) b = begin_completion (r, "chat.completion");

  json_builder_set_member_name (b, "choices");
  json_builder_begin_array (b);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "index");
  json_builder_add_int_value (b, 0);
  json_builder_set_member_name (b, "message");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "role");
  json_builder_add_string_value (b, "assistant");
  json_builder_set_member_name (b, "content");
  json_builder_add_string_value (b, res->content);
  if (res->reasoning[0] != '\0')
    {
      json_builder_set_member_name (b, "reasoning_content");
      json_builder_add_string_value (b, res->reasoning);
    }
  json_builder_end_object (b);
  json_builder_set_member_name (b, "finish_reason");
  json_builder_add_string_value (b, res->finish_reason);
  json_builder_end_object (b);
  json_builder_end_array (b);
  add_usage (b, res);
  json_builder_end_object (b);
  return builder_to_string (b);
}

/* ---- server-sent events ---- */

static void
send_event (Request *r,
            char    *json)   /* taken */
{
  SoupMessageBody *body = soup_server_message_get_response_body (r->msg);
  g_autofree char *event = g_strdup_printf ("data: %s\n\n", json);

  g_free (json);
  soup_message_body_append (body, SOUP_MEMORY_COPY, event, strlen (event));
  soup_server_message_unpause (r->msg);
}

static void
start_stream (Request *r)
{
  SoupMessageHeaders *h = soup_server_message_get_response_headers (r->msg);

  if (r->headers_sent)
    return;
  r->headers_sent = TRUE;
  soup_server_message_set_status (r->msg, SOUP_STATUS_OK, NULL);
  soup_message_headers_set_encoding (h, SOUP_ENCODING_CHUNKED);
  soup_message_headers_set_content_type (h, "text/event-stream", NULL);
  soup_message_headers_replace (h, "Cache-Control", "no-cache");
  send_event (r, chunk_json (r, TRUE, "", NULL, NULL, TRUE, NULL, NULL));
}

static void
on_delta (const char *content,
          const char *reasoning,
          gpointer    data)
{
  Request *r = data;

  if (r->gone || !r->stream)
    return;
  start_stream (r);
  send_event (r, chunk_json (r, FALSE, content[0] ? content : NULL, reasoning[0] ? reasoning : NULL, NULL, TRUE,
                             NULL, NULL));
}

static void
on_zoom (gint64   low,
         gint64   full,
         gpointer data)
{
  Request *r = data;
  gint64 zoom[2] = { low, full };

  if (r->gone || !r->stream)
    return;
  start_stream (r);
  send_event (r, chunk_json (r, FALSE, NULL, NULL, NULL, TRUE, NULL, zoom));
}

static void
on_done (const SquintGenerationResult *res,
         const GError                 *error,
         gpointer                      data)
{
  Request *r = data;

  if (error != NULL)
    {
      fail (r, error);
      return;
    }
  if (r->gone)
    return;
  r->srv->n_completed++;
  if (r->stream)
    {
      SoupMessageBody *body = soup_server_message_get_response_body (r->msg);

      start_stream (r);
      send_event (r, chunk_json (r, FALSE, NULL, NULL, res->finish_reason, TRUE, res, NULL));
      if (r->include_usage)
        send_event (r, chunk_json (r, FALSE, NULL, NULL, NULL, FALSE, res, NULL));
      soup_message_body_append (body, SOUP_MEMORY_STATIC, "data: [DONE]\n\n", 14);
      soup_message_body_complete (body);
    }
  else
    send_json (r->msg, SOUP_STATUS_OK, completion_json (r, res));
  r->gone = TRUE;
  finish (r);
}

static const SquintGenerationCallbacks callbacks = { on_delta, on_zoom, on_done };

/* ---- the client leaving ---- */

static void
client_gone (Request *r)
{
  if (!r->gone)
    g_debug ("%s: the client went away", r->id);
  r->gone = TRUE;
  stop_watch (r);
  g_cancellable_cancel (r->cancel);
}

static void
on_finished (SoupServerMessage *msg,
             gpointer           data)
{
  client_gone (data);
}

/* While a request is paused libsoup does not read its socket: a peer that
 * closes shows as a readable socket with nothing to read. */
static gboolean
on_socket (GSocket      *socket,
           GIOCondition  cond,
           gpointer      data)
{
  Request *r = data;
  char c;
  ssize_t n;

  if (cond & (G_IO_HUP | G_IO_ERR))
    {
      client_gone (r);
      return G_SOURCE_REMOVE;
    }
  n = recv (g_socket_get_fd (socket), &c, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
    {
      client_gone (r);
      return G_SOURCE_REMOVE;
    }
  if (n > 0)
    {
      /* a pipelined request: not ours to read; stop looking */
      g_clear_pointer (&r->watch, g_source_unref);
      return G_SOURCE_REMOVE;
    }
  return G_SOURCE_CONTINUE;
}

static void
watch_client (Request *r)
{
  GSocket *socket = soup_server_message_get_socket (r->msg);

  if (socket == NULL)
    return;
  r->watch = g_socket_create_source (socket, G_IO_IN | G_IO_HUP | G_IO_ERR, NULL);
  g_source_set_callback (r->watch, (GSourceFunc)(void (*)(void))on_socket, r, NULL);
  g_source_attach (r->watch, NULL);
}

/* ---- the chat handler ---- */

static void
queue_request (Request *r)
{
  g_autoptr(GError) error = NULL;

  if (r->gone)
    return;
  if (r->fetch_error != NULL)
    {
      fail (r, r->fetch_error);
      return;
    }
  /* the generator owns request, images and a reference once it accepts them */
  if (squint_generator_submit (r->srv->gen, r->req, r->images, &callbacks, request_ref (r), request_unref, r->cancel,
                               &error))
    {
      r->req = NULL;
      r->images = NULL;
    }
  else
    {
      request_unref (r);
      fail (r, error);
    }
}

typedef struct
{
  Request   *r;
  GPtrArray *list;    /* the message's images */
  guint      index;   /* where these bytes go */
} Slot;

static void
image_fetched (GObject      *source,
               GAsyncResult *result,
               gpointer      data)
{
  Slot *slot = data;
  Request *r = slot->r;
  GError *error = NULL;
  GBytes *bytes = squint_image_fetch_finish (result, &error);

  if (bytes != NULL)
    g_ptr_array_index (slot->list, slot->index) = bytes;
  else if (r->fetch_error == NULL)
    r->fetch_error = error;
  else
    g_error_free (error);
  if (--r->pending == 0)
    queue_request (r);
  g_ptr_array_unref (slot->list);
  request_unref (r);
  g_free (slot);
}

/* Decodes data: URLs now and starts fetching http(s) ones. */
static gboolean
gather_images (Request  *r,
               GError  **error)
{
  SquintApiServer *srv = r->srv;

  r->images = g_ptr_array_new_with_free_func ((GDestroyNotify)g_ptr_array_unref);
  for (guint m = 0; m < r->req->messages->len; m++)
    {
      SquintChatMessage *msg = g_ptr_array_index (r->req->messages, m);
      GPtrArray *list = g_ptr_array_new_full (msg->image_urls->len, (GDestroyNotify)g_bytes_unref);

      g_ptr_array_add (r->images, list);
      for (guint k = 0; k < msg->image_urls->len; k++)
        {
          const char *url = g_ptr_array_index (msg->image_urls, k);

          g_ptr_array_add (list, NULL);
          if (g_str_has_prefix (url, "data:"))
            {
              GBytes *bytes = squint_data_url_decode (url, srv->max_image, error);

              if (bytes == NULL)
                {
                  g_prefix_error (error, "messages[%u], image %u: ", m, k + 1);
                  return FALSE;
                }
              g_ptr_array_index (list, k) = bytes;
            }
          else if (!srv->fetch_remote)
            {
              g_set_error (error, SQUINT_API_ERROR, SQUINT_API_ERROR_INVALID,
                           "messages[%u], image %u: this server takes images as data: URLs only", m, k + 1);
              return FALSE;
            }
          else
            {
              Slot *slot = g_new0 (Slot, 1);

              slot->r = request_ref (r);
              slot->list = g_ptr_array_ref (list);
              slot->index = k;
              r->pending++;
              squint_image_fetch_async (srv->fetcher, url, srv->max_image, srv->fetch_timeout_s, r->cancel,
                                        image_fetched, slot);
            }
        }
    }
  return TRUE;
}

static gboolean
authorized (SquintApiServer   *srv,
            SoupServerMessage *msg)
{
  const char *auth;
  g_autofree char *want = NULL;

  if (srv->api_key == NULL)
    return TRUE;
  auth = soup_message_headers_get_one (soup_server_message_get_request_headers (msg), "Authorization");
  want = g_strdup_printf ("Bearer %s", srv->api_key);
  return auth != NULL && g_str_equal (auth, want);
}

/* The checks every route shares: the key.  FALSE when answered already. */
static gboolean
admit (SquintApiServer   *srv,
       SoupServerMessage *msg,
       const char        *method)
{
  g_autoptr(GError) error = NULL;

  srv->n_requests++;
  if (!authorized (srv, msg))
    error = g_error_new_literal (SQUINT_API_ERROR, SQUINT_API_ERROR_UNAUTHORIZED,
                                 "Missing or wrong API key: send Authorization: Bearer <key>");
  else if (g_strcmp0 (soup_server_message_get_method (msg), method) != 0)
    error = g_error_new (SQUINT_API_ERROR, SQUINT_API_ERROR_METHOD, "Use %s here", method);
  if (error == NULL)
    return TRUE;
  srv->n_failed++;
  send_error (msg, error, NULL);
  return FALSE;
}

static void
chat_handler (SoupServer        *server,
              SoupServerMessage *msg,
              const char        *path,
              GHashTable        *query,
              gpointer           data)
{
  SquintApiServer *srv = data;
  g_autoptr(GBytes) body = NULL;
  g_autoptr(SquintChatRequest) req = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *param = NULL;
  Request *r;

  if (!admit (srv, msg, SOUP_METHOD_POST))
    return;
  body = soup_message_body_flatten (soup_server_message_get_request_body (msg));
  req = squint_chat_request_parse (g_bytes_get_data (body, NULL), g_bytes_get_size (body), &param, &error);
  if (req != NULL && req->model != NULL && req->model[0] != '\0' && !g_str_equal (req->model, srv->model_id))
    {
      error = g_error_new (SQUINT_API_ERROR, SQUINT_API_ERROR_NOT_FOUND,
                           "The model '%s' does not exist here; this server has '%s'", req->model, srv->model_id);
      param = g_strdup ("model");
    }
  if (error != NULL)
    {
      srv->n_failed++;
      send_error (msg, error, param);
      return;
    }

  r = g_new0 (Request, 1);
  g_atomic_ref_count_init (&r->ref);
  r->srv = srv;
  r->msg = g_object_ref (msg);
  r->cancel = g_cancellable_new ();
  r->stream = req->stream;
  r->include_usage = req->include_usage;
  r->id = g_strdup_printf ("chatcmpl-%08x%08x", g_random_int (), g_random_int ());
  r->created = g_get_real_time () / G_USEC_PER_SEC;
  r->req = g_steal_pointer (&req);
  r->finished_id = g_signal_connect (msg, "finished", G_CALLBACK (on_finished), r);
  soup_server_message_pause (msg);
  watch_client (r);
  if (!gather_images (r, &error))
    {
      g_cancellable_cancel (r->cancel);
      fail (r, error);
    }
  else if (r->pending == 0)
    queue_request (r);
  request_unref (r);
}

static void
models_handler (SoupServer        *server,
                SoupServerMessage *msg,
                const char        *path,
                GHashTable        *query,
                gpointer           data)
{
  SquintApiServer *srv = data;
  g_autoptr(JsonBuilder) b = json_builder_new ();
  const char *id = g_str_has_prefix (path, "/v1/models/") ? path + strlen ("/v1/models/") : NULL;

  if (!admit (srv, msg, SOUP_METHOD_GET))
    return;
  if (id != NULL && !g_str_equal (id, srv->model_id))
    {
      g_autoptr(GError) error = g_error_new (SQUINT_API_ERROR, SQUINT_API_ERROR_NOT_FOUND,
                                             "The model '%s' does not exist here", id);

      srv->n_failed++;
      send_error (msg, error, "model");
      return;
    }
  if (id == NULL)
    {
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "object");
      json_builder_add_string_value (b, "list");
      json_builder_set_member_name (b, "data");
      json_builder_begin_array (b);
    }
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "id");
  json_builder_add_string_value (b, srv->model_id);
  json_builder_set_member_name (b, "object");
  json_builder_add_string_value (b, "model");
  json_builder_set_member_name (b, "created");
  json_builder_add_int_value (b, srv->created);
  json_builder_set_member_name (b, "owned_by");
  json_builder_add_string_value (b, "squint");
  json_builder_set_member_name (b, "squint_policy");
  json_builder_add_string_value (b, squint_generator_get_policy (srv->gen));
  json_builder_end_object (b);
  if (id == NULL)
    {
      json_builder_end_array (b);
      json_builder_end_object (b);
    }
  srv->n_completed++;
  send_json (msg, SOUP_STATUS_OK, builder_to_string (b));
}

static void
health_handler (SoupServer        *server,
                SoupServerMessage *msg,
                const char        *path,
                GHashTable        *query,
                gpointer           data)
{
  SquintApiServer *srv = data;
  guint waiting;
  gboolean running;
  guint64 served;

  /* no key needed: load balancers probe this */
  if (g_strcmp0 (soup_server_message_get_method (msg), SOUP_METHOD_GET) != 0)
    {
      g_autoptr(GError) error = g_error_new_literal (SQUINT_API_ERROR, SQUINT_API_ERROR_METHOD, "Use GET here");

      send_error (msg, error, NULL);
      return;
    }
  squint_generator_counts (srv->gen, &waiting, &running, &served);
  send_json (msg, SOUP_STATUS_OK,
             g_strdup_printf ("{\"status\": \"ok\", \"model\": \"%s\", \"running\": %s, \"waiting\": %u, "
                              "\"served\": %" G_GUINT64_FORMAT ", \"rejected\": %" G_GUINT64_FORMAT "}",
                              srv->model_id, running ? "true" : "false", waiting, served, srv->n_rejected));
}

static void
default_handler (SoupServer        *server,
                 SoupServerMessage *msg,
                 const char        *path,
                 GHashTable        *query,
                 gpointer           data)
{
  g_autoptr(GError) error = g_error_new (SQUINT_API_ERROR, SQUINT_API_ERROR_NOT_FOUND, "No such endpoint: %s", path);

  send_error (msg, error, NULL);
}

/* Before the body is read: refuse what is too large to hold. */
static void
early_handler (SoupServer        *server,
               SoupServerMessage *msg,
               const char        *path,
               GHashTable        *query,
               gpointer           data)
{
  SquintApiServer *srv = data;
  SoupMessageHeaders *h = soup_server_message_get_request_headers (msg);
  g_autoptr(GError) error = NULL;
  goffset length = soup_message_headers_get_content_length (h);

  if (soup_message_headers_get_encoding (h) == SOUP_ENCODING_CHUNKED)
    error = g_error_new_literal (SQUINT_API_ERROR, SQUINT_API_ERROR_LENGTH,
                                 "Send the request body with a Content-Length");
  else if (length > 0 && (guint64)length > srv->max_body)
    error = g_error_new (SQUINT_API_ERROR, SQUINT_API_ERROR_TOO_LARGE,
                         "The request body (%" G_GOFFSET_FORMAT " bytes) is over the limit of %" G_GSIZE_FORMAT
                         " bytes", length, srv->max_body);
  if (error == NULL)
    return;
  srv->n_requests++;
  srv->n_failed++;
  soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Connection", "close");
  send_error (msg, error, NULL);
}

static const char *const routes[] = { NULL, "/v1/chat/completions", "/v1/models", "/health" };

SquintApiServer *
squint_api_server_new (SquintGenerator              *gen,
                       const SquintApiServerOptions *options)
{
  SquintApiServer *self = g_new0 (SquintApiServer, 1);

  self->gen = gen;
  self->model_id = g_strdup (options->model_id ? options->model_id : "squint");
  self->api_key = options->api_key && options->api_key[0] ? g_strdup (options->api_key) : NULL;
  self->max_body = options->max_body ? options->max_body : 32 * 1024 * 1024;
  self->max_image = options->max_image ? options->max_image : 20 * 1024 * 1024;
  self->fetch_timeout_s = options->fetch_timeout_s ? options->fetch_timeout_s : 20;
  self->fetch_remote = options->fetch_remote;
  self->created = g_get_real_time () / G_USEC_PER_SEC;
  self->fetcher = soup_session_new_with_options ("timeout", self->fetch_timeout_s, "user-agent", "squint-server/0.1",
                                                 NULL);
  self->server = soup_server_new ("server-header", "squint-server", NULL);
  /* early handlers belong to a path: each route gets the body check */
  for (gsize i = 0; i < G_N_ELEMENTS (routes); i++)
    soup_server_add_early_handler (self->server, routes[i], early_handler, self, NULL);
  soup_server_add_handler (self->server, NULL, default_handler, self, NULL);
  soup_server_add_handler (self->server, "/v1/chat/completions", chat_handler, self, NULL);
  soup_server_add_handler (self->server, "/v1/models", models_handler, self, NULL);
  soup_server_add_handler (self->server, "/health", health_handler, self, NULL);
  return self;
}

void
squint_api_server_free (SquintApiServer *self)
{
  if (self == NULL)
    return;
  soup_server_disconnect (self->server);
  g_object_unref (self->server);
  g_object_unref (self->fetcher);
  squint_generator_free (self->gen);
  g_free (self->model_id);
  g_free (self->api_key);
  g_free (self);
}

gboolean
squint_api_server_listen (SquintApiServer *self,
                          const char      *host,
                          guint            port,
                          GError         **error)
{
  g_autoptr(GInetAddress) addr = g_inet_address_new_from_string (host);
  g_autoptr(GSocketAddress) sa = NULL;
  g_autoptr(GSocket) socket = NULL;

  if (addr == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "'%s' is not an IP address", host);
      return FALSE;
    }
  sa = g_inet_socket_address_new (addr, port);
  /* our own socket: a burst of clients needs a longer accept queue than the default 10 */
  socket = g_socket_new (g_inet_address_get_family (addr), G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, error);
  if (socket == NULL)
    return FALSE;
  g_socket_set_listen_backlog (socket, 256);
  if (!g_socket_bind (socket, sa, TRUE, error) || !g_socket_listen (socket, error))
    return FALSE;
  return soup_server_listen_socket (self->server, socket, 0, error);
}

char *
squint_api_server_get_url (SquintApiServer *self)
{
  GSList *uris = soup_server_get_uris (self->server);
  char *url = uris ? g_uri_to_string (uris->data) : NULL;

  g_slist_free_full (uris, (GDestroyNotify)g_uri_unref);
  return url;
}

void
squint_api_server_counts (SquintApiServer *self,
                          guint64         *requests,
                          guint64         *completed,
                          guint64         *rejected,
                          guint64         *failed)
{
  *requests = self->n_requests;
  *completed = self->n_completed;
  *rejected = self->n_rejected;
  *failed = self->n_failed;
}
