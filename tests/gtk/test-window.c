/* test-window.c — the real window under Xvfb: drop a file, paste an image,
 * ask the tiny model (its first reply forced to a zoom request), watch the
 * zoom indicator and the savings counter, stop, regenerate, PDFs, models,
 * history across a restart, rename and delete.  /squint/window/screenshot
 * also writes a PNG of the window (SQUINT_SCREENSHOT, or screenshot.png in
 * the build folder).
 *
 * SPDX-License-Identifier: MIT
 */
#include <adwaita.h>
#include <cairo-pdf.h>
#include <glib/gstdio.h>
#include <string.h>

#include "squint-application.h"
#include "squint-message-row.h"
#include "squint-model-dialog.h"
#include "squint-pdf-picker.h"
#include "squint-preferences-window.h"
#include "squint-savings-chart.h"
#include "squint-thumbnail.h"
#include "squint-window.h"
#include "squint-zoom-view.h"
#include "test-common.h"

static void
remove_tree (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
        remove_tree (child);
      else
        g_unlink (child);
    }
  g_rmdir (path);
}

/* Fresh settings and an empty data folder for each test. */
static void
configure (gboolean with_model)
{
  g_autoptr(GSettings) settings = g_settings_new (APP_SCHEMA);

  {
    g_autofree char *data = g_build_filename (g_get_user_data_dir (), "squint", NULL);

    remove_tree (data);
  }
  test_reset_settings (settings);
  g_settings_set_int (settings, "max-tokens", 8);
  g_settings_set_double (settings, "temperature", 0);
  if (with_model)
    {
      g_autofree char *text = tiny_text_model ();
      g_autofree char *mmproj = tiny_mmproj ();

      g_settings_set_string (settings, "model-path", text);
      g_settings_set_string (settings, "mmproj-path", mmproj);
      g_settings_set_int (settings, "threads", 2);
    }
}

typedef void (*AppBody) (SquintApplication *app,
                         SquintWindow      *window);

/* After the app's own "activate" made its window: the test, then every
 * window closed and the app quit. */
static void
on_activate (GApplication *app,
             gpointer      body)
{
  SquintWindow *window = SQUINT_WINDOW (gtk_application_get_active_window (GTK_APPLICATION (app)));
  GtkWidget *weak = GTK_WIDGET (window);

  WAIT_UNTIL (gtk_widget_get_mapped (GTK_WIDGET (window)));
  ((AppBody)body) (SQUINT_APPLICATION (app), window);

  g_object_add_weak_pointer (G_OBJECT (weak), (gpointer *)&weak);
  test_destroy_windows (GTK_APPLICATION (app));
  WAIT_UNTIL (weak == NULL);  /* nothing keeps the window alive */
  g_application_quit (app);
}

/* Runs body inside a fresh instance of the app, as `squint` would run. */
static void
run_app (AppBody body)
{
  test_run_app_full (G_CALLBACK (on_activate), body);
}

static SquintEngine *
engine_of (SquintApplication *app)
{
  return squint_application_get_engine (app);
}

static void
wait_ready (SquintApplication *app)
{
  WAIT_UNTIL (squint_engine_get_state (engine_of (app)) == SQUINT_ENGINE_READY);
}

static SquintMessageRow *
row_for (SquintWindow  *window,
         SquintMessage *message)
{
  GtkWidget *list = squint_window_get_message_list (window);

  for (GtkWidget *child = gtk_widget_get_first_child (list); child; child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *row;

      if (!GTK_IS_LIST_BOX_ROW (child))
        continue;
      row = gtk_list_box_row_get_child (GTK_LIST_BOX_ROW (child));
      if (SQUINT_IS_MESSAGE_ROW (row) && squint_message_row_get_message (SQUINT_MESSAGE_ROW (row)) == message)
        return SQUINT_MESSAGE_ROW (row);
    }
  return NULL;
}

static guint
n_attachments (SquintWindow *window)
{
  return g_list_model_get_n_items (squint_composer_get_attachments (squint_window_get_composer (window)));
}

static void
drop_files (SquintWindow *window,
            GFile       **files,
            gsize         n)
{
  GValue value = G_VALUE_INIT;
  gboolean handled = FALSE;

  g_value_init (&value, GDK_TYPE_FILE_LIST);
  g_value_take_boxed (&value, gdk_file_list_new_from_array (files, n));
  g_signal_emit_by_name (squint_window_get_drop_target (window), "drop", &value, 12.0, 12.0, &handled);
  g_value_unset (&value);
  g_assert_true (handled);
}

static void
drop_path (SquintWindow *window,
           const char   *path)
{
  g_autoptr(GFile) file = g_file_new_for_path (path);

  drop_files (window, &file, 1);
}

static void
drop_test_image (SquintWindow *window,
                 const char   *name)
{
  g_autofree char *path = test_data_path (name);

  drop_path (window, path);
}

