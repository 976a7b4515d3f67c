/* opencl-backend.c — the op table of backend.h on an OpenCL device.
 *
 * One context and one in-order command queue per backend: ops are enqueued
 * and return; read() blocks, sync() waits.  Every buffer is a cl_mem with
 * views addressed by byte offsets passed to the kernels (no sub-buffers, so
 * any sq_mat view works).
 *
 * Memory.  Weights are uploaded once by buf_from_host and stay in ggml's
 * block layout (F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q5_K,
 * Q6_K); the kernels expand them.  buf_alloc hands out zeroed buffers, and
 * buffers given back are kept in a small pool and reused for a later
 * allocation of about the same size (the vision encoder allocates its
 * activations per image).  Scratch for rounded activations and dequantized
 * weight tiles is grown on demand and reused.  The backend counts the bytes
 * it holds against the device's global memory and refuses, with
 * SQ_ERR_NOMEM and a message naming the device, what would not fit.
 *
 * Kernel shapes.  GPUs get the classic shapes: a work-group per matmul
 * output row or per (query, head) of attention, reduced in local memory.  On
 * a CPU device (PoCL) barriers cost more than they save, so matmul-vec runs
 * one work-item per output row over whole blocks and attention one item per
 * (head, query) (attention_row); SQUINT_OPENCL_SHAPE=gpu|cpu forces either,
 * which is how the tests cover the GPU shapes on PoCL.
 *
 * Matmul.  Activations are first rounded to the weight's vec_dot type
 * (quantize.cl), then:
 *   - up to MV_ROWS rows at a time, matmul-vec.cl (integer block dot products
 *     like the CPU backend's);
 *   - for batches of at least gemm_min_rows rows when the CLBlast path is on,
 *     weight rows are expanded to F32 in tiles (dequant.cl), the rounded
 *     activations expanded to the floats they stand for, and CLBlastSgemm
 *     multiplies them: the same products up to float rounding.
 *   CLBlastHgemm is not used: it accumulates in half precision.
 * Which batched path is the default was decided by measurement (see
 * choose_gemm()); SQUINT_OPENCL_GEMM=kernels|clblast overrides it.
 */
#include <clblast_c.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "opencl-kernels.h"
#include "opencl-private.h"
#include "quant.h"

#define MV_ROWS      8                  /* rows per matmul-vec launch (matmul-vec.cl) */
#define MV_GROUP_ROWS 16                /* output rows per group with one item per row */
#define WTILE_BYTES  ((size_t)64 << 20) /* dequantized weight tile for the GEMM path */
#define POOL_MAX     64

/* ---- programs and kernels ---- */

typedef enum {
    P_QUANTIZE, P_MATMUL_VEC, P_DEQUANT, P_GET_ROWS, P_RMSNORM, P_ROPE, P_ATTENTION, P_COPY_ROWS,
    P_SILU_MUL, P_GELU, P_ADD, P_COUNT
} prog_id;

static const struct {
    const char *name;
    const char *source;
} prog_table[P_COUNT] = {
    [P_QUANTIZE]   = { "quantize", sq_text_quantize },
    [P_MATMUL_VEC] = { "matmul-vec", sq_text_matmul_vec },
    [P_DEQUANT]    = { "dequant", sq_text_dequant },
    [P_GET_ROWS]   = { "get-rows", sq_text_get_rows },
    [P_RMSNORM]    = { "rmsnorm", sq_text_rmsnorm },
    [P_ROPE]       = { "rope", sq_text_rope },
    [P_ATTENTION]  = { "attention", sq_text_attention },
    [P_COPY_ROWS]  = { "copy-rows", sq_text_copy_rows },
    [P_SILU_MUL]   = { "silu-mul", sq_text_silu_mul },
    [P_GELU]       = { "gelu", sq_text_gelu },
    [P_ADD]        = { "add", sq_text_add },
};

typedef enum {
    K_QUANTIZE_Q8_0, K_QUANTIZE_Q8_K, K_QUANTIZE_F16, K_QUANTIZE_BF16, K_EXPAND_Q8, K_EXPAND_F16, K_EXPAND_BF16,
    K_MV_F32, K_MV_F16, K_MV_BF16, K_MV_Q4_0, K_MV_Q4_1, K_MV_Q5_0, K_MV_Q5_1, K_MV_Q8_0, K_MV_Q4_K, K_MV_Q5_K,
    K_MV_Q6_K, K_DEQUANT_ROWS, K_ADD_BIAS, K_GET_ROWS, K_RMSNORM, K_ROPE, K_ATTENTION, K_ATTENTION_ROW, K_COPY_F32,
    K_COPY_F16,
    K_SILU_MUL, K_GELU, K_ADD, K_COUNT
} kern_id;

static const struct {
    prog_id     prog;
    const char *name;
} kern_table[K_COUNT] = {
    [K_QUANTIZE_Q8_0] = { P_QUANTIZE, "quantize_q8_0" },  [K_QUANTIZE_Q8_K] = { P_QUANTIZE, "quantize_q8_K" },
    [K_QUANTIZE_F16]  = { P_QUANTIZE, "quantize_f16" },   [K_QUANTIZE_BF16] = { P_QUANTIZE, "quantize_bf16" },
    [K_EXPAND_Q8]     = { P_QUANTIZE, "expand_q8" },      [K_EXPAND_F16]    = { P_QUANTIZE, "expand_f16" },
    [K_EXPAND_BF16]   = { P_QUANTIZE, "expand_bf16" },
    [K_MV_F32]  = { P_MATMUL_VEC, "mv_f32" },  [K_MV_F16]  = { P_MATMUL_VEC, "mv_f16" },
    [K_MV_BF16] = { P_MATMUL_VEC, "mv_bf16" }, [K_MV_Q4_0] = { P_MATMUL_VEC, "mv_q4_0" },
    [K_MV_Q4_1] = { P_MATMUL_VEC, "mv_q4_1" }, [K_MV_Q5_0] = { P_MATMUL_VEC, "mv_q5_0" },
    [K_MV_Q5_1] = { P_MATMUL_VEC, "mv_q5_1" }, [K_MV_Q8_0] = { P_MATMUL_VEC, "mv_q8_0" },
    [K_MV_Q4_K] = { P_MATMUL_VEC, "mv_q4_K" }, [K_MV_Q5_K] = { P_MATMUL_VEC, "mv_q5_K" },
    [K_MV_Q6_K] = { P_MATMUL_VEC, "mv_q6_K" },
    [K_DEQUANT_ROWS] = { P_DEQUANT, "dequant_rows" }, [K_ADD_BIAS] = { P_DEQUANT, "add_bias" },
    [K_GET_ROWS]     = { P_GET_ROWS, "get_rows" },    [K_RMSNORM]  = { P_RMSNORM, "rmsnorm" },
    [K_ROPE]         = { P_ROPE, "rope" },            [K_ATTENTION] = { P_ATTENTION, "attention" },
    [K_ATTENTION_ROW] = { P_ATTENTION, "attention_row" },
    [K_COPY_F32]     = { P_COPY_ROWS, "copy_f32" },   [K_COPY_F16] = { P_COPY_ROWS, "copy_f16" },
    [K_SILU_MUL]     = { P_SILU_MUL, "silu_mul" },    [K_GELU]     = { P_GELU, "gelu" },
    [K_ADD]          = { P_ADD, "add" },
};

