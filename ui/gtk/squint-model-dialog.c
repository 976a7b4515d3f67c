/* squint-model-dialog.c
 *
 * Local files are validated by loading them.  With libsoup, the Download
 * group fetches the files into the models folder through a
 * SquintModelDownload, whose progress the rows below bind to, and then adds
 * them the same way; without it the group is hidden.
 *
 * SPDX-License-Identifier: MIT
 */
#define G_LOG_DOMAIN "squint-model-dialog"

#include "squint-config.h"

#include <glib/gi18n.h>

#include "squint-file-chooser.h"
#include "squint-model-dialog.h"
#ifdef SQUINT_HAVE_API
#include "squint-model-download.h"
#endif

struct _SquintModelDialog
{
  AdwWindow            parent_instance;

  /* template widgets */
  AdwToastOverlay     *toast_overlay;
  GtkStack            *add_stack;
  GtkButton           *add_button;
  GtkSpinner          *spinner;
  AdwActionRow        *text_row;
  AdwActionRow        *mmproj_row;
  AdwPreferencesGroup *download_group;
  AdwEntryRow         *source_row;
  AdwComboRow         *quant_row;
  AdwEntryRow         *mmproj_url_row;
  GtkWidget           *progress_box;
  GtkLabel            *file_label;
  GtkProgressBar      *progress_bar;
  GtkLabel            *error_label;
  GtkLabel            *hint_label;
  GtkWidget           *stop_button;
  GtkWidget           *download_button;

  /* owned */
  SquintApplication   *app;
  GFile               *text;
  GFile               *mmproj;
  GCancellable        *cancellable;
#ifdef SQUINT_HAVE_API
  SquintModelDownload *download;
  GCancellable        *download_cancellable;   /* the download in flight, else NULL */
#endif
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
  gboolean ok = squint_engine_load_finish (SQUINT_ENGINE (object), result, &error);

  if (self->app == NULL)
    return;   /* closed meanwhile */
  gtk_spinner_stop (self->spinner);
  gtk_stack_set_visible_child_name (self->add_stack, "button");
  if (!ok)
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
  mmproj = self->mmproj ? g_file_get_path (self->mmproj) : NULL;
  squint_application_use_model (self->app, text, mmproj);
  gtk_window_close (GTK_WINDOW (self));
}

/* Loads text and mmproj (NULL: a text-only model); adds them when they load. */
static void
load_files (SquintModelDialog *self)
{
  g_autofree char *text = g_file_get_path (self->text);
  g_autofree char *mmproj = self->mmproj ? g_file_get_path (self->mmproj) : NULL;

  if (text == NULL || (self->mmproj != NULL && mmproj == NULL))
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

void
squint_model_dialog_add (SquintModelDialog *self)
{
  g_return_if_fail (SQUINT_IS_MODEL_DIALOG (self));

  if (self->text == NULL || self->mmproj == NULL)
    return;
  load_files (self);
}

static void
on_add_clicked (SquintModelDialog *self)
{
  squint_model_dialog_add (self);
}

/* ---- downloading ---- */

static gboolean
looks_like_url (const char *source)
{
  return g_ascii_strncasecmp (source, "http://", 7) == 0 || g_ascii_strncasecmp (source, "https://", 8) == 0;
}

/* A repository takes a quantization, a link an optional mmproj link. */
static void
on_source_changed (SquintModelDialog *self)
{
  g_autofree char *source = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->source_row))));
  gboolean is_url = looks_like_url (source);

  gtk_widget_set_sensitive (GTK_WIDGET (self->quant_row), !is_url);
  gtk_widget_set_sensitive (GTK_WIDGET (self->mmproj_url_row), is_url);
}

static void
on_source_activated (SquintModelDialog *self)
{
  gtk_widget_activate_action (GTK_WIDGET (self), "download.start", NULL);
}

