/* squint-file-chooser.h — opening files and choosing folders with the
 * portal-friendly chooser of the GTK at hand: GtkFileDialog (GTK ≥ 4.10) or
 * GtkFileChooserNative (GTK 4.8).
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

typedef enum
{
  SQUINT_CHOOSE_FILE,
  SQUINT_CHOOSE_FILES,
  SQUINT_CHOOSE_FOLDER,
} SquintChooseMode;

/* filters: a GListModel of GtkFileFilter, may be NULL. */
void        squint_file_chooser_run    (GtkWindow            *parent,
                                        const char           *title,
                                        SquintChooseMode      mode,
                                        GListModel           *filters,
                                        GCancellable         *cancellable,
                                        GAsyncReadyCallback   callback,
                                        gpointer              user_data);
/* A GListModel of GFile; NULL with G_IO_ERROR_CANCELLED when dismissed. */
GListModel *squint_file_chooser_finish (GAsyncResult         *result,
                                        GError              **error);

G_END_DECLS
