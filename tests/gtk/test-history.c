/* test-history.c — conversations kept in SQLite across a restart, image
 * copies, deletion, and the Markdown export.
 *
 * SPDX-License-Identifier: MIT
 */
#include <glib/gstdio.h>
#include <locale.h>
#include <string.h>

#include "squint-export.h"
#include "squint-history.h"
#include "test-common.h"

/* A question with an image and a zoomed answer, stored. */
static SquintConversation *
fill (SquintHistory *history)
{
  g_autoptr(SquintConversation) c = squint_conversation_new ("adaptive");
  g_autoptr(SquintImage) image = test_load_image ("tiny/images/img_448x336.png", squint_history_get_images_dir (history));
  g_autoptr(SquintMessage) q = squint_message_new (SQUINT_ROLE_USER, "What does it say?");
  g_autoptr(SquintMessage) a = squint_message_new (SQUINT_ROLE_ASSISTANT, NULL);
  SquintMessageStats st = { 48, 192, 240, 192, 12.5, 310 };
  g_autoptr(GError) error = NULL;

  squint_conversation_set_title (c, "Small print");
  squint_message_add_image (q, image);
  squint_conversation_append (c, q);
  g_assert_true (squint_history_add_message (history, c, q, &error));
  g_assert_no_error (error);

  squint_message_set_policy (a, "adaptive");
  squint_message_set_subject (a, image);
  squint_message_set_state (a, SQUINT_MESSAGE_GENERATING);
  squint_conversation_append (c, a);
  g_assert_true (squint_history_add_message (history, c, a, &error));

  squint_message_set_text (a, TOOL_CALL "<think>Now it is clear.</think><answer>It says *42*.</answer>");
  squint_message_set_zoom_state (a, SQUINT_ZOOM_ZOOMED);
  squint_message_set_stats (a, &st);
  squint_message_set_state (a, SQUINT_MESSAGE_DONE);
  g_assert_true (squint_history_update_message (history, a, &error));
  g_assert_no_error (error);

  g_assert_cmpint (squint_conversation_get_id (c), >, 0);
  g_assert_cmpint (squint_conversation_get_visual_saved (c), ==, -48);
  return g_steal_pointer (&c);
}

static void
test_persist (void)
{
  g_autofree char *dir = g_build_filename (g_get_user_data_dir (), "squint", NULL);
  g_autoptr(SquintHistory) history = squint_history_new (dir, NULL);
  g_autoptr(SquintConversation) c = fill (history);
  g_autoptr(SquintHistory) reopened = NULL;
  g_autoptr(SquintConversation) c2 = NULL;
  g_autoptr(SquintMessage) q = NULL;
  g_autoptr(SquintMessage) a = NULL;
  g_autoptr(SquintImage) image = NULL;
  g_autoptr(GError) error = NULL;
  GListModel *list;

  g_assert_cmpuint (g_list_model_get_n_items (squint_history_get_conversations (history)), ==, 1);
  g_clear_object (&c);
  g_assert_finalize_object (g_steal_pointer (&history));

  /* a restart: a new connection to the same folder */
  reopened = squint_history_new (dir, &error);
  g_assert_no_error (error);
  list = squint_history_get_conversations (reopened);
  g_assert_cmpuint (g_list_model_get_n_items (list), ==, 1);
  c2 = g_list_model_get_item (list, 0);
  g_assert_cmpstr (squint_conversation_get_title (c2), ==, "Small print");
  g_assert_cmpstr (squint_conversation_get_policy (c2), ==, "adaptive");
  g_assert_cmpuint (squint_conversation_get_n_messages (c2), ==, 2);
  g_assert_cmpint (squint_conversation_get_visual_saved (c2), ==, -48);
  g_assert_cmpint (squint_conversation_get_visual_baseline (c2), ==, 192);

  q = g_list_model_get_item (squint_conversation_get_messages (c2), 0);
  a = g_list_model_get_item (squint_conversation_get_messages (c2), 1);
  g_assert_cmpstr (squint_message_get_text (q), ==, "What does it say?");
  g_assert_cmpuint (g_list_model_get_n_items (squint_message_get_images (q)), ==, 1);
  image = g_list_model_get_item (squint_message_get_images (q), 0);
  g_assert_cmpint (squint_image_get_width (image), ==, 448);
  g_assert_cmpint (squint_image_get_height (image), ==, 336);
  g_assert_true (g_file_test (squint_image_get_path (image), G_FILE_TEST_EXISTS));
  g_assert_true (g_str_has_prefix (squint_image_get_path (image), squint_history_get_images_dir (reopened)));

  g_assert_cmpstr (squint_message_get_think (a), ==, "The text is too small.\n\nNow it is clear.");
  g_assert_cmpstr (squint_message_get_answer (a), ==, "It says *42*.");
  g_assert_cmpint (squint_message_get_zoom_state (a), ==, SQUINT_ZOOM_ZOOMED);
  g_assert_cmpint (squint_message_get_stats (a)->visual_used, ==, 240);
  g_assert_cmpfloat (squint_message_get_stats (a)->tokens_per_second, ==, 12.5);
  g_assert_true (squint_message_get_subject (a) == image);

  /* thumbnails of stored images load lazily */
  squint_image_ensure_thumbnail (image);
  WAIT_UNTIL (squint_image_get_thumbnail (image) != NULL);
}

