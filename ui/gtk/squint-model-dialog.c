/* squint-model-dialog.c
 *
 * SPDX-License-Identifier: MIT
 */
#define G_LOG_DOMAIN "squint-model-dialog"

#include "squint-config.h"

#include <glib/gi18n.h>

#include "squint-file-chooser.h"
#include "squint-model-dialog.h"

struct _SquintModelDialog
{
  AdwWindow          parent_instance;

  /* template widgets */
  AdwToastOverlay   *toast_overlay;
  GtkStack          *add_stack;
  GtkButton         *add_button;
  GtkSpinner        *spinner;
  AdwActionRow      *text_row;
  AdwActionRow      *mmproj_row;

  /* owned */
  SquintApplication *app;
  GFile             *text;
  GFile             *mmproj;
  GCancellable      *cancellable;
};

G_DEFINE_FINAL_TYPE (SquintModelDialog, squint_model_dialog, ADW_TYPE_WINDOW)

static void
update (SquintModelDialog *self)
{
  g_autofree char *text = self->text ? g_file_get_basename (self->text) : NULL;
  g_autofree char *mmproj = self->mmproj ? g_file_get_basename (self->mmproj) : NULL;
  g_autofree char *text_e = text ? g_markup_escape_text (text, -1) : NULL;
  g_autofree char *mmproj_e = mmproj ? g_markup_escape_text (mmproj, -1) : NULL;

  adw_action_row_set_subtitle (self->text_row, text_e ? text_e : _("No file chosen"));
  adw_action_row_set_subtitle (self->mmproj_row, mmproj_e ? mmproj_e : _("No file chosen"));
  gtk_widget_set_sensitive (GTK_WIDGET (self->add_button), self->text != NULL && self->mmproj != NULL);
}

static GListModel *
gguf_filters (void)
{
  GListStore *filters = g_list_store_new (GTK_TYPE_FILE_FILTER);
  g_autoptr(GtkFileFilter) gguf = gtk_file_filter_new ();
  g_autoptr(GtkFileFilter) all = gtk_file_filter_new ();

  gtk_file_filter_set_name (gguf, _("GGUF Models"));
  gtk_file_filter_add_pattern (gguf, "*.gguf");
  gtk_file_filter_set_name (all, _("All Files"));
  gtk_file_filter_add_pattern (all, "*");
  g_list_store_append (filters, gguf);
  g_list_store_append (filters, all);
  return G_LIST_MODEL (filters);
}

static void
chosen (GObject      *object,
        GAsyncResult *result,
        gpointer      user_data,
        GFile       **slot)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GListModel) files = squint_file_chooser_finish (result, &error);
  g_autoptr(SquintModelDialog) self = user_data;

  if (files == NULL || g_list_model_get_n_items (files) == 0)
    return;
  g_clear_object (slot);
  *slot = g_list_model_get_item (files, 0);
  update (self);
}

static void
text_chosen (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  chosen (object, result, user_data, &SQUINT_MODEL_DIALOG (user_data)->text);
}

static void
mmproj_chosen (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  chosen (object, result, user_data, &SQUINT_MODEL_DIALOG (user_data)->mmproj);
}

static void
on_choose_text (SquintModelDialog *self)
{
  g_autoptr(GListModel) filters = gguf_filters ();

  squint_file_chooser_run (GTK_WINDOW (self), _("Choose the Language Model"), SQUINT_CHOOSE_FILE, filters,
                           self->cancellable, text_chosen, g_object_ref (self));
}

static void
on_choose_mmproj (SquintModelDialog *self)
{
  g_autoptr(GListModel) filters = gguf_filters ();

  squint_file_chooser_run (GTK_WINDOW (self), _("Choose the Vision Projector"), SQUINT_CHOOSE_FILE, filters,
                           self->cancellable, mmproj_chosen, g_object_ref (self));
}

