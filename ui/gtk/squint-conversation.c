/* squint-conversation.c
 *
 * SPDX-License-Identifier: MIT
 */
#define G_LOG_DOMAIN "squint-conversation"

#include "squint-config.h"

#include <glib/gi18n.h>

#include "squint-conversation.h"

struct _SquintConversation
{
  GObject     parent_instance;

  guint64     uid;
  gint64      id;
  gint64      updated;
  char       *title;
  char       *policy;
  GListStore *messages;
  gint64      visual_saved;
  gint64      visual_baseline;
};

enum {
  PROP_0,
  PROP_ID,
  PROP_TITLE,
  PROP_DISPLAY_TITLE,
  PROP_POLICY,
  PROP_UPDATED,
  PROP_MESSAGES,
  PROP_VISUAL_SAVED,
  PROP_VISUAL_BASELINE,
  PROP_SUBTITLE,
  N_PROPS
};

G_DEFINE_FINAL_TYPE (SquintConversation, squint_conversation, G_TYPE_OBJECT)

enum {
  STATS_CHANGED,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];
static guint64 last_uid;

static void
recount (SquintConversation *self)
{
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->messages));
  gint64 saved = 0, baseline = 0;

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(SquintMessage) m = g_list_model_get_item (G_LIST_MODEL (self->messages), i);
      const SquintMessageStats *st;

      if (!squint_message_has_stats (m))
        continue;
      st = squint_message_get_stats (m);
      saved += st->visual_baseline - st->visual_used;
      baseline += st->visual_baseline;
    }

  g_object_freeze_notify (G_OBJECT (self));
  if (saved != self->visual_saved)
    {
      self->visual_saved = saved;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_VISUAL_SAVED]);
    }
  if (baseline != self->visual_baseline)
    {
      self->visual_baseline = baseline;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_VISUAL_BASELINE]);
    }
  g_object_thaw_notify (G_OBJECT (self));
  g_signal_emit (self, signals[STATS_CHANGED], 0);
}

static void
on_message_stats (SquintConversation *self)
{
  recount (self);
}

static void
on_items_changed (SquintConversation *self,
                  guint               position,
                  guint               removed,
                  guint               added,
                  GListModel         *model)
{
  for (guint i = 0; i < added; i++)
    {
      g_autoptr(SquintMessage) m = g_list_model_get_item (model, position + i);

      g_signal_connect_object (m, "notify::has-stats", G_CALLBACK (on_message_stats), self, G_CONNECT_SWAPPED);
      g_signal_connect_object (m, "notify::visual-saved", G_CALLBACK (on_message_stats), self, G_CONNECT_SWAPPED);
      g_signal_connect_object (m, "notify::visual-baseline", G_CALLBACK (on_message_stats), self, G_CONNECT_SWAPPED);
    }
  recount (self);
}

static void
squint_conversation_dispose (GObject *object)
{
  SquintConversation *self = (SquintConversation *)object;

  if (self->messages != NULL)
    g_signal_handlers_disconnect_by_func (self->messages, on_items_changed, self);
  g_clear_object (&self->messages);

  G_OBJECT_CLASS (squint_conversation_parent_class)->dispose (object);
}

static void
squint_conversation_finalize (GObject *object)
{
  SquintConversation *self = (SquintConversation *)object;

  g_clear_pointer (&self->title, g_free);
  g_clear_pointer (&self->policy, g_free);

  G_OBJECT_CLASS (squint_conversation_parent_class)->finalize (object);
}