typedef struct
{
  GArray   *zoom_states;
  gboolean  animating_at_zoom;
  gboolean  zooming_shown;
  guint     n_text;
  SquintWindow *window;
} Watch;

static void
on_zoom_state (SquintMessage *m,
               GParamSpec    *pspec,
               Watch         *w)
{
  SquintZoomState z = squint_message_get_zoom_state (m);
  SquintMessageRow *row = row_for (w->window, m);

  g_array_append_val (w->zoom_states, z);
  if (z == SQUINT_ZOOM_ZOOMING && row != NULL)
    {
      w->animating_at_zoom = squint_zoom_view_is_animating (SQUINT_ZOOM_VIEW (squint_message_row_get_zoom_view (row)));
      w->zooming_shown = squint_message_row_get_zooming_shown (row);
    }
}

static void
on_text (SquintMessage *m,
         GParamSpec    *pspec,
         Watch         *w)
{
  w->n_text++;
}

/* Sends the composer's content; returns the answer being written. */
static SquintMessage *
send (SquintWindow *window,
      const char   *question,
      Watch        *watch)
{
  SquintConversation *c;
  SquintMessage *reply;

  WAIT_UNTIL (squint_window_get_n_loading (window) == 0 &&
              !squint_composer_get_busy (squint_window_get_composer (window)));
  squint_composer_set_text (squint_window_get_composer (window), question);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.send", NULL));
  c = squint_window_get_conversation (window);
  reply = squint_conversation_get_last_message (c, SQUINT_ROLE_ASSISTANT);
  g_assert_nonnull (reply);
  if (watch != NULL)
    {
      watch->window = window;
      g_signal_connect (reply, "notify::zoom-state", G_CALLBACK (on_zoom_state), watch);
      g_signal_connect (reply, "notify::text", G_CALLBACK (on_text), watch);
    }
  return reply;
}

static gboolean
is_finished (SquintMessage *m)
{
  SquintMessageState s = squint_message_get_state (m);

  return s == SQUINT_MESSAGE_DONE || s == SQUINT_MESSAGE_STOPPED || s == SQUINT_MESSAGE_FAILED;
}

/* ---- tests ---- */

static void
no_model_body (SquintApplication *app,
               SquintWindow      *window)
{
  SquintModelDialog *dialog;
  g_autofree char *text = tiny_text_model ();
  g_autofree char *mmproj = tiny_mmproj ();
  g_autofree char *bad = test_data_path ("image/not_an_image.txt");
  g_autoptr(GFile) text_file = g_file_new_for_path (text);
  g_autoptr(GFile) mmproj_file = g_file_new_for_path (mmproj);
  g_autoptr(GFile) bad_file = g_file_new_for_path (bad);
  g_autoptr(GSettings) settings = g_settings_new (APP_SCHEMA);
  g_autoptr(GVariant) models = NULL;
  g_autofree char *configured = NULL;

  g_assert_cmpstr (squint_window_get_visible_page (window), ==, "no-model");
  squint_composer_set_text (squint_window_get_composer (window), "Hello?");
  /* nothing to send to */
  g_assert_false (gtk_widget_activate_action (GTK_WIDGET (window), "win.send", NULL) &&
                  squint_conversation_get_n_messages (squint_window_get_conversation (window)) > 0);

  /* "Add Model…" with a file that is not a model: an error, nothing changes */
  g_action_group_activate_action (G_ACTION_GROUP (app), "add-model", NULL);
  dialog = SQUINT_MODEL_DIALOG (find_toplevel (SQUINT_TYPE_MODEL_DIALOG));
  g_assert_nonnull (dialog);
  squint_model_dialog_set_files (dialog, bad_file, mmproj_file);
  squint_model_dialog_add (dialog);
  WAIT_UNTIL (squint_engine_get_state (engine_of (app)) == SQUINT_ENGINE_FAILED);
  g_assert_nonnull (find_toplevel (SQUINT_TYPE_MODEL_DIALOG));
  configured = g_settings_get_string (settings, "model-path");
  g_assert_cmpstr (configured, ==, "");

  /* then the right pair: loaded, configured, remembered */
  squint_model_dialog_set_files (dialog, text_file, mmproj_file);
  squint_model_dialog_add (dialog);
  wait_ready (app);
  WAIT_UNTIL (find_toplevel (SQUINT_TYPE_MODEL_DIALOG) == NULL);
  test_spin (50);
  g_free (configured);
  configured = g_settings_get_string (settings, "model-path");
  g_assert_cmpstr (configured, ==, text);
  g_free (configured);
  configured = g_settings_get_string (settings, "mmproj-path");
  g_assert_cmpstr (configured, ==, mmproj);
  models = g_settings_get_value (settings, "models");
  g_assert_cmpuint (g_variant_n_children (models), ==, 1);
  g_assert_cmpstr (squint_window_get_visible_page (window), ==, "empty");
}