static void
test_rename_delete (void)
{
  g_autofree char *dir = g_build_filename (g_get_user_data_dir (), "squint", NULL);
  g_autoptr(SquintHistory) history = squint_history_new (dir, NULL);
  g_autoptr(SquintConversation) c = fill (history);
  g_autoptr(SquintHistory) reopened = NULL;
  g_autoptr(SquintMessage) a = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *image_path = NULL;

  squint_conversation_set_title (c, "Renamed");
  g_assert_true (squint_history_save_conversation (history, c, &error));
  /* regenerating drops the last answer */
  a = g_list_model_get_item (squint_conversation_get_messages (c), 1);
  g_assert_true (squint_history_delete_message (history, a, &error));
  g_assert_no_error (error);

  reopened = squint_history_new (dir, &error);
  g_assert_no_error (error);
  {
    g_autoptr(SquintConversation) c2 = g_list_model_get_item (squint_history_get_conversations (reopened), 0);
    g_autoptr(SquintMessage) q = g_list_model_get_item (squint_conversation_get_messages (c2), 0);
    g_autoptr(SquintImage) image = g_list_model_get_item (squint_message_get_images (q), 0);

    g_assert_cmpstr (squint_conversation_get_title (c2), ==, "Renamed");
    g_assert_cmpuint (squint_conversation_get_n_messages (c2), ==, 1);
    image_path = g_strdup (squint_image_get_path (image));
    g_assert_true (squint_history_delete_conversation (reopened, c2, &error));
    g_assert_no_error (error);
  }
  g_assert_cmpuint (g_list_model_get_n_items (squint_history_get_conversations (reopened)), ==, 0);
  g_clear_object (&reopened);
  reopened = squint_history_new (dir, &error);
  g_assert_cmpuint (g_list_model_get_n_items (squint_history_get_conversations (reopened)), ==, 0);
  /* images no message refers to are collected once they are old */
  g_assert_true (g_file_test (image_path, G_FILE_TEST_EXISTS));
}

static void
on_exported (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  GFile **out = user_data;
  g_autoptr(GError) error = NULL;

  *out = squint_export_conversation_finish (result, &error);
  g_assert_no_error (error);
}

static void
test_export (void)
{
  g_autofree char *dir = g_build_filename (g_get_user_data_dir (), "squint", NULL);
  g_autofree char *out_dir = g_build_filename (g_get_user_data_dir (), "export", NULL);
  g_autoptr(SquintHistory) history = squint_history_new (dir, NULL);
  g_autoptr(SquintConversation) c = fill (history);
  g_autoptr(GFile) folder = g_file_new_for_path (out_dir);
  g_autoptr(GFile) md = NULL;
  g_autoptr(GFile) second = NULL;
  g_autofree char *text = NULL;
  g_autofree char *image = NULL;
  g_autofree char *md_name = NULL;

  g_assert_cmpint (g_mkdir_with_parents (out_dir, 0700), ==, 0);
  squint_export_conversation_async (c, folder, NULL, on_exported, &md);
  WAIT_UNTIL (md != NULL);
  md_name = g_file_get_basename (md);
  g_assert_cmpstr (md_name, ==, "small-print.md");
  g_assert_true (g_file_get_contents (g_file_peek_path (md), &text, NULL, NULL));
  g_assert_true (g_str_has_prefix (text, "# Small print\n"));
  g_assert_nonnull (strstr (text, "![img_448x336.png](small-print-images/1.png)"));
  g_assert_nonnull (strstr (text, "What does it say?"));
  g_assert_nonnull (strstr (text, "<details><summary>Thinking</summary>"));
  g_assert_nonnull (strstr (text, "It says *42*."));
  g_assert_nonnull (strstr (text, "240 used, 192 at full resolution"));
  g_assert_nonnull (strstr (text, "−48 saved · −25%"));
  image = g_build_filename (out_dir, "small-print-images", "1.png", NULL);
  g_assert_true (g_file_test (image, G_FILE_TEST_IS_REGULAR));

  /* a second export does not overwrite the first */
  squint_export_conversation_async (c, folder, NULL, on_exported, &second);
  WAIT_UNTIL (second != NULL);
  g_free (md_name);
  md_name = g_file_get_basename (second);
  g_assert_cmpstr (md_name, ==, "small-print-2.md");
}

/* A pasted texture gives the same pixels as the engine's own decoder. */
static void
test_texture_pixels (void)
{
  g_autofree char *path = test_data_path ("tiny/images/img_224x168.png");
  g_autoptr(GdkTexture) texture = gdk_texture_new_from_filename (path, NULL);
  sq_image from_texture = { 0 };
  sq_image decoded = { 0 };
  sq_error err = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(GdkTexture) back = NULL;

  g_assert_nonnull (texture);
  g_assert_true (squint_texture_to_rgb (texture, &from_texture, &error));
  g_assert_no_error (error);
  g_assert_cmpint (sq_image_load_file (path, NULL, &decoded, &err), ==, SQ_OK);
  g_assert_cmpint (from_texture.w, ==, decoded.w);
  g_assert_cmpint (from_texture.h, ==, decoded.h);
  g_assert_cmpmem (from_texture.rgb, (gsize)decoded.w * decoded.h * 3, decoded.rgb, (gsize)decoded.w * decoded.h * 3);

  /* and back: RGB8 → texture → RGB8 */
  back = squint_rgb_to_texture (&decoded);
  sq_image_free (&from_texture);
  g_assert_true (squint_texture_to_rgb (back, &from_texture, NULL));
  g_assert_cmpmem (from_texture.rgb, (gsize)decoded.w * decoded.h * 3, decoded.rgb, (gsize)decoded.w * decoded.h * 3);
  sq_image_free (&from_texture);
  sq_image_free (&decoded);
}

int
main (int   argc,
      char *argv[])
{
  setlocale (LC_ALL, "C.UTF-8");
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/squint/history/persist", test_persist);
  g_test_add_func ("/squint/history/rename-delete", test_rename_delete);
  g_test_add_func ("/squint/export/markdown", test_export);
  g_test_add_func ("/squint/image/texture-pixels", test_texture_pixels);

  return g_test_run ();
}
