/* squint-markdown.c
 *
 * A line-based block parser and a recursive inline renderer.  The renderer
 * only opens a span once it has found its closing delimiter and renders the
 * inside on its own, so tags always nest; everything else goes through
 * g_markup_escape_text().  Streaming text is fine: an unclosed code fence is
 * a code block so far, an unclosed `**` is literal text.
 *
 * SPDX-License-Identifier: MIT
 */
#define G_LOG_DOMAIN "squint-markdown"

#include "squint-config.h"

#include <string.h>

#include "squint-markdown.h"

static void
block_free (gpointer data)
{
  SquintMdBlock *b = data;

  g_free (b->marker);
  g_free (b->lang);
  g_free (b->text);
  g_free (b);
}

static SquintMdBlock *
block_new (SquintMdKind  kind,
           int           level,
           const char   *text)
{
  SquintMdBlock *b = g_new0 (SquintMdBlock, 1);

  b->kind = kind;
  b->level = level;
  b->text = g_strdup (text);
  return b;
}

static int
indent_width (const char *line)
{
  int n = 0;

  for (; *line == ' ' || *line == '\t'; line++)
    n += *line == '\t' ? 4 : 1;
  return n;
}

static gboolean
is_rule (const char *s)
{
  char c = 0;
  int n = 0;

  for (; *s; s++)
    {
      if (*s == ' ')
        continue;
      if (*s != '-' && *s != '*' && *s != '_')
        return FALSE;
      if (c != 0 && *s != c)
        return FALSE;
      c = *s;
      n++;
    }
  return n >= 3;
}

/* "- x", "* x", "+ x" → "•"; "12. x" / "12) x" → "12."; else NULL. */
static char *
list_marker (const char  *s,
             const char **rest)
{
  if ((s[0] == '-' || s[0] == '*' || s[0] == '+') && s[1] == ' ')
    {
      *rest = s + 2;
      return g_strdup ("•");
    }
  if (g_ascii_isdigit (s[0]))
    {
      const char *p = s;

      while (g_ascii_isdigit (*p) && p - s < 9)
        p++;
      if ((*p == '.' || *p == ')') && p[1] == ' ')
        {
          *rest = p + 2;
          return g_strdup_printf ("%.*s.", (int)(p - s), s);
        }
    }
  return NULL;
}

static void
flush_paragraph (GPtrArray  *blocks,
                 GString    *para,
                 SquintMdKind kind)
{
  if (para->len == 0)
    return;
  g_ptr_array_add (blocks, block_new (kind, 0, para->str));
  g_string_truncate (para, 0);
}

