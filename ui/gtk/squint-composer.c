/* squint-composer.c
 *
 * Ctrl+V in the text view pastes text as usual; when the clipboard holds an
 * image or files, the paste is turned into the window's win.paste action,
 * which attaches them.
 *
 * SPDX-License-Identifier: MIT
 */
#define G_LOG_DOMAIN "squint-composer"

#include "squint-config.h"

#include <glib/gi18n.h>

#include "squint-composer.h"
#include "squint-thumbnail.h"

struct _SquintComposer
{
  GtkWidget    parent_instance;

  /* template widgets */
  GtkRevealer *attachments_revealer;
  GtkBox      *attachments_box;
  GtkSpinner  *loading_spinner;
  GtkTextView *text_view;
  GtkLabel    *placeholder;
  GtkStack    *send_stack;

  /* owned */
  GListStore  *attachments;
  guint        n_loading;
  gboolean     busy;
};

enum {
  PROP_0,
  PROP_BUSY,
  PROP_EMPTY,
  N_PROPS
};

G_DEFINE_FINAL_TYPE (SquintComposer, squint_composer, GTK_TYPE_WIDGET)

static GParamSpec *properties[N_PROPS];

static void
on_thumbnail_remove (SquintComposer  *self,
                     SquintThumbnail *thumbnail)
{
  guint pos;

  if (g_list_store_find (self->attachments, squint_thumbnail_get_image (thumbnail), &pos))
    g_list_store_remove (self->attachments, pos);
  gtk_widget_grab_focus (GTK_WIDGET (self->text_view));
}

static void
update_revealer (SquintComposer *self)
{
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->attachments));

  gtk_widget_set_visible (GTK_WIDGET (self->loading_spinner), self->n_loading > 0);
  gtk_spinner_set_spinning (self->loading_spinner, self->n_loading > 0);
  gtk_revealer_set_reveal_child (self->attachments_revealer, n > 0 || self->n_loading > 0);
}

static void
on_attachments_changed (SquintComposer *self,
                        guint           position,
                        guint           removed,
                        guint           added,
                        GListModel     *model)
{
  GtkWidget *child;

  /* rebuild: a handful of thumbnails at most */
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->attachments_box))) != GTK_WIDGET (self->loading_spinner))
    gtk_box_remove (self->attachments_box, child);
  for (guint i = 0; i < g_list_model_get_n_items (model); i++)
    {
      g_autoptr(SquintImage) image = g_list_model_get_item (model, i);
      GtkWidget *thumb = squint_thumbnail_new (image, TRUE);

      g_signal_connect_object (thumb, "remove", G_CALLBACK (on_thumbnail_remove), self, G_CONNECT_SWAPPED);
      gtk_box_insert_child_after (self->attachments_box, thumb,
                                  gtk_widget_get_prev_sibling (GTK_WIDGET (self->loading_spinner)));
    }
  update_revealer (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_EMPTY]);
}

static void
on_buffer_changed (SquintComposer *self)
{
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (self->text_view);

  gtk_widget_set_visible (GTK_WIDGET (self->placeholder), gtk_text_buffer_get_char_count (buffer) == 0);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_EMPTY]);
}

static gboolean
clipboard_has_image (GdkClipboard *clipboard)
{
  g_autoptr(GdkContentFormats) formats = gdk_content_formats_ref (gdk_clipboard_get_formats (clipboard));

  formats = gdk_content_formats_union_deserialize_gtypes (g_steal_pointer (&formats));
  return gdk_content_formats_contain_gtype (formats, GDK_TYPE_TEXTURE) ||
         gdk_content_formats_contain_gtype (formats, GDK_TYPE_FILE_LIST);
}

static void
on_paste_clipboard (SquintComposer *self,
                    GtkTextView    *text_view)
{
  if (!clipboard_has_image (gtk_widget_get_clipboard (GTK_WIDGET (text_view))))
    return;
  g_signal_stop_emission_by_name (text_view, "paste-clipboard");
  gtk_widget_activate_action (GTK_WIDGET (self), "win.paste", NULL);
}

static void
squint_composer_dispose (GObject *object)
{
  SquintComposer *self = (SquintComposer *)object;
  GtkWidget *child;

  gtk_widget_dispose_template (GTK_WIDGET (self), SQUINT_TYPE_COMPOSER);
  /* children the template does not name */
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self))) != NULL)
    gtk_widget_unparent (child);
  g_clear_object (&self->attachments);

  G_OBJECT_CLASS (squint_composer_parent_class)->dispose (object);
}