static void
squint_conversation_get_property (GObject    *object,
                                  guint       prop_id,
                                  GValue     *value,
                                  GParamSpec *pspec)
{
  SquintConversation *self = SQUINT_CONVERSATION (object);

  switch (prop_id)
    {
    case PROP_ID:
      g_value_set_int64 (value, self->id);
      break;
    case PROP_TITLE:
      g_value_set_string (value, self->title);
      break;
    case PROP_DISPLAY_TITLE:
      g_value_set_string (value, squint_conversation_get_title (self));
      break;
    case PROP_POLICY:
      g_value_set_string (value, self->policy);
      break;
    case PROP_UPDATED:
      g_value_set_int64 (value, self->updated);
      break;
    case PROP_MESSAGES:
      g_value_set_object (value, self->messages);
      break;
    case PROP_VISUAL_SAVED:
      g_value_set_int64 (value, self->visual_saved);
      break;
    case PROP_VISUAL_BASELINE:
      g_value_set_int64 (value, self->visual_baseline);
      break;
    case PROP_SUBTITLE:
      g_value_take_string (value, squint_conversation_dup_subtitle (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
squint_conversation_set_property (GObject      *object,
                                  guint         prop_id,
                                  const GValue *value,
                                  GParamSpec   *pspec)
{
  SquintConversation *self = SQUINT_CONVERSATION (object);

  switch (prop_id)
    {
    case PROP_ID:
      squint_conversation_set_id (self, g_value_get_int64 (value));
      break;
    case PROP_TITLE:
      squint_conversation_set_title (self, g_value_get_string (value));
      break;
    case PROP_POLICY:
      squint_conversation_set_policy (self, g_value_get_string (value));
      break;
    case PROP_UPDATED:
      squint_conversation_set_updated (self, g_value_get_int64 (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
squint_conversation_class_init (SquintConversationClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;
  const GParamFlags ro = G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->dispose = squint_conversation_dispose;
  object_class->finalize = squint_conversation_finalize;
  object_class->get_property = squint_conversation_get_property;
  object_class->set_property = squint_conversation_set_property;

  properties[PROP_ID] = g_param_spec_int64 ("id", NULL, NULL, 0, G_MAXINT64, 0, rw);
  properties[PROP_TITLE] = g_param_spec_string ("title", NULL, NULL, NULL, rw);
  properties[PROP_DISPLAY_TITLE] = g_param_spec_string ("display-title", NULL, NULL, NULL, ro);
  properties[PROP_POLICY] = g_param_spec_string ("policy", NULL, NULL, "adaptive", rw);
  properties[PROP_UPDATED] = g_param_spec_int64 ("updated", NULL, NULL, 0, G_MAXINT64, 0, rw);
  properties[PROP_MESSAGES] = g_param_spec_object ("messages", NULL, NULL, G_TYPE_LIST_MODEL, ro);
  properties[PROP_VISUAL_SAVED] =
    g_param_spec_int64 ("visual-saved", NULL, NULL, G_MININT64, G_MAXINT64, 0, ro);
  properties[PROP_VISUAL_BASELINE] =
    g_param_spec_int64 ("visual-baseline", NULL, NULL, 0, G_MAXINT64, 0, ro);
  properties[PROP_SUBTITLE] = g_param_spec_string ("subtitle", NULL, NULL, NULL, ro);

  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * SquintConversation::stats-changed:
   *
   * A message's ledger changed, or messages came or went.
   */
  signals[STATS_CHANGED] =
    g_signal_new ("stats-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
squint_conversation_init (SquintConversation *self)
{
  self->uid = ++last_uid;
  self->policy = g_strdup ("adaptive");
  self->updated = g_get_real_time () / G_USEC_PER_SEC;
  self->messages = g_list_store_new (SQUINT_TYPE_MESSAGE);
  g_signal_connect_swapped (self->messages, "items-changed", G_CALLBACK (on_items_changed), self);
}

SquintConversation *
squint_conversation_new (const char *policy)
{
  return g_object_new (SQUINT_TYPE_CONVERSATION,
                       "policy", policy,
                       NULL);
}

/* A number unique in this process, unlike the id (0 until stored). */
guint64
squint_conversation_get_uid (SquintConversation *self)
{
  g_return_val_if_fail (SQUINT_IS_CONVERSATION (self), 0);

  return self->uid;
}

gint64
squint_conversation_get_id (SquintConversation *self)
{
  g_return_val_if_fail (SQUINT_IS_CONVERSATION (self), 0);

  return self->id;
}

void
squint_conversation_set_id (SquintConversation *self,
                            gint64              id)
{
  g_return_if_fail (SQUINT_IS_CONVERSATION (self));

  if (self->id == id)
    return;
  self->id = id;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ID]);
}

const char *
squint_conversation_get_title (SquintConversation *self)
{
  g_return_val_if_fail (SQUINT_IS_CONVERSATION (self), NULL);

  return self->title != NULL && self->title[0] != '\0' ? self->title : _("New Chat");
}

/* The title chosen or derived, NULL when none. */
const char *
squint_conversation_get_raw_title (SquintConversation *self)
{
  g_return_val_if_fail (SQUINT_IS_CONVERSATION (self), NULL);

  return self->title;
}

void
squint_conversation_set_title (SquintConversation *self,
                               const char         *title)
{
  g_return_if_fail (SQUINT_IS_CONVERSATION (self));

  if (g_strcmp0 (self->title, title) == 0)
    return;
  g_free (self->title);
  self->title = g_strdup (title);
  g_object_freeze_notify (G_OBJECT (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TITLE]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DISPLAY_TITLE]);
  g_object_thaw_notify (G_OBJECT (self));
}

const char *
squint_conversation_get_policy (SquintConversation *self)
{
  g_return_val_if_fail (SQUINT_IS_CONVERSATION (self), NULL);

  return self->policy;
}

void
squint_conversation_set_policy (SquintConversation *self,
                                const char         *policy)
{
  g_return_if_fail (SQUINT_IS_CONVERSATION (self));

  if (policy == NULL || g_strcmp0 (self->policy, policy) == 0)
    return;
  g_free (self->policy);
  self->policy = g_strdup (policy);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_POLICY]);
}

gint64
squint_conversation_get_updated (SquintConversation *self)
{
  g_return_val_if_fail (SQUINT_IS_CONVERSATION (self), 0);

  return self->updated;
}

void
squint_conversation_set_updated (SquintConversation *self,
                                 gint64              updated)
{
  g_return_if_fail (SQUINT_IS_CONVERSATION (self));

  if (self->updated == updated)
    return;
  self->updated = updated;
  g_object_freeze_notify (G_OBJECT (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_UPDATED]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SUBTITLE]);
  g_object_thaw_notify (G_OBJECT (self));
}

GListModel *
squint_conversation_get_messages (SquintConversation *self)
{
  g_return_val_if_fail (SQUINT_IS_CONVERSATION (self), NULL);

  return G_LIST_MODEL (self->messages);
}

void
squint_conversation_append (SquintConversation *self,
                            SquintMessage      *message)
{
  g_return_if_fail (SQUINT_IS_CONVERSATION (self));
  g_return_if_fail (SQUINT_IS_MESSAGE (message));

  g_list_store_append (self->messages, message);
}

void
squint_conversation_remove (SquintConversation *self,
                            SquintMessage      *message)
{
  guint pos;

  g_return_if_fail (SQUINT_IS_CONVERSATION (self));
  g_return_if_fail (SQUINT_IS_MESSAGE (message));

  if (g_list_store_find (self->messages, message, &pos))
    g_list_store_remove (self->messages, pos);
}

guint
squint_conversation_get_n_messages (SquintConversation *self)
{
  g_return_val_if_fail (SQUINT_IS_CONVERSATION (self), 0);

  return g_list_model_get_n_items (G_LIST_MODEL (self->messages));
}

SquintMessage *
squint_conversation_get_last_message (SquintConversation *self,
                                      SquintRole          role)
{
  guint n;

  g_return_val_if_fail (SQUINT_IS_CONVERSATION (self), NULL);

  n = g_list_model_get_n_items (G_LIST_MODEL (self->messages));
  for (guint i = n; i > 0; i--)
    {
      g_autoptr(SquintMessage) m = g_list_model_get_item (G_LIST_MODEL (self->messages), i - 1);

      if (squint_message_get_role (m) == role)
        return m; /* the store keeps it alive */
    }
  return NULL;
}

GPtrArray *
squint_conversation_dup_last_images (SquintConversation *self)
{
  GPtrArray *images = g_ptr_array_new_with_free_func (g_object_unref);
  guint n;

  g_return_val_if_fail (SQUINT_IS_CONVERSATION (self), images);

  n = g_list_model_get_n_items (G_LIST_MODEL (self->messages));
  for (guint i = n; i > 0; i--)
    {
      g_autoptr(SquintMessage) m = g_list_model_get_item (G_LIST_MODEL (self->messages), i - 1);
      GListModel *imgs = squint_message_get_images (m);
      guint ni = g_list_model_get_n_items (imgs);

      if (ni == 0)
        continue;
      for (guint j = 0; j < ni; j++)
        g_ptr_array_add (images, g_list_model_get_item (imgs, j));
      break;
    }
  return images;
}

gint64
squint_conversation_get_visual_saved (SquintConversation *self)
{
  g_return_val_if_fail (SQUINT_IS_CONVERSATION (self), 0);

  return self->visual_saved;
}

gint64
squint_conversation_get_visual_baseline (SquintConversation *self)
{
  g_return_val_if_fail (SQUINT_IS_CONVERSATION (self), 0);

  return self->visual_baseline;
}

char *
squint_conversation_dup_subtitle (SquintConversation *self)
{
  g_autoptr(GDateTime) when = NULL;
  g_autoptr(GDateTime) now = NULL;

  g_return_val_if_fail (SQUINT_IS_CONVERSATION (self), NULL);

  when = g_date_time_new_from_unix_local (self->updated);
  now = g_date_time_new_now_local ();
  if (when == NULL || now == NULL)
    return g_strdup ("");
  if (g_date_time_get_year (when) == g_date_time_get_year (now) &&
      g_date_time_get_day_of_year (when) == g_date_time_get_day_of_year (now))
    /* Translators: a time of today, see the GDateTime format codes */
    return g_date_time_format (when, _("%H:%M"));
  /* Translators: a date, see the GDateTime format codes */
  return g_date_time_format (when, _("%b %-d, %Y"));
}

/* A token count with the Unicode minus for negatives: "−48", "1,234". */
char *
squint_format_tokens (gint64 n)
{
  g_autofree char *digits = g_strdup_printf ("%'" G_GINT64_FORMAT, n < 0 ? -n : n);

  return n < 0 ? g_strconcat ("−", digits, NULL) : g_steal_pointer (&digits);
}

char *
squint_format_savings (gint64 saved,
                       gint64 baseline)
{
  g_autofree char *num = NULL;
  g_autofree char *pct = NULL;
  double p;

  if (baseline <= 0)
    return NULL;
  num = squint_format_tokens (saved);
  p = 100.0 * (double)saved / (double)baseline;
  pct = p < 0 ? g_strdup_printf ("−%.0f%%", -p) : g_strdup_printf ("%.0f%%", p);
  /* Translators: visual tokens saved and the share of the full-resolution baseline,
   * e.g. "144 saved · 75%" */
  return g_strdup_printf (_("%s saved · %s"), num, pct);
}