/* The matmul-vec kernel of each weight type (K_COUNT: none). */
static kern_id
mv_kernel(sq_type t)
{
    switch (t) {
    case SQ_TYPE_F32:  return K_MV_F32;
    case SQ_TYPE_F16:  return K_MV_F16;
    case SQ_TYPE_BF16: return K_MV_BF16;
    case SQ_TYPE_Q4_0: return K_MV_Q4_0;
    case SQ_TYPE_Q4_1: return K_MV_Q4_1;
    case SQ_TYPE_Q5_0: return K_MV_Q5_0;
    case SQ_TYPE_Q5_1: return K_MV_Q5_1;
    case SQ_TYPE_Q8_0: return K_MV_Q8_0;
    case SQ_TYPE_Q4_K: return K_MV_Q4_K;
    case SQ_TYPE_Q5_K: return K_MV_Q5_K;
    case SQ_TYPE_Q6_K: return K_MV_Q6_K;
    default:           return K_COUNT;
    }
}

/* ---- state ---- */

struct sq_buf {
    cl_mem mem;
    size_t size;     /* bytes the caller asked for */
    size_t cap;      /* bytes of mem */
    bool   weights;  /* from buf_from_host: read-only, never pooled */
};

typedef struct {
    cl_mem mem;
    size_t cap;
} scratch;

typedef enum { GEMM_KERNELS, GEMM_CLBLAST } gemm_path;

typedef struct {
    sq_backend            base;
    sq_opencl_device_info info;
    cl_device_id          dev;
    cl_context            ctx;
    cl_command_queue      queue;
    cl_program            progs[P_COUNT];
    cl_kernel             kern[K_COUNT];
    size_t                wg;       /* reduction width of the row kernels */
    size_t                mv_nt;    /* matmul-vec items per output row (1 or wg) */
    bool                  cpu_shape; /* kernels shaped for a CPU device (PoCL) */
    size_t                local_mem;
    /* scratch: rounded activations (quants, scales, sums), activations as
     * floats, a dequantized weight tile, token ids */
    scratch               act_q, act_d, act_s, act_f, wtile, ids;
    /* given-back buffers kept for reuse */
    scratch               pool[POOL_MAX];
    int                   n_pool;
    size_t                pool_bytes, pool_limit;
    /* bytes of every cl_mem this backend holds (buffers, pool, scratch) */
    size_t                mem_used;
    gemm_path             gemm;
    int64_t               gemm_min_rows;
    /* CLBlast pre-warm thread */
    pthread_t             warm;
    bool                  warm_running;    /* a thread to join */
    atomic_bool           warm_done;
} cl_backend;

/* CLBlast's program cache holds the contexts it has seen; it is cleared when
 * the last backend goes. */
static pthread_mutex_t live_lock = PTHREAD_MUTEX_INITIALIZER;
static int             live_backends;

static const sq_backend_ops cl_ops;

static size_t
round_up(size_t v, size_t m)
{
    return (v + m - 1) / m * m;
}

static double
mib(size_t bytes)
{
    return (double)bytes / (1024.0 * 1024.0);
}

/* ---- kernel launches ---- */

typedef struct {
    size_t      size;
    const void *value;   /* NULL with a size: local memory */
} karg;

#define ARG(v) { sizeof(v), &(v) }
#define LOCAL_ARG(bytes) { (bytes), NULL }

static sq_status
launch(cl_backend *cb, kern_id k, cl_uint dims, const size_t *global, const size_t *local, const karg *args,
       size_t n_args, sq_error *err)
{
    cl_kernel kern = cb->kern[k];
    for (size_t i = 0; i < n_args; i++) {
        cl_int rc = clSetKernelArg(kern, (cl_uint)i, args[i].size, args[i].value);
        if (rc != CL_SUCCESS) {
            char what[96];
            snprintf(what, sizeof what, "setting argument %zu of kernel %s", i, kern_table[k].name);
            return sq_cl_fail(err, rc, what);
        }
    }
    cl_int rc = clEnqueueNDRangeKernel(cb->queue, kern, dims, NULL, global, local, 0, NULL, NULL);
    if (rc != CL_SUCCESS) {
        char what[96];
        snprintf(what, sizeof what, "running kernel %s", kern_table[k].name);
        return sq_cl_fail(err, rc, what);
    }
    return SQ_OK;
}

/* A 1-D launch over n items in groups of wg. */
static sq_status
launch_1d(cl_backend *cb, kern_id k, size_t n, const karg *args, size_t n_args, sq_error *err)
{
    size_t local = cb->wg, global = round_up(n ? n : 1, local);
    return launch(cb, k, 1, &global, &local, args, n_args, err);
}

/* A 2-D launch over (n0 rounded to the group width, n1). */
static sq_status
launch_2d(cl_backend *cb, kern_id k, size_t n0, size_t n1, const karg *args, size_t n_args, sq_error *err)
{
    size_t local[2] = { cb->wg, 1 }, global[2] = { round_up(n0 ? n0 : 1, cb->wg), n1 };
    return launch(cb, k, 2, global, local, args, n_args, err);
}

/* ---- memory ---- */

static void
release_mem(cl_backend *cb, cl_mem mem, size_t cap)
{
    if (mem) {
        clReleaseMemObject(mem);
        cb->mem_used -= cap;
    }
}

static void
trim_pool(cl_backend *cb)
{
    for (int i = 0; i < cb->n_pool; i++)
        release_mem(cb, cb->pool[i].mem, cb->pool[i].cap);
    cb->n_pool = 0;
    cb->pool_bytes = 0;
}

static sq_status
create_buffer(cl_backend *cb, cl_mem_flags flags, size_t cap, const char *what, cl_mem *out, sq_error *err)
{
    if (cb->info.max_alloc_bytes && cap > cb->info.max_alloc_bytes)
        return sq_error_set(err, SQ_ERR_NOMEM,
                            "out of device memory: %s needs a %.1f MiB buffer, more than %s can allocate at once "
                            "(%.1f MiB)", what, mib(cap), cb->info.name, mib(cb->info.max_alloc_bytes));
    if (cb->mem_used + cap > cb->info.global_mem_bytes)
        trim_pool(cb);
    if (cb->mem_used + cap > cb->info.global_mem_bytes)
        return sq_error_set(err, SQ_ERR_NOMEM,
                            "out of device memory: %s needs %.1f MiB more, %.1f MiB are in use and %s has %.1f MiB",
                            what, mib(cap), mib(cb->mem_used), cb->info.name, mib(cb->info.global_mem_bytes));
    cl_int rc = CL_SUCCESS;
    cl_mem mem = clCreateBuffer(cb->ctx, flags, cap, NULL, &rc);
    if (!mem || rc != CL_SUCCESS) {
        trim_pool(cb);
        mem = clCreateBuffer(cb->ctx, flags, cap, NULL, &rc);
        if (!mem || rc != CL_SUCCESS) {
            char msg[320];
            snprintf(msg, sizeof msg, "allocating %.1f MiB for %s on %s", mib(cap), what, cb->info.name);
            return sq_cl_fail(err, rc != CL_SUCCESS ? rc : CL_MEM_OBJECT_ALLOCATION_FAILURE, msg);
        }
    }
    cb->mem_used += cap;
    *out = mem;
    return SQ_OK;
}