static void
test_no_model (void)
{
  configure (FALSE);
  run_app (no_model_body);
}

/* SQUINT_DEMO_DIR for "no built-in demo model" (the source tree's assets/
 * holds one, and sq_demo_model_find looks only here when it is set). */
#define NO_DEMO_DIR "/nonexistent-squint-demo"

/* The source tree's built-in demo model (assets/), and its samples. */
static char *
demo_path (const char *name)
{
  return g_build_filename (g_getenv ("SQ_TEST_DATA"), "..", "..", "assets", name, NULL);
}

static char *
demo_sample_text (const char *name)
{
  g_autofree char *path = demo_path (name);
  g_autoptr(GError) error = NULL;
  char *text = NULL;

  g_file_get_contents (path, &text, NULL, &error);
  g_assert_no_error (error);
  return g_strstrip (text);
}

/* No model configured: the app loads the demo model, and the zoom sample's
 * question is answered after zooming in, right. */
static void
demo_model_body (SquintApplication *app,
                 SquintWindow      *window)
{
  g_autofree char *png = demo_path ("samples/zoom.png");
  g_autofree char *question = demo_sample_text ("samples/zoom.txt");
  g_autofree char *answer = demo_sample_text ("samples/zoom.answer");
  SquintMessage *reply;

  wait_ready (app);
  g_assert_cmpstr (squint_window_get_visible_page (window), ==, "empty");
  drop_path (window, png);
  WAIT_UNTIL (n_attachments (window) == 1 && squint_window_get_n_loading (window) == 0);
  reply = send (window, question, NULL);
  WAIT_UNTIL (is_finished (reply));
  g_test_message ("demo model: %s -> %s (state %d, error %s)", question, squint_message_get_text (reply),
                  squint_message_get_state (reply), squint_message_get_error (reply));
  g_assert_cmpint (squint_message_get_state (reply), ==, SQUINT_MESSAGE_DONE);
  g_assert_cmpint (squint_message_get_zoom_state (reply), ==, SQUINT_ZOOM_ZOOMED);
  g_assert_cmpstr (squint_message_get_answer (reply), ==, answer);
  WAIT_UNTIL (!squint_composer_get_busy (squint_window_get_composer (window)));
}

static void
test_demo_model (void)
{
  g_autofree char *assets = demo_path (NULL);
  g_autoptr(GSettings) settings = g_settings_new (APP_SCHEMA);

  g_setenv ("SQUINT_DEMO_DIR", assets, TRUE);
  configure (FALSE);   /* greedy, as the sample was chosen */
  g_settings_set_int (settings, "max-tokens", 256);   /* both passes' replies */
  run_app (demo_model_body);
  g_setenv ("SQUINT_DEMO_DIR", NO_DEMO_DIR, TRUE);
}

