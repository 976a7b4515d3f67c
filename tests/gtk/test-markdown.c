/* test-markdown.c — Markdown to Pango markup, reply splitting, number
 * formatting: the text the chat view shows.
 *
 * SPDX-License-Identifier: MIT
 */
#include <locale.h>
#include <pango/pango.h>

#include "squint-conversation.h"
#include "squint-export.h"
#include "squint-markdown.h"
#include "squint-reply.h"
#include "test-common.h"

/* Pango's parser, with links as GtkLabel takes them (<a href>, which it
 * handles before Pango) turned into spans. */
static void
assert_valid_markup (const char *markup)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GRegex) open = g_regex_new ("<a href=\"[^\"<>]*\">", 0, 0, NULL);
  g_autofree char *spans = g_regex_replace_literal (open, markup, -1, 0, "<span>", 0, NULL);
  g_auto(GStrv) parts = g_strsplit (spans, "</a>", -1);
  g_autofree char *pango = g_strjoinv ("</span>", parts);

  if (!pango_parse_markup (pango, -1, 0, NULL, NULL, NULL, &error))
    g_error ("invalid markup “%s”: %s", markup, error->message);
}

static void
test_inline (void)
{
  static const struct { const char *in, *out; } cases[] = {
    { "plain", "plain" },
    { "**bold** and *it*", "<b>bold</b> and <i>it</i>" },
    { "__bold__ _it_", "<b>bold</b> <i>it</i>" },
    { "`a < b`", "<span font_family=\"monospace\">a &lt; b</span>" },
    { "~~gone~~", "<s>gone</s>" },
    { "snake_case_name", "snake_case_name" },
    { "2 * 3 * 4", "2 * 3 * 4" },
    { "**unclosed", "**unclosed" },
    { "<b>not markup</b> & co", "&lt;b&gt;not markup&lt;/b&gt; &amp; co" },
    { "[GNOME](https://gnome.org)", "<a href=\"https://gnome.org\">GNOME</a>" },
    { "[x](javascript:alert(1))", "x)" },
    { "**bold _and it_**", "<b>bold <i>and it</i></b>" },
    { "\\*literal\\*", "*literal*" },
    { "`**no bold in code**`", "<span font_family=\"monospace\">**no bold in code**</span>" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *markup = squint_markdown_inline_to_pango (cases[i].in);

      g_assert_cmpstr (markup, ==, cases[i].out);
      assert_valid_markup (markup);
    }
}

/* Whatever the text, the markup parses. */
static void
test_inline_fuzz (void)
{
  static const char alphabet[] = "ab *_`~[]()<>&\\\"'\n#-1.:/hé";
  GRand *rand = g_rand_new_with_seed (42);

  for (guint n = 0; n < 20000; n++)
    {
      g_autoptr(GString) s = g_string_new (NULL);
      guint len = g_rand_int_range (rand, 0, 24);
      g_autofree char *markup = NULL;

      for (guint i = 0; i < len; i++)
        {
          /* "é" is two bytes: take whole characters */
          const char *p = g_utf8_offset_to_pointer (alphabet, g_rand_int_range (rand, 0, g_utf8_strlen (alphabet, -1)));

          g_string_append_len (s, p, g_utf8_next_char (p) - p);
        }
      markup = squint_markdown_inline_to_pango (s->str);
      assert_valid_markup (markup);
    }
  g_rand_free (rand);

  {
    /* invalid UTF-8 too */
    g_autofree char *markup = squint_markdown_inline_to_pango ("a\xff\xfe**b**");

    assert_valid_markup (markup);
  }
}

static void
test_blocks (void)
{
  const char *text =
    "# Title\n"
    "\n"
    "A paragraph\nwith two lines.\n"
    "\n"
    "- one\n"
    "- two\n"
    "  continued\n"
    "  - nested\n"
    "3. three\n"
    "\n"
    "> quoted\n"
    "\n"
    "```c\n"
    "int x;\n"
    "\n"
    "return x;\n"
    "```\n"
    "---\n"
    "```\n"
    "streaming";
  g_autoptr(GPtrArray) blocks = squint_markdown_parse (text);
  SquintMdBlock *b;

  g_assert_cmpuint (blocks->len, ==, 10);
  b = g_ptr_array_index (blocks, 0);
  g_assert_cmpint (b->kind, ==, SQUINT_MD_HEADING);
  g_assert_cmpint (b->level, ==, 1);
  g_assert_cmpstr (b->text, ==, "Title");
  b = g_ptr_array_index (blocks, 1);
  g_assert_cmpint (b->kind, ==, SQUINT_MD_PARAGRAPH);
  g_assert_cmpstr (b->text, ==, "A paragraph\nwith two lines.");
  b = g_ptr_array_index (blocks, 2);
  g_assert_cmpint (b->kind, ==, SQUINT_MD_LIST_ITEM);
  g_assert_cmpstr (b->marker, ==, "•");
  b = g_ptr_array_index (blocks, 3);
  g_assert_cmpstr (b->text, ==, "two continued");
  b = g_ptr_array_index (blocks, 4);
  g_assert_cmpint (b->level, ==, 1);
  b = g_ptr_array_index (blocks, 5);
  g_assert_cmpstr (b->marker, ==, "3.");
  b = g_ptr_array_index (blocks, 6);
  g_assert_cmpint (b->kind, ==, SQUINT_MD_QUOTE);
  b = g_ptr_array_index (blocks, 7);
  g_assert_cmpint (b->kind, ==, SQUINT_MD_CODE);
  g_assert_cmpstr (b->lang, ==, "c");
  g_assert_cmpstr (b->text, ==, "int x;\n\nreturn x;");
  b = g_ptr_array_index (blocks, 8);
  g_assert_cmpint (b->kind, ==, SQUINT_MD_RULE);
  /* an unclosed fence while streaming: the code so far */
  b = g_ptr_array_index (blocks, 9);
  g_assert_cmpint (b->kind, ==, SQUINT_MD_CODE);
  g_assert_cmpstr (b->text, ==, "streaming");
}

static void
test_plain (void)
{
  g_autofree char *plain = squint_markdown_to_plain ("**Hi** there\n\n- `a`\n- [b](https://x.org)");

  g_assert_cmpstr (plain, ==, "Hi there\n\n• a\n• b (https://x.org)");
}

static void
test_reply_split (void)
{
  g_auto(SquintReplyParts) a = { 0 };
  g_auto(SquintReplyParts) b = { 0 };
  g_auto(SquintReplyParts) c = { 0 };
  g_auto(SquintReplyParts) d = { 0 };

  squint_reply_split ("<think>Too small.</think>\n<tool_call>{}</tool_call><think>Now I see it.</think><answer>It says **42**.</answer>", &a);
  g_assert_cmpstr (a.think, ==, "Too small.\n\nNow I see it.");
  g_assert_cmpstr (a.answer, ==, "It says **42**.");
  g_assert_true (a.has_tool_call);
  g_assert_false (a.thinking);

  /* streaming: an open think, a tag cut in half */
  squint_reply_split ("<think>Looking", &b);
  g_assert_true (b.thinking);
  g_assert_cmpstr (b.think, ==, "Looking");
  g_assert_cmpstr (b.answer, ==, "");
  squint_reply_split ("<think>x</think><ans", &c);
  g_assert_cmpstr (c.answer, ==, "");

  /* no tags: everything is the answer */
  squint_reply_split ("Just text, 3 < 4.", &d);
  g_assert_cmpstr (d.answer, ==, "Just text, 3 < 4.");
  g_assert_cmpstr (d.think, ==, "");
}

static void
test_format (void)
{
  g_autofree char *a = squint_format_savings (-48, 192);
  g_autofree char *b = squint_format_savings (144, 192);
  g_autofree char *c = squint_format_savings (0, 0);
  g_autofree char *slug = squint_export_slug ("Ünïcode: what's in *this* screenshot?");

  g_assert_cmpstr (a, ==, "−48 saved · −25%");
  g_assert_cmpstr (b, ==, "144 saved · 75%");
  g_assert_null (c);
  g_assert_cmpstr (slug, ==, "unicode-what-s-in-this-screenshot");
}

int
main (int   argc,
      char *argv[])
{
  setlocale (LC_ALL, "C.UTF-8");
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/squint/markdown/inline", test_inline);
  g_test_add_func ("/squint/markdown/inline-fuzz", test_inline_fuzz);
  g_test_add_func ("/squint/markdown/blocks", test_blocks);
  g_test_add_func ("/squint/markdown/plain", test_plain);
  g_test_add_func ("/squint/reply/split", test_reply_split);
  g_test_add_func ("/squint/format/savings", test_format);

  return g_test_run ();
}
