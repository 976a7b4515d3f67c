/* squint-application.c
 *
 * The model comes from the settings: a remote endpoint when remote-url is
 * set, else model-path/mmproj-path, else the built-in demo model.  With
 * serve-http on, a squint-server child serves the local model on
 * 127.0.0.1:serve-port; a changed model or port restarts it once the old
 * one has exited.
 *
 * SPDX-License-Identifier: MIT
 */
#define G_LOG_DOMAIN "squint-application"

#include "squint-config.h"

#include <glib/gi18n.h>
#include <signal.h>
#include <string.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include "squint-application.h"
#include "squint-model-dialog.h"
#include "squint-preferences-window.h"
#include "squint-window.h"
#include "squint.h"

struct _SquintApplication
{
  AdwApplication  parent_instance;

  GSettings      *settings;
  SquintEngine   *engine;
  SquintHistory  *history;
  char           *history_error;
  char           *images_dir;
  GMenu          *model_menu;
  GMenu          *known_section;
  guint           reload_idle;
  char           *remote_applied;   /* url, key and model remote mode was entered with */

  /* serving over HTTP */
  GSubprocess    *server;           /* the running squint-server */
  char          **server_argv;      /* what it was started with */
  GSubprocess    *server_stopping;  /* sent SIGTERM: the next one starts when it has gone */
  guint           server_timeout;   /* a pending update_server() */
  guint           kill_timeout;     /* SIGKILL if server_stopping lingers */
  gboolean        shutting_down;
};

G_DEFINE_FINAL_TYPE (SquintApplication, squint_application, ADW_TYPE_APPLICATION)

static GtkWindow *
active_window (SquintApplication *self)
{
  return gtk_application_get_active_window (GTK_APPLICATION (self));
}

/* A toast in the active window (and the log, which a test or a terminal sees). */
static void
notify_user (SquintApplication *self,
             const char        *message)
{
  GtkWindow *window = active_window (self);

  g_message ("%s", message);
  if (window != NULL && SQUINT_IS_WINDOW (window))
    squint_window_add_toast (SQUINT_WINDOW (window), message);
}

static void
model_loaded (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(SquintApplication) self = user_data;
  g_autoptr(GError) error = NULL;
  GtkWindow *window;

  if (squint_engine_load_finish (SQUINT_ENGINE (object), result, &error))
    return;
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  g_message ("Could not load the model: %s", error->message);
  if ((window = active_window (self)) != NULL && SQUINT_IS_WINDOW (window))
    {
      g_autofree char *message = g_strdup_printf (_("The model could not be loaded: %s"), error->message);

      squint_window_add_toast (SQUINT_WINDOW (window), message);
    }
}

/* The built-in demo model's text GGUF (and in *mmproj its vision GGUF), or
 * NULL when it is not installed. */
char *
squint_application_dup_demo_model (char **mmproj)
{
  char text[4096], vision[4096];
  sq_error err = { 0 };

  if (sq_demo_model_find (text, vision, sizeof text, &err) != SQ_OK)
    {
      g_debug ("%s", err.msg);
      return NULL;
    }
  if (mmproj != NULL)
    *mmproj = g_strdup (vision);
  return g_strdup (text);
}

/* Answers through the configured endpoint, unless already doing so. */
static void
use_remote (SquintApplication *self,
            const char        *url)
{
  g_autofree char *key = g_strstrip (g_settings_get_string (self->settings, "remote-api-key"));
  g_autofree char *model = g_strstrip (g_settings_get_string (self->settings, "remote-model"));
  g_autofree char *applied = g_strjoin ("\n", url, key, model, NULL);
  g_autoptr(GError) error = NULL;

  if (squint_engine_get_remote_url (self->engine) != NULL && g_strcmp0 (self->remote_applied, applied) == 0)
    return;
  g_free (self->remote_applied);
  self->remote_applied = g_steal_pointer (&applied);
  if (!squint_engine_use_remote (self->engine, url, key, model, &error))
    notify_user (self, error->message);
}

