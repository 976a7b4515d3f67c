/* test-common.h — helpers shared by the desktop app's tests.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <gtk/gtk.h>
#include <locale.h>

#include "squint-application.h"

#define APP_SCHEMA "io.github.squint.Squint"

#define TOOL_CALL                                                                                     \
  "<think>The text is too small.</think>\n<tool_call>\n{\"name\": \"resize_image\", \"arguments\": " \
  "{\"action\": \"resize\"}}\n</tool_call>"

/* Runs the main loop until cond holds, failing after a minute. */
#define WAIT_UNTIL(cond)                                                            \
  G_STMT_START {                                                                    \
    gint64 end__ = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;                   \
    guint tick__ = g_timeout_add (20, test_tick, NULL);                             \
    while (!(cond))                                                                 \
      {                                                                             \
        if (g_get_monotonic_time () > end__)                                        \
          g_error ("timed out waiting for %s", #cond);                              \
        g_main_context_iteration (NULL, TRUE);                                      \
      }                                                                             \
    g_source_remove (tick__);                                                       \
  } G_STMT_END

static inline gboolean
test_tick (gpointer data)
{
  return G_SOURCE_CONTINUE;
}

/* Lets pending idles and timeouts run for about ms milliseconds. */
static inline void
test_spin (guint ms)
{
  gint64 end = g_get_monotonic_time () + (gint64)ms * 1000;
  guint tick = g_timeout_add (10, test_tick, NULL);

  while (g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, TRUE);
  g_source_remove (tick);
}

static inline char *
test_data_path (const char *rel)
{
  const char *dir = g_getenv ("SQ_TEST_DATA");

  g_assert_nonnull (dir);
  return g_build_filename (dir, rel, NULL);
}

static inline char *
tiny_text_model (void)
{
  return test_data_path ("tiny/models/qwen25vl-text-f32.gguf");
}

static inline char *
tiny_mmproj (void)
{
  return test_data_path ("tiny/models/mmproj-qwen25vl-f32.gguf");
}

/* ---- images ---- */

static inline void
test_on_image (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  SquintImage **out = user_data;
  g_autoptr(GError) error = NULL;

  *out = squint_image_load_finish (result, &error);
  g_assert_no_error (error);
}

/* Loads a test image, copied into store (NULL: not copied). */
static inline SquintImage *
test_load_image (const char *name,
                 const char *store)
{
  g_autofree char *path = test_data_path (name);
  g_autoptr(GFile) file = g_file_new_for_path (path);
  SquintImage *image = NULL;

  squint_image_load_file_async (file, store, NULL, test_on_image, &image);
  WAIT_UNTIL (image != NULL);
  return image;
}

/* ---- asking ---- */

/* What one squint_engine_ask_async () went through: how it ended, and what
 * the reply notified on the way, where a test connected a handler for it
 * (the test_on_* below, or its own). */
typedef struct
{
  gboolean   done;
  GError    *error;
  GArray    *zoom_states;   /* SquintZoomState */
  GArray    *states;        /* SquintMessageState */
  GPtrArray *statuses;
  guint      n_text;
} AskState;

static inline void
test_on_asked (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  AskState *st = user_data;

  squint_engine_ask_finish (SQUINT_ENGINE (object), result, &st->error);
  st->done = TRUE;
}

static inline void
test_on_zoom_state (SquintMessage *m,
                    GParamSpec    *pspec,
                    AskState      *st)
{
  SquintZoomState z = squint_message_get_zoom_state (m);

  g_array_append_val (st->zoom_states, z);
}

static inline void
test_on_text (SquintMessage *m,
              GParamSpec    *pspec,
              AskState      *st)
{
  st->n_text++;
}

/* ---- widgets ---- */

/* Depth first: the first widget of the type under root. */
static inline GtkWidget *
find_widget (GtkWidget *root,
             GType      type)
{
  if (G_TYPE_CHECK_INSTANCE_TYPE (root, type))
    return root;
  for (GtkWidget *child = gtk_widget_get_first_child (root); child; child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = find_widget (child, type);

      if (found != NULL)
        return found;
    }
  return NULL;
}

/* The first visible toplevel of the type, or NULL: how a test finds the
 * window or dialog an action opened. */
static inline GtkWindow *
find_toplevel (GType type)
{
  g_autoptr(GListModel) toplevels = gtk_window_get_toplevels ();

  g_object_ref (toplevels);
  for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
    {
      g_autoptr(GtkWindow) w = g_list_model_get_item (toplevels, i);

      if (G_TYPE_CHECK_INSTANCE_TYPE (w, type) && gtk_widget_get_visible (GTK_WIDGET (w)))
        return w;
    }
  return NULL;
}

/* ---- the app ---- */

/* A GLogFunc: keeps the last message in the char * that data points to. */
static inline void
test_keep_message (const char     *domain,
                   GLogLevelFlags  level,
                   const char     *message,
                   gpointer        data)
{
  char **last = data;

  g_free (*last);
  *last = g_strdup (message);
}

/* Every key back to its default: no test sees what the one before set. */
static inline void
test_reset_settings (GSettings *settings)
{
  g_autoptr(GSettingsSchema) schema = NULL;
  g_auto(GStrv) keys = NULL;

  g_object_get (settings, "settings-schema", &schema, NULL);
  keys = g_settings_schema_list_keys (schema);
  for (guint i = 0; keys[i]; i++)
    g_settings_reset (settings, keys[i]);
}

/* Fresh settings with the tiny model, on one thread. */
static inline void
test_configure_app (void)
{
  g_autoptr(GSettings) settings = g_settings_new (APP_SCHEMA);
  g_autofree char *text = tiny_text_model ();
  g_autofree char *mmproj = tiny_mmproj ();

  test_reset_settings (settings);
  g_settings_set_string (settings, "model-path", text);
  g_settings_set_string (settings, "mmproj-path", mmproj);
  g_settings_set_int (settings, "threads", 1);
}

/* Destroyed, not closed: no window can refuse, dialogs left open included. */
static inline void
test_destroy_windows (GtkApplication *app)
{
  GList *windows;

  while ((windows = gtk_application_get_windows (app)) != NULL)
    gtk_window_destroy (windows->data);
}

typedef void (*TestAppBody) (SquintApplication *app);

/* After the app's own "activate" made its window: the test, then every
 * window closed and the app quit. */
static inline void
test_on_activate (GApplication *app,
                  gpointer      body)
{
  ((TestAppBody)body) (SQUINT_APPLICATION (app));
  test_destroy_windows (GTK_APPLICATION (app));
  g_application_quit (app);
}

/* Runs a fresh instance of the app, as `squint` would run, with on_activate
 * (given body) after its own "activate"; nothing may keep the app alive. */
static inline void
test_run_app_full (GCallback on_activate,
                   gpointer  body)
{
  SquintApplication *app = squint_application_new ();

  g_application_set_flags (G_APPLICATION (app), G_APPLICATION_NON_UNIQUE);
  g_signal_connect_after (app, "activate", on_activate, body);
  g_assert_cmpint (g_application_run (G_APPLICATION (app), 0, NULL), ==, 0);
  g_assert_finalize_object (app);
}

/* The app with body run in it, then every window destroyed and the app quit. */
static inline void
test_run_app (TestAppBody body)
{
  test_run_app_full (G_CALLBACK (test_on_activate), body);
}

/* The user's folders in a temporary one, made from tmpl and returned
 * (G_TEST_OPTION_ISOLATE_DIRS would hide the system's MIME database and
 * icons as well). */
static inline char *
test_isolate_user_dirs (const char *tmpl)
{
  char *root = g_dir_make_tmp (tmpl, NULL);

  g_assert_nonnull (root);
  for (guint i = 0; i < 4; i++)
    {
      static const char *vars[] = { "XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME" };
      g_autofree char *dir = g_build_filename (root, vars[i], NULL);

      g_setenv (vars[i], dir, TRUE);
    }
  return root;
}

/* GTest, GTK and libadwaita for the app's tests: GTK's test accessibility
 * backend (what gtk_test_accessible_* reads), and untranslated messages,
 * which the tests compare. */
static inline void
test_init_app (int    *argc,
               char ***argv)
{
  g_setenv ("GTK_A11Y", "test", TRUE);
  setlocale (LC_ALL, "C.UTF-8");
  g_test_init (argc, argv, NULL);
  gtk_init ();
  adw_init ();
}
