/* test-remote.c — the remote backend (api/remote.c): against squint-server
 * in-process on the tiny model (answers equal to the local engine's, both
 * policies, the ledger), against a scripted endpoint that asks for the full
 * image (the second request's messages and image checked), and its errors. */
#include <json-glib/json-glib.h>
#include <string.h>

#include "api-server.h"
#include "remote.h"

typedef struct
{
  SquintRemoteAnswer *answer;
  GError             *error;
  gboolean            done;
  int                 zooms;
  GString            *streamed;
} Result;

static sq_image image;

static void
on_delta (const char *text,
          gpointer    data)
{
  g_string_append (((Result *)data)->streamed, text);
}

static void
on_zoom (const SquintRemoteZoom *z,
         gpointer                data)
{
  Result *r = data;

  r->zooms++;
  g_assert_cmpint (z->low_w, ==, 112);
  g_assert_cmpint (z->full_w, ==, 224);
  g_assert_cmpint (z->low_tokens, ==, 12);
  g_assert_cmpint (z->full_tokens, ==, 48);
}

static void
answered (GObject      *source,
          GAsyncResult *result,
          gpointer      data)
{
  Result *r = data;

  r->answer = squint_remote_ask_finish (NULL, result, &r->error);
  r->done = TRUE;
}

static void
ask (SquintRemote *remote,
     sq_policy     policy,
     GCancellable *cancel,
     Result       *r)
{
  const sq_image *imgs[] = { &image };
  SquintRemoteCallbacks cb = { on_delta, on_zoom };

  memset (r, 0, sizeof *r);
  r->streamed = g_string_new (NULL);
  squint_remote_ask_async (remote, "What is in the picture?", imgs, 1, policy, 12, 0.0, 0.9, &cb, r, cancel,
                           answered, r);
  while (!r->done)
    g_main_context_iteration (NULL, TRUE);
}

static void
result_clear (Result *r)
{
  squint_remote_answer_free (r->answer);
  g_clear_error (&r->error);
  g_string_free (r->streamed, TRUE);
}

static sq_model *
load_tiny (void)
{
  g_autofree char *text = g_build_filename (g_getenv ("SQ_TEST_DATA"), "tiny/models/qwen25vl-text-f16.gguf", NULL);
  g_autofree char *mmproj = g_build_filename (g_getenv ("SQ_TEST_DATA"), "tiny/models/mmproj-qwen25vl-f16.gguf", NULL);
  sq_model_params mp = sq_model_default_params ();
  sq_model *m = NULL;
  sq_error err = { 0 };

  mp.text_path = text;
  mp.mmproj_path = mmproj;
  mp.n_threads = 1;
  if (sq_model_load (&mp, &m, &err) != SQ_OK)
    g_error ("%s", err.msg);
  return m;
}

/* The local engine's reply to the same question. */
static char *
local_reply (sq_model  *m,
             sq_policy  policy)
{
  sq_session *s = NULL;
  sq_ask_params p = sq_ask_default_params ();
  const sq_image *imgs[] = { &image };
  sq_answer a;
  sq_error err = { 0 };
  char *reply;

  g_assert_cmpint (sq_session_new (m, NULL, &s, &err), ==, SQ_OK);
  p.policy = policy;
  p.gen.n_predict = 12;
  g_assert_cmpint (sq_session_ask (s, "What is in the picture?", imgs, 1, &p, &a, &err), ==, SQ_OK);
  reply = g_strdup (a.reply);
  sq_answer_free (&a);
  sq_session_free (s);
  return reply;
}

