/* test-remote-engine.c — SquintEngine in remote mode against a scripted
 * OpenAI-compatible endpoint in this process (a SoupServer): the first
 * request gets a resize tool call, the second the answer, so the reply goes
 * through the same zoom states, statuses and ledger as a local answer.
 * Also entering and leaving remote mode, an unreachable endpoint, and Stop.
 *
 * SPDX-License-Identifier: MIT
 */
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include <locale.h>
#include <string.h>

#include "remote.h"
#include "squint-engine.h"
#include "squint-error.h"
#include "test-common.h"

/* ---- the scripted endpoint ---- */

typedef struct
{
  int   requests;
  int   images_second;   /* image parts in the second request */
  char *auth;            /* the first request's Authorization header */
} Script;

/* One server-sent event per piece, then [DONE]. */
static void
send_sse (SoupServerMessage  *msg,
          const char *const  *pieces)
{
  g_autoptr(GString) body = g_string_new (NULL);

  for (guint i = 0; pieces[i] != NULL; i++)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();
      g_autoptr(JsonNode) root = NULL;
      g_autofree char *json = NULL;

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "choices");
      json_builder_begin_array (b);
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "index");
      json_builder_add_int_value (b, 0);
      json_builder_set_member_name (b, "delta");
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "content");
      json_builder_add_string_value (b, pieces[i]);
      json_builder_end_object (b);
      json_builder_end_object (b);
      json_builder_end_array (b);
      json_builder_end_object (b);
      root = json_builder_get_root (b);
      json = json_to_string (root, FALSE);
      g_string_append_printf (body, "data: %s\n\n", json);
    }
  g_string_append (body, "data: [DONE]\n\n");
  soup_server_message_set_status (msg, 200, NULL);
  soup_server_message_set_response (msg, "text/event-stream", SOUP_MEMORY_COPY, body->str, body->len);
}

/* Image parts in the request's last message. */
static int
count_images (SoupServerMessage *msg)
{
  g_autoptr(GBytes) body = soup_message_body_flatten (soup_server_message_get_request_body (msg));
  g_autoptr(JsonParser) p = json_parser_new ();
  JsonArray *messages, *parts;
  JsonNode *content;
  int n = 0;

  g_assert_true (json_parser_load_from_data (p, g_bytes_get_data (body, NULL), g_bytes_get_size (body), NULL));
  messages = json_object_get_array_member (json_node_get_object (json_parser_get_root (p)), "messages");
  content = json_object_get_member (json_array_get_object_element (messages, json_array_get_length (messages) - 1),
                                    "content");
  if (!JSON_NODE_HOLDS_ARRAY (content))
    return 0;
  parts = json_node_get_array (content);
  for (guint i = 0; i < json_array_get_length (parts); i++)
    if (g_strcmp0 (json_object_get_string_member (json_array_get_object_element (parts, i), "type"),
                   "image_url") == 0)
      n++;
  return n;
}

static void
script_cb (SoupServer        *server,
           SoupServerMessage *msg,
           const char        *path,
           GHashTable        *query,
           gpointer           data)
{
  Script *sc = data;
  static const char *const zoom[] = {
    "<think>The text is too small.</think>\n",
    "<tool_call>\n{\"name\": \"resize_image\", ",
    "\"arguments\": {\"action\": \"resize\"}}\n</tool_call>",
    NULL
  };
  static const char *const answer[] = { "<think>Now I can read it.</think>", "<answer>4", "2</answer>", NULL };

  sc->requests++;
  if (sc->requests == 1)
    {
      g_free (sc->auth);
      sc->auth = g_strdup (soup_message_headers_get_one (soup_server_message_get_request_headers (msg),
                                                         "Authorization"));
      send_sse (msg, zoom);
    }
  else
    {
      sc->images_second = count_images (msg);
      send_sse (msg, answer);
    }
}

static void
hang_cb (SoupServer        *server,
         SoupServerMessage *msg,
         const char        *path,
         GHashTable        *query,
         gpointer           data)
{
  /* never answers: the client stops */
  soup_server_message_pause (msg);
}

