/* squint-pdf-picker.h — PDF pages as images: one page is attached right
 * away; for longer documents a window shows the pages to choose from.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <adwaita.h>

#include "squint-image.h"

G_BEGIN_DECLS

#define SQUINT_TYPE_PDF_PICKER (squint_pdf_picker_get_type ())

G_DECLARE_FINAL_TYPE (SquintPdfPicker, squint_pdf_picker, SQUINT, PDF_PICKER, AdwWindow)

/* The longest side of a rendered page, in pixels. */
#define SQUINT_PDF_MAX_SIDE 2048

SquintPdfPicker *squint_pdf_picker_new             (GtkWindow       *parent,
                                                    GFile           *file,
                                                    const char      *store_dir);
/* Reads the document; emits ::image for each page chosen, ::failed on
 * errors, ::done at the end. */
void             squint_pdf_picker_open            (SquintPdfPicker *self);
guint            squint_pdf_picker_get_n_pages     (SquintPdfPicker *self);
/* Attaches the selected pages (what the Attach button does). */
void             squint_pdf_picker_attach_selected (SquintPdfPicker *self);
void             squint_pdf_picker_select_all      (SquintPdfPicker *self);
gboolean         squint_pdf_is_pdf                 (GFile           *file);

G_END_DECLS
