/* download.c — see download.h.
 *
 * SPDX-License-Identifier: MIT
 */
#include "download.h"

#include <json-glib/json-glib.h>
#include <string.h>

G_DEFINE_QUARK (squint-download-error-quark, squint_download_error)

#define CHUNK (256 * 1024)
#define SPACE_MARGIN ((guint64)16 << 20)

typedef struct
{
  SoupSession            *session;
  char                   *url;
  GFile                  *dest, *part;
  SquintDownloadProgress  progress;
  gpointer                progress_data;
  guint64                 offset;      /* bytes of .part kept from before */
  guint64                 received;    /* bytes of the file on disk now */
  guint64                 total;       /* 0: unknown */
  char                   *sha256;      /* what the server says the file's hash is, or NULL */
  gboolean                restarted;
  GInputStream           *in;
  GOutputStream          *out;
  guint8                 *buf;
} Download;

static void
download_free (gpointer data)
{
  Download *d = data;

  g_object_unref (d->session);
  g_free (d->url);
  g_object_unref (d->dest);
  g_object_unref (d->part);
  g_free (d->sha256);
  g_clear_object (&d->in);
  g_clear_object (&d->out);
  g_free (d->buf);
  g_free (d);
}

static void
fail (GTask *task,
      GError *error)
{
  Download *d = g_task_get_task_data (task);

  if (d->out != NULL)
    g_output_stream_close (d->out, NULL, NULL);
  g_task_return_error (task, error);
  g_object_unref (task);
}

/* A SHA-256 the response names: a 64-hex (X-Linked-)ETag, or Digest/Repr-Digest sha-256. */
static char *
named_sha256 (SoupMessageHeaders *h)
{
  const char *names[] = { "X-Linked-Etag", "ETag" };

  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    {
      const char *v = soup_message_headers_get_one (h, names[i]);
      g_autofree char *tag = NULL;
      gsize n;

      if (v == NULL)
        continue;
      if (g_str_has_prefix (v, "W/"))
        continue;   /* a weak tag says nothing about the bytes */
      tag = g_strdup (v);
      g_strstrip (tag);
      if (tag[0] == '"')
        memmove (tag, tag + 1, strlen (tag));
      n = strlen (tag);
      if (n > 0 && tag[n - 1] == '"')
        tag[--n] = '\0';
      if (n == 64 && strspn (tag, "0123456789abcdefABCDEF") == 64)
        return g_ascii_strdown (tag, -1);
    }
  for (gsize i = 0; i < 2; i++)
    {
      const char *v = soup_message_headers_get_one (h, i == 0 ? "Digest" : "Repr-Digest");
      const char *p;

      if (v != NULL && (p = strstr (v, "sha-256=")) != NULL)
        {
          g_autofree char *b64 = g_strdup (p + 8);
          char *end = strpbrk (b64, ",; ");
          gsize len = 0;
          g_autofree guchar *raw = NULL;
          GString *hex;

          if (end != NULL)
            *end = '\0';
          if (b64[0] == ':')   /* RFC 9530 byte sequence :base64: */
            {
              memmove (b64, b64 + 1, strlen (b64));
              if ((end = strchr (b64, ':')) != NULL)
                *end = '\0';
            }
          raw = g_base64_decode (b64, &len);
          if (len != 32)
            continue;
          hex = g_string_new (NULL);
          for (gsize k = 0; k < 32; k++)
            g_string_append_printf (hex, "%02x", raw[k]);
          return g_string_free (hex, FALSE);
        }
    }
  return NULL;
}

static void start_request (GTask *task);
static void read_next (GTask *task);

static void
verified (GObject      *source,
          GAsyncResult *result,
          gpointer      data)
{
  GTask *task = data;
  Download *d = g_task_get_task_data (task);
  GError *error = NULL;

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      if (g_error_matches (error, SQUINT_DOWNLOAD_ERROR, SQUINT_DOWNLOAD_ERROR_CHECKSUM))
        g_file_delete (d->part, NULL, NULL);
      fail (task, error);
      return;
    }
  if (!g_file_move (d->part, d->dest, G_FILE_COPY_OVERWRITE, NULL, NULL, NULL, &error))
    {
      fail (task, g_error_new (SQUINT_DOWNLOAD_ERROR, SQUINT_DOWNLOAD_ERROR_DISK, "Could not put the file in place: %s",
                               error->message));
      g_error_free (error);
      return;
    }
  g_task_return_boolean (task, TRUE);
  g_object_unref (task);
}

