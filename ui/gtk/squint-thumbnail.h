/* squint-thumbnail.h — an image's thumbnail with its pixel size, optionally
 * with a remove button (attachments not sent yet).
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <gtk/gtk.h>

#include "squint-image.h"

G_BEGIN_DECLS

#define SQUINT_TYPE_THUMBNAIL (squint_thumbnail_get_type ())

G_DECLARE_FINAL_TYPE (SquintThumbnail, squint_thumbnail, SQUINT, THUMBNAIL, GtkWidget)

GtkWidget   *squint_thumbnail_new       (SquintImage     *image,
                                         gboolean         removable);
SquintImage *squint_thumbnail_get_image (SquintThumbnail *self);

G_END_DECLS
