/* squint-reply.h — splits a VisionThink reply, as it streams in, into the
 * model's thinking and its answer.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct
{
  char     *think;          /* the <think> parts, joined by blank lines */
  char     *answer;         /* the last <answer>, else the text outside any tag */
  gboolean  thinking;       /* the text ends inside an open <think> */
  gboolean  has_tool_call;  /* a <tool_call> was seen */
} SquintReplyParts;

void squint_reply_split       (const char       *raw,
                               SquintReplyParts *parts);
void squint_reply_parts_clear (SquintReplyParts *parts);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (SquintReplyParts, squint_reply_parts_clear)

G_END_DECLS