/* Grows a scratch buffer to at least `bytes`. */
static sq_status
need_scratch(cl_backend *cb, scratch *s, size_t bytes, const char *what, sq_error *err)
{
    if (s->mem && s->cap >= bytes)
        return SQ_OK;
    release_mem(cb, s->mem, s->cap);
    s->mem = NULL;
    s->cap = 0;
    size_t cap = round_up(bytes ? bytes : 1, (size_t)64 << 10);
    sq_status st = create_buffer(cb, CL_MEM_READ_WRITE, cap, what, &s->mem, err);
    if (st == SQ_OK)
        s->cap = cap;
    return st;
}

static sq_status
cl_buf_alloc(sq_backend *be, size_t size, sq_buf **out, sq_error *err)
{
    cl_backend *cb = (cl_backend *)be;
    sq_buf *b = calloc(1, sizeof *b);
    if (!b)
        return sq_error_set(err, SQ_ERR_NOMEM, "out of memory");
    size_t cap = round_up(size ? size : 1, 256);
    /* best fit among pooled buffers with at most 25 % slack */
    int best = -1;
    for (int i = 0; i < cb->n_pool; i++)
        if (cb->pool[i].cap >= cap && cb->pool[i].cap <= cap + cap / 4 &&
            (best < 0 || cb->pool[i].cap < cb->pool[best].cap))
            best = i;
    sq_status st = SQ_OK;
    if (best >= 0) {
        b->mem = cb->pool[best].mem;
        b->cap = cb->pool[best].cap;
        cb->pool_bytes -= b->cap;
        cb->pool[best] = cb->pool[--cb->n_pool];
    } else {
        char what[64];
        snprintf(what, sizeof what, "a %zu-byte buffer", size);
        st = create_buffer(cb, CL_MEM_READ_WRITE, cap, what, &b->mem, err);
        b->cap = cap;
    }
    if (st == SQ_OK) {
        /* zeroed, like the CPU backend's buffers: stale data never leaks */
        cl_uint zero = 0;
        cl_int rc = clEnqueueFillBuffer(cb->queue, b->mem, &zero, sizeof zero, 0, b->cap, 0, NULL, NULL);
        if (rc != CL_SUCCESS) {
            release_mem(cb, b->mem, b->cap);
            st = sq_cl_fail(err, rc, "clearing a new buffer");
        }
    }
    if (st != SQ_OK) {
        free(b);
        return st;
    }
    b->size = size;
    *out = b;
    return SQ_OK;
}

static sq_status
cl_buf_from_host(sq_backend *be, const void *data, size_t size, sq_buf **out, sq_error *err)
{
    cl_backend *cb = (cl_backend *)be;
    sq_buf *b = calloc(1, sizeof *b);
    if (!b)
        return sq_error_set(err, SQ_ERR_NOMEM, "out of memory");
    size_t cap = round_up(size ? size : 1, 256);
    char what[64];
    snprintf(what, sizeof what, "a %.1f MiB weight", mib(size));
    sq_status st = create_buffer(cb, CL_MEM_READ_ONLY, cap, what, &b->mem, err);
    if (st == SQ_OK && size > 0) {
        /* Blocking: the upload finishes (or fails, out of memory) here, at
         * load time, not at the first token. */
        cl_int rc = clEnqueueWriteBuffer(cb->queue, b->mem, CL_TRUE, 0, size, data, 0, NULL, NULL);
        if (rc != CL_SUCCESS) {
            release_mem(cb, b->mem, cap);
            char msg[200];
            snprintf(msg, sizeof msg, "uploading %.1f MiB of weights to %s", mib(size), cb->info.name);
            st = sq_cl_fail(err, rc, msg);
        }
    }
    if (st != SQ_OK) {
        free(b);
        return st;
    }
    b->size = size;
    b->cap = cap;
    b->weights = true;
    *out = b;
    return SQ_OK;
}

static size_t
cl_buf_size(const sq_buf *b)
{
    return b->size;
}

static void
cl_buf_free(sq_backend *be, sq_buf *b)
{
    cl_backend *cb = (cl_backend *)be;
    if (!b)
        return;
    if (!b->weights && cb->n_pool < POOL_MAX && cb->pool_bytes + b->cap <= cb->pool_limit) {
        cb->pool[cb->n_pool++] = (scratch){ b->mem, b->cap };
        cb->pool_bytes += b->cap;
    } else {
        release_mem(cb, b->mem, b->cap);
    }
    free(b);
}

static sq_status
cl_write(sq_backend *be, sq_buf *b, size_t offset, const void *src, size_t size, sq_error *err)
{
    cl_backend *cb = (cl_backend *)be;
    if (b->weights)
        return sq_error_set(err, SQ_ERR_INVALID_ARG, "weight buffers are read-only");
    if (offset > b->size || size > b->size - offset)
        return sq_error_set(err, SQ_ERR_INVALID_ARG, "write of %zu bytes at %zu outside a %zu-byte buffer",
                            size, offset, b->size);
    if (size == 0)
        return SQ_OK;
    /* Blocking, so the caller may reuse src at once. */
    cl_int rc = clEnqueueWriteBuffer(cb->queue, b->mem, CL_TRUE, offset, size, src, 0, NULL, NULL);
    return rc == CL_SUCCESS ? SQ_OK : sq_cl_fail(err, rc, "writing a buffer");
}

static sq_status
cl_read(sq_backend *be, const sq_buf *b, size_t offset, void *dst, size_t size, sq_error *err)
{
    cl_backend *cb = (cl_backend *)be;
    if (offset > b->size || size > b->size - offset)
        return sq_error_set(err, SQ_ERR_INVALID_ARG, "read of %zu bytes at %zu outside a %zu-byte buffer",
                            size, offset, b->size);
    if (size == 0)
        return SQ_OK;
    cl_int rc = clEnqueueReadBuffer(cb->queue, b->mem, CL_TRUE, offset, size, dst, 0, NULL, NULL);
    return rc == CL_SUCCESS ? SQ_OK : sq_cl_fail(err, rc, "reading a buffer");
}

static sq_status
cl_sync(sq_backend *be, sq_error *err)
{
    cl_backend *cb = (cl_backend *)be;
    cl_int rc = clFinish(cb->queue);
    return rc == CL_SUCCESS ? SQ_OK : sq_cl_fail(err, rc, "waiting for the device");
}

/* ---- argument checks (as the CPU backend's) ---- */


