/* squint-message.c
 *
 * SPDX-License-Identifier: MIT
 */
#define G_LOG_DOMAIN "squint-message"

#include "squint-config.h"

#include <string.h>

#include "squint-message.h"
#include "squint-reply.h"

struct _SquintMessage
{
  GObject             parent_instance;

  gint64              id;
  gint64              created;
  SquintRole          role;
  SquintMessageState  state;
  SquintZoomState     zoom_state;
  GString            *text;
  char               *think;
  char               *answer;
  char               *status;
  char               *error;
  char               *policy;
  SquintMessageStats  stats;
  GListStore         *images;
  SquintImage        *subject;
  guint               thinking : 1;
  guint               has_stats : 1;
};

enum {
  PROP_0,
  PROP_ID,
  PROP_ROLE,
  PROP_TEXT,
  PROP_THINK,
  PROP_ANSWER,
  PROP_THINKING,
  PROP_STATE,
  PROP_ZOOM_STATE,
  PROP_STATUS,
  PROP_ERROR,
  PROP_POLICY,
  PROP_CREATED,
  PROP_IMAGES,
  PROP_SUBJECT,
  PROP_HAS_STATS,
  PROP_VISUAL_USED,
  PROP_VISUAL_BASELINE,
  PROP_VISUAL_SAVED,
  PROP_TOKENS_PER_SECOND,
  PROP_FIRST_TOKEN_MS,
  N_PROPS
};

G_DEFINE_ENUM_TYPE (SquintRole, squint_role,
                    G_DEFINE_ENUM_VALUE (SQUINT_ROLE_USER, "user"),
                    G_DEFINE_ENUM_VALUE (SQUINT_ROLE_ASSISTANT, "assistant"))

G_DEFINE_ENUM_TYPE (SquintMessageState, squint_message_state,
                    G_DEFINE_ENUM_VALUE (SQUINT_MESSAGE_DONE, "done"),
                    G_DEFINE_ENUM_VALUE (SQUINT_MESSAGE_WAITING, "waiting"),
                    G_DEFINE_ENUM_VALUE (SQUINT_MESSAGE_GENERATING, "generating"),
                    G_DEFINE_ENUM_VALUE (SQUINT_MESSAGE_STOPPED, "stopped"),
                    G_DEFINE_ENUM_VALUE (SQUINT_MESSAGE_FAILED, "failed"))

G_DEFINE_ENUM_TYPE (SquintZoomState, squint_zoom_state,
                    G_DEFINE_ENUM_VALUE (SQUINT_ZOOM_NONE, "none"),
                    G_DEFINE_ENUM_VALUE (SQUINT_ZOOM_LOW, "low"),
                    G_DEFINE_ENUM_VALUE (SQUINT_ZOOM_ZOOMING, "zooming"),
                    G_DEFINE_ENUM_VALUE (SQUINT_ZOOM_ZOOMED, "zoomed"),
                    G_DEFINE_ENUM_VALUE (SQUINT_ZOOM_FULL, "full"))

G_DEFINE_FINAL_TYPE (SquintMessage, squint_message, G_TYPE_OBJECT)

static GParamSpec *properties[N_PROPS];

static gboolean
set_string (char       **field,
            const char  *value)
{
  if (g_strcmp0 (*field, value) == 0)
    return FALSE;
  g_free (*field);
  *field = g_strdup (value);
  return TRUE;
}

/* Splits the text into think and answer, notifying what changed. */
static void
update_parts (SquintMessage *self)
{
  g_auto(SquintReplyParts) parts = { 0 };

  if (self->role != SQUINT_ROLE_ASSISTANT)
    return;

  squint_reply_split (self->text->str, &parts);
  if (set_string (&self->think, parts.think))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_THINK]);
  if (set_string (&self->answer, parts.answer))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ANSWER]);
  if (self->thinking != parts.thinking)
    {
      self->thinking = parts.thinking;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_THINKING]);
    }
}

static void
squint_message_dispose (GObject *object)
{
  SquintMessage *self = (SquintMessage *)object;

  g_clear_object (&self->images);
  g_clear_object (&self->subject);

  G_OBJECT_CLASS (squint_message_parent_class)->dispose (object);
}

static void
squint_message_finalize (GObject *object)
{
  SquintMessage *self = (SquintMessage *)object;

  g_string_free (self->text, TRUE);
  g_clear_pointer (&self->think, g_free);
  g_clear_pointer (&self->answer, g_free);
  g_clear_pointer (&self->status, g_free);
  g_clear_pointer (&self->error, g_free);
  g_clear_pointer (&self->policy, g_free);

  G_OBJECT_CLASS (squint_message_parent_class)->finalize (object);
}

