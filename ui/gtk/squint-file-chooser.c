/* squint-file-chooser.c
 *
 * SPDX-License-Identifier: MIT
 */
#define G_LOG_DOMAIN "squint-file-chooser"

#include "squint-config.h"

#include <glib/gi18n.h>

#include "squint-file-chooser.h"

static void
return_files (GTask      *task,
              GListModel *files,
              GError     *error)
{
#if GTK_CHECK_VERSION (4, 10, 0)
  gboolean dismissed = error != NULL && error->domain == GTK_DIALOG_ERROR;
#else
  gboolean dismissed = FALSE;
#endif

  if (files != NULL)
    g_task_return_pointer (task, files, g_object_unref);
  else if (error != NULL && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) && !dismissed)
    g_task_return_error (task, error);
  else
    {
      g_clear_error (&error);
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED, _("No file was chosen"));
    }
}

#if GTK_CHECK_VERSION (4, 10, 0)

static void
dialog_done (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GtkFileDialog *dialog = GTK_FILE_DIALOG (object);
  SquintChooseMode mode = GPOINTER_TO_INT (g_task_get_task_data (task));
  GError *error = NULL;
  GListModel *files = NULL;

  if (mode == SQUINT_CHOOSE_FILES)
    files = gtk_file_dialog_open_multiple_finish (dialog, result, &error);
  else
    {
      GFile *file = mode == SQUINT_CHOOSE_FOLDER ? gtk_file_dialog_select_folder_finish (dialog, result, &error)
                                                 : gtk_file_dialog_open_finish (dialog, result, &error);

      if (file != NULL)
        {
          GListStore *store = g_list_store_new (G_TYPE_FILE);

          g_list_store_append (store, file);
          g_object_unref (file);
          files = G_LIST_MODEL (store);
        }
    }
  return_files (task, files, error);
}

void
squint_file_chooser_run (GtkWindow           *parent,
                         const char          *title,
                         SquintChooseMode     mode,
                         GListModel          *filters,
                         GCancellable        *cancellable,
                         GAsyncReadyCallback  callback,
                         gpointer             user_data)
{
  g_autoptr(GtkFileDialog) dialog = gtk_file_dialog_new ();
  GTask *task = g_task_new (NULL, cancellable, callback, user_data);

  g_task_set_source_tag (task, squint_file_chooser_run);
  g_task_set_task_data (task, GINT_TO_POINTER (mode), NULL);
  gtk_file_dialog_set_title (dialog, title);
  gtk_file_dialog_set_modal (dialog, TRUE);
  if (filters != NULL)
    gtk_file_dialog_set_filters (dialog, filters);
  if (mode == SQUINT_CHOOSE_FILES)
    gtk_file_dialog_open_multiple (dialog, parent, cancellable, dialog_done, task);
  else if (mode == SQUINT_CHOOSE_FOLDER)
    gtk_file_dialog_select_folder (dialog, parent, cancellable, dialog_done, task);
  else
    gtk_file_dialog_open (dialog, parent, cancellable, dialog_done, task);
}

#else

static void
native_response (GtkNativeDialog *native,
                 int              response,
                 gpointer         user_data)
{
  g_autoptr(GTask) task = user_data;
  GListModel *files = NULL;

  if (response == GTK_RESPONSE_ACCEPT)
    files = gtk_file_chooser_get_files (GTK_FILE_CHOOSER (native));
  gtk_native_dialog_destroy (native);
  g_object_unref (native);
  return_files (task, files, NULL);
}

void
squint_file_chooser_run (GtkWindow           *parent,
                         const char          *title,
                         SquintChooseMode     mode,
                         GListModel          *filters,
                         GCancellable        *cancellable,
                         GAsyncReadyCallback  callback,
                         gpointer             user_data)
{
  GtkFileChooserAction action = mode == SQUINT_CHOOSE_FOLDER ? GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER
                                                             : GTK_FILE_CHOOSER_ACTION_OPEN;
  GtkFileChooserNative *native;
  GTask *task = g_task_new (NULL, cancellable, callback, user_data);

  g_task_set_source_tag (task, squint_file_chooser_run);
  native = gtk_file_chooser_native_new (title, parent, action,
                                        mode == SQUINT_CHOOSE_FOLDER ? _("_Select") : _("_Open"),
                                        _("_Cancel"));
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (native), TRUE);
  gtk_file_chooser_set_select_multiple (GTK_FILE_CHOOSER (native), mode == SQUINT_CHOOSE_FILES);
  for (guint i = 0; filters != NULL && i < g_list_model_get_n_items (filters); i++)
    {
      g_autoptr(GtkFileFilter) filter = g_list_model_get_item (filters, i);

      gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (native), filter);
    }
  g_signal_connect (native, "response", G_CALLBACK (native_response), task);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (native));
}

#endif

GListModel *
squint_file_chooser_finish (GAsyncResult  *result,
                            GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}
