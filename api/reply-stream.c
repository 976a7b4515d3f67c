/* reply-stream.c — see reply-stream.h.
 *
 * SPDX-License-Identifier: MIT
 */
#include "reply-stream.h"

#include <string.h>

typedef enum
{
  IN_OUTSIDE,
  IN_THINK,
  IN_ANSWER,
  IN_TOOL_CALL,
} Where;

struct _SquintReplyStream
{
  Where    where;
  GString *held;          /* a '<' and what follows that may still become a tag */
  gboolean content_began; /* leading whitespace outside tags is not shown */
};

typedef struct
{
  const char *tag;
  Where       from_outside; /* IN_OUTSIDE: a closing tag */
  Where       closes;       /* for closing tags: the state it ends */
} Tag;

static const Tag tags[] = {
  { "<think>", IN_THINK, IN_OUTSIDE },
  { "</think>", IN_OUTSIDE, IN_THINK },
  { "<answer>", IN_ANSWER, IN_OUTSIDE },
  { "</answer>", IN_OUTSIDE, IN_ANSWER },
  { "<tool_call>", IN_TOOL_CALL, IN_OUTSIDE },
  { "</tool_call>", IN_OUTSIDE, IN_TOOL_CALL },
};

SquintReplyStream *
squint_reply_stream_new (void)
{
  SquintReplyStream *self = g_new0 (SquintReplyStream, 1);

  self->held = g_string_new (NULL);
  return self;
}

void
squint_reply_stream_free (SquintReplyStream *self)
{
  if (self == NULL)
    return;
  g_string_free (self->held, TRUE);
  g_free (self);
}

void
squint_reply_stream_new_pass (SquintReplyStream *self)
{
  self->where = IN_OUTSIDE;
}

/* Text that is not a tag goes where the state says. */
static void
emit (SquintReplyStream *self,
      const char        *text,
      gsize              len,
      GString           *content,
      GString           *reasoning)
{
  switch (self->where)
    {
    case IN_THINK:
      g_string_append_len (reasoning, text, len);
      break;
    case IN_OUTSIDE:
      if (!self->content_began)
        {
          while (len > 0 && g_ascii_isspace (*text))
            text++, len--;
          if (len == 0)
            return;
        }
      G_GNUC_FALLTHROUGH;
    case IN_ANSWER:
      if (!self->content_began)
        {
          /* an answer's own leading newline is layout, not content */
          while (len > 0 && (*text == '\n' || *text == '\r'))
            text++, len--;
          if (len == 0)
            return;
        }
      self->content_began = TRUE;
      g_string_append_len (content, text, len);
      break;
    case IN_TOOL_CALL:
      break;
    }
}

/* Whether held text is a whole tag (acting on it), could still become one,
 * or is plain text. */
typedef enum
{
  HELD_TAG,
  HELD_PREFIX,
  HELD_TEXT,
} Held;

static Held
classify_held (SquintReplyStream *self)
{
  gboolean prefix = FALSE;

  for (gsize i = 0; i < G_N_ELEMENTS (tags); i++)
    {
      gsize n = strlen (tags[i].tag);

      if (self->held->len == n && memcmp (self->held->str, tags[i].tag, n) == 0)
        {
          /* a closing tag only closes what is open; an opening one only opens at the top level */
          if (tags[i].from_outside == IN_OUTSIDE && self->where != tags[i].closes)
            return HELD_TEXT;
          if (tags[i].from_outside != IN_OUTSIDE && self->where != IN_OUTSIDE)
            return HELD_TEXT;
          self->where = tags[i].from_outside;
          return HELD_TAG;
        }
      if (self->held->len < n && memcmp (self->held->str, tags[i].tag, self->held->len) == 0)
        prefix = TRUE;
    }
  return prefix ? HELD_PREFIX : HELD_TEXT;
}

void
squint_reply_stream_feed (SquintReplyStream *self,
                          const char        *text,
                          gsize              len,
                          GString           *content,
                          GString           *reasoning)
{
  gsize start = 0;

  for (gsize i = 0; i < len; i++)
    {
      if (self->held->len == 0 && text[i] != '<')
        continue;
      if (self->held->len == 0)
        {
          emit (self, text + start, i - start, content, reasoning);
          g_string_append_c (self->held, '<');
          start = i + 1;
          continue;
        }
      g_string_append_c (self->held, text[i]);
      start = i + 1;
      switch (classify_held (self))
        {
        case HELD_TAG:
          g_string_truncate (self->held, 0);
          break;
        case HELD_PREFIX:
          break;
        case HELD_TEXT:
          {
            /* not a tag: release the '<' and look again at what followed it */
            g_autofree char *rest = g_strdup (self->held->str + 1);

            g_string_truncate (self->held, 0);
            emit (self, "<", 1, content, reasoning);
            squint_reply_stream_feed (self, rest, strlen (rest), content, reasoning);
          }
          break;
        }
    }
  if (self->held->len == 0)
    emit (self, text + start, len - start, content, reasoning);
}

void
squint_reply_stream_end (SquintReplyStream *self,
                         GString           *content,
                         GString           *reasoning)
{
  g_autofree char *rest = g_strndup (self->held->str, self->held->len);
  gsize n = self->held->len;

  g_string_truncate (self->held, 0);
  emit (self, rest, n, content, reasoning);
}
