/* squint-message-row.c
 *
 * SPDX-License-Identifier: MIT
 */
#define G_LOG_DOMAIN "squint-message-row"

#include "squint-config.h"

#include <glib/gi18n.h>

#include "squint-conversation.h"
#include "squint-markdown.h"
#include "squint-markdown-view.h"
#include "squint-message-row.h"
#include "squint-thumbnail.h"
#include "squint-zoom-view.h"

#define ANSWER_REFRESH_MS 40

struct _SquintMessageRow
{
  GtkWidget       parent_instance;

  /* template widgets */
  GtkStack       *stack;
  GtkBox         *images_box;
  GtkLabel       *user_label;
  GtkBox         *zoom_box;
  SquintZoomView *zoom_view;
  GtkRevealer    *zooming_revealer;
  GtkSpinner     *zoom_spinner;
  GtkBox         *zoom_badge;
  GtkLabel       *zoom_caption;
  GtkBox         *status_box;
  GtkSpinner     *status_spinner;
  GtkLabel       *status_label;
  GtkExpander    *think_expander;
  GtkLabel       *think_label;
  SquintMarkdownView *answer_view;
  GtkLabel       *error_label;
  GtkBox         *footer;
  GtkLabel       *stats_label;
  GtkButton      *copy_button;
  GtkButton      *regenerate_button;

  /* owned */
  SquintMessage  *message;
  GBinding       *texture_binding;
  guint           answer_timeout;
  SquintZoomState shown_zoom_state;
};

enum {
  PROP_0,
  PROP_MESSAGE,
  N_PROPS
};

G_DEFINE_FINAL_TYPE (SquintMessageRow, squint_message_row, GTK_TYPE_WIDGET)

static GParamSpec *properties[N_PROPS];

static gboolean
is_running (SquintMessage *m)
{
  SquintMessageState state = squint_message_get_state (m);

  return state == SQUINT_MESSAGE_WAITING || state == SQUINT_MESSAGE_GENERATING;
}

/* ---- user messages ---- */

static void
update_user (SquintMessageRow *self)
{
  GListModel *images = squint_message_get_images (self->message);
  const char *text = squint_message_get_text (self->message);
  guint n = g_list_model_get_n_items (images);

  gtk_label_set_text (self->user_label, text);
  gtk_widget_set_visible (GTK_WIDGET (self->user_label), text != NULL && text[0] != '\0');
  gtk_widget_set_visible (GTK_WIDGET (self->images_box), n > 0);
}

static void
update_images (SquintMessageRow *self)
{
  GListModel *images = squint_message_get_images (self->message);
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->images_box))) != NULL)
    gtk_box_remove (self->images_box, child);
  for (guint i = 0; i < g_list_model_get_n_items (images); i++)
    {
      g_autoptr(SquintImage) image = g_list_model_get_item (images, i);

      gtk_box_append (self->images_box, squint_thumbnail_new (image, FALSE));
    }
  update_user (self);
}

/* ---- answers ---- */

static void
refresh_answer (SquintMessageRow *self)
{
  g_clear_handle_id (&self->answer_timeout, g_source_remove);
  squint_markdown_view_set_text (self->answer_view, squint_message_get_answer (self->message));
}

static gboolean
answer_timeout_cb (gpointer data)
{
  SquintMessageRow *self = data;

  self->answer_timeout = 0;
  refresh_answer (self);
  return G_SOURCE_REMOVE;
}

static void
on_answer_changed (SquintMessageRow *self)
{
  if (self->answer_timeout == 0)
    self->answer_timeout = g_timeout_add (ANSWER_REFRESH_MS, answer_timeout_cb, self);
}

static void
update_think (SquintMessageRow *self)
{
  const char *think = squint_message_get_think (self->message);
  gboolean thinking = squint_message_get_thinking (self->message) && is_running (self->message);

  gtk_widget_set_visible (GTK_WIDGET (self->think_expander), think != NULL && think[0] != '\0');
  gtk_label_set_text (self->think_label, think ? think : "");
  gtk_expander_set_label (self->think_expander, thinking ? _("Thinking…") : _("Thought process"));
}