static void
ask_zoom_body (SquintApplication *app,
               SquintWindow      *window)
{
  SquintComposer *composer = squint_window_get_composer (window);
  SquintMessage *reply;
  SquintMessageRow *row;
  SquintConversation *c;
  g_autoptr(GdkTexture) texture = NULL;
  g_autofree char *texture_path = test_data_path ("tiny/images/img_224x168.png");
  Watch watch = { g_array_new (FALSE, FALSE, sizeof (SquintZoomState)) };
  GtkWidget *thumb;
  const char *stats;

  wait_ready (app);
  g_object_set (engine_of (app), "forced-reply", TOOL_CALL, NULL);
  g_assert_cmpstr (squint_window_get_visible_page (window), ==, "empty");
  g_assert_null (squint_window_get_savings_label (window));

  /* a file dropped on the window */
  drop_test_image (window, "tiny/images/img_448x336.png");
  WAIT_UNTIL (n_attachments (window) == 1 && squint_window_get_n_loading (window) == 0);

  /* an image pasted from the clipboard */
  texture = gdk_texture_new_from_filename (texture_path, NULL);
  gdk_clipboard_set_texture (gtk_widget_get_clipboard (GTK_WIDGET (window)), texture);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.paste", NULL));
  WAIT_UNTIL (n_attachments (window) == 2 && squint_window_get_n_loading (window) == 0);
  {
    g_autoptr(SquintImage) pasted = g_list_model_get_item (squint_composer_get_attachments (composer), 1);

    g_assert_cmpint (squint_image_get_width (pasted), ==, 224);
    g_assert_cmpstr (squint_image_get_name (pasted), ==, "Pasted image");
  }

  /* removed again with its thumbnail's button: the question is about one image */
  thumb = find_widget (GTK_WIDGET (composer), SQUINT_TYPE_THUMBNAIL);
  g_assert_nonnull (thumb);
  while (gtk_widget_get_next_sibling (thumb) != NULL && SQUINT_IS_THUMBNAIL (gtk_widget_get_next_sibling (thumb)))
    thumb = gtk_widget_get_next_sibling (thumb);
  g_signal_emit_by_name (thumb, "remove");
  g_assert_cmpuint (n_attachments (window), ==, 1);

  reply = send (window, "What does the small text say?", &watch);
  c = squint_window_get_conversation (window);
  g_assert_cmpuint (n_attachments (window), ==, 0);
  g_assert_cmpstr (squint_window_get_visible_page (window), ==, "chat");
  g_assert_true (squint_composer_get_busy (composer));
  WAIT_UNTIL (is_finished (reply));
  g_assert_cmpint (squint_message_get_state (reply), ==, SQUINT_MESSAGE_DONE);
  WAIT_UNTIL (!squint_composer_get_busy (composer));

  /* streamed, thinking kept apart */
  g_assert_cmpuint (watch.n_text, >, 5);
  g_assert_cmpstr (squint_message_get_think (reply), ==, "The text is too small.");
  row = row_for (window, reply);
  g_assert_nonnull (row);

  /* the zoom indicator: half size, zooming in, looked closer */
  g_assert_cmpuint (watch.zoom_states->len, ==, 3);
  g_assert_cmpint (g_array_index (watch.zoom_states, SquintZoomState, 0), ==, SQUINT_ZOOM_LOW);
  g_assert_cmpint (g_array_index (watch.zoom_states, SquintZoomState, 1), ==, SQUINT_ZOOM_ZOOMING);
  g_assert_cmpint (g_array_index (watch.zoom_states, SquintZoomState, 2), ==, SQUINT_ZOOM_ZOOMED);
  g_assert_true (watch.zooming_shown);
  g_assert_true (watch.animating_at_zoom);
  g_assert_false (squint_message_row_get_zooming_shown (row));
  g_assert_true (squint_message_row_get_badge_shown (row));
  WAIT_UNTIL (!squint_zoom_view_is_animating (SQUINT_ZOOM_VIEW (squint_message_row_get_zoom_view (row))));
  g_assert_cmpfloat (squint_zoom_view_get_sharpness (SQUINT_ZOOM_VIEW (squint_message_row_get_zoom_view (row))), ==, 1.0);

  /* the ledger: 48 at half size + 192 full, against 192 */
  stats = squint_message_row_get_stats_text (row);
  g_assert_nonnull (strstr (stats, "240 image tokens"));
  g_assert_nonnull (strstr (stats, "full resolution 192"));
  g_assert_cmpstr (squint_window_get_savings_label (window), ==, "−48 saved · −25%");
  g_assert_cmpuint (squint_savings_chart_get_n_bars (SQUINT_SAVINGS_CHART (squint_window_get_savings_chart (window))), ==, 1);

  /* stored */
  g_assert_cmpint (squint_conversation_get_id (c), >, 0);
  g_assert_cmpstr (squint_conversation_get_title (c), ==, "What does the small text say?");
  g_assert_cmpuint (g_list_model_get_n_items (squint_history_get_conversations (squint_application_get_history (app))), ==, 1);
  g_array_unref (watch.zoom_states);
}

/* After a restart: the same data folder, a new app. */
static void
restart_body (SquintApplication *app,
              SquintWindow      *window)
{
  GListModel *list = squint_history_get_conversations (squint_application_get_history (app));
  g_autoptr(SquintConversation) again = NULL;
  SquintMessage *answer;
  SquintMessage *follow;
  SquintMessageRow *row;

  g_assert_cmpuint (g_list_model_get_n_items (list), ==, 1);
  again = g_list_model_get_item (list, 0);
  squint_window_set_conversation (window, again);
  g_assert_cmpuint (squint_conversation_get_n_messages (again), ==, 2);
  answer = squint_conversation_get_last_message (again, SQUINT_ROLE_ASSISTANT);
  g_assert_cmpint (squint_message_get_zoom_state (answer), ==, SQUINT_ZOOM_ZOOMED);
  g_assert_cmpstr (squint_message_get_think (answer), ==, "The text is too small.");
  g_assert_cmpstr (squint_window_get_savings_label (window), ==, "−48 saved · −25%");
  row = row_for (window, answer);
  g_assert_true (squint_message_row_get_badge_shown (row));
  g_assert_cmpfloat (squint_zoom_view_get_sharpness (SQUINT_ZOOM_VIEW (squint_message_row_get_zoom_view (row))), ==, 1.0);

  /* a follow-up after the restart gets the image again, at half size */
  wait_ready (app);
  follow = send (window, "And the colours?", NULL);
  g_assert_nonnull (squint_message_get_subject (follow));
  WAIT_UNTIL (is_finished (follow));
  g_assert_cmpint (squint_message_get_state (follow), ==, SQUINT_MESSAGE_DONE);
  g_assert_cmpint (squint_message_get_stats (follow)->visual_used, ==, 48);
  g_assert_cmpstr (squint_window_get_savings_label (window), ==, "96 saved · 25%");
}

