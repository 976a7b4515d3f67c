/* squint-error.h — the desktop app's GError domain.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <glib.h>

#include "status.h"

G_BEGIN_DECLS

#define SQUINT_ERROR (squint_error_quark ())

typedef enum
{
  SQUINT_ERROR_FAILED,        /* anything else */
  SQUINT_ERROR_NO_MODEL,      /* asked before a model was loaded */
  SQUINT_ERROR_MODEL,         /* the engine refused a model file */
  SQUINT_ERROR_IMAGE,         /* an image could not be read or decoded */
  SQUINT_ERROR_ENGINE,        /* the engine failed while answering */
  SQUINT_ERROR_HISTORY,       /* the history database failed */
  SQUINT_ERROR_BUSY,          /* a question is already being answered */
} SquintError;

GQuark squint_error_quark   (void);
void   squint_set_sq_error  (GError         **error,
                             SquintError      code,
                             const sq_error  *err);

G_END_DECLS
