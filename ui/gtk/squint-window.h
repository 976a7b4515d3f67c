/* squint-window.h — the main window: conversations on the left, the chat on
 * the right, the savings counter, policy and model menus in the header.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <adwaita.h>

#include "squint-application.h"
#include "squint-composer.h"

G_BEGIN_DECLS

#define SQUINT_TYPE_WINDOW (squint_window_get_type ())

G_DECLARE_FINAL_TYPE (SquintWindow, squint_window, SQUINT, WINDOW, AdwApplicationWindow)

SquintWindow       *squint_window_new                  (SquintApplication  *app);
SquintConversation *squint_window_get_conversation     (SquintWindow       *self);
void                squint_window_set_conversation     (SquintWindow       *self,
                                                        SquintConversation *conversation);
SquintComposer     *squint_window_get_composer         (SquintWindow       *self);
/* Attaches files (images, PDFs) as the drop target and the chooser do. */
void                squint_window_attach_files         (SquintWindow       *self,
                                                        GListModel         *files);
void                squint_window_add_toast            (SquintWindow       *self,
                                                        const char         *message);
/* For tests and the screenshot tool. */
GtkDropTarget      *squint_window_get_drop_target      (SquintWindow       *self);
GtkWidget          *squint_window_get_message_list     (SquintWindow       *self);
const char         *squint_window_get_savings_label    (SquintWindow       *self);
const char         *squint_window_get_visible_page     (SquintWindow       *self);
guint               squint_window_get_n_loading        (SquintWindow       *self);
GtkWidget          *squint_window_get_savings_chart    (SquintWindow       *self);

G_END_DECLS
