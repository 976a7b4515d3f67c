/* squint-image.c
 *
 * Decoding, thumbnails and the PNG copy in the data folder all happen in a
 * GTask thread; the object itself is only touched on the main thread once
 * it is returned.  Stored files are named by the SHA-256 of their pixels, so
 * the same screenshot pasted twice is stored once.
 *
 * SPDX-License-Identifier: MIT
 */
#define G_LOG_DOMAIN "squint-image"

#include "squint-config.h"

#include <glib/gi18n.h>
#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>

#include "squint-error.h"
#include "squint-image.h"

struct _SquintImage
{
  GObject     parent_instance;

  char       *name;
  char       *path;
  int         width;
  int         height;
  sq_image    rgb;
  GdkTexture *thumbnail;
  GCancellable *thumbnail_cancellable;
  guint       thumbnail_failed : 1;
};

enum {
  PROP_0,
  PROP_NAME,
  PROP_PATH,
  PROP_WIDTH,
  PROP_HEIGHT,
  PROP_THUMBNAIL,
  N_PROPS
};

G_DEFINE_FINAL_TYPE (SquintImage, squint_image, G_TYPE_OBJECT)

static GParamSpec *properties[N_PROPS];

typedef struct
{
  GFile      *file;
  GdkTexture *texture;
  sq_image    rgb;
  char       *name;
  char       *store_dir;
} LoadData;

static void
load_data_free (LoadData *d)
{
  g_clear_object (&d->file);
  g_clear_object (&d->texture);
  sq_image_free (&d->rgb);
  g_free (d->name);
  g_free (d->store_dir);
  g_free (d);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LoadData, load_data_free)

GdkTexture *
squint_rgb_to_texture (const sq_image *rgb)
{
  g_autoptr(GBytes) bytes = NULL;

  g_return_val_if_fail (rgb != NULL && rgb->rgb != NULL, NULL);

  bytes = g_bytes_new (rgb->rgb, (gsize)rgb->w * rgb->h * 3);
  return gdk_memory_texture_new (rgb->w, rgb->h, GDK_MEMORY_R8G8B8, bytes, (gsize)rgb->w * 3);
}

gboolean
squint_texture_to_rgb (GdkTexture  *texture,
                       sq_image    *out,
                       GError     **error)
{
  sq_error err = { 0 };
  int w, h;
  g_autofree guchar *argb = NULL;
  gsize stride;

  g_return_val_if_fail (GDK_IS_TEXTURE (texture), FALSE);
  g_return_val_if_fail (out != NULL, FALSE);

  w = gdk_texture_get_width (texture);
  h = gdk_texture_get_height (texture);
  if (w <= 0 || h <= 0 || (gint64)w * h > SQ_IMAGE_DEFAULT_MAX_PIXELS)
    {
      g_set_error (error, SQUINT_ERROR, SQUINT_ERROR_IMAGE,
                   _("The image is too large (%d × %d pixels)"), w, h);
      return FALSE;
    }
  if (sq_image_new (w, h, out, &err) != SQ_OK)
    {
      squint_set_sq_error (error, SQUINT_ERROR_IMAGE, &err);
      return FALSE;
    }

  /* GDK_MEMORY_DEFAULT: premultiplied B8G8R8A8 in memory order on little
   * endian (cairo's ARGB32); straighten the colour, drop the alpha. */
  stride = (gsize)w * 4;
  argb = g_malloc (stride * h);
  gdk_texture_download (texture, argb, stride);
  for (int y = 0; y < h; y++)
    {
      const guint32 *src = (const guint32 *)(argb + y * stride);
      guint8 *dst = out->rgb + (gsize)y * w * 3;

      for (int x = 0; x < w; x++)
        {
          guint32 px = src[x];
          guint a = px >> 24;
          guint r = (px >> 16) & 0xff, g = (px >> 8) & 0xff, b = px & 0xff;

          if (a != 0 && a != 255)
            {
              r = MIN (255u, (r * 255 + a / 2) / a);
              g = MIN (255u, (g * 255 + a / 2) / a);
              b = MIN (255u, (b * 255 + a / 2) / a);
            }
          dst[3 * x + 0] = r;
          dst[3 * x + 1] = g;
          dst[3 * x + 2] = b;
        }
    }
  return TRUE;
}

