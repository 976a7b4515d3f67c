/* squint-conversation-row.c
 *
 * SPDX-License-Identifier: MIT
 */
#define G_LOG_DOMAIN "squint-conversation-row"

#include "squint-config.h"

#include <glib/gi18n.h>

#include "squint-conversation-row.h"

struct _SquintConversationRow
{
  GtkWidget           parent_instance;

  /* template widgets */
  GtkLabel           *title_label;
  GtkLabel           *date_label;
  GtkLabel           *savings_label;

  /* owned */
  SquintConversation *conversation;
};

enum {
  PROP_0,
  PROP_CONVERSATION,
  N_PROPS
};

G_DEFINE_FINAL_TYPE (SquintConversationRow, squint_conversation_row, GTK_TYPE_WIDGET)

static GParamSpec *properties[N_PROPS];

static void
update (SquintConversationRow *self)
{
  g_autofree char *date = squint_conversation_dup_subtitle (self->conversation);
  gint64 saved = squint_conversation_get_visual_saved (self->conversation);
  gint64 baseline = squint_conversation_get_visual_baseline (self->conversation);
  g_autofree char *tokens = squint_format_tokens (saved);
  g_autofree char *savings = NULL;

  gtk_label_set_text (self->title_label, squint_conversation_get_title (self->conversation));
  gtk_label_set_text (self->date_label, date);
  if (baseline > 0)
    {
      /* Translators: visual tokens a conversation saved, in the sidebar */
      savings = g_strdup_printf (_("%s saved"), tokens);
      gtk_widget_set_tooltip_text (GTK_WIDGET (self->savings_label),
                                   _("Visual tokens saved compared with always using full resolution"));
    }
  gtk_label_set_text (self->savings_label, savings ? savings : "");
  gtk_widget_set_visible (GTK_WIDGET (self->savings_label), savings != NULL);
}

static void
squint_conversation_row_dispose (GObject *object)
{
  SquintConversationRow *self = (SquintConversationRow *)object;
  GtkWidget *child;

  gtk_widget_dispose_template (GTK_WIDGET (self), SQUINT_TYPE_CONVERSATION_ROW);
  /* children the template does not name */
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self))) != NULL)
    gtk_widget_unparent (child);
  g_clear_object (&self->conversation);

  G_OBJECT_CLASS (squint_conversation_row_parent_class)->dispose (object);
}

static void
squint_conversation_row_get_property (GObject    *object,
                                      guint       prop_id,
                                      GValue     *value,
                                      GParamSpec *pspec)
{
  SquintConversationRow *self = SQUINT_CONVERSATION_ROW (object);

  switch (prop_id)
    {
    case PROP_CONVERSATION:
      g_value_set_object (value, self->conversation);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
squint_conversation_row_set_property (GObject      *object,
                                      guint         prop_id,
                                      const GValue *value,
                                      GParamSpec   *pspec)
{
  SquintConversationRow *self = SQUINT_CONVERSATION_ROW (object);

  switch (prop_id)
    {
    case PROP_CONVERSATION:
      self->conversation = g_value_dup_object (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
squint_conversation_row_constructed (GObject *object)
{
  SquintConversationRow *self = (SquintConversationRow *)object;

  G_OBJECT_CLASS (squint_conversation_row_parent_class)->constructed (object);

  g_signal_connect_object (self->conversation, "notify::display-title", G_CALLBACK (update), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->conversation, "notify::updated", G_CALLBACK (update), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->conversation, "stats-changed", G_CALLBACK (update), self, G_CONNECT_SWAPPED);
  update (self);
}

static void
squint_conversation_row_class_init (SquintConversationRowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = squint_conversation_row_dispose;
  object_class->constructed = squint_conversation_row_constructed;
  object_class->get_property = squint_conversation_row_get_property;
  object_class->set_property = squint_conversation_row_set_property;

  properties[PROP_CONVERSATION] =
    g_param_spec_object ("conversation", NULL, NULL, SQUINT_TYPE_CONVERSATION,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/squint/Squint/squint-conversation-row.ui");
  gtk_widget_class_bind_template_child (widget_class, SquintConversationRow, title_label);
  gtk_widget_class_bind_template_child (widget_class, SquintConversationRow, date_label);
  gtk_widget_class_bind_template_child (widget_class, SquintConversationRow, savings_label);
  gtk_widget_class_set_css_name (widget_class, "conversationrow");
}

static void
squint_conversation_row_init (SquintConversationRow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

GtkWidget *
squint_conversation_row_new (SquintConversation *conversation)
{
  g_return_val_if_fail (SQUINT_IS_CONVERSATION (conversation), NULL);

  return g_object_new (SQUINT_TYPE_CONVERSATION_ROW,
                       "conversation", conversation,
                       NULL);
}

SquintConversation *
squint_conversation_row_get_conversation (SquintConversationRow *self)
{
  g_return_val_if_fail (SQUINT_IS_CONVERSATION_ROW (self), NULL);

  return self->conversation;
}
