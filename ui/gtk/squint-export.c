/* squint-export.c
 *
 * The Markdown text is built on the main thread from the conversation (with
 * a placeholder for the images folder's name); the thread picks free names,
 * copies the images and writes the file.
 *
 * SPDX-License-Identifier: MIT
 */
#define G_LOG_DOMAIN "squint-export"

#include "squint-config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "squint-export.h"

#define FOLDER_MARK "\x01"

typedef struct
{
  GFile     *folder;
  char      *slug;
  char      *markdown;     /* FOLDER_MARK stands for the images folder's name */
  GPtrArray *sources;      /* char* paths */
  GPtrArray *names;        /* char* names inside the images folder */
} ExportData;

static void
export_data_free (ExportData *d)
{
  g_clear_object (&d->folder);
  g_free (d->slug);
  g_free (d->markdown);
  g_clear_pointer (&d->sources, g_ptr_array_unref);
  g_clear_pointer (&d->names, g_ptr_array_unref);
  g_free (d);
}

char *
squint_export_slug (const char *title)
{
  g_autoptr(GString) slug = g_string_new (NULL);
  g_autofree char *ascii = NULL;

  ascii = g_str_to_ascii (title ? title : "", NULL);
  for (const char *p = ascii; *p && slug->len < 48; p++)
    {
      if (g_ascii_isalnum (*p))
        g_string_append_c (slug, g_ascii_tolower (*p));
      else if (slug->len > 0 && slug->str[slug->len - 1] != '-')
        g_string_append_c (slug, '-');
    }
  while (slug->len > 0 && slug->str[slug->len - 1] == '-')
    g_string_truncate (slug, slug->len - 1);
  if (slug->len == 0)
    g_string_assign (slug, "conversation");
  return g_string_free (g_steal_pointer (&slug), FALSE);
}

/* The text as it is, line by line, ending with a newline. */
static void
append_text_block (GString    *md,
                   const char *text)
{
  g_auto(GStrv) lines = g_strsplit (text ? text : "", "\n", -1);

  for (guint i = 0; lines[i]; i++)
    g_string_append_printf (md, "%s\n", lines[i]);
}

static char *
build_markdown (SquintConversation *c,
                GPtrArray          *sources,
                GPtrArray          *names)
{
  GListModel *messages = squint_conversation_get_messages (c);
  g_autoptr(GString) md = g_string_new (NULL);
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  g_autofree char *date = g_date_time_format (now, "%Y-%m-%d %H:%M");
  g_autofree char *savings = squint_format_savings (squint_conversation_get_visual_saved (c),
                                                    squint_conversation_get_visual_baseline (c));

  g_string_append_printf (md, "# %s\n\n", squint_conversation_get_title (c));
  /* Translators: the first line of an exported conversation; %s is a date */
  g_string_append_printf (md, "_%s_\n\n", _("Exported from Squint"));
  g_string_append_printf (md, "_%s_\n\n", date);
  if (savings != NULL)
    {
      /* Translators: %s is e.g. "144 saved · 75%" */
      g_string_append_printf (md, _("Visual tokens: %s"), savings);
      g_string_append (md, "\n\n");
    }

  for (guint i = 0; i < g_list_model_get_n_items (messages); i++)
    {
      g_autoptr(SquintMessage) m = g_list_model_get_item (messages, i);

      if (squint_message_get_role (m) == SQUINT_ROLE_USER)
        {
          GListModel *images = squint_message_get_images (m);

          g_string_append_printf (md, "## %s\n\n", _("You"));
          for (guint j = 0; j < g_list_model_get_n_items (images); j++)
            {
              g_autoptr(SquintImage) image = g_list_model_get_item (images, j);
              g_autofree char *alt = g_strdup (squint_image_get_name (image) ?: _("Image"));
              char *name;

              if (squint_image_get_path (image) == NULL)
                continue;
              g_strdelimit (alt, "[]()\n", '_');
              name = g_strdup_printf ("%u.png", sources->len + 1);
              g_ptr_array_add (sources, g_strdup (squint_image_get_path (image)));
              g_ptr_array_add (names, name);
              g_string_append_printf (md, "![%s](" FOLDER_MARK "/%s)\n\n", alt, name);
            }
          append_text_block (md, squint_message_get_text (m));
          g_string_append_c (md, '\n');
        }
      else
        {
          const char *think = squint_message_get_think (m);
          const SquintMessageStats *st = squint_message_get_stats (m);

          g_string_append_printf (md, "## %s\n\n", _("Squint"));
          if (think != NULL && think[0] != '\0')
            {
              g_string_append_printf (md, "<details><summary>%s</summary>\n\n", _("Thinking"));
              append_text_block (md, think);
              g_string_append (md, "\n</details>\n\n");
            }
          append_text_block (md, squint_message_get_answer (m));
          g_string_append_c (md, '\n');
          if (squint_message_has_stats (m))
            {
              g_autofree char *used = squint_format_tokens (st->visual_used);
              g_autofree char *base = squint_format_tokens (st->visual_baseline);

              g_string_append (md, "_");
              /* Translators: image tokens an answer used and what full resolution would have used */
              g_string_append_printf (md, _("Image tokens: %s used, %s at full resolution"), used, base);
              if (squint_message_get_zoom_state (m) == SQUINT_ZOOM_ZOOMED)
                g_string_append_printf (md, " · %s", _("looked closer"));
              g_string_append (md, "_\n\n");
            }
        }
    }
  return g_string_free (g_steal_pointer (&md), FALSE);
}

