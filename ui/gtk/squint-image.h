/* squint-image.h — one picture in a conversation: the full-resolution RGB8
 * pixels the engine reads, a small texture to show, and its copy in the
 * app's data folder.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <gtk/gtk.h>

#include "image.h"

G_BEGIN_DECLS

#define SQUINT_TYPE_IMAGE (squint_image_get_type ())

G_DECLARE_FINAL_TYPE (SquintImage, squint_image, SQUINT, IMAGE, GObject)

/* The longest side of thumbnails, in pixels. */
#define SQUINT_THUMBNAIL_SIZE 480

SquintImage    *squint_image_new_for_path       (const char           *path,
                                                 const char           *name,
                                                 int                   width,
                                                 int                   height);
void            squint_image_load_file_async    (GFile                *file,
                                                 const char           *store_dir,
                                                 GCancellable         *cancellable,
                                                 GAsyncReadyCallback   callback,
                                                 gpointer              user_data);
void            squint_image_load_texture_async (GdkTexture           *texture,
                                                 const char           *name,
                                                 const char           *store_dir,
                                                 GCancellable         *cancellable,
                                                 GAsyncReadyCallback   callback,
                                                 gpointer              user_data);
/* Takes the pixels of *rgb (left empty). */
void            squint_image_load_rgb_async     (sq_image             *rgb,
                                                 const char           *name,
                                                 const char           *store_dir,
                                                 GCancellable         *cancellable,
                                                 GAsyncReadyCallback   callback,
                                                 gpointer              user_data);
SquintImage    *squint_image_load_finish        (GAsyncResult         *result,
                                                 GError              **error);

const char     *squint_image_get_name           (SquintImage          *self);
int             squint_image_get_width          (SquintImage          *self);
int             squint_image_get_height         (SquintImage          *self);
const char     *squint_image_get_path           (SquintImage          *self);
/* NULL until loaded; squint_image_ensure_thumbnail() loads it in a thread. */
GdkTexture     *squint_image_get_thumbnail      (SquintImage          *self);
void            squint_image_ensure_thumbnail   (SquintImage          *self);
/* The full-resolution pixels, or NULL when only the file is known. */
const sq_image *squint_image_peek_rgb           (SquintImage          *self);
char           *squint_image_dup_size_label     (SquintImage          *self);

/* Pixels from a texture: RGB8, alpha dropped (straight colour kept). */
gboolean        squint_texture_to_rgb           (GdkTexture           *texture,
                                                 sq_image             *out,
                                                 GError              **error);
GdkTexture     *squint_rgb_to_texture           (const sq_image       *rgb);

G_END_DECLS
