/* squint-history.h — conversations, messages, images and their ledgers in
 * an SQLite database (WAL) under the user's data folder, image files copied
 * beside it.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <gio/gio.h>

#include "squint-conversation.h"

G_BEGIN_DECLS

#define SQUINT_TYPE_HISTORY (squint_history_get_type ())

G_DECLARE_FINAL_TYPE (SquintHistory, squint_history, SQUINT, HISTORY, GObject)

SquintHistory *squint_history_new                  (const char          *dir,
                                                    GError             **error);
const char    *squint_history_get_dir              (SquintHistory       *self);
const char    *squint_history_get_images_dir       (SquintHistory       *self);
/* A GListModel of SquintConversation, the most recently updated first. */
GListModel    *squint_history_get_conversations    (SquintHistory       *self);
gboolean       squint_history_save_conversation    (SquintHistory       *self,
                                                    SquintConversation  *conversation,
                                                    GError             **error);
/* Stores a new message (and the conversation, when new). */
gboolean       squint_history_add_message          (SquintHistory       *self,
                                                    SquintConversation  *conversation,
                                                    SquintMessage       *message,
                                                    GError             **error);
gboolean       squint_history_update_message       (SquintHistory       *self,
                                                    SquintMessage       *message,
                                                    GError             **error);
gboolean       squint_history_delete_message       (SquintHistory       *self,
                                                    SquintMessage       *message,
                                                    GError             **error);
gboolean       squint_history_delete_conversation  (SquintHistory       *self,
                                                    SquintConversation  *conversation,
                                                    GError             **error);
/* Deletes stored image files no message refers to any more. */
void           squint_history_collect_images       (SquintHistory       *self);

G_END_DECLS