static void
export_thread (GTask        *task,
               gpointer      source_object,
               gpointer      task_data,
               GCancellable *cancellable)
{
  ExportData *d = task_data;
  g_autoptr(GFile) md_file = NULL;
  g_autoptr(GFile) images_dir = NULL;
  g_autofree char *base = NULL;
  g_autofree char *folder_name = NULL;
  g_auto(GStrv) parts = NULL;
  g_autofree char *markdown = NULL;
  GError *error = NULL;

  /* the first free "slug.md" / "slug-2.md" … */
  for (guint n = 1; n < 1000; n++)
    {
      g_autofree char *md_name = NULL;
      g_autoptr(GFile) f = NULL;
      g_autoptr(GFile) dir = NULL;

      g_free (base);
      base = n == 1 ? g_strdup (d->slug) : g_strdup_printf ("%s-%u", d->slug, n);
      md_name = g_strconcat (base, ".md", NULL);
      g_free (folder_name);
      folder_name = g_strconcat (base, "-images", NULL);
      f = g_file_get_child (d->folder, md_name);
      dir = g_file_get_child (d->folder, folder_name);
      if (!g_file_query_exists (f, cancellable) && !g_file_query_exists (dir, cancellable))
        {
          md_file = g_steal_pointer (&f);
          images_dir = g_steal_pointer (&dir);
          break;
        }
    }
  if (md_file == NULL)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_EXISTS, _("Too many exports of “%s” already"), d->slug);
      return;
    }

  if (d->sources->len > 0 && !g_file_make_directory_with_parents (images_dir, cancellable, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  for (guint i = 0; i < d->sources->len; i++)
    {
      g_autoptr(GFile) src = g_file_new_for_path (g_ptr_array_index (d->sources, i));
      g_autoptr(GFile) dst = g_file_get_child (images_dir, g_ptr_array_index (d->names, i));

      if (!g_file_copy (src, dst, G_FILE_COPY_NONE, cancellable, NULL, NULL, &error))
        {
          g_task_return_error (task, error);
          return;
        }
    }

  parts = g_strsplit (d->markdown, FOLDER_MARK, -1);
  markdown = g_strjoinv (folder_name, parts);
  if (!g_file_replace_contents (md_file, markdown, strlen (markdown), NULL, FALSE,
                                G_FILE_CREATE_REPLACE_DESTINATION, NULL, cancellable, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  g_task_return_pointer (task, g_steal_pointer (&md_file), g_object_unref);
}

void
squint_export_conversation_async (SquintConversation  *conversation,
                                  GFile               *folder,
                                  GCancellable        *cancellable,
                                  GAsyncReadyCallback  callback,
                                  gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  ExportData *d;

  g_return_if_fail (SQUINT_IS_CONVERSATION (conversation));
  g_return_if_fail (G_IS_FILE (folder));

  d = g_new0 (ExportData, 1);
  d->folder = g_object_ref (folder);
  d->slug = squint_export_slug (squint_conversation_get_title (conversation));
  d->sources = g_ptr_array_new_with_free_func (g_free);
  d->names = g_ptr_array_new_with_free_func (g_free);
  d->markdown = build_markdown (conversation, d->sources, d->names);

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, squint_export_conversation_async);
  g_task_set_task_data (task, d, (GDestroyNotify)export_data_free);
  g_task_run_in_thread (task, export_thread);
}

GFile *
squint_export_conversation_finish (GAsyncResult  *result,
                                   GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}
