/* test-server.c — squint-server's HTTP face in-process, against a libsoup
 * client: the routes, a streamed and a plain answer on the tiny reference
 * model, every malformed request class (each a 4xx in the OpenAI error
 * shape, the server serving on), images over http, 32 concurrent clients
 * against a short queue, and a client that leaves mid-answer. */
#include <json-glib/json-glib.h>
#include <string.h>

#include "api-server.h"

#define MAX_BODY (256 * 1024)

typedef struct
{
  SquintApiServer *server;
  SoupSession     *session;
  char            *url;
  char            *image_b64;
  GBytes          *image;
} Fixture;

static Fixture fx;

/* A server on the tiny model (its vision tower too with `vision`), listening
 * on a free local port; *url is its address without the trailing slash. */
static SquintApiServer *
serve_tiny (const SquintGeneratorOptions *g,
            const SquintApiServerOptions *o,
            gboolean                      vision,
            char                        **url)
{
  const char *data = g_getenv ("SQ_TEST_DATA");
  g_autofree char *text = g_build_filename (data, "tiny/models/qwen25vl-text-f16.gguf", NULL);
  g_autofree char *mmproj = g_build_filename (data, "tiny/models/mmproj-qwen25vl-f16.gguf", NULL);
  sq_model_params mp = sq_model_default_params ();
  g_autoptr(GError) error = NULL;
  sq_model *model = NULL;
  sq_error err = { 0 };
  SquintApiServer *srv;

  mp.text_path = text;
  mp.mmproj_path = vision ? mmproj : NULL;
  mp.n_threads = 1;
  if (sq_model_load (&mp, &model, &err) != SQ_OK)
    g_error ("%s", err.msg);
  srv = squint_api_server_new (squint_generator_new (model, g, &error), o);
  g_assert_no_error (error);
  g_assert_true (squint_api_server_listen (srv, "127.0.0.1", 0, &error));
  *url = squint_api_server_get_url (srv);
  (*url)[strlen (*url) - 1] = '\0';
  return srv;
}

/* ---- a blocking client over the shared main loop ---- */

typedef struct
{
  gboolean  done;
  guint     status;
  GBytes   *body;
  GError   *error;
} Reply;

static void
reply_clear (Reply *r)
{
  g_clear_pointer (&r->body, g_bytes_unref);
  g_clear_error (&r->error);
}

static void
got_reply (GObject      *source,
           GAsyncResult *result,
           gpointer      data)
{
  Reply *r = data;
  SoupMessage *msg = soup_session_get_async_result_message (SOUP_SESSION (source), result);

  r->body = soup_session_send_and_read_finish (SOUP_SESSION (source), result, &r->error);
  r->status = soup_message_get_status (msg);
  r->done = TRUE;
}

static SoupMessage *
make_request (const char *method,
              const char *path,
              const char *body,
              const char *key)
{
  g_autofree char *url = g_strconcat (fx.url, path, NULL);
  SoupMessage *msg = soup_message_new (method, url);

  if (body != NULL)
    soup_message_set_request_body_from_bytes (msg, "application/json", g_bytes_new (body, strlen (body)));
  if (key != NULL)
    {
      g_autofree char *auth = g_strdup_printf ("Bearer %s", key);

      soup_message_headers_replace (soup_message_get_request_headers (msg), "Authorization", auth);
    }
  return msg;
}

static void
start (Reply       *r,
       const char  *method,
       const char  *path,
       const char  *body,
       const char  *key)
{
  g_autoptr(SoupMessage) msg = make_request (method, path, body, key);

  memset (r, 0, sizeof *r);
  soup_session_send_and_read_async (fx.session, msg, G_PRIORITY_DEFAULT, NULL, got_reply, r);
}

static void
wait_for (Reply *r)
{
  while (!r->done)
    g_main_context_iteration (NULL, TRUE);
}