#define TRY(call)                                           \
    do {                                                    \
        sq_status st_ = (call);                             \
        if (st_ != SQ_OK)                                   \
            return st_;                                     \
    } while (0)

/* Kernels index with int: every count must fit. */
static sq_status
check_int(int64_t v, const char *what, sq_error *err)
{
    if (v < 0 || v > INT_MAX)
        return sq_error_set(err, SQ_ERR_LIMIT, "%s: %lld elements is more than the OpenCL kernels index",
                            what, (long long)v);
    return SQ_OK;
}

/* ---- CLBlast ---- */

/* Compiles CLBlast's GEMM kernels for this context while the model loads:
 * one small (direct kernel) and one large (indirect kernel) product on a
 * queue of its own; CLBlast's program cache keeps the result. */
static void *
warm_clblast(void *arg)
{
    cl_backend *cb = arg;
    cl_int rc = CL_SUCCESS;
    cl_command_queue q = clCreateCommandQueue(cb->ctx, cb->dev, 0, &rc);
    if (!q) {
        atomic_store(&cb->warm_done, true);
        return NULL;
    }
    const size_t n = 512;
    cl_mem a = clCreateBuffer(cb->ctx, CL_MEM_READ_WRITE, n * n * sizeof(float), NULL, &rc);
    cl_mem b = clCreateBuffer(cb->ctx, CL_MEM_READ_WRITE, n * n * sizeof(float), NULL, &rc);
    cl_mem c = clCreateBuffer(cb->ctx, CL_MEM_READ_WRITE, n * n * sizeof(float), NULL, &rc);
    if (a && b && c) {
        cl_float zero = 0.0f;
        clEnqueueFillBuffer(q, a, &zero, sizeof zero, 0, n * n * sizeof(float), 0, NULL, NULL);
        clEnqueueFillBuffer(q, b, &zero, sizeof zero, 0, n * n * sizeof(float), 0, NULL, NULL);
        const size_t sizes[2] = { 16, n };
        for (int i = 0; i < 2; i++)
            CLBlastSgemm(CLBlastLayoutRowMajor, CLBlastTransposeNo, CLBlastTransposeYes, sizes[i], sizes[i], sizes[i],
                         1.0f, a, 0, sizes[i], b, 0, sizes[i], 0.0f, c, 0, sizes[i], &q, NULL);
        clFinish(q);
    }
    if (a)
        clReleaseMemObject(a);
    if (b)
        clReleaseMemObject(b);
    if (c)
        clReleaseMemObject(c);
    clReleaseCommandQueue(q);
    atomic_store(&cb->warm_done, true);
    return NULL;
}

static void
join_warm(cl_backend *cb)
{
    if (cb->warm_running) {
        pthread_join(cb->warm, NULL);
        cb->warm_running = false;
    }
}

static sq_status
clblast_fail(sq_error *err, CLBlastStatusCode code, const char *what)
{
    return sq_cl_fail(err, (int)code, what);
}

/* ---- matmul ---- */

typedef struct {
    cl_mem   xb;       /* rounded activations (or x itself for F32) */
    cl_ulong x_off;
    cl_mem   xd, xs;   /* block scales, block sums */
    sq_type  vt;
} act_rounded;

/* Rounds x to the vec_dot type of w into the scratch buffers. */
static sq_status
round_activations(cl_backend *cb, const sq_mat *x, sq_type vt, act_rounded *a, sq_error *err)
{
    cl_int n = (cl_int)x->cols, rows = (cl_int)x->rows, total = n * rows;
    cl_ulong x_off = x->offset;
    *a = (act_rounded){ .xb = x->buf->mem, .x_off = x->offset, .vt = vt };
    if (vt == SQ_TYPE_F32)
        return SQ_OK;
    if (vt == SQ_TYPE_F16 || vt == SQ_TYPE_BF16) {
        TRY(need_scratch(cb, &cb->act_q, (size_t)total * 2, "rounded activations", err));
        karg args[] = { ARG(x->buf->mem), ARG(x_off), ARG(total), ARG(cb->act_q.mem) };
        TRY(launch_1d(cb, vt == SQ_TYPE_F16 ? K_QUANTIZE_F16 : K_QUANTIZE_BF16, (size_t)total, args, 4, err));
    } else if (vt == SQ_TYPE_Q8_0 || vt == SQ_TYPE_Q8_1) {
        size_t nb = (size_t)(n / SQ_QK) * (size_t)rows;
        TRY(need_scratch(cb, &cb->act_q, (size_t)total, "quantized activations", err));
        TRY(need_scratch(cb, &cb->act_d, nb * sizeof(float), "activation scales", err));
        TRY(need_scratch(cb, &cb->act_s, nb * sizeof(float), "activation sums", err));
        cl_int with_sum = vt == SQ_TYPE_Q8_1;
        karg args[] = { ARG(x->buf->mem), ARG(x_off), ARG(n), ARG(cb->act_q.mem), ARG(cb->act_d.mem),
                        ARG(cb->act_s.mem), ARG(with_sum) };
        TRY(launch_2d(cb, K_QUANTIZE_Q8_0, (size_t)(n / SQ_QK), (size_t)rows, args, 7, err));
    } else if (vt == SQ_TYPE_Q8_K) {
        size_t nb = (size_t)(n / SQ_QK_K) * (size_t)rows;
        TRY(need_scratch(cb, &cb->act_q, (size_t)total, "quantized activations", err));
        TRY(need_scratch(cb, &cb->act_d, nb * sizeof(float), "activation scales", err));
        TRY(need_scratch(cb, &cb->act_s, nb * 16 * sizeof(float), "activation sums", err));
        karg args[] = { ARG(x->buf->mem), ARG(x_off), ARG(n), ARG(cb->act_q.mem), ARG(cb->act_d.mem),
                        ARG(cb->act_s.mem) };
        TRY(launch_2d(cb, K_QUANTIZE_Q8_K, (size_t)(n / SQ_QK_K), (size_t)rows, args, 6, err));
    } else {
        return sq_error_set(err, SQ_ERR_UNSUPPORTED, "no activation rounding for %s", sq_type_get(vt)->name);
    }
    a->xb = cb->act_q.mem;
    a->x_off = 0;
    a->xd = cb->act_d.mem;
    a->xs = cb->act_s.mem;
    return SQ_OK;
}

