/* test-engine-object.c — SquintEngine on the tiny random model: loading on
 * the worker, streaming into a message, the zoom events and the ledger,
 * stopping, a bad model file, and the compute backend (OpenCL loads or
 * falls back to the CPU, saying why).
 *
 * SPDX-License-Identifier: MIT
 */
#include <locale.h>
#include <string.h>

#include "squint-engine.h"
#include "squint-error.h"
#include "test-common.h"

static void
on_loaded (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  GError **out = user_data;
  GError *error = NULL;

  if (!squint_engine_load_finish (SQUINT_ENGINE (object), result, &error))
    *out = error;
  else
    *out = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_EXISTS, "loaded"); /* a marker: done */
}

static SquintEngine *
load_tiny (void)
{
  g_autofree char *text = tiny_text_model ();
  g_autofree char *mmproj = tiny_mmproj ();
  SquintEngine *engine = squint_engine_new ();
  GError *done = NULL;
  gboolean saw_progress = FALSE;

  squint_engine_load_async (engine, text, mmproj, 2, NULL, on_loaded, &done);
  g_assert_cmpint (squint_engine_get_state (engine), ==, SQUINT_ENGINE_LOADING);
  while (done == NULL)
    {
      g_main_context_iteration (NULL, TRUE);
      saw_progress |= squint_engine_get_progress (engine) > 0;
    }
  g_assert_error (done, G_IO_ERROR, G_IO_ERROR_EXISTS);
  g_error_free (done);
  g_assert_true (saw_progress);
  g_assert_cmpint (squint_engine_get_state (engine), ==, SQUINT_ENGINE_READY);
  g_assert_true (squint_engine_get_has_vision (engine));
  g_assert_cmpstr (squint_engine_get_text_path (engine), ==, text);
  return engine;
}

static void
test_zoom (void)
{
  g_autoptr(SquintEngine) engine = load_tiny ();
  g_autoptr(SquintImage) image = test_load_image ("tiny/images/img_448x336.png", NULL);
  g_autoptr(SquintConversation) c = squint_conversation_new ("adaptive");
  g_autoptr(SquintMessage) reply = squint_message_new (SQUINT_ROLE_ASSISTANT, NULL);
  g_autoptr(GPtrArray) images = g_ptr_array_new ();
  SquintAskOptions opts = { "adaptive", 6, 0, 1, 2048 };
  AskState st = { .zoom_states = g_array_new (FALSE, FALSE, sizeof (SquintZoomState)) };
  const SquintMessageStats *stats;

  g_object_set (engine, "forced-reply", TOOL_CALL, NULL);
  g_ptr_array_add (images, image);
  squint_message_set_subject (reply, image);
  squint_message_set_policy (reply, "adaptive");
  g_signal_connect (reply, "notify::zoom-state", G_CALLBACK (test_on_zoom_state), &st);
  g_signal_connect (reply, "notify::text", G_CALLBACK (test_on_text), &st);

  squint_engine_ask_async (engine, c, "What does the small text say?", images, reply, &opts, NULL, test_on_asked, &st);
  g_assert_true (squint_engine_get_busy (engine));
  WAIT_UNTIL (st.done);
  g_assert_no_error (st.error);
  g_assert_false (squint_engine_get_busy (engine));

  /* the model's look: half size, asked to zoom, looked closer */
  g_assert_cmpuint (st.zoom_states->len, ==, 3);
  g_assert_cmpint (g_array_index (st.zoom_states, SquintZoomState, 0), ==, SQUINT_ZOOM_LOW);
  g_assert_cmpint (g_array_index (st.zoom_states, SquintZoomState, 1), ==, SQUINT_ZOOM_ZOOMING);
  g_assert_cmpint (g_array_index (st.zoom_states, SquintZoomState, 2), ==, SQUINT_ZOOM_ZOOMED);
  /* streamed token by token */
  g_assert_cmpuint (st.n_text, >, 5);
  g_assert_cmpint (squint_message_get_state (reply), ==, SQUINT_MESSAGE_DONE);
  g_assert_cmpstr (squint_message_get_think (reply), ==, "The text is too small.");
  g_assert_true (g_str_has_prefix (squint_message_get_text (reply), TOOL_CALL));
  g_assert_null (squint_message_get_status (reply));

  /* 448×336: 48 tokens at half size, then 192 at full; full alone is 192 */
  stats = squint_message_get_stats (reply);
  g_assert_cmpint (stats->visual_low, ==, 48);
  g_assert_cmpint (stats->visual_full, ==, 192);
  g_assert_cmpint (stats->visual_used, ==, 240);
  g_assert_cmpint (stats->visual_baseline, ==, 192);
  g_assert_cmpfloat (stats->tokens_per_second, >, 0);
  g_assert_true (squint_engine_remembers (engine, c));

  /* a follow-up in the same context, policy low: 0 new visual tokens */
  {
    g_autoptr(SquintMessage) reply2 = squint_message_new (SQUINT_ROLE_ASSISTANT, NULL);
    SquintAskOptions low = { "low", 4, 0, 1, 2048 };

    g_object_set (engine, "forced-reply", NULL, NULL);
    st.done = FALSE;
    squint_engine_ask_async (engine, c, "And the colour?", NULL, reply2, &low, NULL, test_on_asked, &st);
    WAIT_UNTIL (st.done);
    g_assert_no_error (st.error);
    g_assert_cmpint (squint_message_get_state (reply2), ==, SQUINT_MESSAGE_DONE);
    g_assert_false (squint_message_has_stats (reply2));
  }

  squint_engine_forget (engine, c);
  g_assert_false (squint_engine_remembers (engine, c));
  g_array_unref (st.zoom_states);
  g_clear_object (&reply);
  g_assert_finalize_object (g_steal_pointer (&engine));
}

