/* test-model-server.h — a local libsoup server for the download tests: the
 * tiny model's text GGUF and mmproj as files (Range requests honoured, the
 * SHA-256 named as Hugging Face does), a Hugging Face repository listing
 * (org/repo) whose files are those two, and 404 for anything else.  A file
 * request can be made to stall after a third of the file.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <libsoup/soup.h>
#include <string.h>

#include "test-common.h"

#define MODEL_TEXT_FILE   "qwen25vl-text-f16.gguf"
#define MODEL_MMPROJ_FILE "mmproj-qwen25vl-f16.gguf"

typedef struct
{
  GBytes *data;
  char   *sha256;
} ServedFile;

typedef struct
{
  SoupServer        *server;
  char              *base_url;      /* http://127.0.0.1:PORT, no slash at the end */
  ServedFile         text, mmproj;
  guint              requests;      /* file requests */
  gint64             range_start;   /* where the last Range request began; -1: none yet */
  gboolean           stall_next;    /* the next file request sends a third, then nothing */
  SoupServerMessage *stalled;
} ModelServer;

static ModelServer model_server;

static inline void
served_file_load (ServedFile *f,
                  const char *name)
{
  g_autofree char *rel = g_build_filename ("tiny", "models", name, NULL);
  g_autofree char *path = test_data_path (rel);
  g_autoptr(GError) error = NULL;
  char *contents = NULL;
  gsize len = 0;

  g_assert_true (g_file_get_contents (path, &contents, &len, &error));
  g_assert_no_error (error);
  f->data = g_bytes_new_take (contents, len);
  f->sha256 = g_compute_checksum_for_bytes (G_CHECKSUM_SHA256, f->data);
}

static inline void
model_server_serve (SoupServerMessage *msg,
                    ServedFile        *f)
{
  SoupMessageHeaders *req = soup_server_message_get_request_headers (msg);
  SoupMessageHeaders *resp = soup_server_message_get_response_headers (msg);
  gsize size = g_bytes_get_size (f->data);
  const guint8 *bytes = g_bytes_get_data (f->data, NULL);
  g_autofree char *etag = g_strdup_printf ("\"%s\"", f->sha256);
  SoupRange *ranges = NULL;
  int n = 0;
  goffset start = 0;

  model_server.requests++;
  if (soup_message_headers_get_ranges (req, size, &ranges, &n) && n == 1)
    {
      start = ranges[0].start;
      model_server.range_start = start;
      soup_message_headers_free_ranges (req, ranges);
      soup_server_message_set_status (msg, 206, NULL);
      soup_message_headers_set_content_range (resp, start, size - 1, size);
    }
  else
    soup_server_message_set_status (msg, 200, NULL);
  soup_message_headers_replace (resp, "X-Linked-Etag", etag);
  if (model_server.stall_next)
    {
      /* promise it all, send a third, then wait for ever */
      model_server.stall_next = FALSE;
      soup_message_headers_set_content_length (resp, size - start);
      soup_message_body_append (soup_server_message_get_response_body (msg), SOUP_MEMORY_COPY, bytes + start,
                                (size - start) / 3);
      g_set_object (&model_server.stalled, msg);
      return;
    }
  soup_server_message_set_response (msg, "application/octet-stream", SOUP_MEMORY_COPY, (const char *)bytes + start,
                                    size - start);
}

static inline void
model_server_handler (SoupServer        *server,
                      SoupServerMessage *msg,
                      const char        *path,
                      GHashTable        *query,
                      gpointer           data)
{
  if (g_str_equal (path, "/files/" MODEL_TEXT_FILE) || g_str_has_prefix (path, "/org/repo/resolve/main/model-"))
    model_server_serve (msg, &model_server.text);
  else if (g_str_equal (path, "/files/" MODEL_MMPROJ_FILE) || g_str_has_prefix (path, "/org/repo/resolve/main/mmproj-"))
    model_server_serve (msg, &model_server.mmproj);
  else if (g_str_equal (path, "/api/models/org/repo"))
    {
      static const char json[] = "{\"id\": \"org/repo\", \"siblings\": [{\"rfilename\": \"README.md\"},"
                                 " {\"rfilename\": \"model-Q8_0.gguf\"}, {\"rfilename\": \"model-Q4_K_M.gguf\"},"
                                 " {\"rfilename\": \"mmproj-model-f16.gguf\"}]}";

      soup_server_message_set_status (msg, 200, NULL);
      soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_STATIC, json, strlen (json));
    }
  else
    soup_server_message_set_status (msg, 404, NULL);
}

static inline void
model_server_start (void)
{
  g_autoptr(GError) error = NULL;
  GSList *uris;
  g_autofree char *base = NULL;

  served_file_load (&model_server.text, MODEL_TEXT_FILE);
  served_file_load (&model_server.mmproj, MODEL_MMPROJ_FILE);
  model_server.server = soup_server_new (NULL, NULL);
  soup_server_add_handler (model_server.server, NULL, model_server_handler, NULL, NULL);
  g_assert_true (soup_server_listen_local (model_server.server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error));
  g_assert_no_error (error);
  uris = soup_server_get_uris (model_server.server);
  base = g_uri_to_string (uris->data);
  g_slist_free_full (uris, (GDestroyNotify)g_uri_unref);
  while (g_str_has_suffix (base, "/"))
    base[strlen (base) - 1] = '\0';
  model_server.base_url = g_steal_pointer (&base);
  model_server.range_start = -1;
}

static inline void
model_server_stop (void)
{
  g_clear_object (&model_server.stalled);
  soup_server_disconnect (model_server.server);
  g_clear_object (&model_server.server);
  g_clear_pointer (&model_server.base_url, g_free);
  g_clear_pointer (&model_server.text.data, g_bytes_unref);
  g_clear_pointer (&model_server.mmproj.data, g_bytes_unref);
  g_clear_pointer (&model_server.text.sha256, g_free);
  g_clear_pointer (&model_server.mmproj.sha256, g_free);
}

static inline char *
model_server_url (const char *path)
{
  return g_strconcat (model_server.base_url, path, NULL);
}

/* Whether the file at path holds exactly f's bytes. */
static inline gboolean
file_equals (const char *path,
             ServedFile *f)
{
  g_autofree char *contents = NULL;
  gsize len = 0;

  if (!g_file_get_contents (path, &contents, &len, NULL))
    return FALSE;
  return len == g_bytes_get_size (f->data) && memcmp (contents, g_bytes_get_data (f->data, NULL), len) == 0;
}
