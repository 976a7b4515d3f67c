/* ggml-type.h — the tensor element types of ggml/GGUF files: ids, names and
 * block geometry.  The numeric ids are the on-disk values and must not change. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    SQ_TYPE_F32  = 0,
    SQ_TYPE_F16  = 1,
    SQ_TYPE_Q4_0 = 2,
    SQ_TYPE_Q4_1 = 3,
    SQ_TYPE_Q5_0 = 6,
    SQ_TYPE_Q5_1 = 7,
    SQ_TYPE_Q8_0 = 8,
    SQ_TYPE_Q8_1 = 9,
    SQ_TYPE_Q2_K = 10,
    SQ_TYPE_Q3_K = 11,
    SQ_TYPE_Q4_K = 12,
    SQ_TYPE_Q5_K = 13,
    SQ_TYPE_Q6_K = 14,
    SQ_TYPE_Q8_K = 15,
    SQ_TYPE_I8   = 24,
    SQ_TYPE_I16  = 25,
    SQ_TYPE_I32  = 26,
    SQ_TYPE_I64  = 27,
    SQ_TYPE_F64  = 28,
    SQ_TYPE_BF16 = 30,
    SQ_TYPE_COUNT = 40,
} sq_type;

typedef struct {
    const char *name;        /* "Q4_K", as gguf-dump prints it */
    uint32_t    block_size;  /* elements per block (1 for plain types) */
    uint32_t    type_size;   /* bytes per block */
    bool        computable;  /* Squint can dequantize / multiply it */
} sq_type_info;

/* Geometry of a type id read from a file; NULL for ids ggml never defined or
 * that Squint cannot even measure (the caller reports "unknown type N"). */
const sq_type_info *sq_type_get(uint32_t type);

/* Bytes of one row of n elements; 0 when n is not a whole number of blocks. */
size_t sq_type_row_size(sq_type type, int64_t n);