/* Hashes the finished .part off the main thread. */
static void
hash_thread (GTask        *task,
             gpointer      source,
             gpointer      data,
             GCancellable *cancellable)
{
  Download *d = data;
  g_autoptr(GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  g_autoptr(GError) error = NULL;
  g_autoptr(GFileInputStream) in = g_file_read (d->part, cancellable, &error);
  g_autofree guint8 *buf = g_malloc (CHUNK);
  gssize n;

  if (in == NULL)
    {
      g_task_return_new_error (task, SQUINT_DOWNLOAD_ERROR, SQUINT_DOWNLOAD_ERROR_DISK, "%s", error->message);
      return;
    }
  while ((n = g_input_stream_read (G_INPUT_STREAM (in), buf, CHUNK, cancellable, &error)) > 0)
    g_checksum_update (sum, buf, n);
  if (n < 0)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  if (g_ascii_strcasecmp (g_checksum_get_string (sum), d->sha256) != 0)
    {
      g_task_return_new_error (task, SQUINT_DOWNLOAD_ERROR, SQUINT_DOWNLOAD_ERROR_CHECKSUM,
                               "The downloaded file is damaged: its SHA-256 is %s, the server said %s",
                               g_checksum_get_string (sum), d->sha256);
      return;
    }
  g_task_return_boolean (task, TRUE);
}

static void
complete (GTask *task)
{
  Download *d = g_task_get_task_data (task);
  GTask *hash;

  g_output_stream_close (d->out, NULL, NULL);
  g_clear_object (&d->out);
  if (d->total > 0 && d->received != d->total)
    {
      fail (task, g_error_new (SQUINT_DOWNLOAD_ERROR, SQUINT_DOWNLOAD_ERROR_NETWORK,
                               "The connection closed early (%" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT
                               " bytes); run the download again to continue", d->received, d->total));
      return;
    }
  hash = g_task_new (NULL, g_task_get_cancellable (task), verified, task);
  g_task_set_task_data (hash, d, NULL);
  if (d->sha256 == NULL)
    {
      g_task_return_boolean (hash, TRUE);
      g_object_unref (hash);
      return;
    }
  g_task_run_in_thread (hash, hash_thread);
  g_object_unref (hash);
}

static void
written (GObject      *source,
         GAsyncResult *result,
         gpointer      data)
{
  GTask *task = data;
  Download *d = g_task_get_task_data (task);
  GError *error = NULL;
  gsize n = 0;

  if (!g_output_stream_write_all_finish (G_OUTPUT_STREAM (source), result, &n, &error))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          GError *e = g_error_new (SQUINT_DOWNLOAD_ERROR, SQUINT_DOWNLOAD_ERROR_DISK, "Writing %s failed: %s",
                                   g_file_peek_path (d->part), error->message);

          g_error_free (error);
          error = e;
        }
      fail (task, error);
      return;
    }
  d->received += n;
  if (d->progress != NULL)
    d->progress (d->received, d->total, d->progress_data);
  read_next (task);
}

static void
got_chunk (GObject      *source,
           GAsyncResult *result,
           gpointer      data)
{
  GTask *task = data;
  Download *d = g_task_get_task_data (task);
  GError *error = NULL;
  gssize n = g_input_stream_read_finish (G_INPUT_STREAM (source), result, &error);

  if (n < 0)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          GError *e = g_error_new (SQUINT_DOWNLOAD_ERROR, SQUINT_DOWNLOAD_ERROR_NETWORK,
                                   "The download broke off after %" G_GUINT64_FORMAT " bytes (%s); run it again to "
                                   "continue", d->received, error->message);

          g_error_free (error);
          error = e;
        }
      fail (task, error);
      return;
    }
  if (n == 0)
    {
      complete (task);
      return;
    }
  g_output_stream_write_all_async (d->out, d->buf, n, G_PRIORITY_DEFAULT, g_task_get_cancellable (task), written, task);
}

static void
read_next (GTask *task)
{
  Download *d = g_task_get_task_data (task);

  g_input_stream_read_async (d->in, d->buf, CHUNK, G_PRIORITY_DEFAULT, g_task_get_cancellable (task), got_chunk, task);
}