static void
test_ask_zoom (void)
{
  configure (TRUE);
  run_app (ask_zoom_body);
  run_app (restart_body);
}

static void
stop_regenerate_body (SquintApplication *app,
                      SquintWindow      *window)
{
  g_autoptr(GSettings) settings = g_settings_new (APP_SCHEMA);
  SquintMessage *reply;
  SquintConversation *c;
  Watch watch = { NULL };

  wait_ready (app);
  reply = send (window, "Tell me a long story.", &watch);
  WAIT_UNTIL (watch.n_text > 0);
  /* Escape stops */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.stop", NULL));
  WAIT_UNTIL (is_finished (reply));
  g_assert_cmpint (squint_message_get_state (reply), ==, SQUINT_MESSAGE_STOPPED);
  WAIT_UNTIL (!squint_composer_get_busy (squint_window_get_composer (window)));

  /* regenerate replaces the answer */
  c = squint_window_get_conversation (window);
  g_settings_set_int (settings, "max-tokens", 6);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.regenerate", NULL));
  reply = squint_conversation_get_last_message (c, SQUINT_ROLE_ASSISTANT);
  WAIT_UNTIL (is_finished (reply));
  g_assert_cmpint (squint_message_get_state (reply), ==, SQUINT_MESSAGE_DONE);
  g_assert_cmpuint (squint_conversation_get_n_messages (c), ==, 2);
}

static void
test_stop_regenerate (void)
{
  g_autoptr(GSettings) settings = g_settings_new (APP_SCHEMA);

  configure (TRUE);
  g_settings_set_int (settings, "max-tokens", 4000);
  run_app (stop_regenerate_body);
}

static void
make_pdf (const char *path,
          int         pages)
{
  cairo_surface_t *surface = cairo_pdf_surface_create (path, 300, 200);
  cairo_t *cr = cairo_create (surface);

  for (int i = 0; i < pages; i++)
    {
      cairo_set_source_rgb (cr, 0.2, 0.4, 0.8);
      cairo_rectangle (cr, 20 + 10 * i, 20, 100, 80);
      cairo_fill (cr);
      cairo_show_page (cr);
    }
  cairo_destroy (cr);
  cairo_surface_destroy (surface);
}

static void
pdf_body (SquintApplication *app,
          SquintWindow      *window)
{
  g_autofree char *one = g_build_filename (g_get_user_cache_dir (), "one.pdf", NULL);
  g_autofree char *three = g_build_filename (g_get_user_cache_dir (), "three.pdf", NULL);
  SquintPdfPicker *picker;

  g_mkdir_with_parents (g_get_user_cache_dir (), 0700);
  make_pdf (one, 1);
  make_pdf (three, 3);

  /* one page: attached right away */
  drop_path (window, one);
  WAIT_UNTIL (n_attachments (window) == 1 && squint_window_get_n_loading (window) == 0);
  {
    g_autoptr(SquintImage) page = g_list_model_get_item (squint_composer_get_attachments (squint_window_get_composer (window)), 0);

    g_assert_cmpstr (squint_image_get_name (page), ==, "one.pdf, page 1");
    /* 300 × 200 points, at most 3× */
    g_assert_cmpint (squint_image_get_width (page), ==, 900);
    g_assert_cmpint (squint_image_get_height (page), ==, 600);
  }

  /* several: the page picker */
  drop_path (window, three);
  WAIT_UNTIL ((picker = SQUINT_PDF_PICKER (find_toplevel (SQUINT_TYPE_PDF_PICKER))) != NULL);
  g_assert_cmpuint (squint_pdf_picker_get_n_pages (picker), ==, 3);
  squint_pdf_picker_select_all (picker);
  squint_pdf_picker_attach_selected (picker);
  WAIT_UNTIL (n_attachments (window) == 4 && squint_window_get_n_loading (window) == 0);
}

static void
test_pdf (void)
{
  configure (FALSE);
  run_app (pdf_body);
}

static void
reduced_motion_body (SquintApplication *app,
                     SquintWindow      *window)
{
  SquintMessage *reply;
  Watch watch = { g_array_new (FALSE, FALSE, sizeof (SquintZoomState)) };
  GtkSettings *gtk_settings = gtk_settings_get_default ();

  wait_ready (app);
  g_object_set (engine_of (app), "forced-reply", TOOL_CALL, NULL);
  g_object_set (gtk_settings, "gtk-enable-animations", FALSE, NULL);

  drop_test_image (window, "tiny/images/img_448x336.png");
  WAIT_UNTIL (n_attachments (window) == 1 && squint_window_get_n_loading (window) == 0);
  reply = send (window, "What does it say?", &watch);
  WAIT_UNTIL (is_finished (reply));
  /* no animation, just the new state */
  g_assert_cmpuint (watch.zoom_states->len, ==, 3);
  g_assert_false (watch.animating_at_zoom);
  g_assert_cmpfloat (squint_zoom_view_get_sharpness (SQUINT_ZOOM_VIEW (squint_message_row_get_zoom_view (row_for (window, reply)))), ==, 1.0);
  g_assert_true (squint_message_row_get_badge_shown (row_for (window, reply)));

  g_object_set (gtk_settings, "gtk-enable-animations", TRUE, NULL);
  g_array_unref (watch.zoom_states);
}

