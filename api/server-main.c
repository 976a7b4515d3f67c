/* server-main.c — squint-server: the OpenAI-compatible API over one model.
 *
 *   squint-server [-m TEXT.gguf --mmproj MMPROJ.gguf] [--host 127.0.0.1] [--port 8080] [--api-key KEY] …
 *
 * SPDX-License-Identifier: MIT
 */
#include <glib-unix.h>
#include <stdio.h>
#include <stdlib.h>

#include "api-server.h"

typedef struct
{
  char     *model, *mmproj, *host, *api_key, *model_id, *policy, *backend;
  int       port, threads, ctx, n_predict, queue, max_body_mb, max_image_mb, fetch_timeout;
  gboolean  no_fetch;
} Options;

static gboolean
quit (gpointer loop)
{
  g_main_loop_quit (loop);
  return G_SOURCE_CONTINUE;
}

static char *
default_model_id (const char *path)
{
  g_autofree char *base = g_path_get_basename (path);

  if (g_str_has_suffix (base, ".gguf"))
    base[strlen (base) - 5] = '\0';
  return g_steal_pointer (&base);
}

static gboolean
load_model (Options   *o,
            sq_model **model,
            GError   **error)
{
  sq_model_params mp = sq_model_default_params ();
  static char demo_text[4096], demo_mmproj[4096];
  sq_error err = { 0 };

  if (o->model == NULL)
    {
      if (o->mmproj != NULL || sq_demo_model_find (demo_text, demo_mmproj, sizeof demo_text, &err) != SQ_OK)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "%s",
                       o->mmproj ? "--mmproj needs its text model: add -m TEXT.gguf" : err.msg);
          return FALSE;
        }
      o->model = g_strdup (demo_text);
      o->mmproj = g_strdup (demo_mmproj);
    }
  mp.text_path = o->model;
  mp.mmproj_path = o->mmproj;
  mp.n_threads = o->threads;
  mp.backend = o->backend;
  if (sq_model_load (&mp, model, &err) != SQ_OK)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s", err.msg);
      return FALSE;
    }
  return TRUE;
}

