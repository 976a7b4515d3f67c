/* image-source.c — see image-source.h.
 *
 * SPDX-License-Identifier: MIT
 */
#include "image-source.h"

#include <string.h>

#include "openai-request.h"

static gboolean
is_base64_text (const char *s,
                gsize       n)
{
  for (gsize i = 0; i < n; i++)
    if (!g_ascii_isalnum (s[i]) && s[i] != '+' && s[i] != '/' && s[i] != '=' && !g_ascii_isspace (s[i]))
      return FALSE;
  return TRUE;
}

GBytes *
squint_data_url_decode (const char  *url,
                        gsize        max_bytes,
                        GError     **error)
{
  const char *comma, *meta;
  gboolean base64;
  gsize meta_len, data_len;

  if (!g_str_has_prefix (url, "data:") || (comma = strchr (url, ',')) == NULL)
    {
      g_set_error_literal (error, SQUINT_API_ERROR, SQUINT_API_ERROR_INVALID,
                           "A data: URL must read data:[<media type>][;base64],<data>");
      return NULL;
    }
  meta = url + 5;
  meta_len = comma - meta;
  base64 = meta_len >= 7 && g_ascii_strncasecmp (comma - 7, ";base64", 7) == 0;
  if (meta_len > 0 && meta[0] != ';' && g_ascii_strncasecmp (meta, "image/", 6) != 0)
    {
      g_set_error (error, SQUINT_API_ERROR, SQUINT_API_ERROR_INVALID,
                   "The data: URL holds %.*s, not an image", (int)MIN (meta_len, 40), meta);
      return NULL;
    }
  data_len = strlen (comma + 1);
  if ((base64 ? data_len / 4 * 3 : data_len) > max_bytes)
    {
      g_set_error (error, SQUINT_API_ERROR, SQUINT_API_ERROR_TOO_LARGE,
                   "The image is larger than the limit of %" G_GSIZE_FORMAT " bytes", max_bytes);
      return NULL;
    }
  if (base64)
    {
      gsize n = 0;
      guchar *bytes;

      if (!is_base64_text (comma + 1, data_len) || data_len == 0)
        {
          g_set_error_literal (error, SQUINT_API_ERROR, SQUINT_API_ERROR_INVALID,
                               "The data: URL's base64 text is malformed");
          return NULL;
        }
      bytes = g_base64_decode (comma + 1, &n);
      return g_bytes_new_take (bytes, n);
    }
  return g_uri_unescape_bytes (comma + 1, -1, NULL, error);
}

/* ---- http(s) ---- */

typedef struct
{
  GByteArray   *data;
  gsize         max_bytes;
  GCancellable *cancellable;   /* ours: the caller's, or the time limit */
  guint         timeout_id;
  gulong        chained_id;
  GCancellable *caller;
  gboolean      timed_out;
} Fetch;

static void
fetch_free (gpointer p)
{
  Fetch *f = p;

  if (f->timeout_id)
    g_source_remove (f->timeout_id);
  if (f->caller != NULL)
    g_cancellable_disconnect (f->caller, f->chained_id);
  g_clear_object (&f->caller);
  g_clear_object (&f->cancellable);
  g_byte_array_unref (f->data);
  g_free (f);
}

static gboolean
fetch_timed_out (gpointer data)
{
  Fetch *f = data;

  f->timeout_id = 0;
  f->timed_out = TRUE;
  g_cancellable_cancel (f->cancellable);
  return G_SOURCE_REMOVE;
}

static void
chain_cancel (GCancellable *caller,
              gpointer      data)
{
  g_cancellable_cancel (G_CANCELLABLE (data));
}

static void
fetch_fail (GTask  *task,
            GError *error)
{
  Fetch *f = g_task_get_task_data (task);

  if (f->timed_out && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_clear_error (&error);
      error = g_error_new_literal (SQUINT_API_ERROR, SQUINT_API_ERROR_INVALID, "Fetching the image timed out");
    }
  else if (error->domain != SQUINT_API_ERROR && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      GError *e = g_error_new (SQUINT_API_ERROR, SQUINT_API_ERROR_INVALID, "The image could not be fetched: %s",
                               error->message);

      g_clear_error (&error);
      error = e;
    }
  g_task_return_error (task, error);
  g_object_unref (task);
}

static void read_more (GTask *task, GInputStream *in);

