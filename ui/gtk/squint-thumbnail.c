/* squint-thumbnail.c
 *
 * SPDX-License-Identifier: MIT
 */
#define G_LOG_DOMAIN "squint-thumbnail"

#include "squint-config.h"

#include <glib/gi18n.h>

#include "squint-thumbnail.h"

#define MAX_SIDE      220
#define COMPACT_SIDE  72

struct _SquintThumbnail
{
  GtkWidget    parent_instance;

  /* template widgets */
  GtkOverlay  *overlay;
  GtkPicture  *picture;
  GtkButton   *remove_button;
  GtkLabel    *caption;

  /* owned */
  SquintImage *image;
  gboolean     removable;
};

enum {
  PROP_0,
  PROP_IMAGE,
  PROP_REMOVABLE,
  N_PROPS
};

enum {
  REMOVE,
  N_SIGNALS
};

G_DEFINE_FINAL_TYPE (SquintThumbnail, squint_thumbnail, GTK_TYPE_WIDGET)

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

static void
on_remove_clicked (SquintThumbnail *self)
{
  g_signal_emit (self, signals[REMOVE], 0);
}

static void
update (SquintThumbnail *self)
{
  g_autofree char *size = NULL;
  g_autofree char *label = NULL;
  int w, h;

  if (self->image == NULL)
    return;

  w = MAX (1, squint_image_get_width (self->image));
  h = MAX (1, squint_image_get_height (self->image));
  if (self->removable)
    gtk_widget_set_size_request (GTK_WIDGET (self->picture), COMPACT_SIDE, COMPACT_SIDE);
  else
    {
      double scale = MIN (1.0, (double)MAX_SIDE / MAX (w, h));

      gtk_widget_set_size_request (GTK_WIDGET (self->picture), MAX (32, (int)(w * scale)), MAX (32, (int)(h * scale)));
    }

  size = squint_image_dup_size_label (self->image);
  gtk_label_set_label (self->caption, size);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self), squint_image_get_name (self->image));
  /* Translators: an image's accessible name: its file name and pixel size */
  label = g_strdup_printf (_("%s, %s pixels"), squint_image_get_name (self->image) ?: _("Image"), size);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->picture),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, label,
                                  -1);
  gtk_widget_set_visible (GTK_WIDGET (self->remove_button), self->removable);
  squint_image_ensure_thumbnail (self->image);
}

static void
squint_thumbnail_dispose (GObject *object)
{
  SquintThumbnail *self = (SquintThumbnail *)object;
  GtkWidget *child;

  gtk_widget_dispose_template (GTK_WIDGET (self), SQUINT_TYPE_THUMBNAIL);
  /* children the template does not name */
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self))) != NULL)
    gtk_widget_unparent (child);
  g_clear_object (&self->image);

  G_OBJECT_CLASS (squint_thumbnail_parent_class)->dispose (object);
}

static void
squint_thumbnail_get_property (GObject    *object,
                               guint       prop_id,
                               GValue     *value,
                               GParamSpec *pspec)
{
  SquintThumbnail *self = SQUINT_THUMBNAIL (object);

  switch (prop_id)
    {
    case PROP_IMAGE:
      g_value_set_object (value, self->image);
      break;
    case PROP_REMOVABLE:
      g_value_set_boolean (value, self->removable);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
squint_thumbnail_set_property (GObject      *object,
                               guint         prop_id,
                               const GValue *value,
                               GParamSpec   *pspec)
{
  SquintThumbnail *self = SQUINT_THUMBNAIL (object);

  switch (prop_id)
    {
    case PROP_IMAGE:
      self->image = g_value_dup_object (value);
      break;
    case PROP_REMOVABLE:
      self->removable = g_value_get_boolean (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
squint_thumbnail_constructed (GObject *object)
{
  SquintThumbnail *self = (SquintThumbnail *)object;

  G_OBJECT_CLASS (squint_thumbnail_parent_class)->constructed (object);

  if (self->image != NULL)
    g_object_bind_property (self->image, "thumbnail", self->picture, "paintable", G_BINDING_SYNC_CREATE);
  update (self);
}

static void
squint_thumbnail_class_init (SquintThumbnailClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = squint_thumbnail_dispose;
  object_class->constructed = squint_thumbnail_constructed;
  object_class->get_property = squint_thumbnail_get_property;
  object_class->set_property = squint_thumbnail_set_property;

  properties[PROP_IMAGE] =
    g_param_spec_object ("image", NULL, NULL, SQUINT_TYPE_IMAGE,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_REMOVABLE] =
    g_param_spec_boolean ("removable", NULL, NULL, FALSE,
                          G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * SquintThumbnail::remove:
   *
   * The remove button was clicked.
   */
  signals[REMOVE] = g_signal_new ("remove", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);

  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/squint/Squint/squint-thumbnail.ui");
  gtk_widget_class_bind_template_child (widget_class, SquintThumbnail, overlay);
  gtk_widget_class_bind_template_child (widget_class, SquintThumbnail, picture);
  gtk_widget_class_bind_template_child (widget_class, SquintThumbnail, remove_button);
  gtk_widget_class_bind_template_child (widget_class, SquintThumbnail, caption);
  gtk_widget_class_bind_template_callback (widget_class, on_remove_clicked);
  gtk_widget_class_set_css_name (widget_class, "imagethumbnail");
}

static void
squint_thumbnail_init (SquintThumbnail *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

GtkWidget *
squint_thumbnail_new (SquintImage *image,
                      gboolean     removable)
{
  g_return_val_if_fail (SQUINT_IS_IMAGE (image), NULL);

  return g_object_new (SQUINT_TYPE_THUMBNAIL,
                       "image", image,
                       "removable", removable,
                       NULL);
}

SquintImage *
squint_thumbnail_get_image (SquintThumbnail *self)
{
  g_return_val_if_fail (SQUINT_IS_THUMBNAIL (self), NULL);

  return self->image;
}
