/* squint-markdown-view.h — Markdown shown as GTK widgets, updated in place
 * as text streams in.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define SQUINT_TYPE_MARKDOWN_VIEW (squint_markdown_view_get_type ())

G_DECLARE_FINAL_TYPE (SquintMarkdownView, squint_markdown_view, SQUINT, MARKDOWN_VIEW, GtkWidget)

GtkWidget  *squint_markdown_view_new      (void);
const char *squint_markdown_view_get_text (SquintMarkdownView *self);
void        squint_markdown_view_set_text (SquintMarkdownView *self,
                                           const char         *text);
/* The blocks shown, for tests: "paragraph", "code", … */
guint       squint_markdown_view_get_n_blocks (SquintMarkdownView *self);

G_END_DECLS