GPtrArray *
squint_markdown_parse (const char *text)
{
  g_autoptr(GPtrArray) blocks = g_ptr_array_new_with_free_func (block_free);
  g_autoptr(GString) para = g_string_new (NULL);
  g_autoptr(GString) quote = g_string_new (NULL);
  g_auto(GStrv) lines = NULL;
  SquintMdBlock *code = NULL;
  SquintMdBlock *item = NULL;
  g_autoptr(GString) code_text = NULL;
  guint code_lines = 0;

  if (text == NULL)
    text = "";
  lines = g_strsplit (text, "\n", -1);

  for (guint i = 0; lines[i] != NULL; i++)
    {
      char *line = lines[i];
      gsize len = strlen (line);
      const char *s;
      const char *rest = NULL;
      g_autofree char *marker = NULL;
      int indent;

      if (len > 0 && line[len - 1] == '\r')
        line[--len] = '\0';

      indent = indent_width (line);
      s = line;
      while (*s == ' ' || *s == '\t')
        s++;

      if (code != NULL)
        {
          if (g_str_has_prefix (s, "```"))
            {
              code->text = g_string_free (g_steal_pointer (&code_text), FALSE);
              code = NULL;
            }
          else
            {
              if (code_lines++ > 0)
                g_string_append_c (code_text, '\n');
              g_string_append (code_text, line);
            }
          continue;
        }

      if (g_str_has_prefix (s, "```"))
        {
          g_autofree char *lang = g_strstrip (g_strdup (s + 3));

          flush_paragraph (blocks, para, SQUINT_MD_PARAGRAPH);
          flush_paragraph (blocks, quote, SQUINT_MD_QUOTE);
          item = NULL;
          code = block_new (SQUINT_MD_CODE, 0, NULL);
          code->lang = lang[0] != '\0' ? g_steal_pointer (&lang) : NULL;
          code_text = g_string_new (NULL);
          code_lines = 0;
          g_ptr_array_add (blocks, code);
          continue;
        }

      if (*s == '\0')
        {
          flush_paragraph (blocks, para, SQUINT_MD_PARAGRAPH);
          flush_paragraph (blocks, quote, SQUINT_MD_QUOTE);
          item = NULL;
          continue;
        }

      if (*s == '#')
        {
          int level = 0;

          while (s[level] == '#')
            level++;
          if (level <= 6 && (s[level] == ' ' || s[level] == '\0'))
            {
              g_autofree char *title = g_strstrip (g_strdup (s + level));
              gsize tl = strlen (title);

              /* closing hashes: "## Title ##" */
              while (tl > 0 && title[tl - 1] == '#')
                title[--tl] = '\0';
              g_strchomp (title);
              flush_paragraph (blocks, para, SQUINT_MD_PARAGRAPH);
              flush_paragraph (blocks, quote, SQUINT_MD_QUOTE);
              item = NULL;
              g_ptr_array_add (blocks, block_new (SQUINT_MD_HEADING, level, title));
              continue;
            }
        }

      if (indent < 4 && is_rule (s) && (s[0] != '-' || para->len == 0))
        {
          flush_paragraph (blocks, para, SQUINT_MD_PARAGRAPH);
          flush_paragraph (blocks, quote, SQUINT_MD_QUOTE);
          item = NULL;
          g_ptr_array_add (blocks, block_new (SQUINT_MD_RULE, 0, ""));
          continue;
        }

      if (*s == '>')
        {
          s++;
          if (*s == ' ')
            s++;
          flush_paragraph (blocks, para, SQUINT_MD_PARAGRAPH);
          item = NULL;
          if (quote->len > 0)
            g_string_append_c (quote, '\n');
          g_string_append (quote, s);
          continue;
        }
      flush_paragraph (blocks, quote, SQUINT_MD_QUOTE);

      if ((marker = list_marker (s, &rest)) != NULL)
        {
          flush_paragraph (blocks, para, SQUINT_MD_PARAGRAPH);
          item = block_new (SQUINT_MD_LIST_ITEM, MIN (indent / 2, 6), rest);
          item->marker = g_steal_pointer (&marker);
          g_ptr_array_add (blocks, item);
          continue;
        }

      if (item != NULL && indent > 0)
        {
          /* a continuation line of a list item */
          g_autofree char *joined = g_strconcat (item->text, " ", s, NULL);

          g_free (item->text);
          item->text = g_steal_pointer (&joined);
          continue;
        }
      item = NULL;

      if (para->len > 0)
        g_string_append_c (para, '\n');
      g_string_append (para, s);
    }

  if (code != NULL)
    code->text = g_string_free (g_steal_pointer (&code_text), FALSE);
  flush_paragraph (blocks, para, SQUINT_MD_PARAGRAPH);
  flush_paragraph (blocks, quote, SQUINT_MD_QUOTE);

  return g_steal_pointer (&blocks);
}

/* ---- inline ---- */

static void
append_escaped (GString    *out,
                const char *s,
                gssize      len)
{
  g_autofree char *e = g_markup_escape_text (s, len);

  g_string_append (out, e);
}

/* The next occurrence of delim in [s, end) not preceded by a backslash,
 * with at least one character between the start and it. */
static const char *
find_closing (const char *s,
              const char *end,
              const char *delim)
{
  gsize dl = strlen (delim);

  for (const char *p = s + 1; p + dl <= end; p++)
    {
      if (*p == '\\')
        {
          p++;
          continue;
        }
      if (*p == '`' && delim[0] != '`')
        {
          /* code spans hide delimiters */
          const char *c = memchr (p + 1, '`', end - p - 1);

          if (c != NULL)
            {
              p = c;
              continue;
            }
        }
      if (strncmp (p, delim, dl) == 0 && p[-1] != ' ')
        return p;
    }
  return NULL;
}

static gboolean
safe_url (const char *url,
          gsize       len)
{
  static const char *schemes[] = { "http://", "https://", "mailto:" };

  for (guint i = 0; i < G_N_ELEMENTS (schemes); i++)
    {
      gsize sl = strlen (schemes[i]);

      if (len > sl && g_ascii_strncasecmp (url, schemes[i], sl) == 0)
        return TRUE;
    }
  return FALSE;
}

static void render_inline (GString *out, const char *s, const char *end, gboolean plain);

static gboolean
render_span (GString    *out,
             const char **pp,
             const char *end,
             const char *delim,
             const char *open,
             const char *close,
             gboolean    plain)
{
  const char *p = *pp;
  gsize dl = strlen (delim);
  const char *c;

  if ((gsize)(end - p) <= dl || p[dl] == ' ' || p[dl] == '\n')
    return FALSE;
  c = find_closing (p + dl - 1, end, delim);
  if (c == NULL || c == p + dl)
    return FALSE;
  /* underscores only emphasize at word boundaries: snake_case stays */
  if (delim[0] == '_' && c + dl < end && g_ascii_isalnum (c[dl]))
    return FALSE;
  if (!plain)
    g_string_append (out, open);
  render_inline (out, p + dl, c, plain);
  if (!plain)
    g_string_append (out, close);
  *pp = c + dl;
  return TRUE;
}