static void
test_against_squint_server (void)
{
  SquintGeneratorOptions go = { .n_predict = 64, .max_waiting = 4 };
  SquintApiServerOptions so = { .model_id = "tiny" };
  g_autoptr(GError) error = NULL;
  sq_model *local = load_tiny ();
  SquintApiServer *server = squint_api_server_new (squint_generator_new (load_tiny (), &go, &error), &so);
  g_autofree char *url = NULL;
  g_autoptr(SquintRemote) remote = NULL;
  sq_policy policies[] = { SQ_POLICY_ADAPTIVE, SQ_POLICY_FULL };

  g_assert_true (squint_api_server_listen (server, "127.0.0.1", 0, &error));
  url = squint_api_server_get_url (server);
  remote = squint_remote_new (url, NULL, NULL, &error);   /* the model name comes from /v1/models */
  g_assert_no_error (error);
  for (gsize i = 0; i < G_N_ELEMENTS (policies); i++)
    {
      g_autofree char *want = local_reply (local, policies[i]);
      Result r;

      ask (remote, policies[i], NULL, &r);
      g_assert_no_error (r.error);
      g_assert_cmpstr (r.answer->reply, ==, want);
      g_assert_cmpstr (r.streamed->str, ==, want);
      g_assert_false (r.answer->zoomed);
      g_assert_cmpint (r.answer->visual_baseline, ==, 48);
      g_assert_cmpint (r.answer->visual_used, ==, policies[i] == SQ_POLICY_FULL ? 48 : 12);
      g_assert_cmpint (r.answer->visual_saved, ==, r.answer->visual_baseline - r.answer->visual_used);
      g_assert_cmpint (r.answer->completion_tokens, ==, 12);
      result_clear (&r);
    }
  squint_api_server_free (server);
  sq_model_free (local);
}

/* ---- a scripted endpoint that zooms ---- */

typedef struct
{
  int       requests;
  int       with_top_p;   /* requests that carried the asked top_p */
  gboolean  second_ok;
  char     *why;
} Script;

static void
send_sse (SoupServerMessage *msg,
          const char        *text)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *json = NULL;
  g_autofree char *body = NULL;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "choices");
  json_builder_begin_array (b);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "index");
  json_builder_add_int_value (b, 0);
  json_builder_set_member_name (b, "delta");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "content");
  json_builder_add_string_value (b, text);
  json_builder_end_object (b);
  json_builder_end_object (b);
  json_builder_end_array (b);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  json = json_to_string (root, FALSE);
  body = g_strdup_printf ("data: %s\n\ndata: [DONE]\n\n", json);
  soup_server_message_set_status (msg, 200, NULL);
  soup_server_message_set_response (msg, "text/event-stream", SOUP_MEMORY_COPY, body, strlen (body));
}

/* The second request: pass 1's reply as the assistant's, then the tool response with the original image. */
static char *
check_second (JsonArray *messages)
{
  JsonObject *assistant, *tool;
  JsonArray *parts;
  const char *url;
  g_autofree guchar *png = NULL;
  gsize n;
  sq_image img = { 0 };
  sq_error err = { 0 };

  if (json_array_get_length (messages) != 4)
    return g_strdup_printf ("%u messages, want 4", json_array_get_length (messages));
  assistant = json_array_get_object_element (messages, 2);
  tool = json_array_get_object_element (messages, 3);
  if (!g_str_equal (json_object_get_string_member (assistant, "role"), "assistant") ||
      strstr (json_object_get_string_member (assistant, "content"), "<tool_call>") == NULL)
    return g_strdup ("message 3 is not the assistant's tool call");
  parts = json_object_get_array_member (tool, "content");
  if (!g_str_has_prefix (json_object_get_string_member (json_array_get_object_element (parts, 0), "text"),
                         "<tool_response>\nThe resized image is shown below:\n"))
    return g_strdup ("the tool response does not open as the protocol says");
  url = json_object_get_string_member (json_object_get_object_member (json_array_get_object_element (parts, 1),
                                                                      "image_url"), "url");
  png = g_base64_decode (url + strlen ("data:image/png;base64,"), &n);
  if (sq_image_load_memory (png, n, NULL, &img, &err) != SQ_OK)
    return g_strdup (err.msg);
  if (img.w != 224 || img.h != 168 || memcmp (img.rgb, image.rgb, (size_t)224 * 168 * 3) != 0)
    {
      sq_image_free (&img);
      return g_strdup ("the tool response's image is not the original");
    }
  sq_image_free (&img);
  return NULL;
}