static void
on_first_text (SquintMessage *m,
               GParamSpec    *pspec,
               GCancellable  *cancellable)
{
  g_cancellable_cancel (cancellable);
}

static void
test_stop (void)
{
  g_autoptr(SquintEngine) engine = load_tiny ();
  g_autoptr(SquintConversation) c = squint_conversation_new ("full");
  g_autoptr(SquintMessage) reply = squint_message_new (SQUINT_ROLE_ASSISTANT, NULL);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  SquintAskOptions opts = { "full", 4000, 0.8, 0.95, 4096 };
  AskState st = { 0 };
  g_autofree char *stopped_text = NULL;

  g_signal_connect (reply, "notify::text", G_CALLBACK (on_first_text), cancellable);
  squint_engine_ask_async (engine, c, "Write a long story.", NULL, reply, &opts, cancellable, test_on_asked, &st);
  WAIT_UNTIL (st.done);
  g_assert_error (st.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&st.error);
  g_assert_cmpint (squint_message_get_state (reply), ==, SQUINT_MESSAGE_STOPPED);
  /* tokens still queued when Stop was pressed are dropped */
  stopped_text = g_strdup (squint_message_get_text (reply));
  test_spin (100);
  g_assert_cmpstr (squint_message_get_text (reply), ==, stopped_text);
  g_assert_false (squint_engine_get_busy (engine));
  /* the half-finished context is dropped */
  g_assert_false (squint_engine_remembers (engine, c));
  g_assert_finalize_object (g_steal_pointer (&engine));
}

static void
test_bad_model (void)
{
  g_autoptr(SquintEngine) engine = squint_engine_new ();
  g_autofree char *bad = test_data_path ("image/not_an_image.txt");
  GError *done = NULL;

  squint_engine_load_async (engine, bad, NULL, 1, NULL, on_loaded, &done);
  WAIT_UNTIL (done != NULL);
  g_assert_error (done, SQUINT_ERROR, SQUINT_ERROR_MODEL);
  g_assert_cmpstr (done->message, !=, "");
  g_error_free (done);
  g_assert_cmpint (squint_engine_get_state (engine), ==, SQUINT_ENGINE_FAILED);
  g_assert_nonnull (squint_engine_get_error (engine));

  /* asking without a model fails cleanly */
  {
    g_autoptr(SquintConversation) c = squint_conversation_new ("adaptive");
    g_autoptr(SquintMessage) reply = squint_message_new (SQUINT_ROLE_ASSISTANT, NULL);
    SquintAskOptions opts = { "adaptive", 4, 0, 1, 1024 };
    AskState st = { 0 };

    squint_engine_ask_async (engine, c, "Hello?", NULL, reply, &opts, NULL, test_on_asked, &st);
    WAIT_UNTIL (st.done);
    g_assert_error (st.error, SQUINT_ERROR, SQUINT_ERROR_NO_MODEL);
    g_clear_error (&st.error);
  }
  g_assert_finalize_object (g_steal_pointer (&engine));
}

/* ---- the compute backend ---- */

typedef struct
{
  guint  n_fallbacks;
  char  *reason;
} Fallback;

static void
on_fallback (SquintEngine *engine,
             const char   *reason,
             Fallback     *fb)
{
  fb->n_fallbacks++;
  g_free (fb->reason);
  fb->reason = g_strdup (reason);
}

