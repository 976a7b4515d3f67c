/* squint-pdf-picker.c
 *
 * Poppler renders on GTask threads.  A PopplerDocument must not be used by
 * two threads at once, so the document lives in a reference-counted box
 * with a mutex, and pages are rendered one after another.
 *
 * SPDX-License-Identifier: MIT
 */
#define G_LOG_DOMAIN "squint-pdf-picker"

#include "squint-config.h"

#include <glib/gi18n.h>
#include <math.h>
#include <poppler.h>

#include "squint-error.h"
#include "squint-pdf-picker.h"

#define THUMB_SIDE  180
#define MAX_SHOWN   500

typedef struct
{
  PopplerDocument *doc;
  GMutex           lock;
} Doc;

struct _SquintPdfPicker
{
  AdwWindow       parent_instance;

  /* template widgets */
  AdwWindowTitle *window_title;
  GtkButton      *attach_button;
  GtkFlowBox     *pages_box;

  /* owned */
  GFile          *file;
  char           *store_dir;
  Doc            *doc;
  GCancellable   *cancellable;
  GArray         *queue;        /* page indexes still to attach */
  guint           n_pages;
  guint           next_thumb;
  guint           done : 1;
};

enum {
  SIGNAL_IMAGE,
  SIGNAL_FAILED,
  SIGNAL_DONE,
  N_SIGNALS
};

G_DEFINE_FINAL_TYPE (SquintPdfPicker, squint_pdf_picker, ADW_TYPE_WINDOW)

static guint signals[N_SIGNALS];

static void
doc_clear (Doc *d)
{
  g_clear_object (&d->doc);
  g_mutex_clear (&d->lock);
}

static Doc *
doc_ref (Doc *d)
{
  return g_atomic_rc_box_acquire (d);
}

static void
doc_unref (Doc *d)
{
  g_atomic_rc_box_release_full (d, (GDestroyNotify)doc_clear);
}

/* Renders page `index` on white, its longest side max_side pixels at most
 * (and at most 3× its size in points). */
static gboolean
render_page (Doc       *d,
             int        index,
             double     max_side,
             sq_image  *out,
             GError   **error)
{
  PopplerPage *page;
  cairo_surface_t *surface;
  cairo_t *cr;
  double w, h, scale;
  int pw, ph, stride;
  const guint8 *data;
  sq_error err = { 0 };

  g_mutex_lock (&d->lock);
  page = poppler_document_get_page (d->doc, index);
  if (page == NULL)
    {
      g_mutex_unlock (&d->lock);
      g_set_error (error, SQUINT_ERROR, SQUINT_ERROR_IMAGE, _("The document has no page %d"), index + 1);
      return FALSE;
    }
  poppler_page_get_size (page, &w, &h);
  scale = MIN (3.0, max_side / MAX (1.0, MAX (w, h)));
  pw = MAX (1, (int)ceil (w * scale));
  ph = MAX (1, (int)ceil (h * scale));

  surface = cairo_image_surface_create (CAIRO_FORMAT_RGB24, pw, ph);
  cr = cairo_create (surface);
  cairo_set_source_rgb (cr, 1, 1, 1);
  cairo_paint (cr);
  cairo_scale (cr, scale, scale);
  poppler_page_render (page, cr);
  cairo_destroy (cr);
  g_object_unref (page);
  g_mutex_unlock (&d->lock);

  cairo_surface_flush (surface);
  if (cairo_surface_status (surface) != CAIRO_STATUS_SUCCESS || sq_image_new (pw, ph, out, &err) != SQ_OK)
    {
      cairo_surface_destroy (surface);
      g_set_error (error, SQUINT_ERROR, SQUINT_ERROR_IMAGE, _("Page %d could not be drawn"), index + 1);
      return FALSE;
    }
  data = cairo_image_surface_get_data (surface);
  stride = cairo_image_surface_get_stride (surface);
  for (int y = 0; y < ph; y++)
    {
      const guint32 *src = (const guint32 *)(data + (gsize)y * stride);
      guint8 *dst = out->rgb + (gsize)y * pw * 3;

      for (int x = 0; x < pw; x++)
        {
          dst[3 * x + 0] = (src[x] >> 16) & 0xff;
          dst[3 * x + 1] = (src[x] >> 8) & 0xff;
          dst[3 * x + 2] = src[x] & 0xff;
        }
    }
  cairo_surface_destroy (surface);
  return TRUE;
}

/* ---- tasks ---- */

typedef struct
{
  Doc    *doc;
  int     index;
  double  max_side;
} RenderData;