static gboolean
enough_space (Download  *d,
              guint64    need,
              GError   **error)
{
  g_autoptr(GFile) dir = g_file_get_parent (d->dest);
  g_autoptr(GFileInfo) info = g_file_query_filesystem_info (dir, G_FILE_ATTRIBUTE_FILESYSTEM_FREE, NULL, NULL);
  guint64 free_bytes;

  if (info == NULL || !g_file_info_has_attribute (info, G_FILE_ATTRIBUTE_FILESYSTEM_FREE))
    return TRUE;   /* cannot tell: writing will say */
  free_bytes = g_file_info_get_attribute_uint64 (info, G_FILE_ATTRIBUTE_FILESYSTEM_FREE);
  if (free_bytes >= need + SPACE_MARGIN)
    return TRUE;
  g_set_error (error, SQUINT_DOWNLOAD_ERROR, SQUINT_DOWNLOAD_ERROR_DISK,
               "Not enough disk space in %s: the download needs %" G_GUINT64_FORMAT " MB more, %" G_GUINT64_FORMAT
               " MB are free", g_file_peek_path (dir), (need + SPACE_MARGIN) >> 20, free_bytes >> 20);
  return FALSE;
}

/* "bytes START-END/TOTAL" → start and total (total 0 when "*"). */
static gboolean
parse_content_range (const char *v,
                     guint64    *start,
                     guint64    *total)
{
  char *end;

  if (v == NULL || !g_str_has_prefix (v, "bytes "))
    return FALSE;
  *start = g_ascii_strtoull (v + 6, &end, 10);
  if (end == v + 6 || (end = strchr (end, '/')) == NULL)
    return FALSE;
  *total = end[1] == '*' ? 0 : g_ascii_strtoull (end + 1, NULL, 10);
  return TRUE;
}

static void
sent (GObject      *source,
      GAsyncResult *result,
      gpointer      data)
{
  GTask *task = data;
  Download *d = g_task_get_task_data (task);
  SoupMessage *msg = soup_session_get_async_result_message (SOUP_SESSION (source), result);
  SoupMessageHeaders *h;
  GError *error = NULL;
  g_autoptr(GInputStream) in = soup_session_send_finish (SOUP_SESSION (source), result, &error);
  guint status;
  guint64 start = 0, total = 0;
  GFileOutputStream *out;

  if (in == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          GError *e = g_error_new (SQUINT_DOWNLOAD_ERROR, SQUINT_DOWNLOAD_ERROR_NETWORK, "Could not reach %s: %s",
                                   d->url, error->message);

          g_error_free (error);
          error = e;
        }
      fail (task, error);
      return;
    }
  status = soup_message_get_status (msg);
  h = soup_message_get_response_headers (msg);
  if (status == 416 && d->offset > 0 && !d->restarted)
    {
      /* the kept part is no prefix of this file any more: start over */
      d->restarted = TRUE;
      d->offset = 0;
      g_file_delete (d->part, NULL, NULL);
      start_request (task);
      return;
    }
  if (status == 206 && parse_content_range (soup_message_headers_get_one (h, "Content-Range"), &start, &total) &&
      start == d->offset)
    d->total = total;
  else if (status == 200)
    {
      d->offset = 0;   /* the server sends it all: begin again */
      d->total = soup_message_headers_get_content_length (h) > 0 ? (guint64)soup_message_headers_get_content_length (h)
                                                                 : 0;
    }
  else
    {
      fail (task, g_error_new (SQUINT_DOWNLOAD_ERROR, SQUINT_DOWNLOAD_ERROR_HTTP, "%s answered HTTP %u %s", d->url,
                               status, soup_message_get_reason_phrase (msg) ?: ""));
      return;
    }
  d->sha256 = named_sha256 (h);
  if (d->total > 0 && !enough_space (d, d->total - d->offset, &error))
    {
      fail (task, error);
      return;
    }
  out = d->offset > 0 ? g_file_append_to (d->part, G_FILE_CREATE_NONE, NULL, &error)
                      : g_file_replace (d->part, NULL, FALSE, G_FILE_CREATE_NONE, NULL, &error);
  if (out == NULL)
    {
      fail (task, g_error_new (SQUINT_DOWNLOAD_ERROR, SQUINT_DOWNLOAD_ERROR_DISK, "Cannot write %s: %s",
                               g_file_peek_path (d->part), error->message));
      g_error_free (error);
      return;
    }
  d->out = G_OUTPUT_STREAM (out);
  d->in = g_steal_pointer (&in);
  d->received = d->offset;
  if (d->progress != NULL)
    d->progress (d->received, d->total, d->progress_data);
  read_next (task);
}