static char *
format_stats (SquintMessage *m)
{
  const SquintMessageStats *st = squint_message_get_stats (m);
  g_autoptr(GPtrArray) parts = g_ptr_array_new_with_free_func (g_free);

  if (squint_message_get_state (m) == SQUINT_MESSAGE_STOPPED)
    g_ptr_array_add (parts, g_strdup (_("Stopped")));
  if (squint_message_has_stats (m))
    {
      g_autofree char *used = squint_format_tokens (st->visual_used);
      g_autofree char *base = squint_format_tokens (st->visual_baseline);
      g_autofree char *savings = squint_format_savings (st->visual_baseline - st->visual_used, st->visual_baseline);

      /* Translators: visual tokens this answer fed to the model */
      g_ptr_array_add (parts, g_strdup_printf (_("%s image tokens"), used));
      /* Translators: what always-full-resolution would have fed */
      g_ptr_array_add (parts, g_strdup_printf (_("full resolution %s"), base));
      if (savings != NULL)
        g_ptr_array_add (parts, g_steal_pointer (&savings));
    }
  if (st->tokens_per_second > 0)
    /* Translators: generation speed */
    g_ptr_array_add (parts, g_strdup_printf (_("%.1f tokens/s"), st->tokens_per_second));
  if (st->first_token_ms > 0)
    /* Translators: time to the first generated token, in seconds */
    g_ptr_array_add (parts, g_strdup_printf (_("first token %.2f s"), st->first_token_ms / 1000.0));
  g_ptr_array_add (parts, NULL);
  return g_strjoinv ("  ·  ", (char **)parts->pdata);
}

static void
update_stats (SquintMessageRow *self)
{
  g_autofree char *text = format_stats (self->message);

  gtk_label_set_text (self->stats_label, text);
}

static void
update_zoom (SquintMessageRow *self)
{
  SquintImage *subject = squint_message_get_subject (self->message);
  SquintZoomState state = squint_message_get_zoom_state (self->message);
  gboolean running = is_running (self->message);
  g_autofree char *caption = NULL;
  int w = 0, h = 0;

  g_clear_pointer (&self->texture_binding, g_binding_unbind);
  gtk_widget_set_visible (GTK_WIDGET (self->zoom_box), subject != NULL && state != SQUINT_ZOOM_NONE);
  if (subject == NULL || state == SQUINT_ZOOM_NONE)
    return;

  squint_image_ensure_thumbnail (subject);
  self->texture_binding = g_object_bind_property (subject, "thumbnail", self->zoom_view, "texture",
                                                  G_BINDING_SYNC_CREATE);
  w = squint_image_get_width (subject);
  h = squint_image_get_height (subject);

  switch (state)
    {
    case SQUINT_ZOOM_LOW:
      if (!squint_zoom_view_is_animating (self->zoom_view))
        squint_zoom_view_set_sharpness (self->zoom_view, 0);
      /* Translators: the model's first look: half width and height, in pixels */
      caption = g_strdup_printf (running ? _("Looking at half size: %d × %d") : _("Half size was enough: %d × %d"),
                                 MAX (1, w / 2), MAX (1, h / 2));
      break;
    case SQUINT_ZOOM_ZOOMING:
      if (self->shown_zoom_state != SQUINT_ZOOM_ZOOMING)
        squint_zoom_view_zoom_in (self->zoom_view);
      /* Translators: the model asked to see the full image */
      caption = g_strdup_printf (_("Asked for the full image: %d × %d"), w, h);
      break;
    case SQUINT_ZOOM_ZOOMED:
      if (self->shown_zoom_state == SQUINT_ZOOM_LOW)
        squint_zoom_view_zoom_in (self->zoom_view);
      else if (self->shown_zoom_state != SQUINT_ZOOM_ZOOMING)
        squint_zoom_view_set_sharpness (self->zoom_view, 1);
      /* Translators: after zooming, the model saw the image at this size */
      caption = g_strdup_printf (_("Saw the full image: %d × %d"), w, h);
      break;
    case SQUINT_ZOOM_FULL:
    case SQUINT_ZOOM_NONE:
    default:
      squint_zoom_view_set_sharpness (self->zoom_view, 1);
      caption = g_strdup_printf (_("Full resolution: %d × %d"), w, h);
      break;
    }

  gtk_revealer_set_reveal_child (self->zooming_revealer, state == SQUINT_ZOOM_ZOOMING);
  if (state == SQUINT_ZOOM_ZOOMING)
    gtk_spinner_start (self->zoom_spinner);
  else
    gtk_spinner_stop (self->zoom_spinner);
  gtk_widget_set_visible (GTK_WIDGET (self->zoom_badge), state == SQUINT_ZOOM_ZOOMED);
  gtk_label_set_text (self->zoom_caption, caption);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->zoom_view),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, caption,
                                  -1);
  self->shown_zoom_state = state;
}