static char *
listen_url (SoupServer *server)
{
  g_autoptr(GError) error = NULL;
  GSList *uris;
  char *url;

  g_assert_true (soup_server_listen_local (server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error));
  g_assert_no_error (error);
  uris = soup_server_get_uris (server);
  url = g_uri_to_string (uris->data);
  g_slist_free_full (uris, (GDestroyNotify)g_uri_unref);
  return url;
}

/* ---- asking ---- */

static void
ask_state_init (AskState *st)
{
  memset (st, 0, sizeof *st);
  st->zoom_states = g_array_new (FALSE, FALSE, sizeof (SquintZoomState));
  st->states = g_array_new (FALSE, FALSE, sizeof (SquintMessageState));
  st->statuses = g_ptr_array_new_with_free_func (g_free);
}

static void
ask_state_clear (AskState *st)
{
  g_clear_error (&st->error);
  g_array_unref (st->zoom_states);
  g_array_unref (st->states);
  g_ptr_array_unref (st->statuses);
}

static void
on_state (SquintMessage *m,
          GParamSpec    *pspec,
          AskState      *st)
{
  SquintMessageState s = squint_message_get_state (m);

  g_array_append_val (st->states, s);
}

static void
on_status (SquintMessage *m,
           GParamSpec    *pspec,
           AskState      *st)
{
  if (squint_message_get_status (m) != NULL)
    g_ptr_array_add (st->statuses, g_strdup (squint_message_get_status (m)));
}

static SquintMessage *
new_reply (SquintImage *subject,
           AskState    *st)
{
  SquintMessage *reply = squint_message_new (SQUINT_ROLE_ASSISTANT, NULL);

  if (subject != NULL)
    squint_message_set_subject (reply, subject);
  squint_message_set_policy (reply, "adaptive");
  g_signal_connect (reply, "notify::zoom-state", G_CALLBACK (test_on_zoom_state), st);
  g_signal_connect (reply, "notify::state", G_CALLBACK (on_state), st);
  g_signal_connect (reply, "notify::status", G_CALLBACK (on_status), st);
  g_signal_connect (reply, "notify::text", G_CALLBACK (test_on_text), st);
  return reply;
}

static gboolean
has_status (AskState   *st,
            const char *status)
{
  for (guint i = 0; i < st->statuses->len; i++)
    if (g_strcmp0 (g_ptr_array_index (st->statuses, i), status) == 0)
      return TRUE;
  return FALSE;
}