static void
start_request (GTask *task)
{
  Download *d = g_task_get_task_data (task);
  g_autoptr(SoupMessage) msg = soup_message_new (SOUP_METHOD_GET, d->url);

  if (msg == NULL)
    {
      fail (task, g_error_new (SQUINT_DOWNLOAD_ERROR, SQUINT_DOWNLOAD_ERROR_HTTP, "'%s' is not a valid URL", d->url));
      return;
    }
  if (d->offset > 0)
    soup_message_headers_set_range (soup_message_get_request_headers (msg), (goffset)d->offset, -1);
  soup_session_send_async (d->session, msg, G_PRIORITY_DEFAULT, g_task_get_cancellable (task), sent, task);
}

void
squint_download_async (SoupSession            *session,
                       const char             *url,
                       const char             *dest,
                       SquintDownloadProgress  progress,
                       gpointer                progress_data,
                       GCancellable           *cancellable,
                       GAsyncReadyCallback     callback,
                       gpointer                user_data)
{
  GTask *task = g_task_new (NULL, cancellable, callback, user_data);
  Download *d = g_new0 (Download, 1);
  g_autofree char *part = g_strconcat (dest, ".part", NULL);
  g_autoptr(GFileInfo) info = NULL;

  d->session = g_object_ref (session);
  d->url = g_strdup (url);
  d->dest = g_file_new_for_path (dest);
  d->part = g_file_new_for_path (part);
  d->progress = progress;
  d->progress_data = progress_data;
  d->buf = g_malloc (CHUNK);
  g_task_set_task_data (task, d, download_free);
  info = g_file_query_info (d->part, G_FILE_ATTRIBUTE_STANDARD_SIZE, G_FILE_QUERY_INFO_NONE, NULL, NULL);
  if (info != NULL)
    d->offset = (guint64)g_file_info_get_size (info);
  start_request (task);
}