static void
squint_composer_get_property (GObject    *object,
                              guint       prop_id,
                              GValue     *value,
                              GParamSpec *pspec)
{
  SquintComposer *self = SQUINT_COMPOSER (object);

  switch (prop_id)
    {
    case PROP_BUSY:
      g_value_set_boolean (value, self->busy);
      break;
    case PROP_EMPTY:
      g_value_set_boolean (value, squint_composer_is_empty (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
squint_composer_set_property (GObject      *object,
                              guint         prop_id,
                              const GValue *value,
                              GParamSpec   *pspec)
{
  SquintComposer *self = SQUINT_COMPOSER (object);

  switch (prop_id)
    {
    case PROP_BUSY:
      squint_composer_set_busy (self, g_value_get_boolean (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
squint_composer_class_init (SquintComposerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = squint_composer_dispose;
  object_class->get_property = squint_composer_get_property;
  object_class->set_property = squint_composer_set_property;

  properties[PROP_BUSY] =
    g_param_spec_boolean ("busy", NULL, NULL, FALSE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_EMPTY] =
    g_param_spec_boolean ("empty", NULL, NULL, TRUE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/squint/Squint/squint-composer.ui");
  gtk_widget_class_bind_template_child (widget_class, SquintComposer, attachments_revealer);
  gtk_widget_class_bind_template_child (widget_class, SquintComposer, attachments_box);
  gtk_widget_class_bind_template_child (widget_class, SquintComposer, loading_spinner);
  gtk_widget_class_bind_template_child (widget_class, SquintComposer, text_view);
  gtk_widget_class_bind_template_child (widget_class, SquintComposer, placeholder);
  gtk_widget_class_bind_template_child (widget_class, SquintComposer, send_stack);
  gtk_widget_class_set_css_name (widget_class, "composer");
}

static void
squint_composer_init (SquintComposer *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  self->attachments = g_list_store_new (SQUINT_TYPE_IMAGE);
  g_signal_connect_object (self->attachments, "items-changed", G_CALLBACK (on_attachments_changed),
                           self, G_CONNECT_SWAPPED);
  g_signal_connect_object (gtk_text_view_get_buffer (self->text_view), "changed",
                           G_CALLBACK (on_buffer_changed), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->text_view, "paste-clipboard",
                           G_CALLBACK (on_paste_clipboard), self, G_CONNECT_SWAPPED);
}

GtkWidget *
squint_composer_new (void)
{
  return g_object_new (SQUINT_TYPE_COMPOSER, NULL);
}

char *
squint_composer_dup_text (SquintComposer *self)
{
  GtkTextBuffer *buffer;
  GtkTextIter start, end;

  g_return_val_if_fail (SQUINT_IS_COMPOSER (self), NULL);

  buffer = gtk_text_view_get_buffer (self->text_view);
  gtk_text_buffer_get_bounds (buffer, &start, &end);
  return g_strstrip (gtk_text_buffer_get_text (buffer, &start, &end, FALSE));
}

void
squint_composer_set_text (SquintComposer *self,
                          const char     *text)
{
  g_return_if_fail (SQUINT_IS_COMPOSER (self));

  gtk_text_buffer_set_text (gtk_text_view_get_buffer (self->text_view), text ? text : "", -1);
}

GListModel *
squint_composer_get_attachments (SquintComposer *self)
{
  g_return_val_if_fail (SQUINT_IS_COMPOSER (self), NULL);

  return G_LIST_MODEL (self->attachments);
}

void
squint_composer_add_attachment (SquintComposer *self,
                                SquintImage    *image)
{
  g_return_if_fail (SQUINT_IS_COMPOSER (self));
  g_return_if_fail (SQUINT_IS_IMAGE (image));

  g_list_store_append (self->attachments, image);
}

void
squint_composer_clear (SquintComposer *self)
{
  g_return_if_fail (SQUINT_IS_COMPOSER (self));

  squint_composer_set_text (self, NULL);
  g_list_store_remove_all (self->attachments);
}

gboolean
squint_composer_is_empty (SquintComposer *self)
{
  g_return_val_if_fail (SQUINT_IS_COMPOSER (self), TRUE);

  return gtk_text_buffer_get_char_count (gtk_text_view_get_buffer (self->text_view)) == 0 &&
         g_list_model_get_n_items (G_LIST_MODEL (self->attachments)) == 0;
}

void
squint_composer_set_n_loading (SquintComposer *self,
                               guint           n_loading)
{
  g_return_if_fail (SQUINT_IS_COMPOSER (self));

  self->n_loading = n_loading;
  update_revealer (self);
}

gboolean
squint_composer_get_busy (SquintComposer *self)
{
  g_return_val_if_fail (SQUINT_IS_COMPOSER (self), FALSE);

  return self->busy;
}

void
squint_composer_set_busy (SquintComposer *self,
                          gboolean        busy)
{
  g_return_if_fail (SQUINT_IS_COMPOSER (self));

  busy = !!busy;
  if (self->busy == busy)
    return;
  self->busy = busy;
  gtk_stack_set_visible_child_name (self->send_stack, busy ? "stop" : "send");
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BUSY]);
}

GtkTextView *
squint_composer_get_text_view (SquintComposer *self)
{
  g_return_val_if_fail (SQUINT_IS_COMPOSER (self), NULL);

  return self->text_view;
}

void
squint_composer_focus (SquintComposer *self)
{
  g_return_if_fail (SQUINT_IS_COMPOSER (self));

  gtk_widget_grab_focus (GTK_WIDGET (self->text_view));
}
