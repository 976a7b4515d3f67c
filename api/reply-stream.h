/* reply-stream.h — splits a VisionThink reply, as it streams, into what a
 * chat client shows: the reasoning (<think>…</think>) and the answer
 * (<answer>…</answer>, or text outside any tag for models that do not use
 * the protocol).  Tool calls are the server's business and are dropped.
 * Tags may arrive split across tokens; a possible tag prefix is held back
 * until the next piece decides it.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _SquintReplyStream SquintReplyStream;

SquintReplyStream *squint_reply_stream_new  (void);
void               squint_reply_stream_free (SquintReplyStream *self);
/* Feeds text; appends what it releases to *content and *reasoning (either
 * may stay empty). */
void               squint_reply_stream_feed (SquintReplyStream *self,
                                             const char        *text,
                                             gsize              len,
                                             GString           *content,
                                             GString           *reasoning);
/* The end of the reply: releases what was held back. */
void               squint_reply_stream_end  (SquintReplyStream *self,
                                             GString           *content,
                                             GString           *reasoning);
/* Starts a new pass (after a zoom): no tag is open. */
void               squint_reply_stream_new_pass (SquintReplyStream *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SquintReplyStream, squint_reply_stream_free)

G_END_DECLS