static JsonObject *
call (const char *method,
      const char *path,
      const char *body,
      const char *key,
      guint       want_status)
{
  Reply r;
  g_autoptr(JsonParser) p = json_parser_new ();
  JsonObject *o;

  start (&r, method, path, body, key);
  wait_for (&r);
  g_assert_no_error (r.error);
  if (r.status != want_status)
    g_error ("%s %s: HTTP %u, want %u: %.*s", method, path, r.status, want_status,
             (int)g_bytes_get_size (r.body), (const char *)g_bytes_get_data (r.body, NULL));
  g_assert_true (json_parser_load_from_data (p, g_bytes_get_data (r.body, NULL), g_bytes_get_size (r.body), NULL));
  o = json_object_ref (json_node_get_object (json_parser_get_root (p)));
  reply_clear (&r);
  return o;
}

/* An OpenAI error object with this type; returns its message. */
static void
assert_error_shape (JsonObject *o,
                    const char *type)
{
  JsonObject *e;

  g_assert_true (json_object_has_member (o, "error"));
  e = json_object_get_object_member (o, "error");
  g_assert_cmpstr (json_object_get_string_member (e, "type"), ==, type);
  g_assert_nonnull (json_object_get_string_member (e, "message"));
  g_assert_true (json_object_has_member (e, "param"));
  g_assert_true (json_object_has_member (e, "code"));
}

static void
assert_still_serving (void)
{
  g_autoptr(JsonObject) h = call ("GET", "/health", NULL, NULL, 200);

  g_assert_cmpstr (json_object_get_string_member (h, "status"), ==, "ok");
}

static char *
image_request (const char *extra,
               const char *url)
{
  g_autofree char *data_url = g_strdup_printf ("data:image/png;base64,%s", fx.image_b64);

  return g_strdup_printf ("{\"messages\": [{\"role\": \"user\", \"content\": ["
                          "{\"type\": \"image_url\", \"image_url\": {\"url\": \"%s\"}},"
                          "{\"type\": \"text\", \"text\": \"What is in the picture?\"}]}]%s%s}",
                          url ? url : data_url, extra[0] ? ", " : "", extra);
}

/* ---- tests ---- */

static void
test_routes (void)
{
  g_autoptr(JsonObject) models = call ("GET", "/v1/models", NULL, NULL, 200);
  g_autoptr(JsonObject) model = call ("GET", "/v1/models/tiny", NULL, NULL, 200);
  g_autoptr(JsonObject) unknown = call ("GET", "/v1/models/gpt-9", NULL, NULL, 404);
  g_autoptr(JsonObject) nowhere = call ("GET", "/v2/anything", NULL, NULL, 404);
  g_autoptr(JsonObject) method = call ("GET", "/v1/chat/completions", NULL, NULL, 405);
  JsonArray *data = json_object_get_array_member (models, "data");

  g_assert_cmpstr (json_object_get_string_member (models, "object"), ==, "list");
  g_assert_cmpuint (json_array_get_length (data), ==, 1);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (data, 0), "id"), ==, "tiny");
  g_assert_cmpstr (json_object_get_string_member (model, "id"), ==, "tiny");
  assert_error_shape (unknown, "not_found_error");
  assert_error_shape (nowhere, "not_found_error");
  assert_error_shape (method, "invalid_request_error");
}

