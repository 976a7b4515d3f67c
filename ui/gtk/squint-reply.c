/* squint-reply.c
 *
 * The reply of a VisionThink turn reads
 *
 *     <think>…</think> <tool_call>…</tool_call>       (pass 1, asking to zoom)
 *     <think>…</think> <answer>…</answer>             (pass 2, or a direct answer)
 *
 * and arrives token by token, so a tag may be cut anywhere: a trailing
 * fragment that could still become a tag is held back instead of shown.
 *
 * SPDX-License-Identifier: MIT
 */
#define G_LOG_DOMAIN "squint-reply"

#include "squint-config.h"

#include <string.h>

#include "squint-reply.h"

typedef enum
{
  PART_OUTSIDE,
  PART_THINK,
  PART_TOOL_CALL,
  PART_ANSWER,
} Part;

static const struct
{
  const char *tag;
  Part        enters;   /* PART_OUTSIDE for a closing tag */
} tags[] = {
  { "<think>",      PART_THINK },
  { "</think>",     PART_OUTSIDE },
  { "<tool_call>",  PART_TOOL_CALL },
  { "</tool_call>", PART_OUTSIDE },
  { "<answer>",     PART_ANSWER },
  { "</answer>",    PART_OUTSIDE },
};

/* Whether s (the rest of the text) is a proper prefix of some tag. */
static gboolean
is_partial_tag (const char *s)
{
  gsize len = strlen (s);

  for (guint i = 0; i < G_N_ELEMENTS (tags); i++)
    if (len < strlen (tags[i].tag) && strncmp (tags[i].tag, s, len) == 0)
      return TRUE;
  return FALSE;
}

static char *
strip_copy (const GString *s)
{
  return g_strstrip (g_strndup (s->str, s->len));
}

void
squint_reply_split (const char       *raw,
                    SquintReplyParts *parts)
{
  g_autoptr(GString) think = g_string_new (NULL);
  g_autoptr(GString) answer = g_string_new (NULL);
  g_autoptr(GString) outside = g_string_new (NULL);
  gboolean has_answer = FALSE;
  Part part = PART_OUTSIDE;
  const char *p;

  g_return_if_fail (parts != NULL);

  memset (parts, 0, sizeof *parts);
  if (raw == NULL)
    raw = "";

  for (p = raw; *p != '\0';)
    {
      gboolean matched = FALSE;

      if (*p == '<')
        {
          for (guint i = 0; i < G_N_ELEMENTS (tags); i++)
            {
              gsize len = strlen (tags[i].tag);

              if (strncmp (p, tags[i].tag, len) != 0)
                continue;
              if (tags[i].enters == PART_THINK && think->len > 0)
                g_string_append (think, "\n\n");
              if (tags[i].enters == PART_ANSWER)
                {
                  /* the last answer wins */
                  g_string_truncate (answer, 0);
                  has_answer = TRUE;
                }
              if (tags[i].enters == PART_TOOL_CALL)
                parts->has_tool_call = TRUE;
              part = tags[i].enters;
              p += len;
              matched = TRUE;
              break;
            }
          if (!matched && is_partial_tag (p))
            break;
        }
      if (matched)
        continue;

      switch (part)
        {
        case PART_THINK:
          g_string_append_c (think, *p);
          break;
        case PART_ANSWER:
          g_string_append_c (answer, *p);
          break;
        case PART_OUTSIDE:
          g_string_append_c (outside, *p);
          break;
        case PART_TOOL_CALL:
        default:
          break;
        }
      p++;
    }

  parts->think = strip_copy (think);
  parts->answer = strip_copy (has_answer ? answer : outside);
  parts->thinking = part == PART_THINK;
}

void
squint_reply_parts_clear (SquintReplyParts *parts)
{
  g_clear_pointer (&parts->think, g_free);
  g_clear_pointer (&parts->answer, g_free);
}
