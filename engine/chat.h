/* chat.h — prompt templates.  The text of each template lives here, in one
 * place, byte for byte as the model was trained with it. */
#pragma once

#include <stddef.h>

#include "status.h"

/* The Qwen2.5-VL chat template for one user turn: the system prompt (NULL:
 * the default), n_images images before the text, and the assistant's
 * generation prompt.  Each image is the marker "<image>", which
 * sq_session_eval_prompt turns into <|vision_start|> + tokens + <|vision_end|>.
 * Returns a malloc'd string. */
sq_status sq_chat_plain_prompt(const char *system, const char *user_text, size_t n_images, char **out,
                               sq_error *err);

#define SQ_CHAT_DEFAULT_SYSTEM "You are a helpful assistant."
