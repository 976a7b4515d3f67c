/* squint-model-dialog.h — "Add Model": pick a text GGUF and its mmproj, or
 * download them (built with libsoup), validated by loading them.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <adwaita.h>

#include "squint-application.h"

G_BEGIN_DECLS

#define SQUINT_TYPE_MODEL_DIALOG (squint_model_dialog_get_type ())

G_DECLARE_FINAL_TYPE (SquintModelDialog, squint_model_dialog, SQUINT, MODEL_DIALOG, AdwWindow)

SquintModelDialog *squint_model_dialog_new       (GtkWindow         *parent,
                                                  SquintApplication *app);
/* Sets the files without choosers (tests, command line). */
void               squint_model_dialog_set_files (SquintModelDialog *self,
                                                  GFile             *text,
                                                  GFile             *mmproj);
/* Loads the model; on success it becomes the configured one. */
void               squint_model_dialog_add       (SquintModelDialog *self);

G_END_DECLS