static void
update_state (SquintMessageRow *self)
{
  SquintMessageState state = squint_message_get_state (self->message);
  gboolean running = is_running (self->message);
  const char *status = squint_message_get_status (self->message);
  const char *error = squint_message_get_error (self->message);

  gtk_widget_set_visible (GTK_WIDGET (self->status_box), running && status != NULL);
  gtk_label_set_text (self->status_label, status ? status : "");
  if (running)
    gtk_spinner_start (self->status_spinner);
  else
    gtk_spinner_stop (self->status_spinner);

  gtk_widget_set_visible (GTK_WIDGET (self->error_label), state == SQUINT_MESSAGE_FAILED && error != NULL);
  gtk_label_set_text (self->error_label, error ? error : "");
  gtk_widget_set_visible (GTK_WIDGET (self->footer), !running);
  gtk_accessible_update_state (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_STATE_BUSY, running, -1);

  if (!running)
    refresh_answer (self);
  update_think (self);
  update_stats (self);
  update_zoom (self);
}

static void
on_copy_clicked (SquintMessageRow *self)
{
  g_autofree char *plain = squint_markdown_to_plain (squint_message_get_answer (self->message));

  gdk_clipboard_set_text (gtk_widget_get_clipboard (GTK_WIDGET (self)), plain);
  gtk_widget_activate_action (GTK_WIDGET (self), "win.show-toast", "s", _("Answer copied"));
}

static void
bind_message (SquintMessageRow *self)
{
  if (squint_message_get_role (self->message) == SQUINT_ROLE_USER)
    {
      gtk_stack_set_visible_child_name (self->stack, "user");
      g_signal_connect_object (squint_message_get_images (self->message), "items-changed",
                               G_CALLBACK (update_images), self, G_CONNECT_SWAPPED);
      g_signal_connect_object (self->message, "notify::text", G_CALLBACK (update_user), self, G_CONNECT_SWAPPED);
      update_images (self);
      return;
    }

  gtk_stack_set_visible_child_name (self->stack, "assistant");
  g_signal_connect_object (self->message, "notify::answer", G_CALLBACK (on_answer_changed), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->message, "notify::think", G_CALLBACK (update_think), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->message, "notify::thinking", G_CALLBACK (update_think), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->message, "notify::state", G_CALLBACK (update_state), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->message, "notify::status", G_CALLBACK (update_state), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->message, "notify::error", G_CALLBACK (update_state), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->message, "notify::zoom-state", G_CALLBACK (update_zoom), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->message, "notify::subject", G_CALLBACK (update_zoom), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->message, "notify::has-stats", G_CALLBACK (update_stats), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->message, "notify::visual-used", G_CALLBACK (update_stats), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->message, "notify::visual-baseline", G_CALLBACK (update_stats), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->message, "notify::tokens-per-second", G_CALLBACK (update_stats), self, G_CONNECT_SWAPPED);
  refresh_answer (self);
  update_state (self);
}

static void
squint_message_row_dispose (GObject *object)
{
  SquintMessageRow *self = (SquintMessageRow *)object;
  GtkWidget *child;

  g_clear_handle_id (&self->answer_timeout, g_source_remove);
  g_clear_pointer (&self->texture_binding, g_binding_unbind);
  gtk_widget_dispose_template (GTK_WIDGET (self), SQUINT_TYPE_MESSAGE_ROW);
  /* children the template does not name */
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self))) != NULL)
    gtk_widget_unparent (child);
  g_clear_object (&self->message);

  G_OBJECT_CLASS (squint_message_row_parent_class)->dispose (object);
}