/* Loads the tiny model on the engine's backend; the fallbacks it took. */
static void
load_on (SquintEngine *engine,
         Fallback     *fb)
{
  g_autofree char *text = tiny_text_model ();
  g_autofree char *mmproj = tiny_mmproj ();
  GError *done = NULL;
  gulong handler = g_signal_connect (engine, "backend-fallback", G_CALLBACK (on_fallback), fb);

  fb->n_fallbacks = 0;
  g_clear_pointer (&fb->reason, g_free);
  squint_engine_load_async (engine, text, mmproj, 2, NULL, on_loaded, &done);
  while (done == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_signal_handler_disconnect (engine, handler);
  g_assert_error (done, G_IO_ERROR, G_IO_ERROR_EXISTS);
  g_error_free (done);
  g_assert_cmpint (squint_engine_get_state (engine), ==, SQUINT_ENGINE_READY);
  g_assert_true (squint_engine_is_loaded (engine, text, mmproj));
  g_assert_cmpstr (squint_engine_get_fallback_reason (engine), ==, fb->reason);
}

static void
test_backend (void)
{
  g_autoptr(SquintEngine) engine = squint_engine_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *text = tiny_text_model ();
  g_autofree char *mmproj = tiny_mmproj ();
  const char *cache = g_getenv ("SQ_TEST_OPENCL_CACHE");
  Fallback fb = { 0 };

  /* the OpenCL kernels, built once for every run */
  if (cache != NULL)
    g_setenv ("XDG_CACHE_HOME", cache, TRUE);

  /* cpu by default; nonsense refused */
  g_assert_cmpstr (squint_engine_get_backend (engine), ==, "cpu");
  g_assert_false (squint_engine_set_backend (engine, "metal", &error));
  g_assert_error (error, SQUINT_ERROR, SQUINT_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, "metal"));
  g_assert_cmpstr (squint_engine_get_backend (engine), ==, "cpu");
  g_assert_null (squint_engine_get_device (engine));

  load_on (engine, &fb);
  g_assert_cmpstr (squint_engine_get_device (engine), ==, "cpu");
  g_assert_cmpuint (fb.n_fallbacks, ==, 0);

  /* another choice: the loaded model is not the one asked for any more */
  g_assert_true (squint_engine_set_backend (engine, "opencl", NULL));
  g_assert_false (squint_engine_is_loaded (engine, text, mmproj));

  /* no such device: the CPU, and why */
  g_setenv ("SQUINT_DEVICE", "no-such-device", TRUE);
  load_on (engine, &fb);
  g_unsetenv ("SQUINT_DEVICE");
  g_test_message ("no device: %s", fb.reason);
  g_assert_cmpuint (fb.n_fallbacks, ==, 1);
  g_assert_nonnull (fb.reason);
  g_assert_cmpstr (squint_engine_get_device (engine), ==, "cpu");

  /* the machine's OpenCL device (PoCL in CI): loaded there, or the CPU with the reason */
  load_on (engine, &fb);
  g_test_message ("opencl: on %s%s%s", squint_engine_get_device (engine), fb.reason ? ", because " : "",
                  fb.reason ? fb.reason : "");
  if (g_strcmp0 (squint_engine_get_device (engine), "opencl") == 0)
    {
      g_assert_cmpuint (fb.n_fallbacks, ==, 0);

      /* a device too small for the model: the CPU */
      g_setenv ("SQUINT_OPENCL_MEMORY_MB", "5", TRUE);
      load_on (engine, &fb);
      g_unsetenv ("SQUINT_OPENCL_MEMORY_MB");
      g_test_message ("5 MB device: %s", fb.reason);
      g_assert_cmpuint (fb.n_fallbacks, ==, 1);
      g_assert_nonnull (strstr (fb.reason, "memory"));
      g_assert_cmpstr (squint_engine_get_device (engine), ==, "cpu");
    }
  else
    {
      g_assert_cmpstr (squint_engine_get_device (engine), ==, "cpu");
      g_assert_cmpuint (fb.n_fallbacks, ==, 1);
      g_assert_nonnull (fb.reason);
    }

  /* auto: OpenCL only with a GPU, never a failure */
  g_assert_true (squint_engine_set_backend (engine, "auto", NULL));
  load_on (engine, &fb);
  g_assert_nonnull (squint_engine_get_device (engine));

  /* a file that is no model fails on the CPU too, with the CPU's reason */
  {
    g_autofree char *bad = test_data_path ("image/not_an_image.txt");
    GError *done = NULL;

    g_assert_true (squint_engine_set_backend (engine, "opencl", NULL));
    squint_engine_load_async (engine, bad, NULL, 1, NULL, on_loaded, &done);
    WAIT_UNTIL (done != NULL);
    g_assert_error (done, SQUINT_ERROR, SQUINT_ERROR_MODEL);
    g_error_free (done);
  }

  g_free (fb.reason);
  g_assert_finalize_object (g_steal_pointer (&engine));
}

int
main (int   argc,
      char *argv[])
{
  setlocale (LC_ALL, "C.UTF-8");
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/squint/engine/zoom", test_zoom);
  g_test_add_func ("/squint/engine/stop", test_stop);
  g_test_add_func ("/squint/engine/bad-model", test_bad_model);
  g_test_add_func ("/squint/engine/backend", test_backend);

  return g_test_run ();
}
