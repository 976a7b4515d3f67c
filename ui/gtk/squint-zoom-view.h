/* squint-zoom-view.h — an image drawn as sharp as the model sees it:
 * coarse pixel blocks for the half-size look, animated to sharp when the
 * model zooms in.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define SQUINT_TYPE_ZOOM_VIEW (squint_zoom_view_get_type ())

G_DECLARE_FINAL_TYPE (SquintZoomView, squint_zoom_view, SQUINT, ZOOM_VIEW, GtkWidget)

GtkWidget  *squint_zoom_view_new           (void);
GdkTexture *squint_zoom_view_get_texture   (SquintZoomView *self);
void        squint_zoom_view_set_texture   (SquintZoomView *self,
                                            GdkTexture     *texture);
double      squint_zoom_view_get_sharpness (SquintZoomView *self);
void        squint_zoom_view_set_sharpness (SquintZoomView *self,
                                            double          sharpness);
/* Animates to sharp, or jumps there when animations are off. */
void        squint_zoom_view_zoom_in       (SquintZoomView *self);
gboolean    squint_zoom_view_is_animating  (SquintZoomView *self);

G_END_DECLS