static void
squint_message_get_property (GObject    *object,
                             guint       prop_id,
                             GValue     *value,
                             GParamSpec *pspec)
{
  SquintMessage *self = SQUINT_MESSAGE (object);

  switch (prop_id)
    {
    case PROP_ID:
      g_value_set_int64 (value, self->id);
      break;
    case PROP_ROLE:
      g_value_set_enum (value, self->role);
      break;
    case PROP_TEXT:
      g_value_set_string (value, self->text->str);
      break;
    case PROP_THINK:
      g_value_set_string (value, self->think);
      break;
    case PROP_ANSWER:
      g_value_set_string (value, self->answer);
      break;
    case PROP_THINKING:
      g_value_set_boolean (value, self->thinking);
      break;
    case PROP_STATE:
      g_value_set_enum (value, self->state);
      break;
    case PROP_ZOOM_STATE:
      g_value_set_enum (value, self->zoom_state);
      break;
    case PROP_STATUS:
      g_value_set_string (value, self->status);
      break;
    case PROP_ERROR:
      g_value_set_string (value, self->error);
      break;
    case PROP_POLICY:
      g_value_set_string (value, self->policy);
      break;
    case PROP_CREATED:
      g_value_set_int64 (value, self->created);
      break;
    case PROP_IMAGES:
      g_value_set_object (value, self->images);
      break;
    case PROP_SUBJECT:
      g_value_set_object (value, self->subject);
      break;
    case PROP_HAS_STATS:
      g_value_set_boolean (value, self->has_stats);
      break;
    case PROP_VISUAL_USED:
      g_value_set_int64 (value, self->stats.visual_used);
      break;
    case PROP_VISUAL_BASELINE:
      g_value_set_int64 (value, self->stats.visual_baseline);
      break;
    case PROP_VISUAL_SAVED:
      g_value_set_int64 (value, self->stats.visual_baseline - self->stats.visual_used);
      break;
    case PROP_TOKENS_PER_SECOND:
      g_value_set_double (value, self->stats.tokens_per_second);
      break;
    case PROP_FIRST_TOKEN_MS:
      g_value_set_double (value, self->stats.first_token_ms);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
squint_message_set_property (GObject      *object,
                             guint         prop_id,
                             const GValue *value,
                             GParamSpec   *pspec)
{
  SquintMessage *self = SQUINT_MESSAGE (object);

  switch (prop_id)
    {
    case PROP_ID:
      squint_message_set_id (self, g_value_get_int64 (value));
      break;
    case PROP_ROLE:
      self->role = g_value_get_enum (value);
      break;
    case PROP_TEXT:
      squint_message_set_text (self, g_value_get_string (value));
      break;
    case PROP_STATE:
      squint_message_set_state (self, g_value_get_enum (value));
      break;
    case PROP_ZOOM_STATE:
      squint_message_set_zoom_state (self, g_value_get_enum (value));
      break;
    case PROP_STATUS:
      squint_message_set_status (self, g_value_get_string (value));
      break;
    case PROP_ERROR:
      squint_message_set_error (self, g_value_get_string (value));
      break;
    case PROP_POLICY:
      squint_message_set_policy (self, g_value_get_string (value));
      break;
    case PROP_CREATED:
      squint_message_set_created (self, g_value_get_int64 (value));
      break;
    case PROP_SUBJECT:
      squint_message_set_subject (self, g_value_get_object (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
squint_message_class_init (SquintMessageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;
  const GParamFlags ro = G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->dispose = squint_message_dispose;
  object_class->finalize = squint_message_finalize;
  object_class->get_property = squint_message_get_property;
  object_class->set_property = squint_message_set_property;

  properties[PROP_ID] = g_param_spec_int64 ("id", NULL, NULL, 0, G_MAXINT64, 0, rw);
  properties[PROP_ROLE] =
    g_param_spec_enum ("role", NULL, NULL, SQUINT_TYPE_ROLE, SQUINT_ROLE_USER,
                       G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_TEXT] = g_param_spec_string ("text", NULL, NULL, NULL, rw);
  properties[PROP_THINK] = g_param_spec_string ("think", NULL, NULL, NULL, ro);
  properties[PROP_ANSWER] = g_param_spec_string ("answer", NULL, NULL, NULL, ro);
  properties[PROP_THINKING] = g_param_spec_boolean ("thinking", NULL, NULL, FALSE, ro);
  properties[PROP_STATE] =
    g_param_spec_enum ("state", NULL, NULL, SQUINT_TYPE_MESSAGE_STATE, SQUINT_MESSAGE_DONE, rw);
  properties[PROP_ZOOM_STATE] =
    g_param_spec_enum ("zoom-state", NULL, NULL, SQUINT_TYPE_ZOOM_STATE, SQUINT_ZOOM_NONE, rw);
  properties[PROP_STATUS] = g_param_spec_string ("status", NULL, NULL, NULL, rw);
  properties[PROP_ERROR] = g_param_spec_string ("error", NULL, NULL, NULL, rw);
  properties[PROP_POLICY] = g_param_spec_string ("policy", NULL, NULL, NULL, rw);
  properties[PROP_CREATED] = g_param_spec_int64 ("created", NULL, NULL, 0, G_MAXINT64, 0, rw);
  properties[PROP_IMAGES] = g_param_spec_object ("images", NULL, NULL, G_TYPE_LIST_MODEL, ro);
  properties[PROP_SUBJECT] = g_param_spec_object ("subject", NULL, NULL, SQUINT_TYPE_IMAGE, rw);
  properties[PROP_HAS_STATS] = g_param_spec_boolean ("has-stats", NULL, NULL, FALSE, ro);
  properties[PROP_VISUAL_USED] = g_param_spec_int64 ("visual-used", NULL, NULL, 0, G_MAXINT64, 0, ro);
  properties[PROP_VISUAL_BASELINE] = g_param_spec_int64 ("visual-baseline", NULL, NULL, 0, G_MAXINT64, 0, ro);
  properties[PROP_VISUAL_SAVED] = g_param_spec_int64 ("visual-saved", NULL, NULL, G_MININT64, G_MAXINT64, 0, ro);
  properties[PROP_TOKENS_PER_SECOND] = g_param_spec_double ("tokens-per-second", NULL, NULL, 0, G_MAXDOUBLE, 0, ro);
  properties[PROP_FIRST_TOKEN_MS] = g_param_spec_double ("first-token-ms", NULL, NULL, 0, G_MAXDOUBLE, 0, ro);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
squint_message_init (SquintMessage *self)
{
  self->text = g_string_new (NULL);
  self->images = g_list_store_new (SQUINT_TYPE_IMAGE);
  self->created = g_get_real_time () / G_USEC_PER_SEC;
}

SquintMessage *
squint_message_new (SquintRole  role,
                    const char *text)
{
  return g_object_new (SQUINT_TYPE_MESSAGE,
                       "role", role,
                       "text", text,
                       NULL);
}

gint64
squint_message_get_id (SquintMessage *self)
{
  g_return_val_if_fail (SQUINT_IS_MESSAGE (self), 0);

  return self->id;
}

void
squint_message_set_id (SquintMessage *self,
                       gint64         id)
{
  g_return_if_fail (SQUINT_IS_MESSAGE (self));

  if (self->id == id)
    return;
  self->id = id;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ID]);
}

SquintRole
squint_message_get_role (SquintMessage *self)
{
  g_return_val_if_fail (SQUINT_IS_MESSAGE (self), SQUINT_ROLE_USER);

  return self->role;
}

const char *
squint_message_get_text (SquintMessage *self)
{
  g_return_val_if_fail (SQUINT_IS_MESSAGE (self), NULL);

  return self->text->str;
}

void
squint_message_set_text (SquintMessage *self,
                         const char    *text)
{
  g_return_if_fail (SQUINT_IS_MESSAGE (self));

  if (text == NULL)
    text = "";
  if (strcmp (self->text->str, text) == 0)
    return;
  g_string_assign (self->text, text);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TEXT]);
  update_parts (self);
}

void
squint_message_append_text (SquintMessage *self,
                            const char    *text)
{
  g_return_if_fail (SQUINT_IS_MESSAGE (self));

  if (text == NULL || text[0] == '\0')
    return;
  g_string_append (self->text, text);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TEXT]);
  update_parts (self);
}

const char *
squint_message_get_think (SquintMessage *self)
{
  g_return_val_if_fail (SQUINT_IS_MESSAGE (self), NULL);

  return self->think;
}

const char *
squint_message_get_answer (SquintMessage *self)
{
  g_return_val_if_fail (SQUINT_IS_MESSAGE (self), NULL);

  return self->role == SQUINT_ROLE_USER ? self->text->str : self->answer;
}

gboolean
squint_message_get_thinking (SquintMessage *self)
{
  g_return_val_if_fail (SQUINT_IS_MESSAGE (self), FALSE);

  return self->thinking;
}

void
squint_message_set_parts (SquintMessage *self,
                          const char    *think,
                          const char    *answer)
{
  g_return_if_fail (SQUINT_IS_MESSAGE (self));

  if (set_string (&self->think, think))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_THINK]);
  if (set_string (&self->answer, answer))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ANSWER]);
  if (self->thinking)
    {
      self->thinking = FALSE;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_THINKING]);
    }
}

