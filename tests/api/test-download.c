/* test-download.c — model downloads against a local libsoup server: a
 * transfer cut off mid-file and resumed with a Range request, the server's
 * SHA-256 checked (a wrong one removes the partial file), a kept part that
 * no longer fits restarted, HTTP errors, and Hugging Face repository
 * listings resolved to the GGUF and its mmproj. */
#include <glib/gstdio.h>
#include <string.h>

#include "download.h"

#define SIZE (3 * 1024 * 1024 + 123)

typedef struct
{
  guint8  *data;
  char    *sha256;
  int      requests;
  gint64   last_range_start;   /* -1: none */
  gboolean cut_next;           /* send a third of the file, then drop the connection */
} Files;

static Files files;
static char *base_url;
static char *tmpdir;

static gboolean
drop_connection (gpointer data)
{
  SoupServerMessage *msg = data;
  GIOStream *io = soup_server_message_steal_connection (msg);

  g_io_stream_close (io, NULL, NULL);
  g_object_unref (io);
  g_object_unref (msg);
  return G_SOURCE_REMOVE;
}

static void
serve_file (SoupServerMessage *msg,
            const char        *etag)
{
  SoupMessageHeaders *req = soup_server_message_get_request_headers (msg);
  SoupMessageHeaders *resp = soup_server_message_get_response_headers (msg);
  SoupRange *ranges = NULL;
  int n = 0;
  goffset start = 0;

  files.last_range_start = -1;
  if (soup_message_headers_get_ranges (req, SIZE, &ranges, &n) && n == 1)
    {
      start = ranges[0].start;
      files.last_range_start = start;
      soup_message_headers_free_ranges (req, ranges);
      if (start >= SIZE)
        {
          soup_server_message_set_status (msg, 416, NULL);
          return;
        }
      soup_server_message_set_status (msg, 206, NULL);
      soup_message_headers_set_content_range (resp, start, SIZE - 1, SIZE);
    }
  else
    soup_server_message_set_status (msg, 200, NULL);
  soup_message_headers_replace (resp, "X-Linked-Etag", etag);
  if (files.cut_next)
    {
      /* promise it all, send a third, hang up */
      files.cut_next = FALSE;
      soup_message_headers_set_content_length (resp, SIZE - start);
      soup_message_body_append (soup_server_message_get_response_body (msg), SOUP_MEMORY_STATIC, files.data + start,
                                (SIZE - start) / 3);
      g_timeout_add (300, drop_connection, g_object_ref (msg));
      return;
    }
  soup_server_message_set_response (msg, "application/octet-stream", SOUP_MEMORY_STATIC, (char *)files.data + start,
                                    SIZE - start);
}

static void
handler (SoupServer        *server,
         SoupServerMessage *msg,
         const char        *path,
         GHashTable        *query,
         gpointer           data)
{
  files.requests++;
  if (g_str_equal (path, "/files/model.gguf"))
    {
      g_autofree char *etag = g_strdup_printf ("\"%s\"", files.sha256);

      serve_file (msg, etag);
    }
  else if (g_str_equal (path, "/files/bad.gguf"))
    serve_file (msg, "\"0000000000000000000000000000000000000000000000000000000000000000\"");
  else if (g_str_equal (path, "/api/models/org/repo"))
    {
      const char *json = "{\"id\": \"org/repo\", \"siblings\": [{\"rfilename\": \"README.md\"},"
                         " {\"rfilename\": \"model-Q8_0.gguf\"}, {\"rfilename\": \"model-Q4_K_M.gguf\"},"
                         " {\"rfilename\": \"mmproj-model-Q8_0.gguf\"}, {\"rfilename\": \"mmproj-model-f16.gguf\"}]}";

      soup_server_message_set_status (msg, 200, NULL);
      soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_STATIC, json, strlen (json));
    }
  else
    soup_server_message_set_status (msg, 404, NULL);
}

/* ---- running a download to its end ---- */

typedef struct
{
  gboolean done, ok;
  GError  *error;
  guint64  last_received, last_total;
  char    *text, *mmproj;
} Run;

