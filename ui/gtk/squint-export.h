/* squint-export.h — a conversation as a Markdown file with its images in a
 * folder beside it.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <gio/gio.h>

#include "squint-conversation.h"

G_BEGIN_DECLS

void   squint_export_conversation_async  (SquintConversation   *conversation,
                                          GFile                *folder,
                                          GCancellable         *cancellable,
                                          GAsyncReadyCallback   callback,
                                          gpointer              user_data);
/* The Markdown file written. */
GFile *squint_export_conversation_finish (GAsyncResult         *result,
                                          GError              **error);
char  *squint_export_slug                (const char           *title);

G_END_DECLS