static void
render_inline (GString    *out,
               const char *s,
               const char *end,
               gboolean    plain)
{
  const char *p = s;

  while (p < end)
    {
      const char *next;

      if (*p == '\\' && p + 1 < end && g_ascii_ispunct (p[1]))
        {
          append_escaped (out, p + 1, 1);
          p += 2;
          continue;
        }

      if (*p == '`')
        {
          const char *c = memchr (p + 1, '`', end - p - 1);

          if (c != NULL)
            {
              if (!plain)
                g_string_append (out, "<span font_family=\"monospace\">");
              append_escaped (out, p + 1, c - p - 1);
              if (!plain)
                g_string_append (out, "</span>");
              p = c + 1;
              continue;
            }
        }

      if (p + 1 < end && ((p[0] == '*' && p[1] == '*') || (p[0] == '_' && p[1] == '_')))
        {
          if (render_span (out, &p, end, p[0] == '*' ? "**" : "__", "<b>", "</b>", plain))
            continue;
        }
      else if (p + 1 < end && p[0] == '~' && p[1] == '~')
        {
          if (render_span (out, &p, end, "~~", "<s>", "</s>", plain))
            continue;
        }
      else if (*p == '*' ||
               (*p == '_' && (p == s || !g_ascii_isalnum (p[-1]))))
        {
          if (render_span (out, &p, end, *p == '*' ? "*" : "_", "<i>", "</i>", plain))
            continue;
        }
      else if (*p == '[')
        {
          const char *close = find_closing (p, end, "](");
          const char *paren = close ? memchr (close + 2, ')', end - close - 2) : NULL;

          if (close != NULL && paren != NULL && close > p + 1)
            {
              const char *url = close + 2;
              gsize url_len = paren - url;

              if (!plain && safe_url (url, url_len))
                {
                  g_string_append (out, "<a href=\"");
                  append_escaped (out, url, url_len);
                  g_string_append (out, "\">");
                  render_inline (out, p + 1, close, plain);
                  g_string_append (out, "</a>");
                }
              else
                {
                  render_inline (out, p + 1, close, plain);
                  if (plain)
                    {
                      g_string_append (out, " (");
                      g_string_append_len (out, url, url_len);
                      g_string_append (out, ")");
                    }
                }
              p = paren + 1;
              continue;
            }
        }

      /* one UTF-8 character (or one byte of invalid text), escaped */
      next = g_utf8_find_next_char (p, end);
      if (next == NULL)
        next = end;
      if (plain)
        g_string_append_len (out, p, next - p);
      else
        append_escaped (out, p, next - p);
      p = next;
    }
}

char *
squint_markdown_inline_to_pango (const char *text)
{
  g_autoptr(GString) out = g_string_new (NULL);
  g_autofree char *valid = NULL;

  if (text == NULL)
    return g_strdup ("");
  valid = g_utf8_make_valid (text, -1);
  render_inline (out, valid, valid + strlen (valid), FALSE);
  return g_string_free (g_steal_pointer (&out), FALSE);
}

char *
squint_markdown_to_plain (const char *text)
{
  g_autoptr(GPtrArray) blocks = squint_markdown_parse (text);
  g_autoptr(GString) out = g_string_new (NULL);

  for (guint i = 0; i < blocks->len; i++)
    {
      SquintMdBlock *b = g_ptr_array_index (blocks, i);

      if (out->len > 0)
        {
          const SquintMdBlock *prev = g_ptr_array_index (blocks, i - 1);

          g_string_append (out, b->kind == SQUINT_MD_LIST_ITEM && prev->kind == SQUINT_MD_LIST_ITEM ? "\n" : "\n\n");
        }
      switch (b->kind)
        {
        case SQUINT_MD_CODE:
          g_string_append (out, b->text);
          break;
        case SQUINT_MD_RULE:
          g_string_append (out, "———");
          break;
        case SQUINT_MD_LIST_ITEM:
          for (int l = 0; l < b->level; l++)
            g_string_append (out, "  ");
          g_string_append_printf (out, "%s ", b->marker);
          G_GNUC_FALLTHROUGH;
        case SQUINT_MD_PARAGRAPH:
        case SQUINT_MD_HEADING:
        case SQUINT_MD_QUOTE:
        default:
          {
            g_autofree char *valid = g_utf8_make_valid (b->text, -1);

            render_inline (out, valid, valid + strlen (valid), TRUE);
          }
          break;
        }
    }
  return g_string_free (g_steal_pointer (&out), FALSE);
}