int
main (int    argc,
      char **argv)
{
  Options o = { .host = g_strdup ("127.0.0.1"), .port = 8080, .ctx = 8192, .n_predict = 1024, .queue = 8,
                .max_body_mb = 32, .max_image_mb = 20, .fetch_timeout = 20, .backend = g_strdup ("cpu") };
  GOptionEntry entries[] = {
    { "model", 'm', 0, G_OPTION_ARG_FILENAME, &o.model, "Text model GGUF (default: the built-in demo model)", "FILE" },
    { "mmproj", 0, 0, G_OPTION_ARG_FILENAME, &o.mmproj, "Vision model GGUF", "FILE" },
    { "host", 0, 0, G_OPTION_ARG_STRING, &o.host, "Address to listen on (default 127.0.0.1)", "ADDR" },
    { "port", 'p', 0, G_OPTION_ARG_INT, &o.port, "Port (default 8080; 0: any free one)", "N" },
    { "api-key", 0, 0, G_OPTION_ARG_STRING, &o.api_key, "Require Authorization: Bearer KEY (or $SQUINT_API_KEY)",
      "KEY" },
    { "model-name", 0, 0, G_OPTION_ARG_STRING, &o.model_id, "The model's name in the API (default: file name)",
      "NAME" },
    { "policy", 0, 0, G_OPTION_ARG_STRING, &o.policy, "adaptive, low or full (default: the model's)", "P" },
    { "backend", 0, 0, G_OPTION_ARG_STRING, &o.backend, "cpu, opencl or auto (default cpu)", "NAME" },
    { "threads", 't', 0, G_OPTION_ARG_INT, &o.threads, "CPU threads (default: all cores)", "N" },
    { "ctx-size", 'c', 0, G_OPTION_ARG_INT, &o.ctx, "Context per request in tokens (default 8192)", "N" },
    { "n-predict", 'n', 0, G_OPTION_ARG_INT, &o.n_predict, "Tokens per pass when a request sets none (1024)", "N" },
    { "queue", 0, 0, G_OPTION_ARG_INT, &o.queue, "Requests that may wait for the model (default 8)", "N" },
    { "max-body-mb", 0, 0, G_OPTION_ARG_INT, &o.max_body_mb, "Largest request body (default 32 MiB)", "N" },
    { "max-image-mb", 0, 0, G_OPTION_ARG_INT, &o.max_image_mb, "Largest image (default 20 MiB)", "N" },
    { "fetch-timeout", 0, 0, G_OPTION_ARG_INT, &o.fetch_timeout, "Seconds to fetch an http(s) image (20)", "S" },
    { "no-fetch", 0, 0, G_OPTION_ARG_NONE, &o.no_fetch, "Take images as data: URLs only", NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new ("— an OpenAI-compatible server for a Squint model");
  g_autoptr(GError) error = NULL;
  g_autoptr(GMainLoop) loop = NULL;
  g_autoptr(SquintApiServer) server = NULL;
  g_autofree char *url = NULL;
  SquintGeneratorOptions gopts = { 0 };
  SquintApiServerOptions sopts = { 0 };
  SquintGenerator *gen;
  sq_model *model = NULL;
  guint64 requests, completed, rejected, failed;

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      fprintf (stderr, "squint-server: %s\n", error->message);
      return 2;
    }
  if (o.port < 0 || o.port > 65535 || o.queue < 0 || o.ctx < 256 || o.max_body_mb < 1 || o.max_image_mb < 1 ||
      o.fetch_timeout < 1)
    {
      fprintf (stderr, "squint-server: an option is out of range (see --help)\n");
      return 2;
    }
  if (o.api_key == NULL && g_getenv ("SQUINT_API_KEY") != NULL)
    o.api_key = g_strdup (g_getenv ("SQUINT_API_KEY"));
  if (o.policy != NULL && !g_str_equal (o.policy, "adaptive") && !g_str_equal (o.policy, "low") &&
      !g_str_equal (o.policy, "full"))
    {
      fprintf (stderr, "squint-server: --policy must be adaptive, low or full\n");
      return 2;
    }
  if (!load_model (&o, &model, &error))
    {
      fprintf (stderr, "squint-server: %s\n", error->message);
      return 1;
    }
  gopts.n_ctx = o.ctx;
  gopts.n_predict = o.n_predict;
  gopts.max_waiting = o.queue;
  gopts.policy = o.policy;
  if ((gen = squint_generator_new (model, &gopts, &error)) == NULL)
    {
      fprintf (stderr, "squint-server: %s\n", error->message);
      sq_model_free (model);
      return 1;
    }
  sopts.model_id = o.model_id;
  if (sopts.model_id == NULL)
    sopts.model_id = o.model_id = default_model_id (o.model);
  sopts.api_key = o.api_key;
  sopts.max_body = (gsize)o.max_body_mb << 20;
  sopts.max_image = (gsize)o.max_image_mb << 20;
  sopts.fetch_timeout_s = o.fetch_timeout;
  sopts.fetch_remote = !o.no_fetch;
  server = squint_api_server_new (gen, &sopts);
  if (!squint_api_server_listen (server, o.host, o.port, &error))
    {
      fprintf (stderr, "squint-server: cannot listen on %s:%d: %s\n", o.host, o.port, error->message);
      return 1;
    }
  if (o.api_key == NULL && !g_str_equal (o.host, "127.0.0.1") && !g_str_equal (o.host, "::1"))
    fprintf (stderr, "squint-server: warning: listening on %s without an API key\n", o.host);
  url = squint_api_server_get_url (server);
  printf ("squint-server: %s on %s (policy %s)\n", sopts.model_id, url ? url : "?",
          squint_generator_get_policy (gen));
  fflush (stdout);

  loop = g_main_loop_new (NULL, FALSE);
  g_unix_signal_add (SIGINT, quit, loop);
  g_unix_signal_add (SIGTERM, quit, loop);
  g_main_loop_run (loop);

  squint_api_server_counts (server, &requests, &completed, &rejected, &failed);
  printf ("squint-server: %" G_GUINT64_FORMAT " requests: %" G_GUINT64_FORMAT " completed, %" G_GUINT64_FORMAT
          " rejected (busy), %" G_GUINT64_FORMAT " failed\n", requests, completed, rejected, failed);
  g_free (o.model);
  g_free (o.mmproj);
  g_free (o.host);
  g_free (o.api_key);
  g_free (o.model_id);
  g_free (o.policy);
  g_free (o.backend);
  return 0;
}