static void
test_reduced_motion (void)
{
  configure (TRUE);
  run_app (reduced_motion_body);
}

static void
rename_delete_body (SquintApplication *app,
                    SquintWindow      *window)
{
  SquintHistory *history = squint_application_get_history (app);
  SquintMessage *reply;
  SquintConversation *c;
  AdwMessageDialog *dialog;

  wait_ready (app);
  reply = send (window, "Hello", NULL);
  WAIT_UNTIL (is_finished (reply));
  c = squint_window_get_conversation (window);

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.rename", NULL));
  dialog = ADW_MESSAGE_DIALOG (find_toplevel (ADW_TYPE_MESSAGE_DIALOG));
  g_assert_nonnull (dialog);
  gtk_editable_set_text (GTK_EDITABLE (adw_message_dialog_get_extra_child (dialog)), "Greetings");
  /* what clicking its button does */
  adw_message_dialog_response (dialog, "rename");
  gtk_window_close (GTK_WINDOW (dialog));
  g_assert_cmpstr (squint_conversation_get_title (c), ==, "Greetings");
  WAIT_UNTIL (find_toplevel (ADW_TYPE_MESSAGE_DIALOG) == NULL);

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.delete", NULL));
  dialog = ADW_MESSAGE_DIALOG (find_toplevel (ADW_TYPE_MESSAGE_DIALOG));
  g_assert_nonnull (dialog);
  adw_message_dialog_response (dialog, "delete");
  gtk_window_close (GTK_WINDOW (dialog));
  g_assert_cmpuint (g_list_model_get_n_items (squint_history_get_conversations (history)), ==, 0);
  g_assert_true (squint_window_get_conversation (window) != c);
  g_assert_cmpstr (squint_window_get_visible_page (window), ==, "empty");
  WAIT_UNTIL (find_toplevel (ADW_TYPE_MESSAGE_DIALOG) == NULL);
}

static void
test_rename_delete (void)
{
  configure (TRUE);
  run_app (rename_delete_body);
}

static void
accessibility_body (SquintApplication *app,
                    SquintWindow      *window)
{
  GtkWidget *stack[512];
  int top = 0;
  guint n_icon_buttons = 0;

  /* every icon-only button has a tooltip and an accessible name */
  stack[top++] = GTK_WIDGET (window);
  while (top > 0)
    {
      GtkWidget *w = stack[--top];

      for (GtkWidget *child = gtk_widget_get_first_child (w); child && top < 511; child = gtk_widget_get_next_sibling (child))
        stack[top++] = child;
      if ((GTK_IS_BUTTON (w) && gtk_button_get_icon_name (GTK_BUTTON (w)) != NULL) ||
          (GTK_IS_MENU_BUTTON (w) && gtk_menu_button_get_icon_name (GTK_MENU_BUTTON (w)) != NULL))
        {
          /* check_property gives the real value when it differs from the one asked */
          g_autofree char *name = gtk_test_accessible_check_property (GTK_ACCESSIBLE (w), GTK_ACCESSIBLE_PROPERTY_LABEL, "");

          n_icon_buttons++;
          if (gtk_widget_get_tooltip_text (w) == NULL)
            g_error ("%s has no tooltip", G_OBJECT_TYPE_NAME (w));
          if (name == NULL || g_str_equal (name, "undefined"))
            g_error ("%s with the tooltip “%s” has no accessible label", G_OBJECT_TYPE_NAME (w),
                     gtk_widget_get_tooltip_text (w));
        }
    }
  g_assert_cmpuint (n_icon_buttons, >=, 6);
}

static void
test_accessibility (void)
{
  configure (FALSE);
  run_app (accessibility_body);
}

