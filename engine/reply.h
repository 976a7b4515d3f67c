/* reply.h — reading a VisionThink reply: the tool call, the <think> parts,
 * the <answer> and \boxed{} (pure string functions, no model needed). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

typedef enum {
    SQ_TOOL_NONE,       /* no <tool_call>…</tool_call> in the reply */
    SQ_TOOL_RESIZE,     /* a well-formed resize request */
    SQ_TOOL_ERROR,      /* a tool call that cannot be carried out; see error */
} sq_tool_kind;

typedef struct {
    sq_tool_kind kind;
    char         error[256];   /* SQ_TOOL_ERROR: the text the protocol's error turn carries */
} sq_tool_call;

/* Finds tool calls the way VisionThink's reference client does: every
 * <tool_call>(.*?)</tool_call>, every JSON object in them matched by
 * \{.*?\}\}, each parsed; exactly one object whose arguments.action is
 * "resize" is a resize request, anything else an error. */
sq_tool_call sq_reply_tool_call(const char *reply);

/* The text between the last <answer> and </answer> (NULL when absent). */
char *sq_reply_answer(const char *reply);
/* Every <think>…</think> part, joined by blank lines (NULL when none). */
char *sq_reply_think(const char *reply);
/* The reply without <think> parts and tool calls, trimmed (never NULL). */
char *sq_reply_visible(const char *reply);
/* The content of the last \boxed{…} with balanced braces (NULL when absent). */
char *sq_reply_boxed(const char *text);
