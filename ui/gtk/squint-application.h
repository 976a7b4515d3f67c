/* squint-application.h — the app: settings, the engine, the history, and
 * application-wide actions (preferences, about, models, quit).
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <adwaita.h>

#include "squint-engine.h"
#include "squint-history.h"

G_BEGIN_DECLS

#define SQUINT_TYPE_APPLICATION (squint_application_get_type ())

G_DECLARE_FINAL_TYPE (SquintApplication, squint_application, SQUINT, APPLICATION, AdwApplication)

SquintApplication *squint_application_new             (void);
GSettings         *squint_application_get_settings    (SquintApplication *self);
SquintEngine      *squint_application_get_engine      (SquintApplication *self);
/* NULL when the history could not be opened (see _get_history_error()). */
SquintHistory     *squint_application_get_history     (SquintApplication *self);
const char        *squint_application_get_history_error (SquintApplication *self);
GMenuModel        *squint_application_get_model_menu  (SquintApplication *self);
/* Where images are copied: the history's folder, or a temporary one. */
const char        *squint_application_get_images_dir  (SquintApplication *self);
/* Makes text + mmproj the configured model and adds it to the menu. */
void               squint_application_use_model       (SquintApplication *self,
                                                       const char        *text_path,
                                                       const char        *mmproj_path);
/* The built-in demo model (NULL when not installed); *mmproj gets its vision GGUF. */
char              *squint_application_dup_demo_model  (char             **mmproj);

G_END_DECLS