static void
dialogs_body (SquintApplication *app,
              SquintWindow      *window)
{
  g_autoptr(GSettings) settings = g_settings_new (APP_SCHEMA);
  GtkWindow *prefs;
  GtkWindow *about;
  GtkWindow *shortcuts;
  GtkWidget *spin;
  GMenuModel *menu = squint_application_get_model_menu (app);
  g_autofree char *text = tiny_text_model ();
  g_autofree char *mmproj = tiny_mmproj ();

  /* preferences: rows follow the settings and back */
  g_action_group_activate_action (G_ACTION_GROUP (app), "preferences", NULL);
  prefs = find_toplevel (SQUINT_TYPE_PREFERENCES_WINDOW);
  g_assert_nonnull (prefs);
  g_settings_set_int (settings, "threads", 3);
  spin = find_widget (GTK_WIDGET (prefs), GTK_TYPE_SPIN_BUTTON);
  g_assert_nonnull (spin);
  g_settings_set_double (settings, "temperature", 0.25);
  g_assert_cmpfloat (gtk_spin_button_get_value (GTK_SPIN_BUTTON (spin)), ==, 0.25);
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (spin), 1.5);
  g_assert_cmpfloat (g_settings_get_double (settings, "temperature"), ==, 1.5);
  g_settings_set_string (settings, "default-policy", "full");
  gtk_window_close (prefs);

  /* a new chat takes the default resolution */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.new-chat", NULL));
  g_assert_cmpstr (squint_conversation_get_policy (squint_window_get_conversation (window)), ==, "full");
  /* and the header's menu changes it for this chat */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.policy", "s", "low"));
  g_assert_cmpstr (squint_conversation_get_policy (squint_window_get_conversation (window)), ==, "low");

  g_action_group_activate_action (G_ACTION_GROUP (app), "about", NULL);
  about = find_toplevel (ADW_TYPE_ABOUT_WINDOW);
  g_assert_nonnull (about);
  gtk_window_close (about);

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.show-help-overlay", NULL));
  WAIT_UNTIL ((shortcuts = find_toplevel (GTK_TYPE_SHORTCUTS_WINDOW)) != NULL);
  gtk_window_close (shortcuts);

  /* the model menu lists added models; choosing one loads it */
  squint_application_use_model (app, text, mmproj);
  test_spin (50);
  g_assert_cmpint (g_menu_model_get_n_items (g_menu_model_get_item_link (menu, 0, G_MENU_LINK_SECTION)), ==, 1);
  wait_ready (app);
  g_action_group_activate_action (G_ACTION_GROUP (app), "use-model", g_variant_new_string (text));
  wait_ready (app);
  g_assert_cmpstr (squint_engine_get_text_path (engine_of (app)), ==, text);
  WAIT_UNTIL (find_toplevel (SQUINT_TYPE_PREFERENCES_WINDOW) == NULL && find_toplevel (ADW_TYPE_ABOUT_WINDOW) == NULL);
}

static void
test_dialogs (void)
{
  configure (FALSE);
  run_app (dialogs_body);
}

/* A mock screenshot with small print, for the picture of the app. */
static char *
make_sign (void)
{
  g_autofree char *path = g_build_filename (g_get_user_cache_dir (), "build-log.png", NULL);
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_RGB24, 896, 560);
  cairo_t *cr = cairo_create (surface);
  static const char *lines[] = {
    "$ meson test -C build",
    "  1/6 squint:engine / gguf            OK      0.12s",
    "  2/6 squint:engine / tokenizer       OK      0.40s",
    "  3/6 squint:engine / image           OK      0.83s",
    "  4/6 squint:engine / zoom            OK      3.31s",
    "  5/6 squint:gtk / window             OK      9.02s",
    "  6/6 squint:gtk / screenshot         FAIL    0.02s",
    "",
    "  error: cannot open display :99",
    "  hint: run the test under xvfb-run -a",
  };

  g_mkdir_with_parents (g_get_user_cache_dir (), 0700);
  cairo_set_source_rgb (cr, 0.12, 0.12, 0.14);
  cairo_paint (cr);
  cairo_set_source_rgb (cr, 0.2, 0.2, 0.23);
  cairo_rectangle (cr, 0, 0, 896, 40);
  cairo_fill (cr);
  for (int i = 0; i < 3; i++)
    {
      static const double colors[3][3] = { { 0.93, 0.33, 0.31 }, { 0.96, 0.76, 0.07 }, { 0.2, 0.82, 0.48 } };

      cairo_set_source_rgb (cr, colors[i][0], colors[i][1], colors[i][2]);
      cairo_arc (cr, 24 + 22 * i, 20, 7, 0, 2 * G_PI);
      cairo_fill (cr);
    }
  cairo_select_font_face (cr, "DejaVu Sans Mono", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size (cr, 15);
  for (guint i = 0; i < G_N_ELEMENTS (lines); i++)
    {
      gboolean fail = strstr (lines[i], "FAIL") || strstr (lines[i], "error");

      if (fail)
        cairo_set_source_rgb (cr, 0.97, 0.38, 0.32);
      else if (i == 0)
        cairo_set_source_rgb (cr, 0.55, 0.8, 1.0);
      else
        cairo_set_source_rgb (cr, 0.85, 0.85, 0.85);
      cairo_move_to (cr, 28, 84 + 38 * i);
      cairo_show_text (cr, lines[i]);
    }
  cairo_destroy (cr);
  cairo_surface_write_to_png (surface, path);
  cairo_surface_destroy (surface);
  return g_steal_pointer (&path);
}

