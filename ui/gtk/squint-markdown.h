/* squint-markdown.h — the little Markdown a chat answer uses: paragraphs,
 * headings, lists, block quotes, rules, fenced code; inline bold, italic,
 * strike-through, code and links, turned into Pango markup that is always
 * well-formed whatever the input.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum
{
  SQUINT_MD_PARAGRAPH,
  SQUINT_MD_HEADING,      /* level 1…6 */
  SQUINT_MD_LIST_ITEM,    /* level: nesting depth from 0; marker: "•" or "3." */
  SQUINT_MD_QUOTE,
  SQUINT_MD_CODE,         /* text is verbatim; lang may be NULL */
  SQUINT_MD_RULE,
} SquintMdKind;

typedef struct
{
  SquintMdKind  kind;
  int           level;
  char         *marker;
  char         *lang;
  char         *text;
} SquintMdBlock;

/* A GPtrArray of SquintMdBlock*, freed with the array. */
GPtrArray *squint_markdown_parse           (const char *text);
/* Pango markup for one block's inline text. */
char      *squint_markdown_inline_to_pango (const char *text);
/* Plain text: the markup removed (for copying an answer). */
char      *squint_markdown_to_plain        (const char *text);

G_END_DECLS
