/* test-model-download.c — SquintModelDownload against a local server: file
 * names from links, a text GGUF and its mmproj by direct links (progress to
 * 1.0 for each, the files in the models folder, not fetched twice), a
 * Hugging Face repository with a quantization, HTTP 404 (an error and no
 * file), a bad source, and a download stopped halfway that the next run
 * continues with a Range request.
 *
 * SPDX-License-Identifier: MIT
 */
#include <glib/gstdio.h>
#include <locale.h>

#include "download.h"
#include "squint-model-download.h"
#include "test-model-server.h"

typedef struct
{
  gboolean  done;
  gboolean  ok;
  GError   *error;
  char     *text;
  char     *mmproj;
  double    max_fraction;
  guint     max_index;
  GString  *states;       /* the states passed through, as letters */
  gboolean  backwards;    /* received went down within a file */
  guint64   last_received;
  guint     last_index;
} RunState;

static void
run_state_clear (RunState *st)
{
  g_clear_error (&st->error);
  g_clear_pointer (&st->text, g_free);
  g_clear_pointer (&st->mmproj, g_free);
  if (st->states != NULL)
    g_string_free (st->states, TRUE);
  memset (st, 0, sizeof *st);
}

static void
on_finished (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  RunState *st = user_data;

  st->ok = squint_model_download_run_finish (SQUINT_MODEL_DOWNLOAD (object), result, &st->text, &st->mmproj,
                                             &st->error);
  st->done = TRUE;
}

static void
on_progress (SquintModelDownload *d,
             GParamSpec          *pspec,
             RunState            *st)
{
  guint index = squint_model_download_get_file_index (d);
  guint64 received = squint_model_download_get_received (d);

  if (index == st->last_index && received < st->last_received && received != 0)
    st->backwards = TRUE;
  st->last_index = index;
  st->last_received = received;
  st->max_index = MAX (st->max_index, index);
  st->max_fraction = MAX (st->max_fraction, squint_model_download_get_fraction (d));
}

static void
on_state (SquintModelDownload *d,
          GParamSpec          *pspec,
          RunState            *st)
{
  g_string_append_c (st->states, "irdDsf"[squint_model_download_get_state (d)]);
}

static void
run (SquintModelDownload *d,
     const char          *source,
     const char          *mmproj,
     const char          *quant,
     GCancellable        *cancellable,
     RunState            *st)
{
  run_state_clear (st);
  st->states = g_string_new (NULL);
  g_signal_connect (d, "notify::received", G_CALLBACK (on_progress), st);
  g_signal_connect (d, "notify::state", G_CALLBACK (on_state), st);
  squint_model_download_run_async (d, source, mmproj, quant, cancellable, on_finished, st);
  WAIT_UNTIL (st->done);
  g_signal_handlers_disconnect_by_data (d, st);
}

static char *
models_dir (void)
{
  return g_build_filename (g_get_user_data_dir (), "squint", "models", NULL);
}

static guint
count_files (const char *dir)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  guint n = 0;

  while (d != NULL && g_dir_read_name (d) != NULL)
    n++;
  return n;
}

static void
test_file_name (void)
{
  static const struct
  {
    const char *url;
    const char *name;   /* NULL: refused */
  } cases[] = {
    { "https://huggingface.co/org/repo/resolve/main/model-Q4_K_M.gguf?download=true", "model-Q4_K_M.gguf" },
    { "http://127.0.0.1:8/a%20b.gguf#frag", "a b.gguf" },
    { "HTTPS://example.com/x.gguf", "x.gguf" },
    { "http://example.com/dir/", NULL },
    { "http://example.com", NULL },
    { "http://example.com/..%2F..%2Fevil.gguf", NULL },
    { "http://example.com/.hidden.gguf", NULL },
    { "http://example.com/%00.gguf", NULL },
    { "ftp://example.com/x.gguf", NULL },
    { "org/repo", NULL },
    { "http:///x.gguf", NULL },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *name = squint_model_download_file_name (cases[i].url, &error);

      g_test_message ("%s → %s", cases[i].url, name ? name : error->message);
      g_assert_cmpstr (name, ==, cases[i].name);
      if (name == NULL)
        g_assert_nonnull (error);
    }
  g_assert_true (squint_model_download_is_url ("https://x/y"));
  g_assert_true (squint_model_download_is_url ("http://x/y"));
  g_assert_false (squint_model_download_is_url ("org/repo"));
}