static void
squint_message_row_get_property (GObject    *object,
                                 guint       prop_id,
                                 GValue     *value,
                                 GParamSpec *pspec)
{
  SquintMessageRow *self = SQUINT_MESSAGE_ROW (object);

  switch (prop_id)
    {
    case PROP_MESSAGE:
      g_value_set_object (value, self->message);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
squint_message_row_set_property (GObject      *object,
                                 guint         prop_id,
                                 const GValue *value,
                                 GParamSpec   *pspec)
{
  SquintMessageRow *self = SQUINT_MESSAGE_ROW (object);

  switch (prop_id)
    {
    case PROP_MESSAGE:
      self->message = g_value_dup_object (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
squint_message_row_constructed (GObject *object)
{
  SquintMessageRow *self = (SquintMessageRow *)object;

  G_OBJECT_CLASS (squint_message_row_parent_class)->constructed (object);

  if (self->message != NULL)
    bind_message (self);
}

static void
squint_message_row_class_init (SquintMessageRowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = squint_message_row_dispose;
  object_class->constructed = squint_message_row_constructed;
  object_class->get_property = squint_message_row_get_property;
  object_class->set_property = squint_message_row_set_property;

  properties[PROP_MESSAGE] =
    g_param_spec_object ("message", NULL, NULL, SQUINT_TYPE_MESSAGE,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  g_type_ensure (SQUINT_TYPE_ZOOM_VIEW);
  g_type_ensure (SQUINT_TYPE_MARKDOWN_VIEW);

  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/squint/Squint/squint-message-row.ui");
  gtk_widget_class_bind_template_child (widget_class, SquintMessageRow, stack);
  gtk_widget_class_bind_template_child (widget_class, SquintMessageRow, images_box);
  gtk_widget_class_bind_template_child (widget_class, SquintMessageRow, user_label);
  gtk_widget_class_bind_template_child (widget_class, SquintMessageRow, zoom_box);
  gtk_widget_class_bind_template_child (widget_class, SquintMessageRow, zoom_view);
  gtk_widget_class_bind_template_child (widget_class, SquintMessageRow, zooming_revealer);
  gtk_widget_class_bind_template_child (widget_class, SquintMessageRow, zoom_spinner);
  gtk_widget_class_bind_template_child (widget_class, SquintMessageRow, zoom_badge);
  gtk_widget_class_bind_template_child (widget_class, SquintMessageRow, zoom_caption);
  gtk_widget_class_bind_template_child (widget_class, SquintMessageRow, status_box);
  gtk_widget_class_bind_template_child (widget_class, SquintMessageRow, status_spinner);
  gtk_widget_class_bind_template_child (widget_class, SquintMessageRow, status_label);
  gtk_widget_class_bind_template_child (widget_class, SquintMessageRow, think_expander);
  gtk_widget_class_bind_template_child (widget_class, SquintMessageRow, think_label);
  gtk_widget_class_bind_template_child (widget_class, SquintMessageRow, answer_view);
  gtk_widget_class_bind_template_child (widget_class, SquintMessageRow, error_label);
  gtk_widget_class_bind_template_child (widget_class, SquintMessageRow, footer);
  gtk_widget_class_bind_template_child (widget_class, SquintMessageRow, stats_label);
  gtk_widget_class_bind_template_child (widget_class, SquintMessageRow, copy_button);
  gtk_widget_class_bind_template_child (widget_class, SquintMessageRow, regenerate_button);
  gtk_widget_class_bind_template_callback (widget_class, on_copy_clicked);

  gtk_widget_class_set_css_name (widget_class, "message");
}

static void
squint_message_row_init (SquintMessageRow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

GtkWidget *
squint_message_row_new (SquintMessage *message)
{
  g_return_val_if_fail (SQUINT_IS_MESSAGE (message), NULL);

  return g_object_new (SQUINT_TYPE_MESSAGE_ROW,
                       "message", message,
                       NULL);
}

SquintMessage *
squint_message_row_get_message (SquintMessageRow *self)
{
  g_return_val_if_fail (SQUINT_IS_MESSAGE_ROW (self), NULL);

  return self->message;
}

void
squint_message_row_set_show_regenerate (SquintMessageRow *self,
                                        gboolean          show)
{
  g_return_if_fail (SQUINT_IS_MESSAGE_ROW (self));

  gtk_widget_set_visible (GTK_WIDGET (self->regenerate_button), show);
}

GtkWidget *
squint_message_row_get_zoom_view (SquintMessageRow *self)
{
  g_return_val_if_fail (SQUINT_IS_MESSAGE_ROW (self), NULL);

  return GTK_WIDGET (self->zoom_view);
}

gboolean
squint_message_row_get_zooming_shown (SquintMessageRow *self)
{
  g_return_val_if_fail (SQUINT_IS_MESSAGE_ROW (self), FALSE);

  return gtk_revealer_get_reveal_child (self->zooming_revealer);
}

gboolean
squint_message_row_get_badge_shown (SquintMessageRow *self)
{
  g_return_val_if_fail (SQUINT_IS_MESSAGE_ROW (self), FALSE);

  return gtk_widget_get_visible (GTK_WIDGET (self->zoom_badge));
}

const char *
squint_message_row_get_stats_text (SquintMessageRow *self)
{
  g_return_val_if_fail (SQUINT_IS_MESSAGE_ROW (self), NULL);

  return gtk_label_get_text (self->stats_label);
}

GtkWidget *
squint_message_row_get_answer_view (SquintMessageRow *self)
{
  g_return_val_if_fail (SQUINT_IS_MESSAGE_ROW (self), NULL);

  return GTK_WIDGET (self->answer_view);
}