/* Loads the configured model unless it is already loaded or loading. */
static gboolean
reload_model (gpointer data)
{
  SquintApplication *self = data;
  g_autofree char *remote = g_strstrip (g_settings_get_string (self->settings, "remote-url"));
  g_autofree char *text = g_settings_get_string (self->settings, "model-path");
  g_autofree char *mmproj = g_settings_get_string (self->settings, "mmproj-path");

  self->reload_idle = 0;
  if (remote[0] != '\0')
    {
      /* an endpoint answers instead of a local model */
      use_remote (self, remote);
      return G_SOURCE_REMOVE;
    }
  if (text[0] == '\0')
    {
      /* nothing chosen: the built-in demo model, when it is there */
      g_free (text);
      g_clear_pointer (&mmproj, g_free);   /* left alone when there is no demo model */
      text = squint_application_dup_demo_model (&mmproj);
      if (text == NULL)
        {
          squint_engine_unload (self->engine);
          return G_SOURCE_REMOVE;
        }
    }
  if (squint_engine_is_loaded (self->engine, text, mmproj))
    return G_SOURCE_REMOVE;

  squint_engine_load_async (self->engine, text, mmproj, g_settings_get_int (self->settings, "threads"),
                            NULL, model_loaded, g_object_ref (self));
  return G_SOURCE_REMOVE;
}

static void
on_model_setting_changed (SquintApplication *self)
{
  /* model-path and mmproj-path often change together */
  if (self->reload_idle == 0)
    self->reload_idle = g_idle_add (reload_model, self);
}

/* The compute device the settings choose, for the loads to come. */
static void
apply_backend (SquintApplication *self)
{
  g_autofree char *backend = g_settings_get_string (self->settings, "backend");
  g_autoptr(GError) error = NULL;

  if (!squint_engine_set_backend (self->engine, backend, &error))
    {
      notify_user (self, error->message);
      squint_engine_set_backend (self->engine, "cpu", NULL);
    }
}

/* Another compute device: the model is loaded again on it. */
static void
on_backend_changed (SquintApplication *self)
{
  apply_backend (self);
  on_model_setting_changed (self);
}

static void
on_backend_fallback (SquintApplication *self,
                     const char        *reason)
{
  /* Translators: %s is the reason, e.g. "no OpenCL device found" */
  g_autofree char *message = g_strdup_printf (_("The GPU could not be used, so the model runs on the CPU: %s"),
                                              reason);

  notify_user (self, message);
}

/* ---- serving the model over HTTP ---- */

static gboolean update_server (gpointer data);

/* squint-server: the build tree's, the installed one, or one on $PATH. */
static char *
find_server (void)
{
  g_autofree char *installed = g_build_filename (SQUINT_BINDIR, "squint-server", NULL);

#ifdef SQUINT_SERVER_PATH
  if (g_file_test (SQUINT_SERVER_PATH, G_FILE_TEST_IS_EXECUTABLE))
    return g_strdup (SQUINT_SERVER_PATH);
#endif
  if (g_file_test (installed, G_FILE_TEST_IS_EXECUTABLE))
    return g_steal_pointer (&installed);
  return g_find_program_in_path ("squint-server");
}

/* The local model's command line: nothing chosen is the demo model, which
 * squint-server finds itself. */
static GStrv
server_argv (SquintApplication *self,
             const char        *program)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  g_autofree char *text = g_settings_get_string (self->settings, "model-path");
  g_autofree char *mmproj = g_settings_get_string (self->settings, "mmproj-path");
  g_autofree char *port = g_strdup_printf ("%d", g_settings_get_int (self->settings, "serve-port"));
  int threads = g_settings_get_int (self->settings, "threads");

  g_strv_builder_add (builder, program);
  if (text[0] != '\0')
    {
      g_strv_builder_add_many (builder, "-m", text, NULL);
      if (mmproj[0] != '\0')
        g_strv_builder_add_many (builder, "--mmproj", mmproj, NULL);
    }
  g_strv_builder_add_many (builder, "--host", "127.0.0.1", "--port", port, NULL);
  if (threads > 0)
    {
      g_autofree char *n = g_strdup_printf ("%d", threads);

      g_strv_builder_add_many (builder, "--threads", n, NULL);
    }
  return g_strv_builder_end (builder);
}