static void
test_links (void)
{
  g_autoptr(SquintModelDownload) d = squint_model_download_new (NULL);
  g_autofree char *dir = models_dir ();
  g_autofree char *text_url = model_server_url ("/files/" MODEL_TEXT_FILE);
  g_autofree char *mmproj_url = model_server_url ("/files/" MODEL_MMPROJ_FILE);
  g_autofree char *text = g_build_filename (dir, MODEL_TEXT_FILE, NULL);
  g_autofree char *mmproj = g_build_filename (dir, MODEL_MMPROJ_FILE, NULL);
  RunState st = { 0 };
  guint requests;

  g_assert_cmpstr (squint_model_download_get_dir (d), ==, dir);
  g_assert_cmpint (squint_model_download_get_state (d), ==, SQUINT_MODEL_DOWNLOAD_IDLE);

  /* spaces around the links are dropped */
  {
    g_autofree char *padded = g_strconcat ("  ", text_url, "\n", NULL);

    run (d, padded, mmproj_url, "Q8_0", NULL, &st);
  }
  g_assert_no_error (st.error);
  g_assert_true (st.ok);
  g_assert_cmpstr (st.text, ==, text);
  g_assert_cmpstr (st.mmproj, ==, mmproj);
  g_assert_true (file_equals (text, &model_server.text));
  g_assert_true (file_equals (mmproj, &model_server.mmproj));
  g_assert_cmpuint (count_files (dir), ==, 2);   /* no .part left */
  g_assert_cmpfloat (st.max_fraction, ==, 1.0);
  g_assert_false (st.backwards);
  g_assert_cmpuint (st.max_index, ==, 2);
  g_assert_cmpuint (squint_model_download_get_n_files (d), ==, 2);
  g_assert_cmpstr (squint_model_download_get_file_name (d), ==, MODEL_MMPROJ_FILE);
  g_assert_cmpint (squint_model_download_get_state (d), ==, SQUINT_MODEL_DOWNLOAD_DONE);
  g_assert_nonnull (strchr (st.states->str, 'd'));
  g_assert_cmpint (st.states->str[st.states->len - 1], ==, 'D');
  g_assert_cmpfloat (squint_model_download_get_fraction (d), ==, 1.0);
  /* 2 429 120 bytes */
  g_assert_cmpstr (squint_model_download_get_progress_text (d), ==, "2.4 / 2.4 MB");
  g_assert_null (squint_model_download_get_error (d));

  /* again: both are there already, nothing is fetched */
  requests = model_server.requests;
  run (d, text_url, mmproj_url, NULL, NULL, &st);
  g_assert_no_error (st.error);
  g_assert_cmpuint (model_server.requests, ==, requests);
  g_assert_cmpstr (st.text, ==, text);
  g_assert_cmpfloat (squint_model_download_get_fraction (d), ==, 1.0);

  /* a text-only model */
  g_assert_cmpint (g_unlink (text), ==, 0);
  run (d, text_url, "", NULL, NULL, &st);
  g_assert_no_error (st.error);
  g_assert_null (st.mmproj);
  g_assert_cmpuint (squint_model_download_get_n_files (d), ==, 1);
  g_assert_cmpstr (st.text, ==, text);
  g_assert_true (file_equals (text, &model_server.text));
  run_state_clear (&st);
  g_assert_finalize_object (g_steal_pointer (&d));
}

static void
test_repo (void)
{
  g_autoptr(SquintModelDownload) d = squint_model_download_new (NULL);
  g_autofree char *dir = models_dir ();
  g_autofree char *q4 = g_build_filename (dir, "model-Q4_K_M.gguf", NULL);
  g_autofree char *q8 = g_build_filename (dir, "model-Q8_0.gguf", NULL);
  g_autofree char *mmproj = g_build_filename (dir, "mmproj-model-f16.gguf", NULL);
  RunState st = { 0 };

  g_setenv ("HF_ENDPOINT", model_server.base_url, TRUE);

  /* the default quantization */
  run (d, "org/repo", NULL, "", NULL, &st);
  g_assert_no_error (st.error);
  g_assert_cmpstr (st.text, ==, q4);
  g_assert_cmpstr (st.mmproj, ==, mmproj);
  g_assert_true (file_equals (q4, &model_server.text));
  g_assert_true (file_equals (mmproj, &model_server.mmproj));
  g_assert_nonnull (strstr (st.states->str, "rd"));   /* looked up first */

  /* another one */
  run (d, "org/repo", NULL, "Q8_0", NULL, &st);
  g_assert_no_error (st.error);
  g_assert_cmpstr (st.text, ==, q8);
  g_assert_true (file_equals (q8, &model_server.text));

  /* no such repository */
  run (d, "org/missing", NULL, NULL, NULL, &st);
  g_assert_error (st.error, SQUINT_DOWNLOAD_ERROR, SQUINT_DOWNLOAD_ERROR_NOT_FOUND);
  g_assert_cmpint (squint_model_download_get_state (d), ==, SQUINT_MODEL_DOWNLOAD_FAILED);
  g_assert_cmpstr (squint_model_download_get_error (d), ==, st.error->message);
  g_assert_nonnull (squint_model_download_error_title (st.error));

  g_unsetenv ("HF_ENDPOINT");
  run_state_clear (&st);
  g_assert_finalize_object (g_steal_pointer (&d));
}

