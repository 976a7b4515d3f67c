/* squint-error.c
 *
 * SPDX-License-Identifier: MIT
 */
#define G_LOG_DOMAIN "squint-error"

#include "squint-config.h"

#include <gio/gio.h>

#include "squint-error.h"

G_DEFINE_QUARK (squint-error-quark, squint_error)

/* Turns the engine's status and message into a GError; an abort becomes
 * G_IO_ERROR_CANCELLED so callers treat it like any cancelled operation. */
void
squint_set_sq_error (GError         **error,
                     SquintError      code,
                     const sq_error  *err)
{
  g_return_if_fail (err != NULL);

  if (err->status == SQ_ERR_ABORTED)
    g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CANCELLED, err->msg);
  else if (err->msg[0] != '\0')
    g_set_error_literal (error, SQUINT_ERROR, code, err->msg);
  else
    g_set_error_literal (error, SQUINT_ERROR, code, sq_status_string (err->status));
}