static GdkTexture *
make_thumbnail (const sq_image  *rgb,
                GError         **error)
{
  int side = MAX (rgb->w, rgb->h);
  sq_image small = { 0 };
  sq_error err = { 0 };
  GdkTexture *texture;
  int tw, th;

  if (side <= SQUINT_THUMBNAIL_SIZE)
    return squint_rgb_to_texture (rgb);

  tw = MAX (1, (int)((gint64)rgb->w * SQUINT_THUMBNAIL_SIZE / side));
  th = MAX (1, (int)((gint64)rgb->h * SQUINT_THUMBNAIL_SIZE / side));
  if (sq_image_resize (rgb, tw, th, SQ_RESAMPLE_BICUBIC, &small, &err) != SQ_OK)
    {
      squint_set_sq_error (error, SQUINT_ERROR_IMAGE, &err);
      return NULL;
    }
  texture = squint_rgb_to_texture (&small);
  sq_image_free (&small);
  return texture;
}

/* Writes the pixels as <sha256>.png into store_dir unless already there. */
static char *
store_png (const sq_image  *rgb,
           const char      *store_dir,
           GError         **error)
{
  g_autoptr(GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  g_autoptr(GdkTexture) texture = NULL;
  g_autofree char *file_name = NULL;
  g_autofree char *path = NULL;
  g_autofree char *tmp = NULL;
  gint32 dims[2] = { rgb->w, rgb->h };

  g_checksum_update (sum, (const guchar *)dims, sizeof dims);
  g_checksum_update (sum, rgb->rgb, (gssize)((gsize)rgb->w * rgb->h * 3));
  file_name = g_strdup_printf ("%.40s.png", g_checksum_get_string (sum));
  path = g_build_filename (store_dir, file_name, NULL);
  if (g_file_test (path, G_FILE_TEST_EXISTS))
    return g_steal_pointer (&path);

  if (g_mkdir_with_parents (store_dir, 0700) != 0)
    {
      int errsv = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv),
                   _("Could not create the folder “%s”: %s"), store_dir, g_strerror (errsv));
      return NULL;
    }
  texture = squint_rgb_to_texture (rgb);
  tmp = g_strdup_printf ("%s.%p.tmp", path, (void *)g_thread_self ());
  if (!gdk_texture_save_to_png (texture, tmp) || g_rename (tmp, path) != 0)
    {
      g_unlink (tmp);
      g_set_error (error, SQUINT_ERROR, SQUINT_ERROR_IMAGE, _("Could not save a copy of the image in “%s”"), store_dir);
      return NULL;
    }
  return g_steal_pointer (&path);
}

static SquintImage *
image_from_rgb (sq_image    *rgb,
                const char  *name,
                const char  *store_dir,
                GError     **error)
{
  g_autoptr(SquintImage) self = NULL;
  g_autoptr(GdkTexture) thumb = NULL;
  g_autofree char *path = NULL;

  if (!(thumb = make_thumbnail (rgb, error)))
    return NULL;
  if (store_dir != NULL && !(path = store_png (rgb, store_dir, error)))
    return NULL;

  self = g_object_new (SQUINT_TYPE_IMAGE,
                       "name", name,
                       "path", path,
                       "width", rgb->w,
                       "height", rgb->h,
                       NULL);
  self->rgb = *rgb;
  *rgb = (sq_image) { 0 };
  self->thumbnail = g_steal_pointer (&thumb);
  return g_steal_pointer (&self);
}

static void
load_thread (GTask        *task,
             gpointer      source_object,
             gpointer      task_data,
             GCancellable *cancellable)
{
  LoadData *d = task_data;
  GError *error = NULL;
  SquintImage *image;

  if (d->file != NULL)
    {
      g_autoptr(GBytes) bytes = NULL;
      sq_error err = { 0 };
      sq_status st;

      if (!(bytes = g_file_load_bytes (d->file, cancellable, NULL, &error)))
        {
          g_task_return_error (task, error);
          return;
        }
      st = sq_image_load_memory (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), NULL, &d->rgb, &err);
      if (st == SQ_ERR_FORMAT)
        {
          /* not a format the engine decodes (WebP, TIFF, SVG…): GDK may */
          g_autoptr(GdkTexture) texture = gdk_texture_new_from_bytes (bytes, NULL);

          if (texture != NULL)
            st = squint_texture_to_rgb (texture, &d->rgb, NULL) ? SQ_OK : SQ_ERR_FORMAT;
        }
      if (st != SQ_OK)
        {
          g_task_return_new_error (task, SQUINT_ERROR, SQUINT_ERROR_IMAGE,
                                   _("“%s” is not an image Squint can read: %s"),
                                   d->name, err.msg[0] ? err.msg : sq_status_string (st));
          return;
        }
    }
  else if (d->texture != NULL)
    {
      if (!squint_texture_to_rgb (d->texture, &d->rgb, &error))
        {
          g_task_return_error (task, error);
          return;
        }
    }

  if (g_task_return_error_if_cancelled (task))
    return;
  if (!(image = image_from_rgb (&d->rgb, d->name, d->store_dir, &error)))
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, image, g_object_unref);
}

