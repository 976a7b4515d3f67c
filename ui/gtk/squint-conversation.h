/* squint-conversation.h — a conversation: its messages, its resolution
 * policy and the visual tokens its answers saved.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <gio/gio.h>

#include "squint-message.h"

G_BEGIN_DECLS

#define SQUINT_TYPE_CONVERSATION (squint_conversation_get_type ())

G_DECLARE_FINAL_TYPE (SquintConversation, squint_conversation, SQUINT, CONVERSATION, GObject)

SquintConversation *squint_conversation_new              (const char          *policy);
guint64             squint_conversation_get_uid          (SquintConversation  *self);
gint64              squint_conversation_get_id           (SquintConversation  *self);
void                squint_conversation_set_id           (SquintConversation  *self,
                                                          gint64               id);
const char         *squint_conversation_get_title        (SquintConversation  *self);
const char         *squint_conversation_get_raw_title    (SquintConversation  *self);
void                squint_conversation_set_title        (SquintConversation  *self,
                                                          const char          *title);
const char         *squint_conversation_get_policy       (SquintConversation  *self);
void                squint_conversation_set_policy       (SquintConversation  *self,
                                                          const char          *policy);
gint64              squint_conversation_get_updated      (SquintConversation  *self);
void                squint_conversation_set_updated      (SquintConversation  *self,
                                                          gint64               updated);
GListModel         *squint_conversation_get_messages     (SquintConversation  *self);
void                squint_conversation_append           (SquintConversation  *self,
                                                          SquintMessage       *message);
void                squint_conversation_remove           (SquintConversation  *self,
                                                          SquintMessage       *message);
guint               squint_conversation_get_n_messages   (SquintConversation  *self);
SquintMessage      *squint_conversation_get_last_message (SquintConversation  *self,
                                                          SquintRole           role);
/* The images of the latest user message that had any (may be empty). */
GPtrArray          *squint_conversation_dup_last_images  (SquintConversation  *self);
gint64              squint_conversation_get_visual_saved    (SquintConversation *self);
gint64              squint_conversation_get_visual_baseline (SquintConversation *self);
char               *squint_conversation_dup_subtitle     (SquintConversation  *self);
/* "−48 saved · −25%", or NULL while nothing was counted. */
char               *squint_format_savings                (gint64               saved,
                                                          gint64               baseline);
char               *squint_format_tokens                 (gint64               n);

G_END_DECLS