static void
render_data_free (RenderData *r)
{
  doc_unref (r->doc);
  g_free (r);
}

static void
sq_image_free_boxed (gpointer data)
{
  sq_image_free (data);
  g_free (data);
}

static void
render_thread (GTask        *task,
               gpointer      source_object,
               gpointer      task_data,
               GCancellable *cancellable)
{
  RenderData *r = task_data;
  sq_image *img = g_new0 (sq_image, 1);
  GError *error = NULL;

  if (g_task_return_error_if_cancelled (task))
    {
      g_free (img);
      return;
    }
  if (!render_page (r->doc, r->index, r->max_side, img, &error))
    {
      g_free (img);
      g_task_return_error (task, error);
      return;
    }
  g_task_return_pointer (task, img, sq_image_free_boxed);
}

static void
render_async (SquintPdfPicker     *self,
              int                  index,
              double               max_side,
              GAsyncReadyCallback  callback)
{
  g_autoptr(GTask) task = g_task_new (self, self->cancellable, callback, NULL);
  RenderData *r = g_new0 (RenderData, 1);

  r->doc = doc_ref (self->doc);
  r->index = index;
  r->max_side = max_side;
  g_task_set_source_tag (task, render_async);
  g_task_set_task_data (task, r, (GDestroyNotify)render_data_free);
  g_task_run_in_thread (task, render_thread);
}

static void
finish (SquintPdfPicker *self)
{
  if (self->done)
    return;
  self->done = TRUE;
  g_cancellable_cancel (self->cancellable);
  g_signal_emit (self, signals[SIGNAL_DONE], 0);
  gtk_window_destroy (GTK_WINDOW (self));
}

static void
fail (SquintPdfPicker *self,
      const GError    *error)
{
  if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) && !self->done)
    g_signal_emit (self, signals[SIGNAL_FAILED], 0, error->message);
  finish (self);
}

/* ---- attaching pages ---- */

static void attach_next (SquintPdfPicker *self);

static void
page_image_loaded (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(SquintPdfPicker) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(SquintImage) image = squint_image_load_finish (result, &error);

  if (image == NULL)
    {
      fail (self, error);
      return;
    }
  if (!self->done)
    g_signal_emit (self, signals[SIGNAL_IMAGE], 0, image);
  attach_next (self);
}

static void
page_rendered (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  SquintPdfPicker *self = SQUINT_PDF_PICKER (object);
  RenderData *r = g_task_get_task_data (G_TASK (result));
  g_autoptr(GError) error = NULL;
  sq_image *img = g_task_propagate_pointer (G_TASK (result), &error);
  g_autofree char *base = NULL;
  g_autofree char *name = NULL;

  if (img == NULL)
    {
      fail (self, error);
      return;
    }
  base = g_file_get_basename (self->file);
  /* Translators: the name of an attached PDF page: "report.pdf, page 3" */
  name = g_strdup_printf (_("%s, page %d"), base, r->index + 1);
  squint_image_load_rgb_async (img, name, self->store_dir, self->cancellable, page_image_loaded, g_object_ref (self));
  sq_image_free_boxed (img);
}

static void
attach_next (SquintPdfPicker *self)
{
  int index;

  if (self->done)
    return;
  if (self->queue->len == 0)
    {
      finish (self);
      return;
    }
  index = g_array_index (self->queue, int, 0);
  g_array_remove_index (self->queue, 0);
  render_async (self, index, SQUINT_PDF_MAX_SIDE, page_rendered);
}

static void
on_child_selected (GtkFlowBox      *box,
                   GtkFlowBoxChild *child,
                   gpointer         user_data)
{
  GArray *queue = user_data;
  int index = gtk_flow_box_child_get_index (child);

  g_array_append_val (queue, index);
}

static int
compare_int (gconstpointer a,
             gconstpointer b)
{
  return *(const int *)a - *(const int *)b;
}

void
squint_pdf_picker_attach_selected (SquintPdfPicker *self)
{
  g_return_if_fail (SQUINT_IS_PDF_PICKER (self));

  if (self->queue->len > 0 || self->done)
    return;
  gtk_flow_box_selected_foreach (self->pages_box, on_child_selected, self->queue);
  g_array_sort (self->queue, compare_int);
  if (self->queue->len == 0)
    return;
  gtk_widget_set_sensitive (GTK_WIDGET (self->attach_button), FALSE);
  gtk_widget_set_sensitive (GTK_WIDGET (self->pages_box), FALSE);
  gtk_widget_set_visible (GTK_WIDGET (self), FALSE);
  attach_next (self);
}

