/* test-app-remote.c — the app's remote and serving settings under Xvfb:
 * remote-url switches the engine to an endpoint and back to the local model,
 * the preferences' entry rows apply to the settings, and serve-http starts
 * squint-server on serve-port, stops it when switched off or when the app
 * quits, and says so when it cannot listen.
 *
 * SPDX-License-Identifier: MIT
 */
#include <adwaita.h>
#include <libsoup/soup.h>
#include <string.h>

#include "squint-application.h"
#include "squint-preferences-window.h"
#include "squint-window.h"
#include "test-common.h"

/* ---- remote-url ---- */

static void
remote_body (SquintApplication *app)
{
  g_autoptr(GSettings) settings = g_settings_new (APP_SCHEMA);
  SquintEngine *engine = squint_application_get_engine (app);
  g_autofree char *text = tiny_text_model ();
  g_autofree char *applied = NULL;
  GtkWindow *prefs;
  GtkWidget *row;

  /* configured before the start: the endpoint, no local model */
  g_assert_cmpstr (squint_engine_get_remote_url (engine), ==, "http://127.0.0.1:9/v1");
  g_assert_cmpint (squint_engine_get_state (engine), ==, SQUINT_ENGINE_READY);
  g_assert_cmpstr (squint_engine_get_model_name (engine), ==, "visionthink");

  /* cleared: the local model again */
  g_settings_set_string (settings, "remote-url", "");
  WAIT_UNTIL (squint_engine_get_state (engine) == SQUINT_ENGINE_READY &&
              g_strcmp0 (squint_engine_get_text_path (engine), text) == 0);
  g_assert_null (squint_engine_get_remote_url (engine));

  /* not a URL: failed, with the reason shown */
  g_settings_set_string (settings, "remote-url", "ftp://example.com");
  WAIT_UNTIL (squint_engine_get_state (engine) == SQUINT_ENGINE_FAILED);
  g_assert_nonnull (squint_engine_get_error (engine));

  /* the preferences' address row applies to the setting */
  g_action_group_activate_action (G_ACTION_GROUP (app), "preferences", NULL);
  prefs = find_toplevel (SQUINT_TYPE_PREFERENCES_WINDOW);
  g_assert_nonnull (prefs);
  row = find_widget (GTK_WIDGET (prefs), ADW_TYPE_ENTRY_ROW);   /* the first: the address */
  g_assert_nonnull (row);
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (row)), ==, "ftp://example.com");
  gtk_editable_set_text (GTK_EDITABLE (row), " http://127.0.0.1:9 ");
  g_signal_emit_by_name (row, "apply");
  applied = g_settings_get_string (settings, "remote-url");
  g_assert_cmpstr (applied, ==, "http://127.0.0.1:9");
  WAIT_UNTIL (squint_engine_get_state (engine) == SQUINT_ENGINE_READY);
  g_assert_cmpstr (squint_engine_get_remote_url (engine), ==, "http://127.0.0.1:9");
  gtk_window_close (prefs);
}

static void
test_remote (void)
{
  g_autoptr(GSettings) settings = g_settings_new (APP_SCHEMA);

  test_configure_app ();
  g_settings_set_string (settings, "remote-url", "http://127.0.0.1:9/v1");
  g_settings_set_string (settings, "remote-model", "visionthink");
  test_run_app (remote_body);
}

/* ---- serve-http ---- */

static int serve_port;
static char *last_message;

static int
free_port (void)
{
  g_autoptr(GSocket) socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL);
  g_autoptr(GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any = g_inet_socket_address_new (lo, 0);
  g_autoptr(GSocketAddress) bound = NULL;

  g_assert_true (g_socket_bind (socket, any, FALSE, NULL));
  bound = g_socket_get_local_address (socket, NULL);
  return g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
}

static gboolean
listening (int port)
{
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GSocketConnection) c = g_socket_client_connect_to_host (client, "127.0.0.1", (guint16)port, NULL, NULL);

  return c != NULL;
}

static void
serve_body (SquintApplication *app)
{
  g_autoptr(GSettings) settings = g_settings_new (APP_SCHEMA);
  g_autoptr(SoupSession) session = soup_session_new ();
  g_autofree char *url = g_strdup_printf ("http://127.0.0.1:%d/v1/models", serve_port);
  g_autoptr(SoupMessage) msg = soup_message_new (SOUP_METHOD_GET, url);
  g_autoptr(GBytes) body = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocketService) squatter = NULL;
  int busy_port;
  guint handler;

  /* switched on: squint-server serves the tiny model */
  g_settings_set_boolean (settings, "serve-http", TRUE);
  WAIT_UNTIL (listening (serve_port));
  body = soup_session_send_and_read (session, msg, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (soup_message_get_status (msg), ==, 200);
  g_assert_nonnull (g_strstr_len (g_bytes_get_data (body, NULL), g_bytes_get_size (body), "\"data\""));
  g_clear_object (&session);

  /* switched off: it goes */
  g_settings_set_boolean (settings, "serve-http", FALSE);
  WAIT_UNTIL (!listening (serve_port));

  /* a port taken: the server stops, and the app says why */
  squatter = g_socket_service_new ();
  busy_port = free_port ();
  g_assert_true (g_socket_listener_add_inet_port (G_SOCKET_LISTENER (squatter), (guint16)busy_port, NULL, NULL));
  handler = g_log_set_handler ("squint-application", G_LOG_LEVEL_MESSAGE, test_keep_message, &last_message);
  g_settings_set_int (settings, "serve-port", busy_port);
  g_settings_set_boolean (settings, "serve-http", TRUE);
  WAIT_UNTIL (last_message != NULL);
  if (strstr (last_message, "The model server stopped: ") == NULL || strstr (last_message, "cannot listen") == NULL)
    g_error ("unexpected message: %s", last_message);
  g_log_remove_handler ("squint-application", handler);
  g_socket_service_stop (squatter);
  g_socket_listener_close (G_SOCKET_LISTENER (squatter));

  /* on again at the first port: it stays on until the app quits */
  g_settings_set_int (settings, "serve-port", serve_port);
  WAIT_UNTIL (listening (serve_port));
}

static void
test_serve (void)
{
  g_autoptr(GSettings) settings = g_settings_new (APP_SCHEMA);

  test_configure_app ();
  serve_port = free_port ();
  g_settings_set_int (settings, "serve-port", serve_port);
  test_run_app (serve_body);
  /* the app has quit: so has the server */
  WAIT_UNTIL (!listening (serve_port));
  g_settings_reset (settings, "serve-http");
  g_clear_pointer (&last_message, g_free);
}

int
main (int   argc,
      char *argv[])
{
  g_autofree char *root = test_isolate_user_dirs ("squint-test-app-remote-XXXXXX");

  /* GIO's desktop proxy resolver reads GNOME's settings, whose schemas are
   * not among the test's */
  g_setenv ("GIO_USE_PROXY_RESOLVER", "dummy", TRUE);
  test_init_app (&argc, &argv);

  g_test_add_func ("/squint/app/remote", test_remote);
  g_test_add_func ("/squint/app/serve", test_serve);

  return g_test_run ();
}
