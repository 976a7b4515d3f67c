/* squint-zoom-view.c
 *
 * Pixelation is drawn with cairo: the image is scaled down to one pixel per
 * block, then back up with the nearest filter.  Sharpness 0 uses blocks of
 * MAX_BLOCK widget pixels; 1 draws the texture itself.
 *
 * SPDX-License-Identifier: MIT
 */
#define G_LOG_DOMAIN "squint-zoom-view"

#include "squint-config.h"

#include <adwaita.h>
#include <math.h>

#include "squint-zoom-view.h"

#define MAX_BLOCK     9.0
#define MAX_WIDTH     240
#define RADIUS        10.0
#define DURATION_MS   1100

struct _SquintZoomView
{
  GtkWidget        parent_instance;

  GdkTexture      *texture;
  cairo_surface_t *surface;
  AdwAnimation    *animation;
  double           sharpness;
};

enum {
  PROP_0,
  PROP_TEXTURE,
  PROP_SHARPNESS,
  N_PROPS
};

G_DEFINE_FINAL_TYPE (SquintZoomView, squint_zoom_view, GTK_TYPE_WIDGET)

static GParamSpec *properties[N_PROPS];

static cairo_surface_t *
surface_for_texture (GdkTexture *texture)
{
  int w = gdk_texture_get_width (texture);
  int h = gdk_texture_get_height (texture);
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, w, h);

  cairo_surface_flush (surface);
  gdk_texture_download (texture, cairo_image_surface_get_data (surface),
                        cairo_image_surface_get_stride (surface));
  cairo_surface_mark_dirty (surface);
  return surface;
}

static void
image_rect (SquintZoomView  *self,
            graphene_rect_t *rect)
{
  double w = gtk_widget_get_width (GTK_WIDGET (self));
  double h = gtk_widget_get_height (GTK_WIDGET (self));
  double tw = gdk_texture_get_width (self->texture);
  double th = gdk_texture_get_height (self->texture);
  double scale = MIN (w / tw, h / th);

  graphene_rect_init (rect, 0, 0, floor (tw * scale), floor (th * scale));
}

static void
squint_zoom_view_snapshot (GtkWidget   *widget,
                           GtkSnapshot *snapshot)
{
  SquintZoomView *self = SQUINT_ZOOM_VIEW (widget);
  graphene_rect_t rect;
  GskRoundedRect clip;

  if (self->texture == NULL)
    return;

  image_rect (self, &rect);
  if (rect.size.width < 1 || rect.size.height < 1)
    return;

  gsk_rounded_rect_init_from_rect (&clip, &rect, RADIUS);
  gtk_snapshot_push_rounded_clip (snapshot, &clip);

  if (self->sharpness >= 0.999)
    gtk_snapshot_append_texture (snapshot, self->texture, &rect);
  else
    {
      double block = 1.0 + (1.0 - self->sharpness) * (MAX_BLOCK - 1.0);
      int sw = MAX (1, (int)ceil (rect.size.width / block));
      int sh = MAX (1, (int)ceil (rect.size.height / block));
      cairo_surface_t *small = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, sw, sh);
      cairo_t *scr = cairo_create (small);
      cairo_t *cr = gtk_snapshot_append_cairo (snapshot, &rect);
      cairo_pattern_t *pattern;

      if (self->surface == NULL)
        self->surface = surface_for_texture (self->texture);

      /* down: one pixel per block */
      cairo_scale (scr, (double)sw / cairo_image_surface_get_width (self->surface),
                   (double)sh / cairo_image_surface_get_height (self->surface));
      cairo_set_source_surface (scr, self->surface, 0, 0);
      cairo_pattern_set_filter (cairo_get_source (scr), CAIRO_FILTER_GOOD);
      cairo_paint (scr);
      cairo_destroy (scr);

      /* up: blocks */
      cairo_scale (cr, rect.size.width / sw, rect.size.height / sh);
      cairo_set_source_surface (cr, small, 0, 0);
      pattern = cairo_get_source (cr);
      cairo_pattern_set_filter (pattern, CAIRO_FILTER_NEAREST);
      cairo_pattern_set_extend (pattern, CAIRO_EXTEND_PAD);
      cairo_paint (cr);
      cairo_destroy (cr);
      cairo_surface_destroy (small);
    }

  gtk_snapshot_pop (snapshot);
}

static GtkSizeRequestMode
squint_zoom_view_get_request_mode (GtkWidget *widget)
{
  return GTK_SIZE_REQUEST_HEIGHT_FOR_WIDTH;
}

static void
squint_zoom_view_measure (GtkWidget      *widget,
                          GtkOrientation  orientation,
                          int             for_size,
                          int            *minimum,
                          int            *natural,
                          int            *minimum_baseline,
                          int            *natural_baseline)
{
  SquintZoomView *self = SQUINT_ZOOM_VIEW (widget);
  int tw, th, nat_w;

  if (self->texture == NULL)
    {
      *minimum = *natural = 0;
      return;
    }

  tw = gdk_texture_get_width (self->texture);
  th = gdk_texture_get_height (self->texture);
  nat_w = MIN (tw, MAX_WIDTH);
  if (orientation == GTK_ORIENTATION_HORIZONTAL)
    {
      *minimum = MIN (nat_w, 48);
      *natural = nat_w;
    }
  else
    {
      int w = for_size >= 0 ? MIN (for_size, nat_w) : nat_w;

      *minimum = *natural = MAX (1, (int)((gint64)w * th / tw));
    }
}

