/* quant.h — ggml's block formats: half-float conversion, dequantization,
 * activation quantization and the dot products of the decode hot path.
 *
 * Layouts and formulas follow llama.cpp's ggml (ggml-common.h,
 * ggml-quants.c, ggml-cpu/quants.c); qwen25vl-spec.md A.5–A.6 restates them.
 *
 * A matrix-vector product in llama.cpp's CPU backend does not multiply
 * weights with float activations: it first quantizes the activation row to
 * the weight type's "vec_dot_type" (Q8_0, Q8_1, Q8_K, F16, …) and then takes
 * integer dot products block by block.  Reproducing those quantizations bit
 * for bit is what lets our logits track llama.cpp's, so every quantizer here
 * states which llama.cpp code path it matches.
 *
 * The plain sq_* functions below are the scalar reference: short, readable,
 * one per type.  sq_quant_kernels tables bundle them, or faster SIMD versions
 * of them, as function pointers indexed by sq_type; the SIMD entries give
 * bit-identical quantizations and dequantizations and dot products equal up
 * to float summation order.
 *
 * Row lengths n are counts of elements and must be whole numbers of blocks
 * (sq_type_get(t)->block_size); nothing here checks that, callers validate
 * shapes once when a model is loaded.  Blocks need 2-byte alignment (4 for
 * Q8_K), which GGUF's data alignment guarantees.
 *
 * Thread-safety: every function is pure apart from writing its output
 * buffer; the kernel tables are immutable and may be shared freely.
 */
#pragma once

#include <stdint.h>

#include "ggml-type.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SQ_QK   32   /* elements per block of Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q8_1 */
#define SQ_QK_K 256  /* elements per super-block of the K-quants */

typedef uint16_t sq_f16;   /* IEEE binary16 bits */
typedef uint16_t sq_bf16;  /* upper half of an IEEE binary32 */

/* Blocks, field for field as in ggml-common.h (all little-endian). */
typedef struct {
    sq_f16  d;                 /* scale */
    uint8_t qs[SQ_QK / 2];     /* element j in low nibble of qs[j], j+16 in the high one */
} sq_block_q4_0;

typedef struct {
    sq_f16  d, m;              /* scale, minimum */
    uint8_t qs[SQ_QK / 2];
} sq_block_q4_1;

typedef struct {
    sq_f16  d;
    uint8_t qh[4];             /* fifth bits, a little-endian u32: bit j is element j's */
    uint8_t qs[SQ_QK / 2];
} sq_block_q5_0;

typedef struct {
    sq_f16  d, m;
    uint8_t qh[4];
    uint8_t qs[SQ_QK / 2];
} sq_block_q5_1;

typedef struct {
    sq_f16 d;
    int8_t qs[SQ_QK];
} sq_block_q8_0;

typedef struct {
    sq_f16 d;                  /* scale */
    sq_f16 s;                  /* d * sum(qs), so Q4_1/Q5_1 minimums cost one multiply */
    int8_t qs[SQ_QK];
} sq_block_q8_1;

typedef struct {
    sq_f16  d, dmin;           /* super-block scale for the 6-bit scales and mins */
    uint8_t scales[12];        /* eight 6-bit scales and eight 6-bit mins, packed */
    uint8_t qs[SQ_QK_K / 2];   /* four chunks of 32 bytes: low nibbles, then high */
} sq_block_q4_K;

typedef struct {
    sq_f16  d, dmin;
    uint8_t scales[12];
    uint8_t qh[SQ_QK_K / 8];   /* fifth bits: bit 2c / 2c+1 of qh[l] for chunk c */
    uint8_t qs[SQ_QK_K / 2];
} sq_block_q5_K;

typedef struct {
    uint8_t ql[SQ_QK_K / 2];   /* low 4 bits */
    uint8_t qh[SQ_QK_K / 4];   /* high 2 bits */
    int8_t  scales[SQ_QK_K / 16];
    sq_f16  d;                 /* note: last */
} sq_block_q6_K;

typedef struct {
    float   d;                 /* a plain float: only activations use Q8_K */
    int8_t  qs[SQ_QK_K];
    int16_t bsums[SQ_QK_K / 16];  /* sums of each 16 qs, for the K-quant minimums */
} sq_block_q8_K;

/* ---- half-precision conversions ---- */

/* Exact: subnormals and infinities kept; a NaN keeps its payload and is
 * quieted, as F16C's vcvtph2ps does. */