/* The zoom loop of one answer, as the window sees it. */
static void
check_zoomed_answer (SquintMessage *reply,
                     AskState      *st)
{
  const SquintMessageStats *stats;

  g_assert_no_error (st->error);
  g_assert_cmpint (squint_message_get_state (reply), ==, SQUINT_MESSAGE_DONE);
  g_assert_null (squint_message_get_error (reply));
  g_assert_null (squint_message_get_status (reply));

  /* waiting, generating, done */
  g_assert_cmpuint (st->states->len, >=, 3);
  g_assert_cmpint (g_array_index (st->states, SquintMessageState, 0), ==, SQUINT_MESSAGE_WAITING);
  g_assert_cmpint (g_array_index (st->states, SquintMessageState, 1), ==, SQUINT_MESSAGE_GENERATING);
  g_assert_cmpint (g_array_index (st->states, SquintMessageState, st->states->len - 1), ==, SQUINT_MESSAGE_DONE);

  /* half size, asked to zoom, looked closer */
  g_assert_cmpuint (st->zoom_states->len, ==, 3);
  g_assert_cmpint (g_array_index (st->zoom_states, SquintZoomState, 0), ==, SQUINT_ZOOM_LOW);
  g_assert_cmpint (g_array_index (st->zoom_states, SquintZoomState, 1), ==, SQUINT_ZOOM_ZOOMING);
  g_assert_cmpint (g_array_index (st->zoom_states, SquintZoomState, 2), ==, SQUINT_ZOOM_ZOOMED);
  g_assert_cmpint (squint_message_get_zoom_state (reply), ==, SQUINT_ZOOM_ZOOMED);

  /* the statuses a local answer shows */
  g_assert_true (has_status (st, "Looking at the image…"));
  g_assert_true (has_status (st, "Thinking…"));
  g_assert_true (has_status (st, "Zooming in: 112 × 84 → 224 × 168"));
  g_assert_true (has_status (st, "Looking closer…"));
  g_assert_true (has_status (st, "Answering…"));

  /* streamed piece by piece, both passes */
  g_assert_cmpuint (st->n_text, >=, 6);
  g_assert_true (g_str_has_prefix (squint_message_get_text (reply), "<think>The text is too small.</think>"));
  g_assert_true (g_str_has_suffix (squint_message_get_text (reply), "<answer>42</answer>"));
  g_assert_cmpstr (squint_message_get_answer (reply), ==, "42");
  g_assert_cmpstr (squint_message_get_think (reply), ==, "The text is too small.\n\nNow I can read it.");

  /* 224×168: 12 tokens at half size, then 48 at full; full alone is 48 */
  g_assert_true (squint_message_has_stats (reply));
  stats = squint_message_get_stats (reply);
  g_assert_cmpint (stats->visual_low, ==, 12);
  g_assert_cmpint (stats->visual_full, ==, 48);
  g_assert_cmpint (stats->visual_used, ==, stats->visual_low + stats->visual_full);
  g_assert_cmpint (stats->visual_baseline, ==, stats->visual_full);
  g_assert_cmpfloat (stats->first_token_ms, >, 0);
}

static void
test_zoom (void)
{
  g_autoptr(SoupServer) fake = soup_server_new (NULL, NULL);
  g_autoptr(SquintEngine) engine = squint_engine_new ();
  g_autoptr(SquintImage) image = test_load_image ("tiny/images/img_224x168.png", NULL);
  g_autoptr(SquintConversation) c = squint_conversation_new ("adaptive");
  g_autoptr(GPtrArray) images = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *url = NULL;
  SquintAskOptions opts = { "adaptive", 64, 0, 1, 4096 };
  Script sc = { 0 };

  soup_server_add_handler (fake, "/v1/chat/completions", script_cb, &sc, NULL);
  url = listen_url (fake);
  g_assert_true (squint_engine_use_remote (engine, url, "secret", "visionthink", &error));
  g_assert_no_error (error);
  g_assert_cmpint (squint_engine_get_state (engine), ==, SQUINT_ENGINE_READY);
  g_assert_cmpstr (squint_engine_get_model_name (engine), ==, "visionthink");
  g_assert_cmpstr (squint_engine_get_remote_url (engine), ==, url);
  g_assert_true (squint_engine_get_has_vision (engine));
  g_assert_null (squint_engine_get_text_path (engine));

  {
    AskState st;
    g_autoptr(SquintMessage) reply = NULL;

    ask_state_init (&st);
    reply = new_reply (image, &st);
    g_ptr_array_add (images, image);
    squint_engine_ask_async (engine, c, "What does the small text say?", images, reply, &opts, NULL, test_on_asked, &st);
    g_assert_true (squint_engine_get_busy (engine));
    WAIT_UNTIL (st.done);
    g_assert_false (squint_engine_get_busy (engine));
    check_zoomed_answer (reply, &st);
    g_assert_cmpint (sc.requests, ==, 2);
    g_assert_cmpstr (sc.auth, ==, "Bearer secret");
    g_assert_cmpint (sc.images_second, ==, 1);
    /* an endpoint keeps no context here: the window sends the images again */
    g_assert_false (squint_engine_remembers (engine, c));
    ask_state_clear (&st);
  }

  /* an image known only by its file, as from the history: read first */
  {
    g_autofree char *path = test_data_path ("tiny/images/img_224x168.png");
    g_autoptr(SquintImage) stored = squint_image_new_for_path (path, "img_224x168.png", 224, 168);
    g_autoptr(GPtrArray) again = g_ptr_array_new ();
    g_autoptr(SquintMessage) reply = NULL;
    AskState st;

    g_assert_null (squint_image_peek_rgb (stored));
    ask_state_init (&st);
    reply = new_reply (stored, &st);
    g_ptr_array_add (again, stored);
    sc.requests = 0;
    squint_engine_ask_async (engine, c, "And now?", again, reply, &opts, NULL, test_on_asked, &st);
    WAIT_UNTIL (st.done);
    check_zoomed_answer (reply, &st);
    g_assert_cmpint (sc.requests, ==, 2);
    ask_state_clear (&st);
  }

  g_free (sc.auth);
  g_assert_finalize_object (g_steal_pointer (&engine));
}

