/* squint-preferences-window.c
 *
 * Every row is bound to a GSettings key; nothing to apply or save, except
 * the remote model's entries: they take effect when applied (Enter or the
 * apply button) or when the window closes, not at every keystroke.
 *
 * SPDX-License-Identifier: MIT
 */
#define G_LOG_DOMAIN "squint-preferences-window"

#include "squint-config.h"

#include <glib/gi18n.h>

#include "squint-preferences-window.h"
#include "squint-application.h"

static const char *const policies[] = { "adaptive", "low", "full", NULL };
/* the rows of the compute device row */
static const char *const backends[] = { "cpu", "auto", "opencl", NULL };

struct _SquintPreferencesWindow
{
  AdwPreferencesWindow  parent_instance;

  /* template widgets */
  AdwComboRow          *policy_row;
  GtkAdjustment        *temperature_adjustment;
  GtkAdjustment        *top_p_adjustment;
  GtkAdjustment        *max_tokens_adjustment;
  GtkAdjustment        *threads_adjustment;
  AdwComboRow          *backend_row;
  GtkAdjustment        *context_adjustment;
  AdwActionRow         *text_row;
  AdwActionRow         *mmproj_row;
  AdwPreferencesGroup  *remote_group;
  AdwEntryRow          *remote_url_row;
  AdwEntryRow          *remote_model_row;
  AdwEntryRow          *remote_key_row;
  GtkSwitch            *serve_switch;
  GtkAdjustment        *serve_port_adjustment;

  /* owned */
  GSettings            *settings;
};

G_DEFINE_FINAL_TYPE (SquintPreferencesWindow, squint_preferences_window, ADW_TYPE_PREFERENCES_WINDOW)

/* A string key ↔ a combo row's position in names (user_data, NULL-terminated). */
static gboolean
string_to_index (GValue   *value,
                 GVariant *variant,
                 gpointer  user_data)
{
  const char *const *names = user_data;
  const char *name = g_variant_get_string (variant, NULL);

  for (guint i = 0; names[i] != NULL; i++)
    if (g_strcmp0 (name, names[i]) == 0)
      {
        g_value_set_uint (value, i);
        return TRUE;
      }
  return FALSE;
}

static GVariant *
index_to_string (const GValue       *value,
                 const GVariantType *type,
                 gpointer            user_data)
{
  const char *const *names = user_data;
  guint i = g_value_get_uint (value);

  return i < g_strv_length ((char **)names) ? g_variant_new_string (names[i]) : NULL;
}

static void
update_model_rows (SquintPreferencesWindow *self)
{
  g_autofree char *text = g_settings_get_string (self->settings, "model-path");
  g_autofree char *mmproj = g_settings_get_string (self->settings, "mmproj-path");
  g_autofree char *text_e = g_markup_escape_text (text, -1);
  g_autofree char *mmproj_e = g_markup_escape_text (mmproj, -1);

  g_autofree char *demo = text[0] ? NULL : squint_application_dup_demo_model (NULL);
  const char *none = demo != NULL ? _("Built-in demo model") : _("None");

  adw_action_row_set_subtitle (self->text_row, text[0] ? text_e : none);
  adw_action_row_set_subtitle (self->mmproj_row, mmproj[0] ? mmproj_e : none);
}

/* The settings key an entry row edits. */
static const char *
entry_key (SquintPreferencesWindow *self,
           AdwEntryRow             *row)
{
  if (row == self->remote_url_row)
    return "remote-url";
  if (row == self->remote_model_row)
    return "remote-model";
  return "remote-api-key";
}

static void
on_entry_apply (AdwEntryRow             *row,
                SquintPreferencesWindow *self)
{
  g_autofree char *text = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (row))));
  const char *key = entry_key (self, row);
  g_autofree char *old = g_settings_get_string (self->settings, key);

  if (g_strcmp0 (old, text) != 0)
    g_settings_set_string (self->settings, key, text);
}

static void
bind_entry (SquintPreferencesWindow *self,
            AdwEntryRow             *row)
{
  /* settings → row at once; row → settings when applied */
  g_settings_bind (self->settings, entry_key (self, row), row, "text", G_SETTINGS_BIND_GET);
  g_signal_connect_object (row, "apply", G_CALLBACK (on_entry_apply), self, 0);
}

static gboolean
squint_preferences_window_close_request (GtkWindow *window)
{
  SquintPreferencesWindow *self = SQUINT_PREFERENCES_WINDOW (window);

  /* what was typed but not applied is kept */
  if (self->settings != NULL)
    {
      on_entry_apply (self->remote_url_row, self);
      on_entry_apply (self->remote_model_row, self);
      on_entry_apply (self->remote_key_row, self);
    }
  return GTK_WINDOW_CLASS (squint_preferences_window_parent_class)->close_request (window);
}