static void
start_load (LoadData            *d,
            GCancellable        *cancellable,
            GAsyncReadyCallback  callback,
            gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (NULL, cancellable, callback, user_data);

  g_task_set_source_tag (task, squint_image_load_file_async);
  g_task_set_task_data (task, d, (GDestroyNotify)load_data_free);
  g_task_run_in_thread (task, load_thread);
}

void
squint_image_load_file_async (GFile               *file,
                              const char          *store_dir,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  LoadData *d;

  g_return_if_fail (G_IS_FILE (file));

  d = g_new0 (LoadData, 1);
  d->file = g_object_ref (file);
  d->name = g_file_get_basename (file);
  d->store_dir = g_strdup (store_dir);
  start_load (d, cancellable, callback, user_data);
}

void
squint_image_load_texture_async (GdkTexture          *texture,
                                 const char          *name,
                                 const char          *store_dir,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  LoadData *d;

  g_return_if_fail (GDK_IS_TEXTURE (texture));

  d = g_new0 (LoadData, 1);
  d->texture = g_object_ref (texture);
  d->name = g_strdup (name);
  d->store_dir = g_strdup (store_dir);
  start_load (d, cancellable, callback, user_data);
}

void
squint_image_load_rgb_async (sq_image            *rgb,
                             const char          *name,
                             const char          *store_dir,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  LoadData *d;

  g_return_if_fail (rgb != NULL && rgb->rgb != NULL);

  d = g_new0 (LoadData, 1);
  d->rgb = *rgb;
  *rgb = (sq_image) { 0 };
  d->name = g_strdup (name);
  d->store_dir = g_strdup (store_dir);
  start_load (d, cancellable, callback, user_data);
}

SquintImage *
squint_image_load_finish (GAsyncResult  *result,
                          GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* ---- lazy thumbnails of stored images ---- */

static void
thumbnail_thread (GTask        *task,
                  gpointer      source_object,
                  gpointer      task_data,
                  GCancellable *cancellable)
{
  const char *path = task_data;
  sq_image rgb = { 0 };
  sq_error err = { 0 };
  GError *error = NULL;
  GdkTexture *thumb;

  if (sq_image_load_file (path, NULL, &rgb, &err) != SQ_OK)
    {
      squint_set_sq_error (&error, SQUINT_ERROR_IMAGE, &err);
      g_task_return_error (task, error);
      return;
    }
  thumb = make_thumbnail (&rgb, &error);
  sq_image_free (&rgb);
  if (thumb == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, thumb, g_object_unref);
}

static void
thumbnail_loaded (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(SquintImage) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GdkTexture) thumb = g_task_propagate_pointer (G_TASK (result), &error);

  g_clear_object (&self->thumbnail_cancellable);
  if (thumb == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_message ("No thumbnail for %s: %s", self->path, error->message);
          self->thumbnail_failed = TRUE;
        }
      return;
    }
  g_set_object (&self->thumbnail, thumb);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_THUMBNAIL]);
}

void
squint_image_ensure_thumbnail (SquintImage *self)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (SQUINT_IS_IMAGE (self));

  if (self->thumbnail != NULL || self->thumbnail_cancellable != NULL ||
      self->thumbnail_failed || self->path == NULL)
    return;

  self->thumbnail_cancellable = g_cancellable_new ();
  task = g_task_new (NULL, self->thumbnail_cancellable, thumbnail_loaded, g_object_ref (self));
  g_task_set_source_tag (task, squint_image_ensure_thumbnail);
  g_task_set_task_data (task, g_strdup (self->path), g_free);
  g_task_run_in_thread (task, thumbnail_thread);
}

/* ---- the class ---- */

