/* squint-application.c
 *
 * SPDX-License-Identifier: MIT
 */
#define G_LOG_DOMAIN "squint-application"

#include "squint-config.h"

#include <glib/gi18n.h>

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
};

G_DEFINE_FINAL_TYPE (SquintApplication, squint_application, ADW_TYPE_APPLICATION)

static GtkWindow *
active_window (SquintApplication *self)
{
  return gtk_application_get_active_window (GTK_APPLICATION (self));
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

/* Loads the configured model unless it is already loaded or loading. */
static gboolean
reload_model (gpointer data)
{
  SquintApplication *self = data;
  g_autofree char *text = g_settings_get_string (self->settings, "model-path");
  g_autofree char *mmproj = g_settings_get_string (self->settings, "mmproj-path");

  self->reload_idle = 0;
  if (text[0] == '\0')
    {
      /* nothing chosen: the built-in demo model, when it is there */
      g_free (text);
      g_free (mmproj);
      text = squint_application_dup_demo_model (&mmproj);
      if (text == NULL)
        {
          squint_engine_unload (self->engine);
          return G_SOURCE_REMOVE;
        }
    }
  if (squint_engine_get_state (self->engine) == SQUINT_ENGINE_READY &&
      g_strcmp0 (squint_engine_get_text_path (self->engine), text) == 0 &&
      g_strcmp0 (squint_engine_get_mmproj_path (self->engine) ?: "", mmproj) == 0)
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
  rebuild_model_menu (self);
  update_use_model_state (self);
  reload_model (self);
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