static void
test_errors (void)
{
  g_autoptr(SquintModelDownload) d = squint_model_download_new (NULL);
  g_autofree char *dir = models_dir ();
  g_autofree char *missing = model_server_url ("/files/missing.gguf");
  g_autofree char *text_url = model_server_url ("/files/" MODEL_TEXT_FILE);
  RunState st = { 0 };

  /* 404: the reason, and no file at all */
  run (d, missing, NULL, NULL, NULL, &st);
  g_assert_error (st.error, SQUINT_DOWNLOAD_ERROR, SQUINT_DOWNLOAD_ERROR_HTTP);
  g_assert_nonnull (strstr (st.error->message, "404"));
  g_assert_cmpint (squint_model_download_get_state (d), ==, SQUINT_MODEL_DOWNLOAD_FAILED);
  g_assert_nonnull (strstr (squint_model_download_get_error (d), "404"));
  g_assert_cmpstr (squint_model_download_error_title (st.error), ==, "The server refused the download.");
  g_assert_cmpuint (count_files (dir), ==, 0);

  /* the mmproj is missing: the text file stays for the next try */
  run (d, text_url, missing, NULL, NULL, &st);
  g_assert_error (st.error, SQUINT_DOWNLOAD_ERROR, SQUINT_DOWNLOAD_ERROR_HTTP);
  g_assert_cmpuint (count_files (dir), ==, 1);

  /* not a source */
  run (d, "   ", NULL, NULL, NULL, &st);
  g_assert_error (st.error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  run (d, "just-a-name", NULL, NULL, NULL, &st);
  g_assert_error (st.error, SQUINT_DOWNLOAD_ERROR, SQUINT_DOWNLOAD_ERROR_NOT_FOUND);
  run (d, text_url, "file:///etc/passwd", NULL, NULL, &st);
  g_assert_error (st.error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  run (d, "org/repo", text_url, NULL, NULL, &st);
  g_assert_error (st.error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  run (d, text_url, text_url, NULL, NULL, &st);
  g_assert_error (st.error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_assert_cmpint (squint_model_download_get_state (d), ==, SQUINT_MODEL_DOWNLOAD_FAILED);

  run_state_clear (&st);
  g_assert_finalize_object (g_steal_pointer (&d));
}

static void
cancel_when_started (SquintModelDownload *d,
                     GParamSpec          *pspec,
                     GCancellable        *cancellable)
{
  if (squint_model_download_get_received (d) > 0)
    g_cancellable_cancel (cancellable);
}

static void
test_stop_and_resume (void)
{
  g_autoptr(SquintModelDownload) d = squint_model_download_new (NULL);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autofree char *dir = models_dir ();
  g_autofree char *text_url = model_server_url ("/files/" MODEL_TEXT_FILE);
  g_autofree char *text = g_build_filename (dir, MODEL_TEXT_FILE, NULL);
  g_autofree char *part = g_strconcat (text, ".part", NULL);
  GStatBuf sb;
  RunState st = { 0 };
  gulong handler;

  /* the server stalls after a third; Stop once something arrived */
  model_server.stall_next = TRUE;
  model_server.range_start = -1;
  handler = g_signal_connect (d, "notify::received", G_CALLBACK (cancel_when_started), cancellable);
  run (d, text_url, NULL, NULL, cancellable, &st);
  g_signal_handler_disconnect (d, handler);
  g_assert_error (st.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpint (squint_model_download_get_state (d), ==, SQUINT_MODEL_DOWNLOAD_STOPPED);
  g_assert_null (squint_model_download_get_error (d));
  g_assert_false (g_file_test (text, G_FILE_TEST_EXISTS));
  g_assert_cmpint (g_stat (part, &sb), ==, 0);
  g_assert_cmpint (sb.st_size, >, 0);
  g_assert_cmpint (sb.st_size, <, (goffset)g_bytes_get_size (model_server.text.data));

  /* the next run continues where it stopped */
  run (d, text_url, NULL, NULL, NULL, &st);
  g_assert_no_error (st.error);
  g_assert_cmpint (model_server.range_start, ==, sb.st_size);
  g_assert_true (file_equals (text, &model_server.text));
  g_assert_false (g_file_test (part, G_FILE_TEST_EXISTS));
  g_assert_cmpfloat (st.max_fraction, ==, 1.0);

  run_state_clear (&st);
  g_assert_finalize_object (g_steal_pointer (&d));
}

int
main (int   argc,
      char *argv[])
{
  int ret;

  setlocale (LC_ALL, "C.UTF-8");
  /* GIO's desktop proxy resolver reads GNOME's settings, whose schemas are
   * not among the test's */
  g_setenv ("GIO_USE_PROXY_RESOLVER", "dummy", TRUE);
  g_unsetenv ("HF_ENDPOINT");
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  model_server_start ();
  g_test_add_func ("/squint/model-download/file-name", test_file_name);
  g_test_add_func ("/squint/model-download/links", test_links);
  g_test_add_func ("/squint/model-download/repo", test_repo);
  g_test_add_func ("/squint/model-download/errors", test_errors);
  g_test_add_func ("/squint/model-download/stop-and-resume", test_stop_and_resume);
  ret = g_test_run ();
  model_server_stop ();
  return ret;
}