float sq_f16_to_f32(sq_f16 h);
/* Round to nearest even, overflow to infinity; a NaN stays NaN, quieted,
 * keeping the top of its payload — what F16C's vcvtps2ph does, which is the
 * conversion llama.cpp's x86 build uses (its portable fallback maps every
 * NaN to 0x7e00 instead). */
sq_f16 sq_f32_to_f16(float f);
/* Exact. */
float sq_bf16_to_f32(sq_bf16 h);
/* llama.cpp's ggml_compute_fp32_to_bf16: round to nearest even, NaN forced
 * quiet, subnormals kept. */
sq_bf16 sq_f32_to_bf16(float f);

/* ---- kernels ---- */

/* Quantizes n floats into the row y of the kernel's type. */
typedef void (*sq_quantize_fn)(const float *x, void *y, int64_t n);
/* Dot product of a weight row w with an activation row x that is already in
 * sq_vec_dot_type(weight type).  Activation quants must lie in -127…127, as
 * every quantizer here writes them: the SIMD Q8_0·Q8_0 kernels flip signs
 * with byte negation, which cannot represent -(-128). */
typedef float (*sq_vec_dot_fn)(int64_t n, const void *w, const void *x);
/* Expands n elements of the row x into floats. */
typedef void (*sq_dequant_fn)(const void *x, float *y, int64_t n);

/* An activation row already in vec_dot type, rearranged once for a kernel
 * that multiplies it with many weight rows (decode: one row, thousands of
 * weight rows).  prepared_size gives the bytes of a prepared row of n. */
typedef size_t (*sq_prepared_size_fn)(int64_t n);
typedef void (*sq_prepare_fn)(const void *x, void *prepared, int64_t n);

typedef struct {
    const char    *name;                       /* "scalar", "avx2", "avx512" */
    sq_quantize_fn quantize[SQ_TYPE_COUNT];    /* by destination type */
    sq_vec_dot_fn  vec_dot[SQ_TYPE_COUNT];     /* by weight type */
    sq_dequant_fn  dequantize[SQ_TYPE_COUNT];  /* by source type */
    /* Optional, by weight type: prepare the activation row, then
     * vec_dot_prepared(n, w, prepared) equals vec_dot(n, w, x) up to float
     * summation order. */
    sq_prepared_size_fn prepared_size[SQ_TYPE_COUNT];
    sq_prepare_fn       prepare[SQ_TYPE_COUNT];
    sq_vec_dot_fn       vec_dot_prepared[SQ_TYPE_COUNT];
} sq_quant_kernels;                            /* NULL entries: unsupported */

typedef enum {
    SQ_SIMD_SCALAR,
    SQ_SIMD_AVX2,    /* AVX2 + FMA + F16C (Haswell, Zen 1 and later) */
    SQ_SIMD_AVX512,  /* AVX-512 F/BW/VL/DQ + VNNI (Ice Lake, Cascade Lake, Zen 4 and later) */
} sq_simd_level;

/* The type activations are quantized to before a dot product with weights of
 * type weight_type, as in ggml-cpu's type traits; SQ_TYPE_COUNT for types
 * Squint cannot multiply. */
sq_type sq_vec_dot_type(sq_type weight_type);

/* The scalar reference table; available everywhere. */
const sq_quant_kernels *sq_quant_kernels_scalar(void);
/* The table of one SIMD level, or NULL when this CPU (or this build's target
 * architecture) lacks it.  SQ_SIMD_SCALAR always succeeds. */
const sq_quant_kernels *sq_quant_kernels_level(sq_simd_level level);
/* The fastest table this CPU runs.  The environment variable
 * SQ_SIMD=scalar|avx2|avx512 caps the level (for tests and benchmarks); a
 * level above what the CPU has is ignored.  Cheap, but reads the
 * environment: call it once per model, not per row. */
const sq_quant_kernels *sq_quant_kernels_get(void);

/* ---- scalar reference: dequantization (table: dequantize[type]) ---- */