static gboolean
kill_lingering_server (gpointer data)
{
  SquintApplication *self = data;

  self->kill_timeout = 0;
  if (self->server_stopping != NULL)
    g_subprocess_force_exit (self->server_stopping);
  return G_SOURCE_REMOVE;
}

static void
stop_server (SquintApplication *self)
{
  if (self->server == NULL)
    return;
  g_debug ("Stopping squint-server");
  g_clear_pointer (&self->server_argv, g_strfreev);
  self->server_stopping = g_steal_pointer (&self->server);
  g_subprocess_send_signal (self->server_stopping, SIGTERM);
  /* it finishes an answer in progress, but not forever */
  g_clear_handle_id (&self->kill_timeout, g_source_remove);
  self->kill_timeout = g_timeout_add_seconds (5, kill_lingering_server, self);
}

static void
server_exited (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  GWeakRef *ref = user_data;
  g_autoptr(SquintApplication) self = g_weak_ref_get (ref);
  GSubprocess *process = G_SUBPROCESS (source);
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *message = NULL;
  const char *why = NULL;

  g_weak_ref_clear (ref);
  g_free (ref);
  g_subprocess_communicate_utf8_finish (process, result, &out, &err, NULL);
  g_debug ("squint-server exited:\n%s%s", out ? out : "", err ? err : "");
  if (self == NULL)
    return;

  if (process == self->server_stopping)
    {
      /* stopped on purpose: start the next one, if any */
      g_clear_object (&self->server_stopping);
      g_clear_handle_id (&self->kill_timeout, g_source_remove);
      if (!self->shutting_down)
        update_server (self);
      return;
    }
  if (process != self->server)
    return;

  /* it stopped by itself: its last words say why */
  g_clear_object (&self->server);
  g_clear_pointer (&self->server_argv, g_strfreev);
  if (err != NULL)
    {
      char *nl = strrchr (g_strstrip (err), '\n');

      why = nl != NULL ? nl + 1 : err;
      if (why[0] == '\0')
        why = NULL;
    }
  if (why == NULL && g_subprocess_get_if_exited (process))
    /* Translators: the model server stopped; %d is its exit status */
    message = g_strdup_printf (_("The model server stopped unexpectedly (exit status %d)"),
                               g_subprocess_get_exit_status (process));
  else if (why == NULL)
    message = g_strdup (_("The model server stopped unexpectedly"));
  else
    /* Translators: the model server stopped; %s is its error message */
    message = g_strdup_printf (_("The model server stopped: %s"), why);
  notify_user (self, message);
}

#ifdef __linux__
/* In the child: the server goes when the app does, even if it crashes. */
static void
die_with_parent (gpointer data)
{
  prctl (PR_SET_PDEATHSIG, SIGTERM);
}
#endif