static void
squint_image_dispose (GObject *object)
{
  SquintImage *self = (SquintImage *)object;

  if (self->thumbnail_cancellable != NULL)
    g_cancellable_cancel (self->thumbnail_cancellable);
  g_clear_object (&self->thumbnail);

  G_OBJECT_CLASS (squint_image_parent_class)->dispose (object);
}

static void
squint_image_finalize (GObject *object)
{
  SquintImage *self = (SquintImage *)object;

  g_clear_pointer (&self->name, g_free);
  g_clear_pointer (&self->path, g_free);
  sq_image_free (&self->rgb);

  G_OBJECT_CLASS (squint_image_parent_class)->finalize (object);
}

static void
squint_image_get_property (GObject    *object,
                           guint       prop_id,
                           GValue     *value,
                           GParamSpec *pspec)
{
  SquintImage *self = SQUINT_IMAGE (object);

  switch (prop_id)
    {
    case PROP_NAME:
      g_value_set_string (value, self->name);
      break;
    case PROP_PATH:
      g_value_set_string (value, self->path);
      break;
    case PROP_WIDTH:
      g_value_set_int (value, self->width);
      break;
    case PROP_HEIGHT:
      g_value_set_int (value, self->height);
      break;
    case PROP_THUMBNAIL:
      g_value_set_object (value, self->thumbnail);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
squint_image_set_property (GObject      *object,
                           guint         prop_id,
                           const GValue *value,
                           GParamSpec   *pspec)
{
  SquintImage *self = SQUINT_IMAGE (object);

  switch (prop_id)
    {
    case PROP_NAME:
      self->name = g_value_dup_string (value);
      break;
    case PROP_PATH:
      self->path = g_value_dup_string (value);
      break;
    case PROP_WIDTH:
      self->width = g_value_get_int (value);
      break;
    case PROP_HEIGHT:
      self->height = g_value_get_int (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
squint_image_class_init (SquintImageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = squint_image_dispose;
  object_class->finalize = squint_image_finalize;
  object_class->get_property = squint_image_get_property;
  object_class->set_property = squint_image_set_property;

  properties[PROP_NAME] =
    g_param_spec_string ("name", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_PATH] =
    g_param_spec_string ("path", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_WIDTH] =
    g_param_spec_int ("width", NULL, NULL, 0, G_MAXINT, 0,
                      G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_HEIGHT] =
    g_param_spec_int ("height", NULL, NULL, 0, G_MAXINT, 0,
                      G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_THUMBNAIL] =
    g_param_spec_object ("thumbnail", NULL, NULL, GDK_TYPE_TEXTURE,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
squint_image_init (SquintImage *self)
{
}

SquintImage *
squint_image_new_for_path (const char *path,
                           const char *name,
                           int         width,
                           int         height)
{
  g_return_val_if_fail (path != NULL, NULL);

  return g_object_new (SQUINT_TYPE_IMAGE,
                       "path", path,
                       "name", name,
                       "width", width,
                       "height", height,
                       NULL);
}

const char *
squint_image_get_name (SquintImage *self)
{
  g_return_val_if_fail (SQUINT_IS_IMAGE (self), NULL);

  return self->name;
}

int
squint_image_get_width (SquintImage *self)
{
  g_return_val_if_fail (SQUINT_IS_IMAGE (self), 0);

  return self->width;
}

int
squint_image_get_height (SquintImage *self)
{
  g_return_val_if_fail (SQUINT_IS_IMAGE (self), 0);

  return self->height;
}

const char *
squint_image_get_path (SquintImage *self)
{
  g_return_val_if_fail (SQUINT_IS_IMAGE (self), NULL);

  return self->path;
}

GdkTexture *
squint_image_get_thumbnail (SquintImage *self)
{
  g_return_val_if_fail (SQUINT_IS_IMAGE (self), NULL);

  return self->thumbnail;
}

const sq_image *
squint_image_peek_rgb (SquintImage *self)
{
  g_return_val_if_fail (SQUINT_IS_IMAGE (self), NULL);

  return self->rgb.rgb != NULL ? &self->rgb : NULL;
}

char *
squint_image_dup_size_label (SquintImage *self)
{
  g_return_val_if_fail (SQUINT_IS_IMAGE (self), NULL);

  /* Translators: an image size in pixels, width × height */
  return g_strdup_printf (_("%d × %d"), self->width, self->height);
}
