/* cli-model.c — the demo model as the default for `run` and `chat`. */
#include "cli.h"

#include <stdio.h>

#include "squint.h"

bool
cli_pick_model(const char *cmd, const char **model, const char **mmproj, char *text_buf, char *mmproj_buf,
               size_t size)
{
    if (*model)
        return true;
    if (*mmproj) {
        fprintf(stderr, "squint-cli %s: --mmproj needs its text model: add -m TEXT.gguf\n", cmd);
        return false;
    }
    sq_error err = { 0 };
    if (sq_demo_model_find(text_buf, mmproj_buf, size, &err) != SQ_OK) {
        fprintf(stderr, "squint-cli %s: no -m given and %s\n", cmd, err.msg);
        return false;
    }
    *model = text_buf;
    *mmproj = mmproj_buf;
    return true;
}