static void
got_bytes (GObject      *source,
           GAsyncResult *result,
           gpointer      data)
{
  GTask *task = data;
  Fetch *f = g_task_get_task_data (task);
  GError *error = NULL;
  g_autoptr(GBytes) chunk = g_input_stream_read_bytes_finish (G_INPUT_STREAM (source), result, &error);

  if (chunk == NULL)
    {
      fetch_fail (task, error);
      return;
    }
  if (g_bytes_get_size (chunk) == 0)
    {
      g_task_return_pointer (task, g_byte_array_free_to_bytes (g_byte_array_ref (f->data)),
                             (GDestroyNotify)g_bytes_unref);
      g_object_unref (task);
      return;
    }
  if (f->data->len + g_bytes_get_size (chunk) > f->max_bytes)
    {
      fetch_fail (task, g_error_new (SQUINT_API_ERROR, SQUINT_API_ERROR_TOO_LARGE,
                                     "The image at the URL is larger than the limit of %" G_GSIZE_FORMAT " bytes",
                                     f->max_bytes));
      return;
    }
  g_byte_array_append (f->data, g_bytes_get_data (chunk, NULL), g_bytes_get_size (chunk));
  read_more (task, G_INPUT_STREAM (source));
}

static void
read_more (GTask        *task,
           GInputStream *in)
{
  Fetch *f = g_task_get_task_data (task);

  g_input_stream_read_bytes_async (in, 64 * 1024, G_PRIORITY_DEFAULT, f->cancellable, got_bytes, task);
}

static void
sent (GObject      *source,
      GAsyncResult *result,
      gpointer      data)
{
  GTask *task = data;
  Fetch *f = g_task_get_task_data (task);
  SoupMessage *msg = g_object_get_data (G_OBJECT (task), "message");
  GError *error = NULL;
  g_autoptr(GInputStream) in = soup_session_send_finish (SOUP_SESSION (source), result, &error);
  guint status;
  goffset length;

  if (in == NULL)
    {
      fetch_fail (task, error);
      return;
    }
  status = soup_message_get_status (msg);
  if (status < 200 || status >= 300)
    {
      fetch_fail (task, g_error_new (SQUINT_API_ERROR, SQUINT_API_ERROR_INVALID,
                                     "Fetching the image failed: HTTP %u %s", status,
                                     soup_message_get_reason_phrase (msg) ?: ""));
      return;
    }
  length = soup_message_headers_get_content_length (soup_message_get_response_headers (msg));
  if (length > 0 && (guint64)length > f->max_bytes)
    {
      fetch_fail (task, g_error_new (SQUINT_API_ERROR, SQUINT_API_ERROR_TOO_LARGE,
                                     "The image at the URL is larger than the limit of %" G_GSIZE_FORMAT " bytes",
                                     f->max_bytes));
      return;
    }
  read_more (task, in);
}

void
squint_image_fetch_async (SoupSession         *session,
                          const char          *url,
                          gsize                max_bytes,
                          guint                timeout_s,
                          GCancellable        *cancellable,
                          GAsyncReadyCallback  callback,
                          gpointer             user_data)
{
  GTask *task = g_task_new (NULL, cancellable, callback, user_data);
  Fetch *f = g_new0 (Fetch, 1);
  g_autoptr(GError) error = NULL;
  g_autoptr(GUri) uri = NULL;
  SoupMessage *msg;

  f->data = g_byte_array_new ();
  f->max_bytes = max_bytes;
  f->cancellable = g_cancellable_new ();
  g_task_set_task_data (task, f, fetch_free);
  if (cancellable != NULL)
    {
      f->caller = g_object_ref (cancellable);
      f->chained_id = g_cancellable_connect (cancellable, G_CALLBACK (chain_cancel), f->cancellable, NULL);
    }
  f->timeout_id = g_timeout_add_seconds (timeout_s, fetch_timed_out, f);
  uri = g_uri_parse (url, G_URI_FLAGS_NONE, &error);
  if (uri == NULL || g_uri_get_host (uri) == NULL)
    {
      fetch_fail (task, g_error_new (SQUINT_API_ERROR, SQUINT_API_ERROR_INVALID, "Bad image URL: %s",
                                     error ? error->message : url));
      return;
    }
  msg = soup_message_new_from_uri (SOUP_METHOD_GET, uri);
  g_object_set_data_full (G_OBJECT (task), "message", msg, g_object_unref);
  soup_session_send_async (session, msg, G_PRIORITY_DEFAULT, f->cancellable, sent, task);
}

GBytes *
squint_image_fetch_finish (GAsyncResult  *result,
                           GError       **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}