#ifdef SQUINT_HAVE_API
static void
set_running (SquintModelDialog *self,
             gboolean           running)
{
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "download.start", !running);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "download.cancel", running);
  gtk_widget_set_visible (self->stop_button, running);
  gtk_widget_set_visible (self->download_button, !running);
  gtk_widget_set_sensitive (GTK_WIDGET (self->source_row), !running);
  gtk_widget_set_sensitive (GTK_WIDGET (self->quant_row), !running);
  gtk_widget_set_sensitive (GTK_WIDGET (self->mmproj_url_row), !running);
  if (!running)
    on_source_changed (self);
}

/* The line above the progress bar. */
static void
update_download_label (SquintModelDialog *self)
{
  SquintModelDownload *d = self->download;
  const char *name = squint_model_download_get_file_name (d);
  g_autofree char *label = NULL;

  switch (squint_model_download_get_state (d))
    {
    case SQUINT_MODEL_DOWNLOAD_RESOLVING:
      /* Translators: %s is a Hugging Face repository, owner/name */
      label = g_strdup_printf (_("Looking up %s…"), name);
      break;
    case SQUINT_MODEL_DOWNLOAD_DOWNLOADING:
      if (squint_model_download_get_n_files (d) > 1)
        /* Translators: a file name, then which file of how many, e.g. "model.gguf (1 of 2)" */
        label = g_strdup_printf (_("Downloading %s (%u of %u)"), name, squint_model_download_get_file_index (d),
                                 squint_model_download_get_n_files (d));
      else
        /* Translators: %s is a file name */
        label = g_strdup_printf (_("Downloading %s"), name);
      break;
    case SQUINT_MODEL_DOWNLOAD_DONE:
      label = g_strdup (_("Downloaded. Loading the model…"));
      break;
    case SQUINT_MODEL_DOWNLOAD_STOPPED:
      /* Translators: %s is a file name */
      label = g_strdup_printf (_("Stopped while downloading %s"), name ? name : "");
      break;
    case SQUINT_MODEL_DOWNLOAD_FAILED:
    case SQUINT_MODEL_DOWNLOAD_IDLE:
    default:
      label = g_strdup (name ? name : "");
      break;
    }
  gtk_label_set_label (self->file_label, label);
  if (squint_model_download_get_state (d) == SQUINT_MODEL_DOWNLOAD_RESOLVING)
    gtk_progress_bar_pulse (self->progress_bar);
}

static void
downloaded (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(SquintModelDialog) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;
  g_autofree char *mmproj = NULL;
  gboolean ok = squint_model_download_run_finish (SQUINT_MODEL_DOWNLOAD (object), result, &text, &mmproj, &error);

  if (self->download == NULL)
    return;   /* closed meanwhile */
  g_clear_object (&self->download_cancellable);
  set_running (self, FALSE);
  if (!ok)
    {
      g_autofree char *message = NULL;

      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
      message = g_strdup_printf ("%s\n%s", squint_model_download_error_title (error), error->message);
      gtk_widget_set_visible (self->progress_box, FALSE);
      gtk_label_set_label (self->error_label, message);
      gtk_widget_set_visible (GTK_WIDGET (self->error_label), TRUE);
      return;
    }
  {
    g_autoptr(GFile) text_file = g_file_new_for_path (text);
    g_autoptr(GFile) mmproj_file = mmproj ? g_file_new_for_path (mmproj) : NULL;

    g_set_object (&self->text, text_file);
    g_set_object (&self->mmproj, mmproj_file);
    update (self);
    load_files (self);
  }
}

static void
download_start (GtkWidget  *widget,
                const char *action_name,
                GVariant   *param)
{
  SquintModelDialog *self = SQUINT_MODEL_DIALOG (widget);
  g_autofree char *source = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->source_row))));
  const char *mmproj = gtk_editable_get_text (GTK_EDITABLE (self->mmproj_url_row));
  GtkStringObject *quant = adw_combo_row_get_selected_item (self->quant_row);

  if (self->download_cancellable != NULL)
    return;
  if (!looks_like_url (source))
    mmproj = NULL;   /* greyed out: not meant */
  self->download_cancellable = g_cancellable_new ();
  gtk_widget_set_visible (GTK_WIDGET (self->error_label), FALSE);
  gtk_widget_set_visible (self->progress_box, TRUE);
  set_running (self, TRUE);
  squint_model_download_run_async (self->download, source, mmproj,
                                   quant != NULL ? gtk_string_object_get_string (quant) : NULL,
                                   self->download_cancellable, downloaded, g_object_ref (self));
}

