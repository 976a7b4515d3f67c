/* chat.c — the plain Qwen2.5-VL chat template (HF chat_template, one turn). */
#include "chat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

sq_status
sq_chat_plain_prompt(const char *system, const char *user_text, size_t n_images, char **out, sq_error *err)
{
    static const char image[] = "<image>";
    if (!system)
        system = SQ_CHAT_DEFAULT_SYSTEM;
    size_t size = strlen(system) + strlen(user_text) + n_images * (sizeof image - 1) + 128;
    char *s = malloc(size);
    if (!s)
        return sq_error_set(err, SQ_ERR_NOMEM, "out of memory");
    int n = snprintf(s, size, "<|im_start|>system\n%s<|im_end|>\n<|im_start|>user\n", system);
    for (size_t i = 0; i < n_images; i++)
        n += snprintf(s + n, size - (size_t)n, "%s", image);
    snprintf(s + n, size - (size_t)n, "%s<|im_end|>\n<|im_start|>assistant\n", user_text);
    *out = s;
    return SQ_OK;
}