static void
progress (guint64  received,
          guint64  total,
          gpointer data)
{
  Run *r = data;

  g_assert_cmpuint (received, >=, r->last_received);
  r->last_received = received;
  r->last_total = total;
}

static void
finished (GObject      *source,
          GAsyncResult *result,
          gpointer      data)
{
  Run *r = data;

  r->ok = squint_download_finish (result, &r->error);
  r->done = TRUE;
}

static void
download (const char *path,
          const char *dest,
          Run        *r)
{
  g_autoptr(SoupSession) session = soup_session_new ();
  g_autofree char *url = g_strconcat (base_url, path, NULL);

  memset (r, 0, sizeof *r);
  squint_download_async (session, url, dest, progress, r, NULL, finished, r);
  while (!r->done)
    g_main_context_iteration (NULL, TRUE);
}

static gint64
file_size (const char *path)
{
  GStatBuf st;

  return g_stat (path, &st) == 0 ? (gint64)st.st_size : -1;
}

static void
assert_file_is_model (const char *path)
{
  g_autofree char *contents = NULL;
  gsize len;

  g_assert_true (g_file_get_contents (path, &contents, &len, NULL));
  g_assert_cmpuint (len, ==, SIZE);
  g_assert_true (memcmp (contents, files.data, SIZE) == 0);
}

static void
test_resume (void)
{
  g_autofree char *dest = g_build_filename (tmpdir, "model.gguf", NULL);
  g_autofree char *part = g_strconcat (dest, ".part", NULL);
  gint64 kept;
  Run r;

  files.cut_next = TRUE;
  download ("/files/model.gguf", dest, &r);
  g_assert_false (r.ok);
  g_assert_error (r.error, SQUINT_DOWNLOAD_ERROR, SQUINT_DOWNLOAD_ERROR_NETWORK);
  g_test_message ("cut off: %s", r.error->message);
  g_clear_error (&r.error);
  kept = file_size (part);
  g_assert_cmpint (kept, >, 0);
  g_assert_cmpint (kept, <, SIZE);
  g_assert_false (g_file_test (dest, G_FILE_TEST_EXISTS));

  download ("/files/model.gguf", dest, &r);
  g_assert_no_error (r.error);
  g_assert_true (r.ok);
  g_assert_cmpint (files.last_range_start, ==, kept);   /* it asked for the rest only */
  g_assert_cmpuint (r.last_received, ==, SIZE);
  g_assert_cmpuint (r.last_total, ==, SIZE);
  assert_file_is_model (dest);
  g_assert_false (g_file_test (part, G_FILE_TEST_EXISTS));
}