static void
on_attach_clicked (SquintPdfPicker *self)
{
  squint_pdf_picker_attach_selected (self);
}

static void
on_selection_changed (SquintPdfPicker *self)
{
  g_autoptr(GList) selected = gtk_flow_box_get_selected_children (self->pages_box);

  gtk_widget_set_sensitive (GTK_WIDGET (self->attach_button), selected != NULL);
}

/* ---- thumbnails ---- */

static void render_next_thumb (SquintPdfPicker *self);

static void
thumb_rendered (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  SquintPdfPicker *self = SQUINT_PDF_PICKER (object);
  RenderData *r = g_task_get_task_data (G_TASK (result));
  g_autoptr(GError) error = NULL;
  sq_image *img = g_task_propagate_pointer (G_TASK (result), &error);
  GtkFlowBoxChild *child;

  if (img == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_message ("Page %d thumbnail: %s", r->index + 1, error->message);
      return;
    }
  child = gtk_flow_box_get_child_at_index (self->pages_box, r->index);
  if (child != NULL)
    {
      g_autoptr(GdkTexture) texture = squint_rgb_to_texture (img);
      GtkWidget *box = gtk_flow_box_child_get_child (child);

      gtk_picture_set_paintable (GTK_PICTURE (gtk_widget_get_first_child (box)), GDK_PAINTABLE (texture));
    }
  sq_image_free_boxed (img);
  render_next_thumb (self);
}

static void
render_next_thumb (SquintPdfPicker *self)
{
  if (self->done || self->next_thumb >= MIN (self->n_pages, MAX_SHOWN))
    return;
  render_async (self, (int)self->next_thumb++, THUMB_SIDE, thumb_rendered);
}

static void
show_pages (SquintPdfPicker *self)
{
  g_autofree char *base = g_file_get_basename (self->file);

  adw_window_title_set_subtitle (self->window_title, base);
  for (guint i = 0; i < MIN (self->n_pages, MAX_SHOWN); i++)
    {
      GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
      GtkWidget *picture = gtk_picture_new ();
      g_autofree char *label = g_strdup_printf (_("Page %u"), i + 1);
      GtkWidget *caption = gtk_label_new (label);

      gtk_widget_set_size_request (picture, THUMB_SIDE * 3 / 4, THUMB_SIDE);
      gtk_widget_add_css_class (picture, "pdf-page");
      gtk_accessible_update_property (GTK_ACCESSIBLE (picture), GTK_ACCESSIBLE_PROPERTY_LABEL, label, -1);
      gtk_widget_add_css_class (caption, "caption");
      gtk_box_append (GTK_BOX (box), picture);
      gtk_box_append (GTK_BOX (box), caption);
      gtk_flow_box_append (self->pages_box, box);
    }
  render_next_thumb (self);
  gtk_window_present (GTK_WINDOW (self));
}

static void
doc_loaded (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  SquintPdfPicker *self = SQUINT_PDF_PICKER (object);
  g_autoptr(GError) error = NULL;
  Doc *d = g_task_propagate_pointer (G_TASK (result), &error);

  if (d == NULL)
    {
      fail (self, error);
      return;
    }
  self->doc = d;
  self->n_pages = poppler_document_get_n_pages (d->doc);
  if (self->n_pages == 0)
    {
      g_autoptr(GError) empty = g_error_new_literal (SQUINT_ERROR, SQUINT_ERROR_IMAGE, _("The document has no pages"));

      fail (self, empty);
      return;
    }
  if (self->n_pages == 1)
    {
      int zero = 0;

      g_array_append_val (self->queue, zero);
      attach_next (self);
      return;
    }
  show_pages (self);
}

static void
doc_thread (GTask        *task,
            gpointer      source_object,
            gpointer      task_data,
            GCancellable *cancellable)
{
  GFile *file = task_data;
  g_autoptr(GBytes) bytes = NULL;
  GError *error = NULL;
  PopplerDocument *pdoc;
  Doc *d;

  if (!(bytes = g_file_load_bytes (file, cancellable, NULL, &error)))
    {
      g_task_return_error (task, error);
      return;
    }
  if (!(pdoc = poppler_document_new_from_bytes (bytes, NULL, &error)))
    {
      g_autofree char *base = g_file_get_basename (file);

      g_task_return_new_error (task, SQUINT_ERROR, SQUINT_ERROR_IMAGE,
                               _("“%s” could not be opened: %s"), base, error->message);
      g_error_free (error);
      return;
    }
  d = g_atomic_rc_box_new0 (Doc);
  g_mutex_init (&d->lock);
  d->doc = pdoc;
  g_task_return_pointer (task, d, (GDestroyNotify)doc_unref);
}

