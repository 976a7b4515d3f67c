/* squint-conversation-row.h — a conversation in the sidebar.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <gtk/gtk.h>

#include "squint-conversation.h"

G_BEGIN_DECLS

#define SQUINT_TYPE_CONVERSATION_ROW (squint_conversation_row_get_type ())

G_DECLARE_FINAL_TYPE (SquintConversationRow, squint_conversation_row, SQUINT, CONVERSATION_ROW, GtkWidget)

GtkWidget          *squint_conversation_row_new              (SquintConversation    *conversation);
SquintConversation *squint_conversation_row_get_conversation (SquintConversationRow *self);

G_END_DECLS