static void
save_screenshot (GtkWidget  *widget,
                 const char *path)
{
  g_autoptr(GdkPaintable) paintable = gtk_widget_paintable_new (widget);
  int w = gtk_widget_get_width (widget);
  int h = gtk_widget_get_height (widget);
  GtkSnapshot *snapshot = gtk_snapshot_new ();
  g_autoptr(GskRenderNode) node = NULL;
  g_autoptr(GdkTexture) texture = NULL;

  gdk_paintable_snapshot (paintable, snapshot, w, h);
  node = gtk_snapshot_free_to_node (snapshot);
  g_assert_nonnull (node);
  texture = gsk_renderer_render_texture (gtk_native_get_renderer (GTK_NATIVE (widget)), node,
                                         &GRAPHENE_RECT_INIT (0, 0, w, h));
  g_assert_true (gdk_texture_save_to_png (texture, path));
  g_test_message ("screenshot: %s (%d × %d)", path, w, h);
}

static void
screenshot_body (SquintApplication *app,
                 SquintWindow      *window)
{
  g_autofree char *sign = make_sign ();
  g_autofree char *path = NULL;
  const char *env = g_getenv ("SQUINT_SCREENSHOT");
  SquintMessage *reply;

  wait_ready (app);
  g_object_set (engine_of (app), "forced-reply",
                "<think>The failing line is too small to read at this size.</think>\n"
                "<tool_call>\n{\"name\": \"resize_image\", \"arguments\": {\"action\": \"resize\"}}\n</tool_call>",
                NULL);

  drop_path (window, sign);
  WAIT_UNTIL (n_attachments (window) == 1 && squint_window_get_n_loading (window) == 0);
  reply = send (window, "Why did the last test fail?", NULL);
  WAIT_UNTIL (is_finished (reply));
  WAIT_UNTIL (!squint_zoom_view_is_animating (SQUINT_ZOOM_VIEW (squint_message_row_get_zoom_view (row_for (window, reply)))));
  test_spin (400);

  path = env ? g_strdup (env) : g_test_build_filename (G_TEST_BUILT, "screenshot.png", NULL);
  save_screenshot (GTK_WIDGET (window), path);
  g_assert_true (g_file_test (path, G_FILE_TEST_IS_REGULAR));

  /* the counter's popover with its chart, beside it */
  {
    GtkWidget *chart = squint_window_get_savings_chart (window);
    GtkWidget *popover = gtk_widget_get_ancestor (chart, GTK_TYPE_POPOVER);
    g_autofree char *base = g_strndup (path, strlen (path) - strlen (".png"));
    g_autofree char *savings = g_strconcat (base, "-savings.png", NULL);

    gtk_popover_popup (GTK_POPOVER (popover));
    WAIT_UNTIL (gtk_widget_get_mapped (chart));
    test_spin (300);
    save_screenshot (popover, savings);
    gtk_popover_popdown (GTK_POPOVER (popover));
  }
}

static void
test_screenshot (void)
{
  g_autoptr(GSettings) settings = g_settings_new (APP_SCHEMA);

  g_object_set (gtk_settings_get_default (), "gtk-font-name", "Cantarell 11", NULL);
  configure (TRUE);
  g_settings_set_int (settings, "max-tokens", 24);
  g_settings_set_int (settings, "window-width", 1180);
  g_settings_set_int (settings, "window-height", 820);
  run_app (screenshot_body);
}

int
main (int   argc,
      char *argv[])
{
  g_autofree char *root = NULL;
  int status;

  /* The user's folders in a temporary one; each test empties the app's data
   * folder first. */
  root = test_isolate_user_dirs ("squint-test-window-XXXXXX");
  /* with no model configured, these tests expect the "no model" page */
  g_setenv ("SQUINT_DEMO_DIR", NO_DEMO_DIR, TRUE);
  test_init_app (&argc, &argv);

  g_test_add_func ("/squint/window/no-model", test_no_model);
  g_test_add_func ("/squint/window/demo-model", test_demo_model);
  g_test_add_func ("/squint/window/ask-zoom", test_ask_zoom);
  g_test_add_func ("/squint/window/stop-regenerate", test_stop_regenerate);
  g_test_add_func ("/squint/window/pdf", test_pdf);
  g_test_add_func ("/squint/window/reduced-motion", test_reduced_motion);
  g_test_add_func ("/squint/window/rename-delete", test_rename_delete);
  g_test_add_func ("/squint/window/accessibility", test_accessibility);
  g_test_add_func ("/squint/window/dialogs", test_dialogs);
  g_test_add_func ("/squint/window/screenshot", test_screenshot);

  status = g_test_run ();
  remove_tree (root);
  return status;
}