static void
test_answer (void)
{
  g_autofree char *body = image_request ("\"max_tokens\": 12, \"model\": \"tiny\"", NULL);
  g_autofree char *sbody = image_request ("\"max_tokens\": 12, \"stream\": true, "
                                          "\"stream_options\": {\"include_usage\": true}", NULL);
  g_autoptr(JsonObject) o = call ("POST", "/v1/chat/completions", body, NULL, 200);
  JsonObject *choice = json_array_get_object_element (json_object_get_array_member (o, "choices"), 0);
  JsonObject *usage = json_object_get_object_member (o, "usage");
  JsonObject *vt = json_object_get_object_member (usage, "visual_tokens");
  const char *content = json_object_get_string_member (json_object_get_object_member (choice, "message"), "content");
  g_autoptr(GString) streamed = g_string_new (NULL);
  g_auto(GStrv) events = NULL;
  gboolean saw_done = FALSE, saw_usage = FALSE;
  Reply r;

  g_assert_cmpstr (json_object_get_string_member (o, "object"), ==, "chat.completion");
  g_assert_cmpstr (json_object_get_string_member (choice, "finish_reason"), ==, "length");
  g_assert_cmpint (json_object_get_int_member (usage, "completion_tokens"), ==, 12);
  g_assert_cmpint (json_object_get_int_member (usage, "prompt_tokens"), >, 48);
  g_assert_cmpint (json_object_get_int_member (vt, "used"), ==, 48);     /* 224x168 at full size: 8x6 */
  g_assert_cmpint (json_object_get_int_member (vt, "baseline"), ==, 48);
  g_assert_false (json_object_get_boolean_member (vt, "zoomed"));

  /* the same question streamed: the same text, chunk by chunk */
  start (&r, "POST", "/v1/chat/completions", sbody, NULL);
  wait_for (&r);
  g_assert_cmpuint (r.status, ==, 200);
  events = g_strsplit (g_bytes_get_data (r.body, NULL) ? (const char *)g_bytes_get_data (r.body, NULL) : "", "\n\n", -1);
  for (char **e = events; *e != NULL && **e != '\0'; e++)
    {
      g_autoptr(JsonParser) p = json_parser_new ();
      JsonObject *chunk;
      JsonArray *choices;

      g_assert_true (g_str_has_prefix (*e, "data: "));
      g_assert_false (saw_done);
      if (g_str_equal (*e, "data: [DONE]"))
        {
          saw_done = TRUE;
          continue;
        }
      g_assert_true (json_parser_load_from_data (p, *e + 6, -1, NULL));
      chunk = json_node_get_object (json_parser_get_root (p));
      g_assert_cmpstr (json_object_get_string_member (chunk, "object"), ==, "chat.completion.chunk");
      choices = json_object_get_array_member (chunk, "choices");
      if (json_array_get_length (choices) > 0)
        {
          JsonObject *delta = json_object_get_object_member (json_array_get_object_element (choices, 0), "delta");

          if (json_object_has_member (delta, "content"))
            g_string_append (streamed, json_object_get_string_member (delta, "content"));
        }
      if (json_object_has_member (chunk, "usage"))
        saw_usage = TRUE;
    }
  g_assert_true (saw_done);
  g_assert_true (saw_usage);
  g_assert_cmpstr (g_strchomp (streamed->str), ==, content);
  reply_clear (&r);
}

static void
expect_4xx (const char *body,
            guint       status,
            const char *type,
            const char *key)
{
  g_autoptr(JsonObject) o = call ("POST", "/v1/chat/completions", body, key, status);

  assert_error_shape (o, type);
  assert_still_serving ();
}