static void
download_cancel (GtkWidget  *widget,
                 const char *action_name,
                 GVariant   *param)
{
  SquintModelDialog *self = SQUINT_MODEL_DIALOG (widget);

  if (self->download_cancellable != NULL)
    g_cancellable_cancel (self->download_cancellable);
}

static void
setup_download (SquintModelDialog *self)
{
  g_autofree char *dir = NULL;
  g_autofree char *description = NULL;

  self->download = squint_model_download_new (NULL);
  dir = g_filename_display_name (squint_model_download_get_dir (self->download));
  /* Translators: %s is a folder */
  description = g_strdup_printf (_("From Hugging Face or a link, into %s."), dir);
  adw_preferences_group_set_description (self->download_group, description);
  g_object_bind_property (self->download, "fraction", self->progress_bar, "fraction", G_BINDING_SYNC_CREATE);
  g_object_bind_property (self->download, "progress-text", self->progress_bar, "text", G_BINDING_SYNC_CREATE);
  g_signal_connect_object (self->download, "notify::state", G_CALLBACK (update_download_label), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->download, "notify::file-name", G_CALLBACK (update_download_label), self,
                           G_CONNECT_SWAPPED);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "download.cancel", FALSE);
}
#endif

/* ---- the class ---- */

static void
squint_model_dialog_dispose (GObject *object)
{
  SquintModelDialog *self = (SquintModelDialog *)object;

  g_cancellable_cancel (self->cancellable);
#ifdef SQUINT_HAVE_API
  /* closing stops the download; what arrived is kept for the next one */
  if (self->download_cancellable != NULL)
    g_cancellable_cancel (self->download_cancellable);
  g_clear_object (&self->download_cancellable);
  if (self->download != NULL)
    g_signal_handlers_disconnect_by_data (self->download, self);
  g_clear_object (&self->download);
#endif
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
  gtk_widget_class_bind_template_child (widget_class, SquintModelDialog, download_group);
  gtk_widget_class_bind_template_child (widget_class, SquintModelDialog, source_row);
  gtk_widget_class_bind_template_child (widget_class, SquintModelDialog, quant_row);
  gtk_widget_class_bind_template_child (widget_class, SquintModelDialog, mmproj_url_row);
  gtk_widget_class_bind_template_child (widget_class, SquintModelDialog, progress_box);
  gtk_widget_class_bind_template_child (widget_class, SquintModelDialog, file_label);
  gtk_widget_class_bind_template_child (widget_class, SquintModelDialog, progress_bar);
  gtk_widget_class_bind_template_child (widget_class, SquintModelDialog, error_label);
  gtk_widget_class_bind_template_child (widget_class, SquintModelDialog, hint_label);
  gtk_widget_class_bind_template_child (widget_class, SquintModelDialog, stop_button);
  gtk_widget_class_bind_template_child (widget_class, SquintModelDialog, download_button);
  gtk_widget_class_bind_template_callback (widget_class, on_add_clicked);
  gtk_widget_class_bind_template_callback (widget_class, on_choose_text);
  gtk_widget_class_bind_template_callback (widget_class, on_choose_mmproj);
  gtk_widget_class_bind_template_callback (widget_class, on_source_changed);
  gtk_widget_class_bind_template_callback (widget_class, on_source_activated);
#ifdef SQUINT_HAVE_API
  gtk_widget_class_install_action (widget_class, "download.start", NULL, download_start);
  gtk_widget_class_install_action (widget_class, "download.cancel", NULL, download_cancel);
#endif
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
}

static void
squint_model_dialog_init (SquintModelDialog *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->cancellable = g_cancellable_new ();
#ifdef SQUINT_HAVE_API
  setup_download (self);
#else
  /* built without libsoup: no downloads */
  gtk_widget_set_visible (GTK_WIDGET (self->download_group), FALSE);
#endif
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