SquintMessageState
squint_message_get_state (SquintMessage *self)
{
  g_return_val_if_fail (SQUINT_IS_MESSAGE (self), SQUINT_MESSAGE_DONE);

  return self->state;
}

void
squint_message_set_state (SquintMessage      *self,
                          SquintMessageState  state)
{
  g_return_if_fail (SQUINT_IS_MESSAGE (self));

  if (self->state == state)
    return;
  self->state = state;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
}

SquintZoomState
squint_message_get_zoom_state (SquintMessage *self)
{
  g_return_val_if_fail (SQUINT_IS_MESSAGE (self), SQUINT_ZOOM_NONE);

  return self->zoom_state;
}

void
squint_message_set_zoom_state (SquintMessage   *self,
                               SquintZoomState  state)
{
  g_return_if_fail (SQUINT_IS_MESSAGE (self));

  if (self->zoom_state == state)
    return;
  self->zoom_state = state;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ZOOM_STATE]);
}

const char *
squint_message_get_status (SquintMessage *self)
{
  g_return_val_if_fail (SQUINT_IS_MESSAGE (self), NULL);

  return self->status;
}

void
squint_message_set_status (SquintMessage *self,
                           const char    *status)
{
  g_return_if_fail (SQUINT_IS_MESSAGE (self));

  if (set_string (&self->status, status))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATUS]);
}

