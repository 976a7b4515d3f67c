/* test-app-models.c — the app's models under Xvfb: the "Add Model" dialog
 * downloads a model from a local server (stopped halfway and continued,
 * the progress bar reaching 1.0, the files in the models folder, the model
 * then added and chosen), shows an HTTP 404 and leaves no file; and the
 * preferences' compute device reloads the model, on the CPU with a message
 * when OpenCL cannot be used.
 *
 * SPDX-License-Identifier: MIT
 */
#include <adwaita.h>
#include <string.h>

#include "squint-application.h"
#include "squint-model-dialog.h"
#include "squint-preferences-window.h"
#include "squint-window.h"
#include "test-common.h"
#ifdef SQUINT_HAVE_API
#include "test-model-server.h"
#endif

static char *last_message;

static gpointer
child (gpointer    widget,
       GType       type,
       const char *name)
{
  GObject *object = gtk_widget_get_template_child (GTK_WIDGET (widget), type, name);

  g_assert_nonnull (object);
  return object;
}

static void
wait_for_model (SquintApplication *app)
{
  SquintEngine *engine = squint_application_get_engine (app);

  WAIT_UNTIL (squint_engine_get_state (engine) == SQUINT_ENGINE_READY);
}

/* ---- downloads ---- */

#ifdef SQUINT_HAVE_API
static char *
models_file (const char *name)
{
  return g_build_filename (g_get_user_data_dir (), "squint", "models", name, NULL);
}

static gboolean
setting_is (GSettings  *settings,
            const char *key,
            const char *value)
{
  g_autofree char *now = g_settings_get_string (settings, key);

  return g_strcmp0 (now, value) == 0;
}

static void
track_fraction (GtkProgressBar *bar,
                GParamSpec     *pspec,
                double         *max)
{
  *max = MAX (*max, gtk_progress_bar_get_fraction (bar));
}

static GtkWidget *
open_dialog (SquintApplication *app)
{
  GtkWindow *dialog;

  g_action_group_activate_action (G_ACTION_GROUP (app), "add-model", NULL);
  dialog = find_toplevel (SQUINT_TYPE_MODEL_DIALOG);
  g_assert_nonnull (dialog);
  return GTK_WIDGET (dialog);
}

static void
download_body (SquintApplication *app)
{
  g_autoptr(GSettings) settings = g_settings_new (APP_SCHEMA);
  SquintEngine *engine = squint_application_get_engine (app);
  g_autofree char *text_url = model_server_url ("/files/" MODEL_TEXT_FILE);
  g_autofree char *mmproj_url = model_server_url ("/files/" MODEL_MMPROJ_FILE);
  g_autofree char *text = models_file (MODEL_TEXT_FILE);
  g_autofree char *mmproj = models_file (MODEL_MMPROJ_FILE);
  g_autofree char *part = g_strconcat (text, ".part", NULL);
  g_autofree char *chosen_mmproj = NULL;
  g_autoptr(GVariant) models = NULL;
  GtkWidget *dialog;
  GtkProgressBar *bar;
  GtkLabel *file_label;
  double max_fraction = 0;

  wait_for_model (app);
  dialog = open_dialog (app);
  bar = child (dialog, SQUINT_TYPE_MODEL_DIALOG, "progress_bar");
  file_label = child (dialog, SQUINT_TYPE_MODEL_DIALOG, "file_label");
  g_signal_connect (bar, "notify::fraction", G_CALLBACK (track_fraction), &max_fraction);

  /* a link: the vision projector's row is for links */
  gtk_editable_set_text (child (dialog, SQUINT_TYPE_MODEL_DIALOG, "source_row"), text_url);
  g_assert_true (gtk_widget_get_sensitive (child (dialog, SQUINT_TYPE_MODEL_DIALOG, "mmproj_url_row")));
  g_assert_false (gtk_widget_get_sensitive (child (dialog, SQUINT_TYPE_MODEL_DIALOG, "quant_row")));
  gtk_editable_set_text (child (dialog, SQUINT_TYPE_MODEL_DIALOG, "mmproj_url_row"), mmproj_url);

  /* stopped halfway: what arrived stays */
  model_server.stall_next = TRUE;
  model_server.range_start = -1;
  gtk_widget_activate_action (dialog, "download.start", NULL);
  g_assert_true (gtk_widget_get_visible (child (dialog, SQUINT_TYPE_MODEL_DIALOG, "stop_button")));
  WAIT_UNTIL (gtk_progress_bar_get_fraction (bar) > 0);
  g_assert_nonnull (strstr (gtk_label_get_label (file_label), MODEL_TEXT_FILE));
  g_assert_nonnull (strstr (gtk_progress_bar_get_text (bar), " MB"));
  gtk_widget_activate_action (dialog, "download.cancel", NULL);
  WAIT_UNTIL (gtk_widget_get_visible (child (dialog, SQUINT_TYPE_MODEL_DIALOG, "download_button")));
  g_assert_nonnull (strstr (gtk_label_get_label (file_label), "Stopped"));
  g_assert_false (gtk_widget_get_visible (child (dialog, SQUINT_TYPE_MODEL_DIALOG, "error_label")));
  g_assert_true (g_file_test (part, G_FILE_TEST_IS_REGULAR));
  g_assert_false (g_file_test (text, G_FILE_TEST_EXISTS));

  /* again: it continues, then the model is added and chosen, and the dialog closes */
  gtk_widget_activate_action (dialog, "download.start", NULL);
  WAIT_UNTIL (setting_is (settings, "model-path", text));
  g_assert_cmpint (model_server.range_start, >, 0);   /* it continued */
  g_assert_cmpfloat (max_fraction, ==, 1.0);
  chosen_mmproj = g_settings_get_string (settings, "mmproj-path");
  g_assert_cmpstr (chosen_mmproj, ==, mmproj);
  g_assert_true (file_equals (text, &model_server.text));
  g_assert_true (file_equals (mmproj, &model_server.mmproj));
  g_assert_false (g_file_test (part, G_FILE_TEST_EXISTS));
  models = g_settings_get_value (settings, "models");
  g_assert_cmpuint (g_variant_n_children (models), >=, 1);
  WAIT_UNTIL (find_toplevel (SQUINT_TYPE_MODEL_DIALOG) == NULL);
  WAIT_UNTIL (squint_engine_is_loaded (engine, text, mmproj));
}