static void
script_cb (SoupServer        *server,
           SoupServerMessage *msg,
           const char        *path,
           GHashTable        *query,
           gpointer           data)
{
  Script *sc = data;
  g_autoptr(GBytes) body = soup_message_body_flatten (soup_server_message_get_request_body (msg));
  g_autoptr(JsonParser) p = json_parser_new ();
  JsonArray *messages;

  sc->requests++;
  g_assert_true (json_parser_load_from_data (p, g_bytes_get_data (body, NULL), g_bytes_get_size (body), NULL));
  messages = json_object_get_array_member (json_node_get_object (json_parser_get_root (p)), "messages");
  if (json_object_has_member (json_node_get_object (json_parser_get_root (p)), "top_p") &&
      json_object_get_double_member (json_node_get_object (json_parser_get_root (p)), "top_p") == 0.9)
    sc->with_top_p++;
  if (sc->requests == 1)
    send_sse (msg, "<think>The text is too small.</think>\n<tool_call>\n{\"name\": \"resize_image\", "
                   "\"arguments\": {\"action\": \"resize\"}}\n</tool_call>");
  else
    {
      sc->why = check_second (messages);
      sc->second_ok = sc->why == NULL;
      send_sse (msg, "<think>Now I can read it.</think><answer>42</answer>");
    }
}

static void
test_zoom_loop (void)
{
  g_autoptr(SoupServer) fake = soup_server_new (NULL, NULL);
  g_autoptr(GError) error = NULL;
  Script sc = { 0 };
  GSList *uris;
  g_autofree char *url = NULL;
  g_autoptr(SquintRemote) remote = NULL;
  Result r;

  soup_server_add_handler (fake, "/v1/chat/completions", script_cb, &sc, NULL);
  g_assert_true (soup_server_listen_local (fake, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error));
  uris = soup_server_get_uris (fake);
  url = g_uri_to_string (uris->data);
  g_slist_free_full (uris, (GDestroyNotify)g_uri_unref);
  remote = squint_remote_new (url, "key", "visionthink", &error);
  ask (remote, SQ_POLICY_ADAPTIVE, NULL, &r);
  g_assert_no_error (r.error);
  g_assert_cmpint (sc.requests, ==, 2);
  g_assert_cmpint (sc.with_top_p, ==, 2);   /* both passes sample as asked */
  if (!sc.second_ok)
    g_error ("second request: %s", sc.why);
  g_assert_cmpint (r.zooms, ==, 1);
  g_assert_true (r.answer->zoomed);
  g_assert_cmpstr (r.answer->answer, ==, "42");
  g_assert_cmpstr (r.answer->think, ==, "The text is too small.\n\nNow I can read it.");
  g_assert_cmpint (r.answer->visual_used, ==, 60);
  g_assert_cmpint (r.answer->visual_baseline, ==, 48);
  g_assert_cmpint (r.answer->visual_saved, ==, -12);
  result_clear (&r);

  /* policy low never zooms */
  sc.requests = 0;
  ask (remote, SQ_POLICY_LOW, NULL, &r);
  g_assert_cmpint (sc.requests, ==, 1);
  g_assert_false (r.answer->zoomed);
  g_assert_cmpint (r.answer->visual_used, ==, 12);
  result_clear (&r);
  g_free (sc.why);
}

/* ---- errors ---- */

