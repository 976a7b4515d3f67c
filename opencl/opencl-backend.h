/* opencl-backend.h — the OpenCL/CLBlast backend: the op table of backend.h
 * on any OpenCL 1.2 device (GPUs first; PoCL runs it on the CPU).
 *
 * Device choice: an explicit device string, else the environment variable
 * SQUINT_DEVICE, else the first GPU, else the first accelerator, else the
 * first device.  A device string is an index into sq_opencl_list_devices()
 * ("1") or a case-insensitive substring of the device, vendor or platform
 * name ("nvidia", "pthread").
 *
 * Kernels (opencl/kernels/, one .cl file per op) are embedded at build time,
 * compiled once per device and cached on disk under
 * $XDG_CACHE_HOME/squint/opencl/ (default ~/.cache/squint/opencl/); a
 * corrupt or stale cache file is rebuilt from source.  Weights stay
 * quantized on the device and are expanded inside the kernels.
 *
 * Numerics follow the CPU backend (engine/cpu/cpu-backend.c): activations
 * are rounded to the weight's vec_dot type (F16, BF16, Q8_0, Q8_1, Q8_K)
 * exactly as llama.cpp's x86 CPU backend rounds them, and an F16 KV cache
 * rounds q and the softmax weights to F16; results differ from the CPU
 * backend only by float summation order and the last bits of OpenCL's exp,
 * erf, tanh, sin and cos.
 *
 * Environment: SQUINT_DEVICE (above); SQUINT_OPENCL_GEMM=kernels|clblast
 * overrides the choice of batched matmul path (default: measured, see
 * opencl-backend.c); SQUINT_OPENCL_SHAPE=gpu|cpu the kernel shapes (default:
 * by device type); SQUINT_OPENCL_NO_CACHE=1 skips the program cache;
 * SQUINT_OPENCL_MEMORY_MB=N uses at most N MiB of device memory.
 *
 * Thread-safety: like every backend, one backend is used by one thread at a
 * time; different backends may run on different threads.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backend.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    SQ_OPENCL_DEVICE_GPU,
    SQ_OPENCL_DEVICE_CPU,
    SQ_OPENCL_DEVICE_ACCELERATOR,
    SQ_OPENCL_DEVICE_OTHER,
} sq_opencl_device_type;

typedef struct {
    int                   index;            /* what SQUINT_DEVICE=N selects */
    char                  name[128];
    char                  vendor[128];
    char                  platform[128];
    char                  driver_version[64];
    char                  opencl_version[128]; /* CL_DEVICE_VERSION: "OpenCL 3.0 …" */
    sq_opencl_device_type type;
    uint64_t              global_mem_bytes;
    uint64_t              max_alloc_bytes;
    uint32_t              compute_units;
    bool                  is_default;       /* the device a backend picks now */
} sq_opencl_device_info;

/* "GPU", "CPU", "accelerator", "other". */
const char *sq_opencl_device_type_name(sq_opencl_device_type t);

/* Every OpenCL device of every platform, in the order SQUINT_DEVICE indexes
 * them; *out is malloc'ed (free() it) and NULL when there is none.  No
 * installed platform is not an error: *n = 0. */
sq_status sq_opencl_list_devices(sq_opencl_device_info **out, size_t *n, sq_error *err);

/* True when some OpenCL device is a GPU (what backend "auto" looks for), or
 * when SQUINT_DEVICE names a device explicitly. */
bool sq_opencl_has_gpu(void);

/* Creates the backend on `device` (NULL: SQUINT_DEVICE or the default
 * choice): one context and one in-order queue, every program built or loaded
 * from the cache, CLBlast pre-warmed on a background thread.  Errors:
 * SQ_ERR_NOT_FOUND (no device / no match), SQ_ERR_BACKEND (driver or
 * compiler failure, message names the OpenCL status), SQ_ERR_NOMEM. */
sq_status sq_backend_opencl_new(const char *device, sq_backend **out, sq_error *err);

/* The name of the device an OpenCL backend runs on, or NULL for a backend of
 * another kind. */
const char *sq_backend_opencl_device_name(const sq_backend *be);

/* True while CLBlast is still compiling its GEMM kernels on the background
 * thread started by sq_backend_opencl_new (a UI shows "Preparing GPU…");
 * the first batched matmul waits for it.  Any thread may ask. */
bool sq_backend_opencl_warming(const sq_backend *be);

#ifdef __cplusplus
}
#endif