static sq_status
matmul_vec(cl_backend *cb, const sq_mat *w, const act_rounded *a, const sq_mat *bias, sq_mat *y, int64_t rows,
           sq_error *err)
{
    kern_id k = mv_kernel(w->type);
    cl_ulong w_off = w->offset, w_row = sq_type_row_size(w->type, w->cols), y_off = y->offset;
    cl_ulong b_off = bias ? bias->offset : 0;
    cl_mem bmem = bias ? bias->buf->mem : NULL;
    cl_int n_in = (cl_int)w->cols, n_out = (cl_int)w->rows, has_bias = bias != NULL;
    size_t local = cb->mv_nt > 1 ? cb->mv_nt : MV_GROUP_ROWS;
    size_t global = cb->mv_nt > 1 ? cb->mv_nt * (size_t)n_out : round_up((size_t)n_out, MV_GROUP_ROWS);
    for (int64_t r0 = 0; r0 < rows; r0 += MV_ROWS) {
        cl_int row0 = (cl_int)r0, n_rows = (cl_int)(rows - r0 < MV_ROWS ? rows - r0 : MV_ROWS);
        karg args[] = { ARG(w->buf->mem), ARG(w_off), ARG(w_row), ARG(n_in), ARG(n_out), ARG(a->xb),
                        ARG(a->x_off), ARG(a->xd), ARG(a->xs), ARG(row0), ARG(n_rows), ARG(bmem),
                        ARG(b_off), ARG(has_bias), ARG(y->buf->mem), ARG(y_off) };
        TRY(launch(cb, k, 1, &global, &local, args, sizeof args / sizeof args[0], err));
    }
    return SQ_OK;
}

static sq_status
matmul_gemm(cl_backend *cb, const sq_mat *w, const act_rounded *a, const sq_mat *bias, sq_mat *y, int64_t rows,
            sq_error *err)
{
    const size_t n_in = (size_t)w->cols, n_out = (size_t)w->rows, total = n_in * (size_t)rows;
    cl_int tot = (cl_int)total;
    /* activations as the floats they stand for */
    cl_mem xf = a->xb;
    size_t xf_off = (size_t)a->x_off / sizeof(float);
    if (a->vt != SQ_TYPE_F32) {
        TRY(need_scratch(cb, &cb->act_f, total * sizeof(float), "expanded activations", err));
        if (a->vt == SQ_TYPE_F16 || a->vt == SQ_TYPE_BF16) {
            karg args[] = { ARG(a->xb), ARG(tot), ARG(cb->act_f.mem) };
            TRY(launch_1d(cb, a->vt == SQ_TYPE_F16 ? K_EXPAND_F16 : K_EXPAND_BF16, total, args, 3, err));
        } else {
            cl_int block = a->vt == SQ_TYPE_Q8_K ? SQ_QK_K : SQ_QK;
            karg args[] = { ARG(a->xb), ARG(a->xd), ARG(block), ARG(tot), ARG(cb->act_f.mem) };
            TRY(launch_1d(cb, K_EXPAND_Q8, total, args, 5, err));
        }
        xf = cb->act_f.mem;
        xf_off = 0;
    }
    join_warm(cb);
    const size_t y_off = y->offset / sizeof(float);
    if (w->type == SQ_TYPE_F32) {
        CLBlastStatusCode rc = CLBlastSgemm(CLBlastLayoutRowMajor, CLBlastTransposeNo, CLBlastTransposeYes,
                                            (size_t)rows, n_out, n_in, 1.0f, xf, xf_off, n_in, w->buf->mem,
                                            w->offset / sizeof(float), n_in, 0.0f, y->buf->mem, y_off, n_out,
                                            &cb->queue, NULL);
        if (rc != CLBlastSuccess)
            return clblast_fail(err, rc, "CLBlastSgemm");
    } else {
        size_t tile = WTILE_BYTES / (n_in * sizeof(float));
        tile = tile < 1 ? 1 : tile > n_out ? n_out : tile;
        TRY(need_scratch(cb, &cb->wtile, tile * n_in * sizeof(float), "a dequantized weight tile", err));
        cl_int type = (cl_int)w->type, nin = (cl_int)n_in;
        cl_ulong w_off = w->offset, w_row = sq_type_row_size(w->type, w->cols);
        for (size_t o0 = 0; o0 < n_out; o0 += tile) {
            cl_int o = (cl_int)o0, n = (cl_int)(n_out - o0 < tile ? n_out - o0 : tile);
            karg args[] = { ARG(type), ARG(w->buf->mem), ARG(w_off), ARG(w_row), ARG(nin), ARG(o), ARG(n),
                            ARG(cb->wtile.mem) };
            TRY(launch_2d(cb, K_DEQUANT_ROWS, n_in, (size_t)n, args, 8, err));
            CLBlastStatusCode rc = CLBlastSgemm(CLBlastLayoutRowMajor, CLBlastTransposeNo, CLBlastTransposeYes,
                                                (size_t)rows, (size_t)n, n_in, 1.0f, xf, xf_off, n_in,
                                                cb->wtile.mem, 0, n_in, 0.0f, y->buf->mem, y_off + o0, n_out,
                                                &cb->queue, NULL);
            if (rc != CLBlastSuccess)
                return clblast_fail(err, rc, "CLBlastSgemm");
        }
    }
    if (bias) {
        cl_ulong yo = y->offset, bo = bias->offset;
        cl_int no = (cl_int)n_out, nr = (cl_int)rows;
        karg args[] = { ARG(y->buf->mem), ARG(yo), ARG(bias->buf->mem), ARG(bo), ARG(no), ARG(nr) };
        TRY(launch_2d(cb, K_ADD_BIAS, n_out, (size_t)rows, args, 6, err));
    }
    return SQ_OK;
}

static sq_status
cl_matmul(sq_backend *be, const sq_mat *w, const sq_mat *x, const sq_mat *bias, sq_mat *y, sq_error *err)
{
    cl_backend *cb = (cl_backend *)be;
    TRY(sq_check_matmul(be, w, x, bias, y, err));
    sq_type vt = sq_vec_dot_type(w->type);
    if (mv_kernel(w->type) == K_COUNT || vt == SQ_TYPE_COUNT)
        return sq_error_set(err, SQ_ERR_UNSUPPORTED, "no matmul kernel for %s weights",
                            sq_type_get(w->type) ? sq_type_get(w->type)->name : "?");
    if (w->cols % sq_type_get(vt)->block_size != 0)
        return sq_error_set(err, SQ_ERR_INVALID_ARG, "matmul: row length %lld is not a multiple of the %s block",
                            (long long)w->cols, sq_type_get(vt)->name);
    TRY(check_int(x->cols * x->rows, "matmul input", err));
    TRY(check_int(y->cols * y->rows, "matmul output", err));
    if (x->rows == 0)
        return SQ_OK;
    act_rounded a;
    TRY(round_activations(cb, x, vt, &a, err));
    if (cb->gemm == GEMM_CLBLAST && x->rows >= cb->gemm_min_rows)
        return matmul_gemm(cb, w, &a, bias, y, x->rows, err);
    return matmul_vec(cb, w, &a, bias, y, x->rows, err);
}

/* ---- row-wise ops ---- */

static sq_status
cl_rmsnorm(sq_backend *be, const sq_mat *x, const sq_mat *w, float eps, sq_mat *y, sq_error *err)
{
    cl_backend *cb = (cl_backend *)be;
    TRY(sq_check_rmsnorm(be, x, w, y, err));
    TRY(check_int(x->cols * x->rows, "rmsnorm", err));
    if (x->rows == 0)
        return SQ_OK;
    cl_ulong xo = x->offset, wo = w->offset, yo = y->offset;
    cl_int n = (cl_int)x->cols;
    cl_float e = eps;
    karg args[] = { ARG(x->buf->mem), ARG(xo), ARG(w->buf->mem), ARG(wo), ARG(y->buf->mem), ARG(yo), ARG(n), ARG(e) };
    size_t local = cb->wg, global = cb->wg * (size_t)x->rows;
    return launch(cb, K_RMSNORM, 1, &global, &local, args, 8, err);
}