/* Starts, restarts or stops squint-server as the settings say. */
static gboolean
update_server (gpointer data)
{
  SquintApplication *self = data;
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *program = NULL;
  g_auto(GStrv) argv = NULL;
  GWeakRef *ref;

  self->server_timeout = 0;
  if (self->shutting_down || !g_settings_get_boolean (self->settings, "serve-http"))
    {
      stop_server (self);
      return G_SOURCE_REMOVE;
    }
  if (self->server_stopping != NULL)
    return G_SOURCE_REMOVE;   /* called again when it has gone: the port is free then */
  if ((program = find_server ()) == NULL)
    {
      stop_server (self);
      notify_user (self, _("The model cannot be served: the squint-server program was not found"));
      return G_SOURCE_REMOVE;
    }
  argv = server_argv (self, program);
  if (self->server != NULL)
    {
      /* another model or port: restart */
      if (!g_strv_equal ((const char *const *)argv, (const char *const *)self->server_argv))
        stop_server (self);
      return G_SOURCE_REMOVE;
    }

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
#ifdef __linux__
  g_subprocess_launcher_set_child_setup (launcher, die_with_parent, NULL, NULL);
#endif
  self->server = g_subprocess_launcher_spawnv (launcher, (const char *const *)argv, &error);
  if (self->server == NULL)
    {
      /* Translators: %s says why */
      g_autofree char *message = g_strdup_printf (_("The model server could not be started: %s"), error->message);

      notify_user (self, message);
      return G_SOURCE_REMOVE;
    }
  g_debug ("Started %s on port %d", program, g_settings_get_int (self->settings, "serve-port"));
  self->server_argv = g_steal_pointer (&argv);
  ref = g_new0 (GWeakRef, 1);
  g_weak_ref_init (ref, self);
  /* collects its (short) output until it exits */
  g_subprocess_communicate_utf8_async (self->server, NULL, NULL, server_exited, ref);
  return G_SOURCE_REMOVE;
}

static void
on_server_setting_changed (SquintApplication *self)
{
  /* a port typed or spun digit by digit restarts the server once */
  g_clear_handle_id (&self->server_timeout, g_source_remove);
  self->server_timeout = g_timeout_add (400, update_server, self);
}

static void
rebuild_model_menu (SquintApplication *self)
{
  g_autoptr(GVariant) models = g_settings_get_value (self->settings, "models");
  g_autofree char *demo = NULL;
  GVariantIter iter;
  const char *text, *mmproj;

  g_menu_remove_all (self->known_section);
  if ((demo = squint_application_dup_demo_model (NULL)) != NULL)
    {
      g_autoptr(GMenuItem) item = g_menu_item_new (_("Built-in Demo Model"), NULL);

      /* the empty path means "no model chosen": the demo model */
      g_menu_item_set_action_and_target_value (item, "app.use-model", g_variant_new_string (""));
      g_menu_append_item (self->known_section, item);
    }
  g_variant_iter_init (&iter, models);
  while (g_variant_iter_next (&iter, "(&s&s)", &text, &mmproj))
    {
      g_autofree char *base = g_path_get_basename (text);
      g_autoptr(GMenuItem) item = g_menu_item_new (base, NULL);

      g_menu_item_set_action_and_target_value (item, "app.use-model", g_variant_new_string (text));
      g_menu_append_item (self->known_section, item);
    }
}

/* ---- actions ---- */

static void
quit_action (GSimpleAction *action,
             GVariant      *param,
             gpointer       user_data)
{
  SquintApplication *self = user_data;
  GList *windows = gtk_application_get_windows (GTK_APPLICATION (self));

  /* close each window: they cancel their work */
  for (GList *l = windows; l != NULL;)
    {
      GtkWindow *window = l->data;

      l = l->next;
      gtk_window_destroy (window);
    }
  g_application_quit (G_APPLICATION (self));
}

static void
preferences_action (GSimpleAction *action,
                    GVariant      *param,
                    gpointer       user_data)
{
  SquintApplication *self = user_data;
  GtkWidget *prefs = squint_preferences_window_new (active_window (self), self->settings);

  gtk_window_present (GTK_WINDOW (prefs));
}

static void
about_action (GSimpleAction *action,
              GVariant      *param,
              gpointer       user_data)
{
  SquintApplication *self = user_data;
  const char *developers[] = { _("The Squint developers"), NULL };
  GtkWidget *about;

  about = g_object_new (ADW_TYPE_ABOUT_WINDOW,
                        "transient-for", active_window (self),
                        "application-name", _("Squint"),
                        "application-icon", APP_ID,
                        "version", PACKAGE_VERSION,
                        "developer-name", _("The Squint developers"),
                        "developers", developers,
                        "license-type", GTK_LICENSE_MIT_X11,
                        "comments", _("Chat about screenshots, photos and documents with a vision model on your "
                                      "computer. It looks at half size first and zooms in only when it needs to."),
                        /* Translators: put your names here, one per line */
                        "translator-credits", _("translator-credits"),
                        NULL);
  gtk_window_present (GTK_WINDOW (about));
}

