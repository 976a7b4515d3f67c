/* squint-composer.h — where a question is written: text, attachments
 * waiting to be sent, attach and send/stop buttons.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <gtk/gtk.h>

#include "squint-image.h"

G_BEGIN_DECLS

#define SQUINT_TYPE_COMPOSER (squint_composer_get_type ())

G_DECLARE_FINAL_TYPE (SquintComposer, squint_composer, SQUINT, COMPOSER, GtkWidget)

GtkWidget   *squint_composer_new             (void);
char        *squint_composer_dup_text        (SquintComposer *self);
void         squint_composer_set_text        (SquintComposer *self,
                                              const char     *text);
GListModel  *squint_composer_get_attachments (SquintComposer *self);
void         squint_composer_add_attachment  (SquintComposer *self,
                                              SquintImage    *image);
void         squint_composer_clear           (SquintComposer *self);
gboolean     squint_composer_is_empty        (SquintComposer *self);
/* Images being read: shows a spinner among the attachments. */
void         squint_composer_set_n_loading   (SquintComposer *self,
                                              guint           n_loading);
gboolean     squint_composer_get_busy        (SquintComposer *self);
void         squint_composer_set_busy        (SquintComposer *self,
                                              gboolean        busy);
GtkTextView *squint_composer_get_text_view   (SquintComposer *self);
void         squint_composer_focus           (SquintComposer *self);

G_END_DECLS
