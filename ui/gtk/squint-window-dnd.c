/* squint-window-dnd.c — getting images in: drag and drop of files and
 * image data, pasting, and loading what arrives into attachments.
 *
 * SPDX-License-Identifier: MIT
 */
#define G_LOG_DOMAIN "squint-window"

#include "squint-config.h"

#include <glib/gi18n.h>

#include "squint-pdf-picker.h"
#include "squint-window-private.h"

static void
set_n_loading (SquintWindow *self,
               guint         n)
{
  self->n_loading = n;
  squint_composer_set_n_loading (self->composer, n);
  squint_window_update_actions (self);
}

static void
image_loaded (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(SquintWindow) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(SquintImage) image = squint_image_load_finish (result, &error);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  set_n_loading (self, self->n_loading - 1);
  if (image == NULL)
    {
      squint_window_add_toast (self, error->message);
      return;
    }
  squint_composer_add_attachment (self->composer, image);
  squint_composer_focus (self->composer);
}

static void
on_pdf_image (SquintWindow *self,
              SquintImage  *image)
{
  squint_composer_add_attachment (self->composer, image);
}

static void
on_pdf_failed (SquintWindow *self,
               const char   *message)
{
  squint_window_add_toast (self, message);
}

static void
on_pdf_done (SquintWindow *self)
{
  set_n_loading (self, self->n_loading - 1);
  squint_composer_focus (self->composer);
}

void
squint_window_attach_files (SquintWindow *self,
                            GListModel   *files)
{
  const char *store = NULL;

  g_return_if_fail (SQUINT_IS_WINDOW (self));
  g_return_if_fail (G_IS_LIST_MODEL (files));

  store = squint_application_get_images_dir (self->app);
  for (guint i = 0; i < g_list_model_get_n_items (files); i++)
    {
      g_autoptr(GFile) file = g_list_model_get_item (files, i);

      set_n_loading (self, self->n_loading + 1);
      if (squint_pdf_is_pdf (file))
        {
          SquintPdfPicker *picker = squint_pdf_picker_new (GTK_WINDOW (self), file, store);

          g_signal_connect_object (picker, "image", G_CALLBACK (on_pdf_image), self, G_CONNECT_SWAPPED);
          g_signal_connect_object (picker, "failed", G_CALLBACK (on_pdf_failed), self, G_CONNECT_SWAPPED);
          g_signal_connect_object (picker, "done", G_CALLBACK (on_pdf_done), self, G_CONNECT_SWAPPED);
          squint_pdf_picker_open (picker);
        }
      else
        squint_image_load_file_async (file, store, self->cancellable, image_loaded, g_object_ref (self));
    }
}

void
squint_window_attach_texture (SquintWindow *self,
                              GdkTexture   *texture,
                              const char   *name)
{
  set_n_loading (self, self->n_loading + 1);
  squint_image_load_texture_async (texture, name, squint_application_get_images_dir (self->app),
                                   self->cancellable, image_loaded, g_object_ref (self));
}

static void
attach_file_slist (SquintWindow *self,
                   GSList       *list)
{
  g_autoptr(GListStore) files = g_list_store_new (G_TYPE_FILE);

  for (GSList *l = list; l != NULL; l = l->next)
    g_list_store_append (files, l->data);
  squint_window_attach_files (self, G_LIST_MODEL (files));
}

/* ---- drag and drop ---- */

static gboolean
on_drop (GtkDropTarget *target,
         const GValue  *value,
         double         x,
         double         y,
         SquintWindow  *self)
{
  if (G_VALUE_HOLDS (value, GDK_TYPE_FILE_LIST))
    {
      attach_file_slist (self, g_value_get_boxed (value));
      return TRUE;
    }
  if (G_VALUE_HOLDS (value, G_TYPE_FILE))
    {
      GSList one = { g_value_get_object (value), NULL };

      attach_file_slist (self, &one);
      return TRUE;
    }
  if (G_VALUE_HOLDS (value, GDK_TYPE_TEXTURE))
    {
      squint_window_attach_texture (self, g_value_get_object (value), _("Dropped image"));
      return TRUE;
    }
  return FALSE;
}

static void
on_current_drop (SquintWindow  *self,
                 GParamSpec    *pspec,
                 GtkDropTarget *target)
{
  gtk_widget_set_visible (self->drop_overlay, gtk_drop_target_get_current_drop (target) != NULL);
}

void
squint_window_init_dnd (SquintWindow *self)
{
  GType types[] = { GDK_TYPE_FILE_LIST, G_TYPE_FILE, GDK_TYPE_TEXTURE };

  self->drop_target = g_object_ref (gtk_drop_target_new (G_TYPE_INVALID, GDK_ACTION_COPY));
  gtk_drop_target_set_gtypes (self->drop_target, types, G_N_ELEMENTS (types));
  g_signal_connect_object (self->drop_target, "drop", G_CALLBACK (on_drop), self, 0);
  g_signal_connect_object (self->drop_target, "notify::current-drop", G_CALLBACK (on_current_drop),
                           self, G_CONNECT_SWAPPED);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (self->drop_target));

  g_signal_connect_object (self->composer, "notify::empty", G_CALLBACK (squint_window_update_actions),
                           self, G_CONNECT_SWAPPED);
}

/* ---- pasting ---- */

static void
pasted_files (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(SquintWindow) self = user_data;
  g_autoptr(GError) error = NULL;
  const GValue *value = gdk_clipboard_read_value_finish (GDK_CLIPBOARD (object), result, &error);

  if (value == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        squint_window_add_toast (self, error->message);
      return;
    }
  attach_file_slist (self, g_value_get_boxed (value));
}

static void
pasted_texture (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(SquintWindow) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GdkTexture) texture = gdk_clipboard_read_texture_finish (GDK_CLIPBOARD (object), result, &error);

  if (texture == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        squint_window_add_toast (self, error->message);
      return;
    }
  squint_window_attach_texture (self, texture, _("Pasted image"));
}

void
squint_window_paste (SquintWindow *self)
{
  GdkClipboard *clipboard = gtk_widget_get_clipboard (GTK_WIDGET (self));
  g_autoptr(GdkContentFormats) formats = gdk_content_formats_ref (gdk_clipboard_get_formats (clipboard));

  formats = gdk_content_formats_union_deserialize_gtypes (g_steal_pointer (&formats));
  if (gdk_content_formats_contain_gtype (formats, GDK_TYPE_FILE_LIST))
    gdk_clipboard_read_value_async (clipboard, GDK_TYPE_FILE_LIST, G_PRIORITY_DEFAULT, self->cancellable,
                                    pasted_files, g_object_ref (self));
  else if (gdk_content_formats_contain_gtype (formats, GDK_TYPE_TEXTURE))
    gdk_clipboard_read_texture_async (clipboard, self->cancellable, pasted_texture, g_object_ref (self));
  else
    {
      GtkTextView *view = squint_composer_get_text_view (self->composer);

      gtk_text_buffer_paste_clipboard (gtk_text_view_get_buffer (view), clipboard, NULL, TRUE);
      squint_composer_focus (self->composer);
    }
}