static void
add_model_action (GSimpleAction *action,
                  GVariant      *param,
                  gpointer       user_data)
{
  SquintApplication *self = user_data;
  SquintModelDialog *dialog = squint_model_dialog_new (active_window (self), self);

  gtk_window_present (GTK_WINDOW (dialog));
}

static void
use_model_action (GSimpleAction *action,
                  GVariant      *param,
                  gpointer       user_data)
{
  SquintApplication *self = user_data;
  g_autoptr(GVariant) models = g_settings_get_value (self->settings, "models");
  const char *want = g_variant_get_string (param, NULL);
  GVariantIter iter;
  const char *text, *mmproj;

  if (want[0] == '\0')
    {
      g_autoptr(GSettings) tx = g_settings_new (APP_ID);

      g_settings_delay (tx);
      g_settings_set_string (tx, "model-path", "");
      g_settings_set_string (tx, "mmproj-path", "");
      g_settings_apply (tx);
      return;
    }
  g_variant_iter_init (&iter, models);
  while (g_variant_iter_next (&iter, "(&s&s)", &text, &mmproj))
    if (g_strcmp0 (text, want) == 0)
      {
        squint_application_use_model (self, text, mmproj);
        break;
      }
}

static void
update_use_model_state (SquintApplication *self)
{
  g_autofree char *text = g_settings_get_string (self->settings, "model-path");
  GAction *action = g_action_map_lookup_action (G_ACTION_MAP (self), "use-model");

  g_simple_action_set_state (G_SIMPLE_ACTION (action), g_variant_new_string (text));
}

static const GActionEntry app_actions[] = {
  { "quit", quit_action },
  { "preferences", preferences_action },
  { "about", about_action },
  { "add-model", add_model_action },
  { "use-model", use_model_action, "s", "''" },
};

/* ---- the class ---- */

