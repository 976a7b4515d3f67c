/* squint-message-row.h — one message in the chat: a question with its
 * images, or an answer with its model's-eye view, thinking, Markdown and
 * ledger.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <gtk/gtk.h>

#include "squint-message.h"

G_BEGIN_DECLS

#define SQUINT_TYPE_MESSAGE_ROW (squint_message_row_get_type ())

G_DECLARE_FINAL_TYPE (SquintMessageRow, squint_message_row, SQUINT, MESSAGE_ROW, GtkWidget)

GtkWidget     *squint_message_row_new                 (SquintMessage    *message);
SquintMessage *squint_message_row_get_message         (SquintMessageRow *self);
void           squint_message_row_set_show_regenerate (SquintMessageRow *self,
                                                       gboolean          show);
/* For tests: the widgets whose state the zoom drives. */
GtkWidget     *squint_message_row_get_zoom_view       (SquintMessageRow *self);
gboolean       squint_message_row_get_zooming_shown   (SquintMessageRow *self);
gboolean       squint_message_row_get_badge_shown     (SquintMessageRow *self);
const char    *squint_message_row_get_stats_text      (SquintMessageRow *self);
GtkWidget     *squint_message_row_get_answer_view     (SquintMessageRow *self);

G_END_DECLS