static void
bad_cb (SoupServer        *server,
        SoupServerMessage *msg,
        const char        *path,
        GHashTable        *query,
        gpointer           data)
{
  if (g_str_has_prefix (path, "/html"))
    {
      soup_server_message_set_status (msg, 200, NULL);
      soup_server_message_set_response (msg, "text/html", SOUP_MEMORY_STATIC, "<html>hi</html>", 15);
    }
  else if (g_str_has_prefix (path, "/auth"))
    {
      const char *e = "{\"error\": {\"message\": \"Incorrect API key provided\", \"type\": \"invalid_request_error\"}}";

      soup_server_message_set_status (msg, 401, NULL);
      soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_STATIC, e, strlen (e));
    }
  else if (g_str_has_prefix (path, "/junk"))
    {
      const char *e = "data: {not json\n\n";

      soup_server_message_set_status (msg, 200, NULL);
      soup_server_message_set_response (msg, "text/event-stream", SOUP_MEMORY_STATIC, e, strlen (e));
    }
  else
    {
      /* never answers: the client cancels */
      soup_server_message_pause (msg);
    }
}

static gboolean
cancel_soon (gpointer data)
{
  g_cancellable_cancel (data);
  return G_SOURCE_REMOVE;
}

static void
expect_error (const char *base,
              const char *path,
              GQuark      domain,
              int         code,
              const char *fragment)
{
  g_autofree char *url = g_strconcat (base, path, NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(SquintRemote) remote = squint_remote_new (url, NULL, "m", &error);
  g_autoptr(GCancellable) cancel = g_cancellable_new ();
  Result r;

  if (g_str_has_suffix (path, "hang"))
    g_timeout_add (200, cancel_soon, cancel);
  ask (remote, SQ_POLICY_ADAPTIVE, cancel, &r);
  g_assert_null (r.answer);
  g_assert_error (r.error, domain, code);
  if (strstr (r.error->message, fragment) == NULL)
    g_error ("%s: '%s' lacks '%s'", path, r.error->message, fragment);
  result_clear (&r);
}

static void
test_errors (void)
{
  g_autoptr(SoupServer) bad = soup_server_new (NULL, NULL);
  g_autoptr(GError) error = NULL;
  GSList *uris;
  g_autofree char *base = NULL;

  soup_server_add_handler (bad, NULL, bad_cb, NULL, NULL);
  g_assert_true (soup_server_listen_local (bad, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error));
  uris = soup_server_get_uris (bad);
  base = g_uri_to_string (uris->data);
  g_slist_free_full (uris, (GDestroyNotify)g_uri_unref);

  expect_error (base, "html", SQUINT_REMOTE_ERROR, SQUINT_REMOTE_ERROR_PROTOCOL, "text/html");
  expect_error (base, "auth", SQUINT_REMOTE_ERROR, SQUINT_REMOTE_ERROR_HTTP, "Incorrect API key provided");
  expect_error (base, "junk", SQUINT_REMOTE_ERROR, SQUINT_REMOTE_ERROR_PROTOCOL, "not JSON");
  expect_error (base, "hang", G_IO_ERROR, G_IO_ERROR_CANCELLED, "");
  expect_error ("http://127.0.0.1:1/", "", SQUINT_REMOTE_ERROR, SQUINT_REMOTE_ERROR_NETWORK, "Could not reach");
  g_assert_null (squint_remote_new ("ftp://example.com", NULL, NULL, &error));
  g_assert_nonnull (error);
}

int
main (int    argc,
      char **argv)
{
  g_autofree char *png = NULL;
  sq_error err = { 0 };
  int rc;

  g_test_init (&argc, &argv, NULL);
  png = g_build_filename (g_getenv ("SQ_TEST_DATA"), "tiny/images/img_224x168.png", NULL);
  if (sq_image_load_file (png, NULL, &image, &err) != SQ_OK)
    g_error ("%s", err.msg);
  g_test_add_func ("/remote/squint-server", test_against_squint_server);
  g_test_add_func ("/remote/zoom-loop", test_zoom_loop);
  g_test_add_func ("/remote/errors", test_errors);
  rc = g_test_run ();
  sq_image_free (&image);
  return rc;
}