static void
squint_application_startup (GApplication *app)
{
  SquintApplication *self = SQUINT_APPLICATION (app);
  g_autofree char *dir = g_build_filename (g_get_user_data_dir (), "squint", NULL);
  g_autoptr(GError) error = NULL;
  const char *quit_accels[] = { "<Control>q", NULL };
  const char *prefs_accels[] = { "<Control>comma", NULL };
  const char *close_accels[] = { "<Control>w", NULL };
  GMenu *add_section;

  G_APPLICATION_CLASS (squint_application_parent_class)->startup (app);

  g_action_map_add_action_entries (G_ACTION_MAP (self), app_actions, G_N_ELEMENTS (app_actions), self);
  gtk_application_set_accels_for_action (GTK_APPLICATION (self), "app.quit", quit_accels);
  gtk_application_set_accels_for_action (GTK_APPLICATION (self), "app.preferences", prefs_accels);
  gtk_application_set_accels_for_action (GTK_APPLICATION (self), "window.close", close_accels);

  self->settings = g_settings_new (APP_ID);
  self->engine = squint_engine_new ();

  if (!(self->history = squint_history_new (dir, &error)))
    {
      g_warning ("History disabled: %s", error->message);
      /* Translators: %s says why */
      self->history_error = g_strdup_printf (_("Conversations will not be kept: %s"), error->message);
      self->images_dir = g_build_filename (g_get_user_cache_dir (), "squint", "images", NULL);
    }
  else
    {
      self->images_dir = g_strdup (squint_history_get_images_dir (self->history));
      squint_history_collect_images (self->history);
    }

  self->model_menu = g_menu_new ();
  self->known_section = g_menu_new ();
  add_section = g_menu_new ();
  g_menu_append (add_section, _("_Add Model…"), "app.add-model");
  g_menu_append (add_section, _("_Preferences"), "app.preferences");
  g_menu_append_section (self->model_menu, _("Models"), G_MENU_MODEL (self->known_section));
  g_menu_append_section (self->model_menu, NULL, G_MENU_MODEL (add_section));
  g_object_unref (add_section);

  g_signal_connect_object (self->settings, "changed::model-path", G_CALLBACK (on_model_setting_changed),
                           self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->settings, "changed::mmproj-path", G_CALLBACK (on_model_setting_changed),
                           self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->settings, "changed::model-path", G_CALLBACK (update_use_model_state),
                           self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->settings, "changed::models", G_CALLBACK (rebuild_model_menu),
                           self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->settings, "changed::backend", G_CALLBACK (on_backend_changed),
                           self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->engine, "backend-fallback", G_CALLBACK (on_backend_fallback),
                           self, G_CONNECT_SWAPPED);
  {
    static const char *const remote_keys[] = { "remote-url", "remote-api-key", "remote-model" };
    static const char *const server_keys[] = { "serve-http", "serve-port", "model-path", "mmproj-path", "threads" };

    for (guint i = 0; i < G_N_ELEMENTS (remote_keys); i++)
      {
        g_autofree char *signal = g_strconcat ("changed::", remote_keys[i], NULL);

        g_signal_connect_object (self->settings, signal, G_CALLBACK (on_model_setting_changed),
                                 self, G_CONNECT_SWAPPED);
      }
    for (guint i = 0; i < G_N_ELEMENTS (server_keys); i++)
      {
        g_autofree char *signal = g_strconcat ("changed::", server_keys[i], NULL);

        g_signal_connect_object (self->settings, signal, G_CALLBACK (on_server_setting_changed),
                                 self, G_CONNECT_SWAPPED);
      }
  }
  rebuild_model_menu (self);
  update_use_model_state (self);
  apply_backend (self);
  reload_model (self);
  update_server (self);
}

static void
squint_application_shutdown (GApplication *app)
{
  SquintApplication *self = SQUINT_APPLICATION (app);

  /* the server goes with the app */
  self->shutting_down = TRUE;
  g_clear_handle_id (&self->server_timeout, g_source_remove);
  stop_server (self);
  g_clear_handle_id (&self->kill_timeout, g_source_remove);

  G_APPLICATION_CLASS (squint_application_parent_class)->shutdown (app);
}

static void
squint_application_activate (GApplication *app)
{
  GtkWindow *window = active_window (SQUINT_APPLICATION (app));

  if (window == NULL)
    window = GTK_WINDOW (squint_window_new (SQUINT_APPLICATION (app)));
  gtk_window_present (window);
}

/* `squint FILE…`: a window with the files attached. */
static void
squint_application_open (GApplication  *app,
                         GFile        **files,
                         int            n_files,
                         const char    *hint)
{
  g_autoptr(GListStore) list = g_list_store_new (G_TYPE_FILE);
  GtkWindow *window;

  squint_application_activate (app);
  window = active_window (SQUINT_APPLICATION (app));
  for (int i = 0; i < n_files; i++)
    g_list_store_append (list, files[i]);
  if (SQUINT_IS_WINDOW (window))
    squint_window_attach_files (SQUINT_WINDOW (window), G_LIST_MODEL (list));
}

static void
squint_application_dispose (GObject *object)
{
  SquintApplication *self = (SquintApplication *)object;

  g_clear_handle_id (&self->reload_idle, g_source_remove);
  g_clear_handle_id (&self->server_timeout, g_source_remove);
  g_clear_handle_id (&self->kill_timeout, g_source_remove);
  if (self->server != NULL)
    g_subprocess_send_signal (self->server, SIGTERM);
  g_clear_object (&self->server);
  g_clear_object (&self->server_stopping);
  g_clear_object (&self->engine);
  g_clear_object (&self->history);
  g_clear_object (&self->settings);
  g_clear_object (&self->model_menu);
  g_clear_object (&self->known_section);

  G_OBJECT_CLASS (squint_application_parent_class)->dispose (object);
}