static void
on_animation_value (double   value,
                    gpointer user_data)
{
  squint_zoom_view_set_sharpness (SQUINT_ZOOM_VIEW (user_data), value);
}

static void
squint_zoom_view_dispose (GObject *object)
{
  SquintZoomView *self = (SquintZoomView *)object;

  g_clear_object (&self->animation);
  g_clear_object (&self->texture);
  g_clear_pointer (&self->surface, cairo_surface_destroy);

  G_OBJECT_CLASS (squint_zoom_view_parent_class)->dispose (object);
}

static void
squint_zoom_view_get_property (GObject    *object,
                               guint       prop_id,
                               GValue     *value,
                               GParamSpec *pspec)
{
  SquintZoomView *self = SQUINT_ZOOM_VIEW (object);

  switch (prop_id)
    {
    case PROP_TEXTURE:
      g_value_set_object (value, self->texture);
      break;
    case PROP_SHARPNESS:
      g_value_set_double (value, self->sharpness);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
squint_zoom_view_set_property (GObject      *object,
                               guint         prop_id,
                               const GValue *value,
                               GParamSpec   *pspec)
{
  SquintZoomView *self = SQUINT_ZOOM_VIEW (object);

  switch (prop_id)
    {
    case PROP_TEXTURE:
      squint_zoom_view_set_texture (self, g_value_get_object (value));
      break;
    case PROP_SHARPNESS:
      squint_zoom_view_set_sharpness (self, g_value_get_double (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
squint_zoom_view_class_init (SquintZoomViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = squint_zoom_view_dispose;
  object_class->get_property = squint_zoom_view_get_property;
  object_class->set_property = squint_zoom_view_set_property;

  widget_class->snapshot = squint_zoom_view_snapshot;
  widget_class->measure = squint_zoom_view_measure;
  widget_class->get_request_mode = squint_zoom_view_get_request_mode;

  properties[PROP_TEXTURE] =
    g_param_spec_object ("texture", NULL, NULL, GDK_TYPE_TEXTURE,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_SHARPNESS] =
    g_param_spec_double ("sharpness", NULL, NULL, 0, 1, 0,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_css_name (widget_class, "zoomview");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
squint_zoom_view_init (SquintZoomView *self)
{
  AdwAnimationTarget *target = adw_callback_animation_target_new (on_animation_value, self, NULL);

  self->animation = adw_timed_animation_new (GTK_WIDGET (self), 0, 1, DURATION_MS, target);
  adw_timed_animation_set_easing (ADW_TIMED_ANIMATION (self->animation), ADW_EASE_IN_OUT_CUBIC);
}

GtkWidget *
squint_zoom_view_new (void)
{
  return g_object_new (SQUINT_TYPE_ZOOM_VIEW, NULL);
}

GdkTexture *
squint_zoom_view_get_texture (SquintZoomView *self)
{
  g_return_val_if_fail (SQUINT_IS_ZOOM_VIEW (self), NULL);

  return self->texture;
}

void
squint_zoom_view_set_texture (SquintZoomView *self,
                              GdkTexture     *texture)
{
  g_return_if_fail (SQUINT_IS_ZOOM_VIEW (self));
  g_return_if_fail (!texture || GDK_IS_TEXTURE (texture));

  if (!g_set_object (&self->texture, texture))
    return;
  g_clear_pointer (&self->surface, cairo_surface_destroy);
  gtk_widget_queue_resize (GTK_WIDGET (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TEXTURE]);
}

double
squint_zoom_view_get_sharpness (SquintZoomView *self)
{
  g_return_val_if_fail (SQUINT_IS_ZOOM_VIEW (self), 0);

  return self->sharpness;
}

void
squint_zoom_view_set_sharpness (SquintZoomView *self,
                                double          sharpness)
{
  g_return_if_fail (SQUINT_IS_ZOOM_VIEW (self));

  sharpness = CLAMP (sharpness, 0.0, 1.0);
  if (self->sharpness == sharpness)
    return;
  self->sharpness = sharpness;
  gtk_widget_queue_draw (GTK_WIDGET (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SHARPNESS]);
}

void
squint_zoom_view_zoom_in (SquintZoomView *self)
{
  gboolean animate = TRUE;

  g_return_if_fail (SQUINT_IS_ZOOM_VIEW (self));

  g_object_get (gtk_widget_get_settings (GTK_WIDGET (self)), "gtk-enable-animations", &animate, NULL);
  if (!animate || !gtk_widget_get_mapped (GTK_WIDGET (self)))
    {
      /* reduced motion, or nobody watching: just the new state */
      adw_animation_reset (self->animation);
      squint_zoom_view_set_sharpness (self, 1.0);
      return;
    }
  if (adw_animation_get_state (self->animation) == ADW_ANIMATION_PLAYING)
    return;
  adw_timed_animation_set_value_from (ADW_TIMED_ANIMATION (self->animation), self->sharpness);
  adw_animation_play (self->animation);
}

gboolean
squint_zoom_view_is_animating (SquintZoomView *self)
{
  g_return_val_if_fail (SQUINT_IS_ZOOM_VIEW (self), FALSE);

  return adw_animation_get_state (self->animation) == ADW_ANIMATION_PLAYING;
}