static sq_status
cl_rope(sq_backend *be, sq_mat *x, const sq_mat *pos, const sq_rope_params *p, sq_error *err)
{
    cl_backend *cb = (cl_backend *)be;
    TRY(sq_check_rope(be, x, pos, p, err));
    TRY(check_int(x->cols * x->rows, "rope", err));
    if (x->rows == 0)
        return SQ_OK;
    const bool vision = p->mode == SQ_ROPE_VISION;
    const int half = p->head_dim / 2;
    /* the same float the CPU backend computes */
    cl_float theta_scale = powf(p->freq_base, -2.0f / (float)(vision ? half : p->head_dim));
    cl_ulong xo = x->offset, po = pos->offset;
    cl_int stride = (cl_int)x->cols, n = (cl_int)x->rows, nh = p->n_head, hd = p->head_dim;
    cl_int s0 = p->sections[0], s1 = s0 + p->sections[1], s2 = s1 + p->sections[2], vis = vision;
    karg args[] = { ARG(x->buf->mem), ARG(xo), ARG(stride), ARG(pos->buf->mem), ARG(po), ARG(n), ARG(nh), ARG(hd),
                    ARG(s0), ARG(s1), ARG(s2), ARG(vis), ARG(theta_scale) };
    return launch_2d(cb, K_ROPE, (size_t)half, (size_t)x->rows, args, sizeof args / sizeof args[0], err);
}

static sq_status
cl_attention(sq_backend *be, const sq_mat *q, const sq_mat *k, const sq_mat *v, const sq_attn_params *p,
             sq_mat *out, sq_error *err)
{
    cl_backend *cb = (cl_backend *)be;
    TRY(sq_check_attention(be, q, k, v, p, out, err));
    cl_mem win = NULL;
    cl_ulong win_off = 0;
    if (p->mask == SQ_MASK_WINDOW) {
        win = p->window_ids->buf->mem;
        win_off = p->window_ids->offset;
    }
    TRY(check_int(q->cols * q->rows, "attention queries", err));
    TRY(check_int(k->cols * k->rows, "attention keys", err));
    if (q->rows == 0)
        return SQ_OK;
    cl_ulong qo = q->offset, ko = k->offset, vo = v->offset, oo = out->offset;
    cl_int n_kv = (cl_int)k->rows, nh = p->n_head, nhkv = p->n_head_kv, hd = p->head_dim;
    cl_int mask = p->mask == SQ_MASK_CAUSAL ? 1 : p->mask == SQ_MASK_WINDOW ? 2 : 0;
    cl_int f16 = k->type == SQ_TYPE_F16;
    cl_long q_offset = p->q_offset;
    cl_float scale = p->scale;
    if (cb->cpu_shape && hd % 8 == 0 && hd <= 256) {
        cl_int n_q = (cl_int)q->rows;
        karg args[] = { ARG(q->buf->mem), ARG(qo), ARG(k->buf->mem), ARG(ko), ARG(v->buf->mem), ARG(vo),
                        ARG(out->buf->mem), ARG(oo), ARG(win), ARG(win_off), ARG(n_kv), ARG(nh), ARG(nhkv), ARG(hd),
                        ARG(scale), ARG(mask), ARG(q_offset), ARG(f16), ARG(n_q) };
        size_t global[2] = { (size_t)nh, (size_t)n_q };
        size_t local[2] = { 1, 1 };
        return launch(cb, K_ATTENTION_ROW, 2, global, local, args, sizeof args / sizeof args[0], err);
    }
    size_t local_bytes = (2 * (size_t)p->head_dim + 2 * cb->wg) * sizeof(float);
    if (local_bytes > cb->local_mem)
        return sq_error_set(err, SQ_ERR_UNSUPPORTED, "attention: head dimension %d needs more local memory than %s has",
                            p->head_dim, cb->info.name);
    karg args[] = { ARG(q->buf->mem), ARG(qo), ARG(k->buf->mem), ARG(ko), ARG(v->buf->mem), ARG(vo),
                    ARG(out->buf->mem), ARG(oo), ARG(win), ARG(win_off), ARG(n_kv), ARG(nh), ARG(nhkv), ARG(hd),
                    ARG(scale), ARG(mask), ARG(q_offset), ARG(f16),
                    LOCAL_ARG((size_t)hd * sizeof(float)), LOCAL_ARG((size_t)hd * sizeof(float)),
                    LOCAL_ARG(cb->wg * sizeof(float)), LOCAL_ARG(cb->wg * sizeof(float)) };
    size_t local[2] = { cb->wg, 1 }, global[2] = { cb->wg * (size_t)nh, (size_t)q->rows };
    return launch(cb, K_ATTENTION, 2, global, local, args, sizeof args / sizeof args[0], err);
}

static sq_status
cl_copy_rows(sq_backend *be, const sq_mat *src, sq_mat *dst, int64_t row0, sq_error *err)
{
    cl_backend *cb = (cl_backend *)be;
    TRY(sq_check_copy_rows(be, src, dst, row0, err));
    TRY(check_int(src->cols * src->rows, "copy_rows", err));
    cl_int total = (cl_int)(src->cols * src->rows);
    if (total == 0)
        return SQ_OK;
    cl_ulong so = src->offset, d_off = dst->offset + sq_type_row_size(dst->type, dst->cols) * (size_t)row0;
    karg args[] = { ARG(src->buf->mem), ARG(so), ARG(dst->buf->mem), ARG(d_off), ARG(total) };
    return launch_1d(cb, dst->type == SQ_TYPE_F16 ? K_COPY_F16 : K_COPY_F32, (size_t)total, args, 5, err);
}

/* ---- element-wise ---- */

static sq_status
check_elementwise(const cl_backend *cb, const sq_mat *a, const sq_mat *b, const sq_mat *out, sq_error *err)
{
    TRY(sq_check_elementwise(&cb->base, a, b, out, err));
    return check_int(a->cols * a->rows, "element-wise op", err);
}

static sq_status
binary_op(cl_backend *cb, kern_id k, const sq_mat *a, const sq_mat *b, sq_mat *out, sq_error *err)
{
    TRY(check_elementwise(cb, a, b, out, err));
    cl_int total = (cl_int)(a->cols * a->rows);
    if (total == 0)
        return SQ_OK;
    cl_ulong ao = a->offset, bo = b->offset, oo = out->offset;
    karg args[] = { ARG(a->buf->mem), ARG(ao), ARG(b->buf->mem), ARG(bo), ARG(out->buf->mem), ARG(oo), ARG(total) };
    return launch_1d(cb, k, (size_t)total, args, 7, err);
}