static void
test_bad_checksum (void)
{
  g_autofree char *dest = g_build_filename (tmpdir, "bad.gguf", NULL);
  g_autofree char *part = g_strconcat (dest, ".part", NULL);
  Run r;

  download ("/files/bad.gguf", dest, &r);
  g_assert_error (r.error, SQUINT_DOWNLOAD_ERROR, SQUINT_DOWNLOAD_ERROR_CHECKSUM);
  g_clear_error (&r.error);
  g_assert_false (g_file_test (dest, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (part, G_FILE_TEST_EXISTS));
}

static void
test_stale_part (void)
{
  g_autofree char *dest = g_build_filename (tmpdir, "stale.gguf", NULL);
  g_autofree char *part = g_strconcat (dest, ".part", NULL);
  g_autofree char *junk = g_malloc0 (SIZE + 10);
  Run r;

  /* a kept part longer than the file: the server says 416, the download starts over */
  g_assert_true (g_file_set_contents (part, junk, SIZE + 10, NULL));
  download ("/files/model.gguf", dest, &r);
  g_assert_no_error (r.error);
  assert_file_is_model (dest);
}

static void
test_http_error (void)
{
  g_autofree char *dest = g_build_filename (tmpdir, "missing.gguf", NULL);
  Run r;

  download ("/files/missing.gguf", dest, &r);
  g_assert_error (r.error, SQUINT_DOWNLOAD_ERROR, SQUINT_DOWNLOAD_ERROR_HTTP);
  g_assert_nonnull (strstr (r.error->message, "404"));
  g_clear_error (&r.error);
  g_assert_false (g_file_test (dest, G_FILE_TEST_EXISTS));
}

static void
resolved (GObject      *source,
          GAsyncResult *result,
          gpointer      data)
{
  Run *r = data;

  r->ok = squint_hf_resolve_finish (result, &r->text, &r->mmproj, &r->error);
  r->done = TRUE;
}

static void
resolve (const char *repo,
         const char *quant,
         Run        *r)
{
  g_autoptr(SoupSession) session = soup_session_new ();

  memset (r, 0, sizeof *r);
  squint_hf_resolve_async (session, base_url, repo, quant, NULL, resolved, r);
  while (!r->done)
    g_main_context_iteration (NULL, TRUE);
}

static void
test_hf_resolve (void)
{
  g_autofree char *want_text = g_strconcat (base_url, "/org/repo/resolve/main/model-Q4_K_M.gguf", NULL);
  g_autofree char *want_mmproj = g_strconcat (base_url, "/org/repo/resolve/main/mmproj-model-f16.gguf", NULL);
  g_autofree char *want_q8 = g_strconcat (base_url, "/org/repo/resolve/main/model-Q8_0.gguf", NULL);
  Run r;

  resolve ("org/repo", NULL, &r);
  g_assert_no_error (r.error);
  g_assert_cmpstr (r.text, ==, want_text);
  g_assert_cmpstr (r.mmproj, ==, want_mmproj);
  g_free (r.text);
  g_free (r.mmproj);
  resolve ("org/repo", "q8_0", &r);
  g_assert_cmpstr (r.text, ==, want_q8);
  g_free (r.text);
  g_free (r.mmproj);
  resolve ("org/missing", NULL, &r);
  g_assert_error (r.error, SQUINT_DOWNLOAD_ERROR, SQUINT_DOWNLOAD_ERROR_NOT_FOUND);
  g_clear_error (&r.error);
  resolve ("../etc", NULL, &r);
  g_assert_error (r.error, SQUINT_DOWNLOAD_ERROR, SQUINT_DOWNLOAD_ERROR_NOT_FOUND);
  g_clear_error (&r.error);
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(SoupServer) server = soup_server_new (NULL, NULL);
  g_autoptr(GError) error = NULL;
  GSList *uris;
  int rc;

  g_test_init (&argc, &argv, NULL);
  files.data = g_malloc (SIZE);
  for (guint i = 0; i < SIZE; i++)
    files.data[i] = (guint8)((i * 2654435761u) >> 13);
  files.sha256 = g_compute_checksum_for_data (G_CHECKSUM_SHA256, files.data, SIZE);
  soup_server_add_handler (server, NULL, handler, NULL, NULL);
  g_assert_true (soup_server_listen_local (server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error));
  uris = soup_server_get_uris (server);
  base_url = g_uri_to_string (uris->data);
  base_url[strlen (base_url) - 1] = '\0';
  g_slist_free_full (uris, (GDestroyNotify)g_uri_unref);
  tmpdir = g_dir_make_tmp ("squint-download-XXXXXX", &error);
  g_assert_no_error (error);

  g_test_add_func ("/download/resume", test_resume);
  g_test_add_func ("/download/bad-checksum", test_bad_checksum);
  g_test_add_func ("/download/stale-part", test_stale_part);
  g_test_add_func ("/download/http-error", test_http_error);
  g_test_add_func ("/download/hf-resolve", test_hf_resolve);
  rc = g_test_run ();

  {
    g_autoptr(GDir) d = g_dir_open (tmpdir, 0, NULL);
    const char *name;

    while (d != NULL && (name = g_dir_read_name (d)) != NULL)
      {
        g_autofree char *p = g_build_filename (tmpdir, name, NULL);

        g_unlink (p);
      }
    g_rmdir (tmpdir);
  }
  g_free (tmpdir);
  g_free (base_url);
  g_free (files.sha256);
  g_free (files.data);
  return rc;
}
