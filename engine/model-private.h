/* model-private.h — what sessions see of a loaded model. */
#pragma once

#include "backend.h"
#include "gguf.h"
#include "squint.h"
#include "text.h"
#include "vision.h"

struct sq_model {
    sq_gguf         *text_file, *mmproj_file;
    sq_backend      *be;
    sq_tokenizer    *tok;
    sq_text_model    text;
    sq_vision_model  vision;
    bool             has_vision;
    char            *name;
    int32_t          vision_start, vision_end;   /* token ids, -1 when absent */
};