static sq_status
cl_add(sq_backend *be, const sq_mat *a, const sq_mat *b, sq_mat *out, sq_error *err)
{
    if (!b)
        return sq_error_set(err, SQ_ERR_INVALID_ARG, "add: no second operand");
    return binary_op((cl_backend *)be, K_ADD, a, b, out, err);
}

static sq_status
cl_silu_mul(sq_backend *be, const sq_mat *gate, const sq_mat *up, sq_mat *out, sq_error *err)
{
    if (!up)
        return sq_error_set(err, SQ_ERR_INVALID_ARG, "silu_mul: no second operand");
    return binary_op((cl_backend *)be, K_SILU_MUL, gate, up, out, err);
}

static sq_status
cl_gelu(sq_backend *be, const sq_mat *x, sq_gelu_kind kind, sq_mat *out, sq_error *err)
{
    cl_backend *cb = (cl_backend *)be;
    TRY(check_elementwise(cb, x, NULL, out, err));
    cl_int total = (cl_int)(x->cols * x->rows), use_tanh = kind == SQ_GELU_TANH;
    if (total == 0)
        return SQ_OK;
    cl_ulong xo = x->offset, oo = out->offset;
    karg args[] = { ARG(x->buf->mem), ARG(xo), ARG(out->buf->mem), ARG(oo), ARG(total), ARG(use_tanh) };
    return launch_1d(cb, K_GELU, (size_t)total, args, 6, err);
}

static sq_status
cl_get_rows(sq_backend *be, const sq_mat *table, const int32_t *ids, int64_t n, sq_mat *out, sq_error *err)
{
    cl_backend *cb = (cl_backend *)be;
    TRY(sq_check_get_rows(be, table, ids, n, out, err));
    if (mv_kernel(table->type) == K_COUNT)
        return sq_error_set(err, SQ_ERR_UNSUPPORTED, "cannot read rows of a %s table",
                            sq_type_get(table->type) ? sq_type_get(table->type)->name : "?");
    TRY(check_int(out->cols * out->rows, "get_rows", err));
    if (n == 0)
        return SQ_OK;
    TRY(need_scratch(cb, &cb->ids, (size_t)n * sizeof(cl_int), "token ids", err));
    /* blocking: the caller's ids may be gone when this returns */
    cl_int rc = clEnqueueWriteBuffer(cb->queue, cb->ids.mem, CL_TRUE, 0, (size_t)n * sizeof(cl_int), ids, 0, NULL,
                                     NULL);
    if (rc != CL_SUCCESS)
        return sq_cl_fail(err, rc, "uploading token ids");
    cl_int type = (cl_int)table->type, cols = (cl_int)table->cols, nn = (cl_int)n;
    cl_ulong to = table->offset, trow = sq_type_row_size(table->type, table->cols), oo = out->offset;
    karg args[] = { ARG(type), ARG(table->buf->mem), ARG(to), ARG(trow), ARG(cols), ARG(cb->ids.mem), ARG(nn),
                    ARG(out->buf->mem), ARG(oo) };
    return launch_2d(cb, K_GET_ROWS, (size_t)cols, (size_t)n, args, 9, err);
}

/* ---- lifetime ---- */

static void
cl_free(sq_backend *be)
{
    cl_backend *cb = (cl_backend *)be;
    if (!cb)
        return;
    join_warm(cb);
    if (cb->queue)
        clFinish(cb->queue);
    trim_pool(cb);
    scratch *all[] = { &cb->act_q, &cb->act_d, &cb->act_s, &cb->act_f, &cb->wtile, &cb->ids };
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        release_mem(cb, all[i]->mem, all[i]->cap);
    for (int i = 0; i < K_COUNT; i++)
        if (cb->kern[i])
            clReleaseKernel(cb->kern[i]);
    for (int i = 0; i < P_COUNT; i++)
        if (cb->progs[i])
            clReleaseProgram(cb->progs[i]);
    if (cb->queue)
        clReleaseCommandQueue(cb->queue);
    if (cb->ctx) {
        pthread_mutex_lock(&live_lock);
        if (--live_backends == 0)
            CLBlastClearCache();
        pthread_mutex_unlock(&live_lock);
        clReleaseContext(cb->ctx);
    }
    free(cb);
}

static const sq_backend_ops cl_ops = {
    .name = "opencl",
    .free = cl_free,
    .buf_alloc = cl_buf_alloc,
    .buf_from_host = cl_buf_from_host,
    .buf_free = cl_buf_free,
    .buf_size = cl_buf_size,
    .write = cl_write,
    .read = cl_read,
    .matmul = cl_matmul,
    .rmsnorm = cl_rmsnorm,
    .rope = cl_rope,
    .attention = cl_attention,
    .copy_rows = cl_copy_rows,
    .silu_mul = cl_silu_mul,
    .gelu = cl_gelu,
    .add = cl_add,
    .get_rows = cl_get_rows,
    .sync = cl_sync,
};

const char *
sq_backend_opencl_device_name(const sq_backend *be)
{
    return be && be->ops == &cl_ops ? ((const cl_backend *)be)->info.name : NULL;
}

bool
sq_backend_opencl_warming(const sq_backend *be)
{
    if (!be || be->ops != &cl_ops)
        return false;
    return !atomic_load(&((cl_backend *)be)->warm_done);
}

/* The batched matmul path, decided by measurement.  On PoCL 3.1 (the
 * 2-core EPYC of the CI machine as the device), a 2048 × 2048 matmul:
 *
 *   rows   weights   matmul-vec kernels   rounding + dequant + CLBlastSgemm
 *     16   F32 / Q8_0 / Q4_K   4.1 / 5.1 / 5.1 ms    15 / 35 / 63 ms
 *     64                      16 / 22 / 32 ms       65 / 86 / 139 ms
 *    256                      71 / 85 / 132 ms     259 / 264 / 300 ms
 *
 * CLBlast has no tuning for a CPU device and reaches ~8 GFLOP/s there, our
 * kernels 16–34 (the CPU backend 24–45), so CPU devices use the kernels at
 * every batch size.  On GPUs CLBlast's tuned GEMM is the point of having it:
 * batches of at least 32 rows go through it (matmul-vec re-reads the
 * weights every MV_ROWS rows); this threshold is not measured here, as the
 * CI machine has no GPU. */
static void
choose_gemm(cl_backend *cb)
{
    cb->gemm = cb->info.type == SQ_OPENCL_DEVICE_CPU ? GEMM_KERNELS : GEMM_CLBLAST;
    cb->gemm_min_rows = 32;
    const char *env = getenv("SQUINT_OPENCL_GEMM");
    if (env && strcmp(env, "clblast") == 0) {
        cb->gemm = GEMM_CLBLAST;
        cb->gemm_min_rows = MV_ROWS + 1;
    } else if (env && strcmp(env, "kernels") == 0) {
        cb->gemm = GEMM_KERNELS;
    }
}