const char *
squint_message_get_error (SquintMessage *self)
{
  g_return_val_if_fail (SQUINT_IS_MESSAGE (self), NULL);

  return self->error;
}

void
squint_message_set_error (SquintMessage *self,
                          const char    *error)
{
  g_return_if_fail (SQUINT_IS_MESSAGE (self));

  if (set_string (&self->error, error))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ERROR]);
}

const char *
squint_message_get_policy (SquintMessage *self)
{
  g_return_val_if_fail (SQUINT_IS_MESSAGE (self), NULL);

  return self->policy;
}

void
squint_message_set_policy (SquintMessage *self,
                           const char    *policy)
{
  g_return_if_fail (SQUINT_IS_MESSAGE (self));

  if (set_string (&self->policy, policy))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_POLICY]);
}

gint64
squint_message_get_created (SquintMessage *self)
{
  g_return_val_if_fail (SQUINT_IS_MESSAGE (self), 0);

  return self->created;
}

void
squint_message_set_created (SquintMessage *self,
                            gint64         created)
{
  g_return_if_fail (SQUINT_IS_MESSAGE (self));

  if (self->created == created)
    return;
  self->created = created;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CREATED]);
}

const SquintMessageStats *
squint_message_get_stats (SquintMessage *self)
{
  g_return_val_if_fail (SQUINT_IS_MESSAGE (self), NULL);

  return &self->stats;
}

gboolean
squint_message_has_stats (SquintMessage *self)
{
  g_return_val_if_fail (SQUINT_IS_MESSAGE (self), FALSE);

  return self->has_stats;
}

void
squint_message_set_stats (SquintMessage            *self,
                          const SquintMessageStats *stats)
{
  SquintMessageStats old;

  g_return_if_fail (SQUINT_IS_MESSAGE (self));
  g_return_if_fail (stats != NULL);

  old = self->stats;
  self->stats = *stats;

  g_object_freeze_notify (G_OBJECT (self));
  if (!self->has_stats)
    {
      self->has_stats = TRUE;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_HAS_STATS]);
    }
  if (old.visual_used != stats->visual_used)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_VISUAL_USED]);
  if (old.visual_baseline != stats->visual_baseline)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_VISUAL_BASELINE]);
  if (old.visual_baseline - old.visual_used != stats->visual_baseline - stats->visual_used)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_VISUAL_SAVED]);
  if (old.tokens_per_second != stats->tokens_per_second)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TOKENS_PER_SECOND]);
  if (old.first_token_ms != stats->first_token_ms)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FIRST_TOKEN_MS]);
  g_object_thaw_notify (G_OBJECT (self));
}

GListModel *
squint_message_get_images (SquintMessage *self)
{
  g_return_val_if_fail (SQUINT_IS_MESSAGE (self), NULL);

  return G_LIST_MODEL (self->images);
}

void
squint_message_add_image (SquintMessage *self,
                          SquintImage   *image)
{
  g_return_if_fail (SQUINT_IS_MESSAGE (self));
  g_return_if_fail (SQUINT_IS_IMAGE (image));

  g_list_store_append (self->images, image);
}

SquintImage *
squint_message_get_subject (SquintMessage *self)
{
  g_return_val_if_fail (SQUINT_IS_MESSAGE (self), NULL);

  return self->subject;
}

void
squint_message_set_subject (SquintMessage *self,
                            SquintImage   *image)
{
  g_return_if_fail (SQUINT_IS_MESSAGE (self));
  g_return_if_fail (!image || SQUINT_IS_IMAGE (image));

  if (g_set_object (&self->subject, image))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SUBJECT]);
}