static void
squint_application_finalize (GObject *object)
{
  SquintApplication *self = (SquintApplication *)object;

  g_clear_pointer (&self->history_error, g_free);
  g_clear_pointer (&self->images_dir, g_free);
  g_clear_pointer (&self->remote_applied, g_free);
  g_clear_pointer (&self->server_argv, g_strfreev);

  G_OBJECT_CLASS (squint_application_parent_class)->finalize (object);
}

static void
squint_application_class_init (SquintApplicationClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);

  object_class->dispose = squint_application_dispose;
  object_class->finalize = squint_application_finalize;
  app_class->startup = squint_application_startup;
  app_class->shutdown = squint_application_shutdown;
  app_class->activate = squint_application_activate;
  app_class->open = squint_application_open;
}

static void
squint_application_init (SquintApplication *self)
{
}

SquintApplication *
squint_application_new (void)
{
  return g_object_new (SQUINT_TYPE_APPLICATION,
                       "application-id", APP_ID,
                       "flags", G_APPLICATION_HANDLES_OPEN,
                       "resource-base-path", "/io/github/squint/Squint",
                       NULL);
}

GSettings *
squint_application_get_settings (SquintApplication *self)
{
  g_return_val_if_fail (SQUINT_IS_APPLICATION (self), NULL);

  return self->settings;
}

SquintEngine *
squint_application_get_engine (SquintApplication *self)
{
  g_return_val_if_fail (SQUINT_IS_APPLICATION (self), NULL);

  return self->engine;
}

SquintHistory *
squint_application_get_history (SquintApplication *self)
{
  g_return_val_if_fail (SQUINT_IS_APPLICATION (self), NULL);

  return self->history;
}

const char *
squint_application_get_history_error (SquintApplication *self)
{
  g_return_val_if_fail (SQUINT_IS_APPLICATION (self), NULL);

  return self->history_error;
}

GMenuModel *
squint_application_get_model_menu (SquintApplication *self)
{
  g_return_val_if_fail (SQUINT_IS_APPLICATION (self), NULL);

  return G_MENU_MODEL (self->model_menu);
}

const char *
squint_application_get_images_dir (SquintApplication *self)
{
  g_return_val_if_fail (SQUINT_IS_APPLICATION (self), NULL);

  return self->images_dir;
}

void
squint_application_use_model (SquintApplication *self,
                              const char        *text_path,
                              const char        *mmproj_path)
{
  g_autoptr(GVariant) models = NULL;
  g_autoptr(GSettings) tx = NULL;
  g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE ("a(ss)"));
  GVariantIter iter;
  const char *text, *mmproj;

  g_return_if_fail (SQUINT_IS_APPLICATION (self));
  g_return_if_fail (text_path != NULL);

  if (mmproj_path == NULL)
    mmproj_path = "";

  /* the newest first, each text model once */
  g_variant_builder_add (&builder, "(ss)", text_path, mmproj_path);
  models = g_settings_get_value (self->settings, "models");
  g_variant_iter_init (&iter, models);
  while (g_variant_iter_next (&iter, "(&s&s)", &text, &mmproj))
    if (g_strcmp0 (text, text_path) != 0)
      g_variant_builder_add (&builder, "(ss)", text, mmproj);

  /* all three keys at once, through a delayed instance of their own */
  tx = g_settings_new (APP_ID);
  g_settings_delay (tx);
  g_settings_set_string (tx, "model-path", text_path);
  g_settings_set_string (tx, "mmproj-path", mmproj_path);
  g_settings_set_value (tx, "models", g_variant_builder_end (&builder));
  g_settings_apply (tx);
}