static void
test_download (void)
{
  test_configure_app ();
  test_run_app (download_body);
}

static void
not_found_body (SquintApplication *app)
{
  g_autoptr(GSettings) settings = g_settings_new (APP_SCHEMA);
  g_autofree char *url = model_server_url ("/files/missing.gguf");
  g_autofree char *file = models_file ("missing.gguf");
  g_autofree char *part = g_strconcat (file, ".part", NULL);
  g_autofree char *before = g_settings_get_string (settings, "model-path");
  g_autofree char *after = NULL;
  GtkWidget *dialog;
  GtkLabel *error_label;

  wait_for_model (app);
  dialog = open_dialog (app);
  error_label = child (dialog, SQUINT_TYPE_MODEL_DIALOG, "error_label");
  g_assert_false (gtk_widget_get_visible (GTK_WIDGET (error_label)));
  gtk_editable_set_text (child (dialog, SQUINT_TYPE_MODEL_DIALOG, "source_row"), url);
  g_signal_emit_by_name (child (dialog, SQUINT_TYPE_MODEL_DIALOG, "source_row"), "entry-activated");
  WAIT_UNTIL (gtk_widget_get_visible (GTK_WIDGET (error_label)));
  g_test_message ("%s", gtk_label_get_label (error_label));
  g_assert_nonnull (strstr (gtk_label_get_label (error_label), "The server refused the download."));
  g_assert_nonnull (strstr (gtk_label_get_label (error_label), "404"));
  g_assert_true (gtk_widget_get_visible (child (dialog, SQUINT_TYPE_MODEL_DIALOG, "download_button")));
  g_assert_false (g_file_test (file, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (part, G_FILE_TEST_EXISTS));
  after = g_settings_get_string (settings, "model-path");
  g_assert_cmpstr (after, ==, before);
  g_assert_nonnull (find_toplevel (SQUINT_TYPE_MODEL_DIALOG));
  gtk_window_close (GTK_WINDOW (dialog));
}

static void
test_not_found (void)
{
  test_configure_app ();
  test_run_app (not_found_body);
}
#endif

/* ---- the compute device ---- */

static char *loading_description;   /* the loading page's text when a load began */

static void
on_engine_state (SquintEngine  *engine,
                 GParamSpec    *pspec,
                 AdwStatusPage *page)
{
  /* the window's own handler ran first: the page is up to date */
  if (squint_engine_get_state (engine) == SQUINT_ENGINE_LOADING)
    {
      g_free (loading_description);
      loading_description = g_strdup (adw_status_page_get_description (page));
      g_test_message ("loading on %s: %s", squint_engine_get_backend (engine), loading_description);
    }
}

static void
backend_body (SquintApplication *app)
{
  g_autoptr(GSettings) settings = g_settings_new (APP_SCHEMA);
  SquintEngine *engine = squint_application_get_engine (app);
  g_autofree char *backend = NULL;
  AdwComboRow *row;
  GtkWindow *prefs;
  guint handler;

  wait_for_model (app);
  g_assert_cmpstr (squint_engine_get_device (engine), ==, "cpu");

  g_action_group_activate_action (G_ACTION_GROUP (app), "preferences", NULL);
  prefs = find_toplevel (SQUINT_TYPE_PREFERENCES_WINDOW);
  g_assert_nonnull (prefs);
  row = child (prefs, SQUINT_TYPE_PREFERENCES_WINDOW, "backend_row");
  g_assert_cmpuint (adw_combo_row_get_selected (row), ==, 0);

  /* "GPU (OpenCL)" with no usable device: loaded again, on the CPU, and said so */
  handler = g_log_set_handler ("squint-application", G_LOG_LEVEL_MESSAGE, test_keep_message, &last_message);
  g_signal_connect (engine, "notify::state", G_CALLBACK (on_engine_state),
                    child (find_toplevel (SQUINT_TYPE_WINDOW), SQUINT_TYPE_WINDOW, "loading_page"));
  adw_combo_row_set_selected (row, 2);
  backend = g_settings_get_string (settings, "backend");
  g_assert_cmpstr (backend, ==, "opencl");
  g_assert_cmpstr (squint_engine_get_backend (engine), ==, "opencl");
  WAIT_UNTIL (last_message != NULL);
  g_test_message ("%s", last_message);
  g_assert_nonnull (strstr (last_message, "The GPU could not be used, so the model runs on the CPU: "));
  g_assert_cmpint (squint_engine_get_state (engine), ==, SQUINT_ENGINE_READY);
  g_assert_cmpstr (squint_engine_get_device (engine), ==, "cpu");
  g_assert_nonnull (squint_engine_get_fallback_reason (engine));
  /* the load on the GPU said it prepares the GPU */
  g_assert_nonnull (loading_description);
  g_assert_true (g_str_has_prefix (loading_description, "Preparing the GPU"));
  g_clear_pointer (&loading_description, g_free);

  /* back to the CPU: loaded again, no complaint */
  g_clear_pointer (&last_message, g_free);
  g_settings_set_string (settings, "backend", "cpu");
  g_assert_cmpuint (adw_combo_row_get_selected (row), ==, 0);
  WAIT_UNTIL (squint_engine_get_state (engine) == SQUINT_ENGINE_READY &&
              squint_engine_get_fallback_reason (engine) == NULL);
  g_assert_cmpstr (squint_engine_get_device (engine), ==, "cpu");
  test_spin (100);
  g_assert_null (last_message);
  g_assert_true (loading_description == NULL || loading_description[0] == '\0');   /* a CPU load: nothing about a GPU */
  g_clear_pointer (&loading_description, g_free);
  g_signal_handlers_disconnect_matched (engine, G_SIGNAL_MATCH_FUNC, 0, 0, NULL, on_engine_state, NULL);
  g_log_remove_handler ("squint-application", handler);
  gtk_window_close (prefs);
}

static void
test_backend (void)
{
  /* read by the worker while loading: set before the app starts */
  g_setenv ("SQUINT_DEVICE", "no-such-device", TRUE);
  test_configure_app ();
  test_run_app (backend_body);
  g_unsetenv ("SQUINT_DEVICE");
  g_clear_pointer (&last_message, g_free);
}

int
main (int   argc,
      char *argv[])
{
  g_autofree char *root = test_isolate_user_dirs ("squint-test-app-models-XXXXXX");
  int ret;

  /* GIO's desktop proxy resolver reads GNOME's settings, whose schemas are
   * not among the test's */
  g_setenv ("GIO_USE_PROXY_RESOLVER", "dummy", TRUE);
  test_init_app (&argc, &argv);

#ifdef SQUINT_HAVE_API
  model_server_start ();
  g_test_add_func ("/squint/app/models/download", test_download);
  g_test_add_func ("/squint/app/models/not-found", test_not_found);
#endif
  g_test_add_func ("/squint/app/models/backend", test_backend);

  ret = g_test_run ();
#ifdef SQUINT_HAVE_API
  model_server_stop ();
#endif
  return ret;
}