static void
squint_preferences_window_dispose (GObject *object)
{
  SquintPreferencesWindow *self = (SquintPreferencesWindow *)object;

  gtk_widget_dispose_template (GTK_WIDGET (self), SQUINT_TYPE_PREFERENCES_WINDOW);
  g_clear_object (&self->settings);

  G_OBJECT_CLASS (squint_preferences_window_parent_class)->dispose (object);
}

static void
squint_preferences_window_class_init (SquintPreferencesWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  GtkWindowClass *window_class = GTK_WINDOW_CLASS (klass);

  object_class->dispose = squint_preferences_window_dispose;
  window_class->close_request = squint_preferences_window_close_request;

  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/squint/Squint/squint-preferences-window.ui");
  gtk_widget_class_bind_template_child (widget_class, SquintPreferencesWindow, policy_row);
  gtk_widget_class_bind_template_child (widget_class, SquintPreferencesWindow, temperature_adjustment);
  gtk_widget_class_bind_template_child (widget_class, SquintPreferencesWindow, top_p_adjustment);
  gtk_widget_class_bind_template_child (widget_class, SquintPreferencesWindow, max_tokens_adjustment);
  gtk_widget_class_bind_template_child (widget_class, SquintPreferencesWindow, threads_adjustment);
  gtk_widget_class_bind_template_child (widget_class, SquintPreferencesWindow, backend_row);
  gtk_widget_class_bind_template_child (widget_class, SquintPreferencesWindow, context_adjustment);
  gtk_widget_class_bind_template_child (widget_class, SquintPreferencesWindow, text_row);
  gtk_widget_class_bind_template_child (widget_class, SquintPreferencesWindow, mmproj_row);
  gtk_widget_class_bind_template_child (widget_class, SquintPreferencesWindow, remote_group);
  gtk_widget_class_bind_template_child (widget_class, SquintPreferencesWindow, remote_url_row);
  gtk_widget_class_bind_template_child (widget_class, SquintPreferencesWindow, remote_model_row);
  gtk_widget_class_bind_template_child (widget_class, SquintPreferencesWindow, remote_key_row);
  gtk_widget_class_bind_template_child (widget_class, SquintPreferencesWindow, serve_switch);
  gtk_widget_class_bind_template_child (widget_class, SquintPreferencesWindow, serve_port_adjustment);
}

static void
squint_preferences_window_init (SquintPreferencesWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

GtkWidget *
squint_preferences_window_new (GtkWindow *parent,
                               GSettings *settings)
{
  SquintPreferencesWindow *self;

  g_return_val_if_fail (G_IS_SETTINGS (settings), NULL);

  self = g_object_new (SQUINT_TYPE_PREFERENCES_WINDOW,
                       "transient-for", parent,
                       NULL);
  self->settings = g_object_ref (settings);

  g_settings_bind_with_mapping (settings, "default-policy", self->policy_row, "selected",
                                G_SETTINGS_BIND_DEFAULT, string_to_index, index_to_string, (gpointer)policies, NULL);
  g_settings_bind_with_mapping (settings, "backend", self->backend_row, "selected",
                                G_SETTINGS_BIND_DEFAULT, string_to_index, index_to_string, (gpointer)backends, NULL);
  g_settings_bind (settings, "temperature", self->temperature_adjustment, "value", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (settings, "top-p", self->top_p_adjustment, "value", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (settings, "max-tokens", self->max_tokens_adjustment, "value", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (settings, "threads", self->threads_adjustment, "value", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (settings, "context-size", self->context_adjustment, "value", G_SETTINGS_BIND_DEFAULT);
  g_signal_connect_object (settings, "changed::model-path", G_CALLBACK (update_model_rows), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (settings, "changed::mmproj-path", G_CALLBACK (update_model_rows), self, G_CONNECT_SWAPPED);
  update_model_rows (self);

  bind_entry (self, self->remote_url_row);
  bind_entry (self, self->remote_model_row);
  bind_entry (self, self->remote_key_row);
#ifndef SQUINT_HAVE_API
  /* built without libsoup: no remote models */
  gtk_widget_set_visible (GTK_WIDGET (self->remote_group), FALSE);
#endif
  g_settings_bind (settings, "serve-http", self->serve_switch, "active", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (settings, "serve-port", self->serve_port_adjustment, "value", G_SETTINGS_BIND_DEFAULT);

  return GTK_WIDGET (self);
}