/* ---- the class ---- */

static gboolean
squint_pdf_picker_close_request (GtkWindow *window)
{
  SquintPdfPicker *self = SQUINT_PDF_PICKER (window);

  if (!self->done)
    {
      self->done = TRUE;
      g_cancellable_cancel (self->cancellable);
      g_signal_emit (self, signals[SIGNAL_DONE], 0);
    }
  return GTK_WINDOW_CLASS (squint_pdf_picker_parent_class)->close_request (window);
}

static void
squint_pdf_picker_dispose (GObject *object)
{
  SquintPdfPicker *self = (SquintPdfPicker *)object;

  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  gtk_widget_dispose_template (GTK_WIDGET (self), SQUINT_TYPE_PDF_PICKER);

  G_OBJECT_CLASS (squint_pdf_picker_parent_class)->dispose (object);
}

static void
squint_pdf_picker_finalize (GObject *object)
{
  SquintPdfPicker *self = (SquintPdfPicker *)object;

  g_clear_object (&self->file);
  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->doc, doc_unref);
  g_clear_pointer (&self->store_dir, g_free);
  g_clear_pointer (&self->queue, g_array_unref);

  G_OBJECT_CLASS (squint_pdf_picker_parent_class)->finalize (object);
}

static void
squint_pdf_picker_class_init (SquintPdfPickerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  GtkWindowClass *window_class = GTK_WINDOW_CLASS (klass);

  object_class->dispose = squint_pdf_picker_dispose;
  object_class->finalize = squint_pdf_picker_finalize;
  window_class->close_request = squint_pdf_picker_close_request;

  /**
   * SquintPdfPicker::image:
   *
   * A chosen page, rendered.
   */
  signals[SIGNAL_IMAGE] = g_signal_new ("image", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                        NULL, NULL, NULL, G_TYPE_NONE, 1, SQUINT_TYPE_IMAGE);
  signals[SIGNAL_FAILED] = g_signal_new ("failed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                         NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
  signals[SIGNAL_DONE] = g_signal_new ("done", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                       NULL, NULL, NULL, G_TYPE_NONE, 0);

  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/squint/Squint/squint-pdf-picker.ui");
  gtk_widget_class_bind_template_child (widget_class, SquintPdfPicker, window_title);
  gtk_widget_class_bind_template_child (widget_class, SquintPdfPicker, attach_button);
  gtk_widget_class_bind_template_child (widget_class, SquintPdfPicker, pages_box);
  gtk_widget_class_bind_template_callback (widget_class, on_attach_clicked);
  gtk_widget_class_bind_template_callback (widget_class, on_selection_changed);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
}

static void
squint_pdf_picker_init (SquintPdfPicker *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->cancellable = g_cancellable_new ();
  self->queue = g_array_new (FALSE, FALSE, sizeof (int));
}

SquintPdfPicker *
squint_pdf_picker_new (GtkWindow  *parent,
                       GFile      *file,
                       const char *store_dir)
{
  SquintPdfPicker *self;

  g_return_val_if_fail (G_IS_FILE (file), NULL);

  self = g_object_new (SQUINT_TYPE_PDF_PICKER,
                       "transient-for", parent,
                       NULL);
  self->file = g_object_ref (file);
  self->store_dir = g_strdup (store_dir);
  return self;
}

void
squint_pdf_picker_open (SquintPdfPicker *self)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (SQUINT_IS_PDF_PICKER (self));

  task = g_task_new (self, self->cancellable, doc_loaded, NULL);
  g_task_set_source_tag (task, squint_pdf_picker_open);
  g_task_set_task_data (task, g_object_ref (self->file), g_object_unref);
  g_task_run_in_thread (task, doc_thread);
}

guint
squint_pdf_picker_get_n_pages (SquintPdfPicker *self)
{
  g_return_val_if_fail (SQUINT_IS_PDF_PICKER (self), 0);

  return self->n_pages;
}

void
squint_pdf_picker_select_all (SquintPdfPicker *self)
{
  g_return_if_fail (SQUINT_IS_PDF_PICKER (self));

  gtk_flow_box_select_all (self->pages_box);
}

gboolean
squint_pdf_is_pdf (GFile *file)
{
  g_autofree char *name = NULL;
  g_autofree char *type = NULL;

  g_return_val_if_fail (G_IS_FILE (file), FALSE);

  name = g_file_get_basename (file);
  type = g_content_type_guess (name, NULL, 0, NULL);
  return g_content_type_is_a (type, "application/pdf");
}
