/* test-common.h — helpers shared by the desktop app's tests.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <gtk/gtk.h>

#define TOOL_CALL                                                                                     \
  "<think>The text is too small.</think>\n<tool_call>\n{\"name\": \"resize_image\", \"arguments\": " \
  "{\"action\": \"resize\"}}\n</tool_call>"

/* Runs the main loop until cond holds, failing after a minute. */
#define WAIT_UNTIL(cond)                                                            \
  G_STMT_START {                                                                    \
    gint64 end__ = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;                   \
    guint tick__ = g_timeout_add (20, test_tick, NULL);                             \
    while (!(cond))                                                                 \
      {                                                                             \
        if (g_get_monotonic_time () > end__)                                        \
          g_error ("timed out waiting for %s", #cond);                              \
        g_main_context_iteration (NULL, TRUE);                                      \
      }                                                                             \
    g_source_remove (tick__);                                                       \
  } G_STMT_END

static inline gboolean
test_tick (gpointer data)
{
  return G_SOURCE_CONTINUE;
}

/* Lets pending idles and timeouts run for about ms milliseconds. */
static inline void
test_spin (guint ms)
{
  gint64 end = g_get_monotonic_time () + (gint64)ms * 1000;
  guint tick = g_timeout_add (10, test_tick, NULL);

  while (g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, TRUE);
  g_source_remove (tick);
}

static inline char *
test_data_path (const char *rel)
{
  const char *dir = g_getenv ("SQ_TEST_DATA");

  g_assert_nonnull (dir);
  return g_build_filename (dir, rel, NULL);
}

static inline char *
tiny_text_model (void)
{
  return test_data_path ("tiny/models/qwen25vl-text-f32.gguf");
}

static inline char *
tiny_mmproj (void)
{
  return test_data_path ("tiny/models/mmproj-qwen25vl-f32.gguf");
}
