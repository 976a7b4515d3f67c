/* ggml-type.c — the ggml type table (block sizes from ggml's type traits). */
#include "ggml-type.h"

static const sq_type_info type_table[SQ_TYPE_COUNT] = {
    [SQ_TYPE_F32]  = { "F32",  1,   4,   true  },
    [SQ_TYPE_F16]  = { "F16",  1,   2,   true  },
    [SQ_TYPE_Q4_0] = { "Q4_0", 32,  18,  true  },
    [SQ_TYPE_Q4_1] = { "Q4_1", 32,  20,  true  },
    [SQ_TYPE_Q5_0] = { "Q5_0", 32,  22,  true  },
    [SQ_TYPE_Q5_1] = { "Q5_1", 32,  24,  true  },
    [SQ_TYPE_Q8_0] = { "Q8_0", 32,  34,  true  },
    [SQ_TYPE_Q8_1] = { "Q8_1", 32,  36,  false },
    [SQ_TYPE_Q2_K] = { "Q2_K", 256, 84,  false },
    [SQ_TYPE_Q3_K] = { "Q3_K", 256, 110, false },
    [SQ_TYPE_Q4_K] = { "Q4_K", 256, 144, true  },
    [SQ_TYPE_Q5_K] = { "Q5_K", 256, 176, true  },
    [SQ_TYPE_Q6_K] = { "Q6_K", 256, 210, true  },
    [SQ_TYPE_Q8_K] = { "Q8_K", 256, 292, false },
    [SQ_TYPE_I8]   = { "I8",   1,   1,   false },
    [SQ_TYPE_I16]  = { "I16",  1,   2,   false },
    [SQ_TYPE_I32]  = { "I32",  1,   4,   false },
    [SQ_TYPE_I64]  = { "I64",  1,   8,   false },
    [SQ_TYPE_F64]  = { "F64",  1,   8,   false },
    [SQ_TYPE_BF16] = { "BF16", 1,   2,   true  },
};

const sq_type_info *
sq_type_get(uint32_t type)
{
    if (type >= SQ_TYPE_COUNT || type_table[type].name == NULL)
        return NULL;
    return &type_table[type];
}

size_t
sq_type_row_size(sq_type type, int64_t n)
{
    const sq_type_info *info = sq_type_get((uint32_t)type);
    if (!info || n < 0 || n % info->block_size != 0)
        return 0;
    return (size_t)(n / info->block_size) * info->type_size;
}
