/* image-source.h — the bytes of an image_url: a data: URL decoded, or an
 * http(s) URL fetched, each within a size limit (and a time limit).
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <libsoup/soup.h>

G_BEGIN_DECLS

/* data:[<mediatype>][;base64],<data>; the media type, when given, must be an
 * image type.  SQUINT_API_ERROR_INVALID or _TOO_LARGE. */
GBytes *squint_data_url_decode (const char  *url,
                                gsize        max_bytes,
                                GError     **error);

/* Fetches url with session; fails past max_bytes or timeout_s seconds. */
void    squint_image_fetch_async  (SoupSession         *session,
                                   const char          *url,
                                   gsize                max_bytes,
                                   guint                timeout_s,
                                   GCancellable        *cancellable,
                                   GAsyncReadyCallback  callback,
                                   gpointer             user_data);
GBytes *squint_image_fetch_finish (GAsyncResult        *result,
                                   GError             **error);

G_END_DECLS