static void
on_loaded (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  gboolean *done = user_data;
  g_autoptr(GError) error = NULL;

  g_assert_true (squint_engine_load_finish (SQUINT_ENGINE (object), result, &error));
  g_assert_no_error (error);
  *done = TRUE;
}

static void
test_modes (void)
{
  g_autoptr(SquintEngine) engine = squint_engine_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *text = tiny_text_model ();
  g_autofree char *mmproj = tiny_mmproj ();
  gboolean loaded = FALSE;

  /* not an http(s) URL: failed, with a reason */
  g_assert_false (squint_engine_use_remote (engine, "ftp://example.com/v1", NULL, NULL, &error));
  g_assert_nonnull (error);
  g_clear_error (&error);
  g_assert_cmpint (squint_engine_get_state (engine), ==, SQUINT_ENGINE_FAILED);
  g_assert_nonnull (squint_engine_get_error (engine));
  g_assert_null (squint_engine_get_remote_url (engine));

  /* no model named: the host stands for it */
  g_assert_true (squint_engine_use_remote (engine, "http://127.0.0.1:9/v1", NULL, "", &error));
  g_assert_no_error (error);
  g_assert_cmpint (squint_engine_get_state (engine), ==, SQUINT_ENGINE_READY);
  g_assert_null (squint_engine_get_error (engine));
  g_assert_cmpstr (squint_engine_get_model_name (engine), ==, "127.0.0.1:9");

  /* loading a local model leaves remote mode */
  squint_engine_load_async (engine, text, mmproj, 1, NULL, on_loaded, &loaded);
  g_assert_null (squint_engine_get_remote_url (engine));
  g_assert_cmpint (squint_engine_get_state (engine), ==, SQUINT_ENGINE_LOADING);
  WAIT_UNTIL (loaded);
  g_assert_cmpint (squint_engine_get_state (engine), ==, SQUINT_ENGINE_READY);
  g_assert_cmpstr (squint_engine_get_text_path (engine), ==, text);

  /* and remote mode replaces the local model */
  g_assert_true (squint_engine_use_remote (engine, "http://127.0.0.1:9", "k", "m", &error));
  g_assert_null (squint_engine_get_text_path (engine));
  g_assert_cmpstr (squint_engine_get_model_name (engine), ==, "m");

  /* unloading leaves it */
  squint_engine_unload (engine);
  g_assert_cmpint (squint_engine_get_state (engine), ==, SQUINT_ENGINE_EMPTY);
  g_assert_null (squint_engine_get_remote_url (engine));
  g_assert_null (squint_engine_get_model_name (engine));
  g_assert_false (squint_engine_get_has_vision (engine));
  g_assert_finalize_object (g_steal_pointer (&engine));
}