static void
test_malformed (void)
{
  g_autofree char *junk_image = g_strdup_printf (
    "{\"messages\": [{\"role\": \"user\", \"content\": [{\"type\": \"image_url\", \"image_url\": "
    "{\"url\": \"data:image/png;base64,%s\"}}]}]}", "bm90IGFuIGltYWdlIGF0IGFsbA==");
  g_autofree char *huge = NULL;
  GString *h = g_string_new ("{\"messages\": [{\"role\": \"user\", \"content\": \"");

  expect_4xx ("{\"messages\": [", 400, "invalid_request_error", NULL);
  expect_4xx ("{\"messages\": \"hi\"}", 400, "invalid_request_error", NULL);
  expect_4xx ("{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"max_tokens\": \"many\"}", 400,
              "invalid_request_error", NULL);
  expect_4xx ("{\"messages\": [{\"role\": \"user\", \"content\": [{\"type\": \"image_url\", \"image_url\": "
              "{\"url\": \"data:image/png;base64,***\"}}]}]}", 400, "invalid_request_error", NULL);
  expect_4xx (junk_image, 400, "invalid_request_error", NULL);
  expect_4xx ("{\"model\": \"gpt-4o\", \"messages\": [{\"role\": \"user\", \"content\": \"x\"}]}", 404,
              "not_found_error", NULL);
  while (h->len < MAX_BODY + 1000)
    g_string_append (h, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
  g_string_append (h, "\"}]}");
  huge = g_string_free (h, FALSE);
  expect_4xx (huge, 413, "invalid_request_error", NULL);
}

static void
test_api_key (void)
{
  SquintApiServerOptions o = { .model_id = "tiny", .api_key = "s3cret" };
  SquintGeneratorOptions g = { .n_predict = 4, .max_waiting = 2 };
  g_autofree char *saved = fx.url;
  SquintApiServer *keyed = serve_tiny (&g, &o, FALSE, &fx.url);

  {
    g_autoptr(JsonObject) no = call ("POST", "/v1/chat/completions",
                                     "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}", NULL, 401);
    g_autoptr(JsonObject) wrong = call ("GET", "/v1/models", NULL, "nope", 401);
    g_autoptr(JsonObject) ok = call ("POST", "/v1/chat/completions",
                                     "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}", "s3cret", 200);
    g_autoptr(JsonObject) health = call ("GET", "/health", NULL, NULL, 200);

    assert_error_shape (no, "authentication_error");
    assert_error_shape (wrong, "authentication_error");
  }
  g_free (fx.url);
  fx.url = g_steal_pointer (&saved);
  squint_api_server_free (keyed);
}

/* Images by URL, from a second server here. */
static void
image_server_cb (SoupServer        *server,
                 SoupServerMessage *msg,
                 const char        *path,
                 GHashTable        *query,
                 gpointer           data)
{
  if (g_str_equal (path, "/img.png"))
    {
      soup_server_message_set_status (msg, 200, NULL);
      soup_server_message_set_response (msg, "image/png", SOUP_MEMORY_COPY, g_bytes_get_data (fx.image, NULL),
                                        g_bytes_get_size (fx.image));
    }
  else if (g_str_equal (path, "/big.png"))
    {
      gsize n = 21 * 1024 * 1024;
      char *big = g_malloc0 (n);

      soup_server_message_set_status (msg, 200, NULL);
      soup_server_message_set_response (msg, "image/png", SOUP_MEMORY_TAKE, big, n);
    }
  else
    soup_server_message_set_status (msg, 404, NULL);
}

static void
test_image_urls (void)
{
  g_autoptr(SoupServer) images = soup_server_new (NULL, NULL);
  g_autoptr(GError) error = NULL;
  GSList *uris;
  g_autofree char *base = NULL;
  g_autofree char *ok_url = NULL, *missing_url = NULL, *big_url = NULL;

  soup_server_add_handler (images, NULL, image_server_cb, NULL, NULL);
  g_assert_true (soup_server_listen_local (images, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error));
  uris = soup_server_get_uris (images);
  base = g_uri_to_string (uris->data);
  g_slist_free_full (uris, (GDestroyNotify)g_uri_unref);
  ok_url = g_strconcat (base, "img.png", NULL);
  missing_url = g_strconcat (base, "missing.png", NULL);
  big_url = g_strconcat (base, "big.png", NULL);
  {
    g_autofree char *ok = image_request ("\"max_tokens\": 2", ok_url);
    g_autofree char *missing = image_request ("\"max_tokens\": 2", missing_url);
    g_autofree char *big = image_request ("\"max_tokens\": 2", big_url);
    g_autoptr(JsonObject) o = call ("POST", "/v1/chat/completions", ok, NULL, 200);
    JsonObject *vt = json_object_get_object_member (json_object_get_object_member (o, "usage"), "visual_tokens");

    g_assert_cmpint (json_object_get_int_member (vt, "used"), ==, 48);
    expect_4xx (missing, 400, "invalid_request_error", NULL);
    expect_4xx (big, 413, "invalid_request_error", NULL);
  }
}

static void
test_concurrent (void)
{
  enum { N = 32 };
  Reply r[N];
  guint ok = 0, busy = 0;

  for (int i = 0; i < N; i++)
    start (&r[i], "POST", "/v1/chat/completions",
           "{\"messages\": [{\"role\": \"user\", \"content\": \"Count to ten.\"}], \"max_tokens\": 6}", NULL);
  for (int i = 0; i < N; i++)
    {
      wait_for (&r[i]);
      if (r[i].error != NULL)
        g_printerr ("request %d: %s\n", i, r[i].error->message);
      g_assert_no_error (r[i].error);
      if (r[i].status == 200)
        ok++;
      else if (r[i].status == 429 || r[i].status == 503)
        busy++;
      else
        g_error ("request %d: HTTP %u", i, r[i].status);
      reply_clear (&r[i]);
    }
  g_test_message ("32 concurrent: %u answered, %u told busy", ok, busy);
  g_assert_cmpuint (ok + busy, ==, N);
  g_assert_cmpuint (ok, >=, 5);      /* the running one and the 4 that may wait */
  g_assert_cmpuint (busy, >, 0);
  assert_still_serving ();
}

/* A client that leaves mid-stream: the generation stops and the model is free. */
typedef struct
{
  GInputStream *in;
  GError       *error;
  gboolean      done;
} Opened;

static void
opened (GObject      *source,
        GAsyncResult *result,
        gpointer      data)
{
  Opened *o = data;

  o->in = soup_session_send_finish (SOUP_SESSION (source), result, &o->error);
  o->done = TRUE;
}

static void
read_some (GObject      *source,
           GAsyncResult *result,
           gpointer      data)
{
  gssize *n = data;

  *n = g_input_stream_read_finish (G_INPUT_STREAM (source), result, NULL);
}

static void
test_disconnect (void)
{
  g_autoptr(SoupMessage) msg = make_request ("POST", "/v1/chat/completions",
                                             "{\"messages\": [{\"role\": \"user\", \"content\": \"Write a long story.\"}],"
                                             " \"max_tokens\": 100000, \"stream\": true}", NULL);
  Opened o = { 0 };
  char buf[256];
  gssize n = -2;
  gint64 t0;
  gboolean running = TRUE;

  soup_session_send_async (fx.session, msg, G_PRIORITY_DEFAULT, NULL, opened, &o);
  while (!o.done)
    g_main_context_iteration (NULL, TRUE);
  g_assert_no_error (o.error);
  g_input_stream_read_async (o.in, buf, sizeof buf, G_PRIORITY_DEFAULT, NULL, read_some, &n);
  while (n == -2)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpint (n, >, 0);
  {
    g_autoptr(JsonObject) h = call ("GET", "/health", NULL, NULL, 200);

    g_assert_true (json_object_get_boolean_member (h, "running"));
  }
  /* leave: close the connection under the stream */
  g_clear_object (&o.in);
  soup_session_abort (fx.session);
  t0 = g_get_monotonic_time ();
  while (running && g_get_monotonic_time () - t0 < 20 * G_USEC_PER_SEC)
    {
      g_autoptr(JsonObject) h = call ("GET", "/health", NULL, NULL, 200);

      running = json_object_get_boolean_member (h, "running");
    }
  g_assert_false (running);
  {
    g_autoptr(JsonObject) ok = call ("POST", "/v1/chat/completions",
                                     "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"max_tokens\": 2}",
                                     NULL, 200);
  }
}

/* The VisionThink loop server-side: a first pass that asks for the full image
 * (forced, the tiny model is no VisionThink model) gives a zoom chunk, the
 * tool call never reaches the client, and usage says what it cost. */
static void
test_zoom_event (void)
{
  SquintApiServerOptions o = { .model_id = "tiny" };
  SquintGeneratorOptions g = { .n_predict = 8, .max_waiting = 2, .policy = "adaptive",
                               .forced_reply = "<think>The text is too small.</think>\n<tool_call>\n"
                                               "{\"name\": \"resize_image\", \"arguments\": {\"action\": \"resize\"}}\n"
                                               "</tool_call>" };
  g_autofree char *body = image_request ("\"stream\": true, \"max_tokens\": 8", NULL);
  g_autofree char *saved = fx.url;
  g_autofree char *all = NULL;
  SquintApiServer *zooming = serve_tiny (&g, &o, TRUE, &fx.url);
  g_auto(GStrv) events = NULL;
  int zooms = 0;
  gboolean usage_ok = FALSE;
  GString *content = g_string_new (NULL), *reasoning = g_string_new (NULL);
  Reply r;

  start (&r, "POST", "/v1/chat/completions", body, NULL);
  wait_for (&r);
  g_assert_cmpuint (r.status, ==, 200);
  all = g_strndup (g_bytes_get_data (r.body, NULL), g_bytes_get_size (r.body));
  g_assert_null (strstr (all, "tool_call"));
  events = g_strsplit (all, "\n\n", -1);
  for (char **e = events; *e != NULL && g_str_has_prefix (*e, "data: {"); e++)
    {
      g_autoptr(JsonParser) p = json_parser_new ();
      JsonObject *chunk, *delta;
      JsonArray *choices;

      g_assert_true (json_parser_load_from_data (p, *e + 6, -1, NULL));
      chunk = json_node_get_object (json_parser_get_root (p));
      if (json_object_has_member (chunk, "squint"))
        {
          JsonObject *z = json_object_get_object_member (chunk, "squint");

          g_assert_cmpstr (json_object_get_string_member (z, "event"), ==, "zoom");
          g_assert_cmpint (json_object_get_int_member (z, "low_tokens"), ==, 12);
          g_assert_cmpint (json_object_get_int_member (z, "full_tokens"), ==, 48);
          zooms++;
        }
      choices = json_object_get_array_member (chunk, "choices");
      if (json_array_get_length (choices) > 0)
        {
          delta = json_object_get_object_member (json_array_get_object_element (choices, 0), "delta");
          if (json_object_has_member (delta, "content"))
            g_string_append (content, json_object_get_string_member (delta, "content"));
          if (json_object_has_member (delta, "reasoning_content"))
            g_string_append (reasoning, json_object_get_string_member (delta, "reasoning_content"));
        }
      if (json_object_has_member (chunk, "usage"))
        {
          JsonObject *vt = json_object_get_object_member (json_object_get_object_member (chunk, "usage"),
                                                          "visual_tokens");

          usage_ok = json_object_get_boolean_member (vt, "zoomed") && json_object_get_int_member (vt, "used") == 60 &&
                     json_object_get_int_member (vt, "baseline") == 48 &&
                     json_object_get_int_member (vt, "saved") == -12;
        }
    }
  g_assert_cmpint (zooms, ==, 1);
  g_assert_true (usage_ok);
  g_assert_true (g_str_has_prefix (reasoning->str, "The text is too small."));
  g_string_free (content, TRUE);
  g_string_free (reasoning, TRUE);
  reply_clear (&r);
  g_free (fx.url);
  fx.url = g_steal_pointer (&saved);
  squint_api_server_free (zooming);
}

int
main (int    argc,
      char **argv)
{
  const char *data = g_getenv ("SQ_TEST_DATA");
  g_autofree char *png = NULL;
  g_autoptr(GError) error = NULL;
  SquintApiServerOptions so = { .model_id = "tiny", .max_body = MAX_BODY, .fetch_remote = TRUE };
  SquintGeneratorOptions go = { .n_ctx = 4096, .n_predict = 32, .max_waiting = 4 };
  gchar *contents;
  gsize len;
  int rc;

  g_test_init (&argc, &argv, NULL);
  if (data == NULL)
    g_error ("SQ_TEST_DATA is not set");
  png = g_build_filename (data, "tiny/images/img_224x168.png", NULL);
  g_assert_true (g_file_get_contents (png, &contents, &len, &error));
  fx.image = g_bytes_new_take (contents, len);
  fx.image_b64 = g_base64_encode ((const guchar *)contents, len);
  fx.server = serve_tiny (&go, &so, TRUE, &fx.url);
  fx.session = soup_session_new_with_options ("max-conns", 64, "max-conns-per-host", 64, "timeout", 60, NULL);

  g_test_add_func ("/server/routes", test_routes);
  g_test_add_func ("/server/answer", test_answer);
  g_test_add_func ("/server/malformed", test_malformed);
  g_test_add_func ("/server/api-key", test_api_key);
  g_test_add_func ("/server/zoom-event", test_zoom_event);
  g_test_add_func ("/server/image-urls", test_image_urls);
  g_test_add_func ("/server/concurrent", test_concurrent);
  g_test_add_func ("/server/disconnect", test_disconnect);
  rc = g_test_run ();

  g_object_unref (fx.session);
  squint_api_server_free (fx.server);
  g_free (fx.url);
  g_free (fx.image_b64);
  g_bytes_unref (fx.image);
  return rc;
}