static void
loaded (GObject      *object,
        GAsyncResult *result,
        gpointer      user_data)
{
  g_autoptr(SquintModelDialog) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;
  g_autofree char *mmproj = NULL;

  gtk_spinner_stop (self->spinner);
  gtk_stack_set_visible_child_name (self->add_stack, "button");
  if (!squint_engine_load_finish (SQUINT_ENGINE (object), result, &error))
    {
      g_autofree char *message = NULL;

      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
      /* Translators: %s is the engine's reason */
      message = g_strdup_printf (_("The model could not be loaded: %s"), error->message);
      adw_toast_overlay_add_toast (self->toast_overlay, adw_toast_new (message));
      return;
    }

  text = g_file_get_path (self->text);
  mmproj = g_file_get_path (self->mmproj);
  squint_application_use_model (self->app, text, mmproj);
  gtk_window_close (GTK_WINDOW (self));
}

void
squint_model_dialog_add (SquintModelDialog *self)
{
  g_autofree char *text = NULL;
  g_autofree char *mmproj = NULL;
  g_autoptr(GSettings) settings = NULL;

  g_return_if_fail (SQUINT_IS_MODEL_DIALOG (self));

  if (self->text == NULL || self->mmproj == NULL)
    return;
  text = g_file_get_path (self->text);
  mmproj = g_file_get_path (self->mmproj);
  if (text == NULL || mmproj == NULL)
    {
      adw_toast_overlay_add_toast (self->toast_overlay, adw_toast_new (_("Models must be local files")));
      return;
    }
  gtk_stack_set_visible_child_name (self->add_stack, "spinner");
  gtk_spinner_start (self->spinner);
  squint_engine_load_async (squint_application_get_engine (self->app), text, mmproj,
                            g_settings_get_int (squint_application_get_settings (self->app), "threads"),
                            self->cancellable, loaded, g_object_ref (self));
}

static void
on_add_clicked (SquintModelDialog *self)
{
  squint_model_dialog_add (self);
}

static void
squint_model_dialog_dispose (GObject *object)
{
  SquintModelDialog *self = (SquintModelDialog *)object;

  g_cancellable_cancel (self->cancellable);
  gtk_widget_dispose_template (GTK_WIDGET (self), SQUINT_TYPE_MODEL_DIALOG);
  g_clear_object (&self->app);
  g_clear_object (&self->text);
  g_clear_object (&self->mmproj);

  G_OBJECT_CLASS (squint_model_dialog_parent_class)->dispose (object);
}

static void
squint_model_dialog_finalize (GObject *object)
{
  SquintModelDialog *self = (SquintModelDialog *)object;

  g_clear_object (&self->cancellable);

  G_OBJECT_CLASS (squint_model_dialog_parent_class)->finalize (object);
}

static void
squint_model_dialog_class_init (SquintModelDialogClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = squint_model_dialog_dispose;
  object_class->finalize = squint_model_dialog_finalize;

  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/squint/Squint/squint-model-dialog.ui");
  gtk_widget_class_bind_template_child (widget_class, SquintModelDialog, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, SquintModelDialog, add_stack);
  gtk_widget_class_bind_template_child (widget_class, SquintModelDialog, add_button);
  gtk_widget_class_bind_template_child (widget_class, SquintModelDialog, spinner);
  gtk_widget_class_bind_template_child (widget_class, SquintModelDialog, text_row);
  gtk_widget_class_bind_template_child (widget_class, SquintModelDialog, mmproj_row);
  gtk_widget_class_bind_template_callback (widget_class, on_add_clicked);
  gtk_widget_class_bind_template_callback (widget_class, on_choose_text);
  gtk_widget_class_bind_template_callback (widget_class, on_choose_mmproj);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
}

static void
squint_model_dialog_init (SquintModelDialog *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->cancellable = g_cancellable_new ();
}

SquintModelDialog *
squint_model_dialog_new (GtkWindow         *parent,
                         SquintApplication *app)
{
  SquintModelDialog *self;

  g_return_val_if_fail (SQUINT_IS_APPLICATION (app), NULL);

  self = g_object_new (SQUINT_TYPE_MODEL_DIALOG,
                       "transient-for", parent,
                       "application", app,
                       NULL);
  self->app = g_object_ref (app);
  return self;
}

void
squint_model_dialog_set_files (SquintModelDialog *self,
                               GFile             *text,
                               GFile             *mmproj)
{
  g_return_if_fail (SQUINT_IS_MODEL_DIALOG (self));

  g_set_object (&self->text, text);
  g_set_object (&self->mmproj, mmproj);
  update (self);
}