static void
test_unreachable (void)
{
  g_autoptr(SquintEngine) engine = squint_engine_new ();
  g_autoptr(SquintImage) image = test_load_image ("tiny/images/img_224x168.png", NULL);
  g_autoptr(SquintConversation) c = squint_conversation_new ("adaptive");
  g_autoptr(GPtrArray) images = g_ptr_array_new ();
  g_autoptr(SquintMessage) reply = NULL;
  g_autoptr(GError) error = NULL;
  SquintAskOptions opts = { "adaptive", 64, 0, 1, 4096 };
  AskState st;

  /* port 1: nothing listens there */
  g_assert_true (squint_engine_use_remote (engine, "http://127.0.0.1:1/v1", NULL, "m", &error));
  ask_state_init (&st);
  reply = new_reply (image, &st);
  g_ptr_array_add (images, image);
  squint_engine_ask_async (engine, c, "Hello?", images, reply, &opts, NULL, test_on_asked, &st);
  WAIT_UNTIL (st.done);
  g_assert_error (st.error, SQUINT_REMOTE_ERROR, SQUINT_REMOTE_ERROR_NETWORK);
  g_assert_cmpint (squint_message_get_state (reply), ==, SQUINT_MESSAGE_FAILED);
  g_assert_nonnull (squint_message_get_error (reply));
  if (strstr (squint_message_get_error (reply), "Could not reach") == NULL)
    g_error ("unclear error: %s", squint_message_get_error (reply));
  g_assert_null (squint_message_get_status (reply));
  g_assert_false (squint_message_has_stats (reply));
  g_assert_false (squint_engine_get_busy (engine));
  /* the engine itself stays usable */
  g_assert_cmpint (squint_engine_get_state (engine), ==, SQUINT_ENGINE_READY);
  ask_state_clear (&st);
  g_assert_finalize_object (g_steal_pointer (&engine));
}

static gboolean
cancel_soon (gpointer data)
{
  g_cancellable_cancel (data);
  return G_SOURCE_REMOVE;
}

static void
test_stop (void)
{
  g_autoptr(SoupServer) fake = soup_server_new (NULL, NULL);
  g_autoptr(SquintEngine) engine = squint_engine_new ();
  g_autoptr(SquintConversation) c = squint_conversation_new ("adaptive");
  g_autoptr(SquintMessage) reply = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *url = NULL;
  SquintAskOptions opts = { "adaptive", 64, 0, 1, 4096 };
  AskState st;

  soup_server_add_handler (fake, NULL, hang_cb, NULL, NULL);
  url = listen_url (fake);
  g_assert_true (squint_engine_use_remote (engine, url, NULL, "m", &error));
  ask_state_init (&st);
  reply = new_reply (NULL, &st);
  g_timeout_add (200, cancel_soon, cancellable);
  squint_engine_ask_async (engine, c, "Write a long story.", NULL, reply, &opts, cancellable, test_on_asked, &st);
  WAIT_UNTIL (st.done);
  g_assert_error (st.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpint (squint_message_get_state (reply), ==, SQUINT_MESSAGE_STOPPED);
  g_assert_null (squint_message_get_error (reply));
  g_assert_false (squint_engine_get_busy (engine));
  ask_state_clear (&st);

  /* leaving remote mode while an answer is on its way is safe */
  ask_state_init (&st);
  g_clear_object (&reply);
  reply = new_reply (NULL, &st);
  g_clear_object (&cancellable);
  cancellable = g_cancellable_new ();
  squint_engine_ask_async (engine, c, "Again.", NULL, reply, &opts, cancellable, test_on_asked, &st);
  squint_engine_unload (engine);
  g_timeout_add (100, cancel_soon, cancellable);
  WAIT_UNTIL (st.done);
  g_assert_error (st.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpint (squint_message_get_state (reply), ==, SQUINT_MESSAGE_STOPPED);
  ask_state_clear (&st);
  g_assert_finalize_object (g_steal_pointer (&engine));
}

int
main (int   argc,
      char *argv[])
{
  setlocale (LC_ALL, "C.UTF-8");
  /* GIO's desktop proxy resolver reads GNOME's settings, whose schemas are
   * not among the test's */
  g_setenv ("GIO_USE_PROXY_RESOLVER", "dummy", TRUE);
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/squint/remote-engine/zoom", test_zoom);
  g_test_add_func ("/squint/remote-engine/modes", test_modes);
  g_test_add_func ("/squint/remote-engine/unreachable", test_unreachable);
  g_test_add_func ("/squint/remote-engine/stop", test_stop);

  return g_test_run ();
}