static sq_status
build_programs(cl_backend *cb, sq_error *err)
{
    char options[256];
    cl_device_fp_config fp = 0;
    clGetDeviceInfo(cb->dev, CL_DEVICE_SINGLE_FP_CONFIG, sizeof fp, &fp, NULL);
    /* Divisions and square roots correctly rounded where the device can:
     * the activation scales must be the CPU's to the bit. */
    snprintf(options, sizeof options, "-cl-std=CL1.2 -DWG=%zu -DMV_NT=%zu%s", cb->wg, cb->mv_nt,
             fp & CL_FP_CORRECTLY_ROUNDED_DIVIDE_SQRT ? " -cl-fp32-correctly-rounded-divide-sqrt" : "");
    char key[600];
    snprintf(key, sizeof key, "squint-opencl-1|%s|%s|%s|%s|%s", cb->info.name, cb->info.vendor,
             cb->info.driver_version, cb->info.opencl_version, cb->info.platform);
    for (int i = 0; i < P_COUNT; i++) {
        bool cached = false;
        sq_status st = sq_cl_program_build(cb->ctx, cb->dev, key, sq_text_common, prog_table[i].source,
                                           prog_table[i].name, options, &cb->progs[i], &cached, err);
        if (st != SQ_OK)
            return st;
    }
    for (int i = 0; i < K_COUNT; i++) {
        cl_int rc = CL_SUCCESS;
        cb->kern[i] = clCreateKernel(cb->progs[kern_table[i].prog], kern_table[i].name, &rc);
        if (!cb->kern[i] || rc != CL_SUCCESS) {
            char what[96];
            snprintf(what, sizeof what, "creating kernel %s", kern_table[i].name);
            return sq_cl_fail(err, rc, what);
        }
        size_t kwg = 0;
        if (clGetKernelWorkGroupInfo(cb->kern[i], cb->dev, CL_KERNEL_WORK_GROUP_SIZE, sizeof kwg, &kwg, NULL) ==
                CL_SUCCESS &&
            kwg < cb->wg)
            return sq_error_set(err, SQ_ERR_UNSUPPORTED, "OpenCL: kernel %s runs at most %zu items per group on %s, "
                                "fewer than the %zu it needs", kern_table[i].name, kwg, cb->info.name, cb->wg);
    }
    return SQ_OK;
}

sq_status
sq_backend_opencl_new(const char *device, sq_backend **out, sq_error *err)
{
    *out = NULL;
    sq_cl_device *devs = NULL;
    size_t n = 0, index = 0;
    sq_status st = sq_cl_enumerate(&devs, &n, err);
    if (st == SQ_OK)
        st = sq_cl_choose(devs, n, device, &index, err);
    if (st != SQ_OK) {
        free(devs);
        return st;
    }
    cl_backend *cb = calloc(1, sizeof *cb);
    if (cb)
        atomic_init(&cb->warm_done, true);
    if (!cb) {
        free(devs);
        return sq_error_set(err, SQ_ERR_NOMEM, "out of memory creating the OpenCL backend");
    }
    cb->base.ops = &cl_ops;
    cb->info = devs[index].info;
    cb->dev = devs[index].device;
    cl_platform_id platform = devs[index].platform;
    free(devs);

    /* SQUINT_OPENCL_MEMORY_MB caps the device memory this backend uses */
    const char *cap_env = getenv("SQUINT_OPENCL_MEMORY_MB");
    if (cap_env && *cap_env) {
        uint64_t cap = (uint64_t)strtoull(cap_env, NULL, 10) << 20;
        if (cap > 0 && cap < cb->info.global_mem_bytes)
            cb->info.global_mem_bytes = cap;
        if (cb->info.max_alloc_bytes > cb->info.global_mem_bytes)
            cb->info.max_alloc_bytes = cb->info.global_mem_bytes;
    }
    size_t max_wg = 0;
    cl_ulong local_mem = 0;
    clGetDeviceInfo(cb->dev, CL_DEVICE_MAX_WORK_GROUP_SIZE, sizeof max_wg, &max_wg, NULL);
    clGetDeviceInfo(cb->dev, CL_DEVICE_LOCAL_MEM_SIZE, sizeof local_mem, &local_mem, NULL);
    cb->wg = 64;
    while (cb->wg > 1 && max_wg && cb->wg > max_wg)
        cb->wg /= 2;
    cb->local_mem = (size_t)local_mem;
    /* Kernel shapes: GPUs get a work-group per matmul output row; CPU
     * devices (PoCL) a work-item per row.  SQUINT_OPENCL_SHAPE=gpu|cpu
     * forces one (the tests run both on PoCL). */
    const char *shape = getenv("SQUINT_OPENCL_SHAPE");
    bool cpu_shape = shape && *shape ? strcmp(shape, "cpu") == 0 : cb->info.type == SQ_OPENCL_DEVICE_CPU;
    cb->cpu_shape = cpu_shape;
    cb->mv_nt = cpu_shape ? 1 : cb->wg;
    if (cb->wg < MV_ROWS)
        st = sq_error_set(err, SQ_ERR_UNSUPPORTED, "OpenCL device %s runs only %zu work-items per group",
                          cb->info.name, max_wg);
    /* keep at most an eighth of the device (and 1 GiB) in the reuse pool */
    cb->pool_limit = (size_t)(cb->info.global_mem_bytes / 8);
    if (cb->pool_limit > ((size_t)1 << 30))
        cb->pool_limit = (size_t)1 << 30;

    cl_int rc = CL_SUCCESS;
    if (st == SQ_OK) {
        cl_context_properties props[] = { CL_CONTEXT_PLATFORM, (cl_context_properties)platform, 0 };
        cb->ctx = clCreateContext(props, 1, &cb->dev, NULL, NULL, &rc);
        if (!cb->ctx || rc != CL_SUCCESS) {
            cb->ctx = NULL;
            st = sq_cl_fail(err, rc, "creating a context");
        } else {
            pthread_mutex_lock(&live_lock);
            live_backends++;
            pthread_mutex_unlock(&live_lock);
        }
    }
    if (st == SQ_OK) {
        cb->queue = clCreateCommandQueue(cb->ctx, cb->dev, 0, &rc);
        if (!cb->queue || rc != CL_SUCCESS) {
            cb->queue = NULL;
            st = sq_cl_fail(err, rc, "creating a command queue");
        }
    }
    if (st == SQ_OK)
        choose_gemm(cb);
    /* CLBlast compiles its kernels while ours build */
    if (st == SQ_OK && cb->gemm == GEMM_CLBLAST) {
        atomic_store(&cb->warm_done, false);
        cb->warm_running = pthread_create(&cb->warm, NULL, warm_clblast, cb) == 0;
        if (!cb->warm_running)
            atomic_store(&cb->warm_done, true);
    }
    if (st == SQ_OK)
        st = build_programs(cb, err);
    if (st != SQ_OK) {
        sq_error_prefix(err, "OpenCL device %s", cb->info.name);
        cl_free(&cb->base);
        return st;
    }
    *out = &cb->base;
    return SQ_OK;
}