void sq_dequantize_row_f32(const void *x, float *y, int64_t n);
void sq_dequantize_row_f16(const void *x, float *y, int64_t n);
void sq_dequantize_row_bf16(const void *x, float *y, int64_t n);
void sq_dequantize_row_q4_0(const void *x, float *y, int64_t n);
void sq_dequantize_row_q4_1(const void *x, float *y, int64_t n);
void sq_dequantize_row_q5_0(const void *x, float *y, int64_t n);
void sq_dequantize_row_q5_1(const void *x, float *y, int64_t n);
void sq_dequantize_row_q8_0(const void *x, float *y, int64_t n);
void sq_dequantize_row_q4_K(const void *x, float *y, int64_t n);
void sq_dequantize_row_q5_K(const void *x, float *y, int64_t n);
void sq_dequantize_row_q6_K(const void *x, float *y, int64_t n);
void sq_dequantize_row_q8_K(const void *x, float *y, int64_t n);

/* ---- scalar reference: quantization (table: quantize[type]) ---- */

/* Q8_0 and Q8_1 as llama.cpp's x86 build quantizes activations
 * (quantize_row_q8_0/q8_1 in ggml-cpu/arch/x86/quants.c): d = amax/127,
 * multiplier 127/amax, round half to even. */
void sq_quantize_row_q8_0(const float *x, void *y, int64_t n);
void sq_quantize_row_q8_1(const float *x, void *y, int64_t n);
/* Q8_K as llama.cpp's quantize_row_q8_K_ref runs when GCC builds it with FMA
 * and NDEBUG (every x86 release build): GCC contracts iscale*x + 1.5*2^23
 * in its nearest_int into one FMA, so each value is the exact product
 * rounded half to even.  Used by x86 llama.cpp for single-token decode. */
void sq_quantize_row_q8_K(const float *x, void *y, int64_t n);
/* llama.cpp's quantize_row_q4_0_ref (for making test weights). */
void sq_quantize_row_q4_0(const float *x, void *y, int64_t n);
/* Q6_K for making test weights (not llama-quantize's search: group scales
 * from the group maximum, rounded up). */
void sq_quantize_row_q6_K(const float *x, void *y, int64_t n);
void sq_quantize_row_f16(const float *x, void *y, int64_t n);
void sq_quantize_row_bf16(const float *x, void *y, int64_t n);
void sq_quantize_row_f32(const float *x, void *y, int64_t n);  /* a copy */

/* The portable references as written in ggml-quants.c: Q8_0/Q8_1 scale by
 * 1/d and round half away from zero (roundf); Q8_K rounds the float product
 * (what Clang/MSVC builds and the AVX2 repack path for batches of 4 rows do).
 * Not in any table; for comparisons. */
void sq_quantize_row_q8_0_ref(const float *x, void *y, int64_t n);
void sq_quantize_row_q8_1_ref(const float *x, void *y, int64_t n);
void sq_quantize_row_q8_K_ref(const float *x, void *y, int64_t n);

/* ---- scalar reference: dot products (table: vec_dot[weight type]) ---- */

/* Float rows: products in float, summed in double (ggml's scalar
 * ggml_vec_dot_f32/f16/bf16 accumulate in ggml_float = double). */
float sq_vec_dot_f32(int64_t n, const void *w, const void *x);
float sq_vec_dot_f16(int64_t n, const void *w, const void *x);
float sq_vec_dot_bf16(int64_t n, const void *w, const void *x);
/* Quantized rows: an exact integer dot product per block, scaled by the two
 * block scales and summed in float, as ggml_vec_dot_<w>_<x>_generic. */
float sq_vec_dot_q4_0_q8_0(int64_t n, const void *w, const void *x);
float sq_vec_dot_q4_1_q8_1(int64_t n, const void *w, const void *x);
float sq_vec_dot_q5_0_q8_0(int64_t n, const void *w, const void *x);
float sq_vec_dot_q5_1_q8_1(int64_t n, const void *w, const void *x);
float sq_vec_dot_q8_0_q8_0(int64_t n, const void *w, const void *x);
float sq_vec_dot_q4_K_q8_K(int64_t n, const void *w, const void *x);
float sq_vec_dot_q5_K_q8_K(int64_t n, const void *w, const void *x);
float sq_vec_dot_q6_K_q8_K(int64_t n, const void *w, const void *x);

/* Dot product of a row of any dequantizable type with plain floats, through
 * the scalar dequantization, summed in double: the "no activation
 * quantization" answer tests compare the quantized dot products against.
 * Returns NAN for a type without a dequantizer. */
float sq_vec_dot_dequant(sq_type type, int64_t n, const void *w, const float *x);

#ifdef __cplusplus
}
#endif