gboolean
squint_download_finish (GAsyncResult  *result,
                        GError       **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* ---- Hugging Face ---- */

typedef struct
{
  char *endpoint, *repo, *quant;
  char *text_url, *mmproj_url;
} Resolve;

static void
resolve_free (gpointer data)
{
  Resolve *r = data;

  g_free (r->endpoint);
  g_free (r->repo);
  g_free (r->quant);
  g_free (r->text_url);
  g_free (r->mmproj_url);
  g_free (r);
}

static gboolean
contains_ci (const char *s,
             const char *what)
{
  g_autofree char *a = g_ascii_strdown (s, -1);
  g_autofree char *b = g_ascii_strdown (what, -1);

  return strstr (a, b) != NULL;
}

static char *
file_url (Resolve    *r,
          const char *file)
{
  g_autofree char *escaped = g_uri_escape_string (file, "/", FALSE);

  return g_strdup_printf ("%s/%s/resolve/main/%s", r->endpoint, r->repo, escaped);
}

static void
got_listing (GObject      *source,
             GAsyncResult *result,
             gpointer      data)
{
  GTask *task = data;
  Resolve *r = g_task_get_task_data (task);
  SoupMessage *msg = soup_session_get_async_result_message (SOUP_SESSION (source), result);
  GError *error = NULL;
  g_autoptr(GBytes) body = soup_session_send_and_read_finish (SOUP_SESSION (source), result, &error);
  g_autoptr(JsonParser) p = json_parser_new ();
  const char *text = NULL, *fallback = NULL, *mmproj = NULL;
  JsonNode *root, *sib;
  JsonArray *files;

  if (body == NULL)
    {
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }
  if (soup_message_get_status (msg) != 200)
    {
      g_task_return_new_error (task, SQUINT_DOWNLOAD_ERROR, SQUINT_DOWNLOAD_ERROR_NOT_FOUND,
                               "The repository %s was not found (HTTP %u)", r->repo, soup_message_get_status (msg));
      g_object_unref (task);
      return;
    }
  if (!json_parser_load_from_data (p, g_bytes_get_data (body, NULL), g_bytes_get_size (body), NULL) ||
      (root = json_parser_get_root (p)) == NULL || !JSON_NODE_HOLDS_OBJECT (root) ||
      (sib = json_object_get_member (json_node_get_object (root), "siblings")) == NULL || !JSON_NODE_HOLDS_ARRAY (sib))
    {
      g_task_return_new_error (task, SQUINT_DOWNLOAD_ERROR, SQUINT_DOWNLOAD_ERROR_NOT_FOUND,
                               "The repository listing of %s is not what Hugging Face sends", r->repo);
      g_object_unref (task);
      return;
    }
  files = json_node_get_array (sib);
  for (guint i = 0; i < json_array_get_length (files); i++)
    {
      JsonNode *e = json_array_get_element (files, i);
      const char *name = JSON_NODE_HOLDS_OBJECT (e)
                           ? json_object_get_string_member_with_default (json_node_get_object (e), "rfilename", NULL)
                           : NULL;

      if (name == NULL || !g_str_has_suffix (name, ".gguf"))
        continue;
      if (contains_ci (name, "mmproj"))
        {
          if (mmproj == NULL || (contains_ci (name, "f16") && !contains_ci (mmproj, "f16")))
            mmproj = name;
        }
      else if (text == NULL && contains_ci (name, r->quant))
        text = name;
      else if (fallback == NULL)
        fallback = name;
    }
  if (text == NULL)
    text = fallback;
  if (text == NULL)
    {
      g_task_return_new_error (task, SQUINT_DOWNLOAD_ERROR, SQUINT_DOWNLOAD_ERROR_NOT_FOUND,
                               "The repository %s holds no GGUF model", r->repo);
      g_object_unref (task);
      return;
    }
  r->text_url = file_url (r, text);
  r->mmproj_url = mmproj ? file_url (r, mmproj) : NULL;
  g_task_return_boolean (task, TRUE);
  g_object_unref (task);
}

void
squint_hf_resolve_async (SoupSession          *session,
                         const char           *endpoint,
                         const char           *repo,
                         const char           *quant,
                         GCancellable         *cancellable,
                         GAsyncReadyCallback   callback,
                         gpointer              user_data)
{
  GTask *task = g_task_new (NULL, cancellable, callback, user_data);
  Resolve *r = g_new0 (Resolve, 1);
  g_autofree char *api = NULL;
  g_autoptr(SoupMessage) msg = NULL;

  if (endpoint == NULL)
    endpoint = g_getenv ("HF_ENDPOINT") ? g_getenv ("HF_ENDPOINT") : "https://huggingface.co";
  r->endpoint = g_strdup (endpoint);
  while (g_str_has_suffix (r->endpoint, "/"))
    r->endpoint[strlen (r->endpoint) - 1] = '\0';
  r->repo = g_strdup (repo);
  r->quant = g_strdup (quant ? quant : "Q4_K_M");
  g_task_set_task_data (task, r, resolve_free);
  if (strchr (repo, '/') == NULL || strstr (repo, "..") != NULL || strchr (repo, ' ') != NULL)
    {
      g_task_return_new_error (task, SQUINT_DOWNLOAD_ERROR, SQUINT_DOWNLOAD_ERROR_NOT_FOUND,
                               "'%s' is not a repository name (owner/name)", repo);
      g_object_unref (task);
      return;
    }
  api = g_strdup_printf ("%s/api/models/%s", r->endpoint, repo);
  msg = soup_message_new (SOUP_METHOD_GET, api);
  if (msg == NULL)
    {
      g_task_return_new_error (task, SQUINT_DOWNLOAD_ERROR, SQUINT_DOWNLOAD_ERROR_HTTP, "Bad endpoint %s", r->endpoint);
      g_object_unref (task);
      return;
    }
  soup_session_send_and_read_async (session, msg, G_PRIORITY_DEFAULT, cancellable, got_listing, task);
}

gboolean
squint_hf_resolve_finish (GAsyncResult  *result,
                          char         **text_url,
                          char         **mmproj_url,
                          GError       **error)
{
  Resolve *r = g_task_get_task_data (G_TASK (result));

  if (!g_task_propagate_boolean (G_TASK (result), error))
    return FALSE;
  *text_url = g_strdup (r->text_url);
  *mmproj_url = g_strdup (r->mmproj_url);
  return TRUE;
}
