/* cl-bandwidth.h — the memory read bandwidth of an OpenCL device, measured
 * on the device: the roofline the engine benchmark (tests/bench) holds the
 * OpenCL backend against, as it holds the CPU backend against a streaming
 * read by the CPU.
 *
 * A kernel sums a buffer (1 GiB by default, filled with ones) once per pass;
 * the sum is checked, so a pass that skipped part of the buffer is an error,
 * not a fast pass.  Passes are timed with OpenCL profiling events where the
 * driver gives them, else by the wall clock around clFinish.  The first pass
 * is a warm-up and not timed.
 *
 * Two kernel shapes, chosen like the backend's (SQUINT_OPENCL_SHAPE=gpu|cpu,
 * else by device type): on GPUs work-groups stride over the buffer so that
 * neighbouring work-items read neighbouring words; on CPU devices (PoCL) one
 * work-item per contiguous slice, so that every core streams its own part.
 *
 * Plain C, no OpenCL types here: callers outside opencl/ only see statuses.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "opencl-backend.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    SQ_OPENCL_BW_SHAPE_AUTO,   /* SQUINT_OPENCL_SHAPE, else by device type */
    SQ_OPENCL_BW_SHAPE_GPU,    /* work-groups striding over the whole buffer */
    SQ_OPENCL_BW_SHAPE_CPU,    /* one work-item per contiguous slice */
} sq_opencl_bw_shape;

typedef struct {
    const char        *device;  /* as for sq_backend_opencl_new: NULL = SQUINT_DEVICE or the default */
    uint64_t           bytes;   /* buffer size; 0: 1 GiB; at least 1 MiB.  Capped at the device's
                                 * largest allocation and a quarter of its memory, rounded down
                                 * to whole slices */
    int                passes;  /* timed passes after the warm-up (best counts); 0: 10 */
    sq_opencl_bw_shape shape;
} sq_opencl_bw_params;

typedef struct {
    double                best_gb_s;     /* bytes ÷ fastest pass, in 1e9 bytes/s */
    double                median_gb_s;   /* bytes ÷ median pass */
    uint64_t              bytes;         /* read per pass */
    int                   passes;
    bool                  event_timing;  /* profiling events (else the wall clock) */
    bool                  cpu_shape;
    sq_opencl_device_info device;        /* the device measured */
} sq_opencl_bw_result;

sq_opencl_bw_params sq_opencl_bw_default_params(void);

/* Measures the device's read bandwidth (seconds: about passes + 1 reads of
 * the buffer, plus compiling a small kernel the first time; the binary is
 * cached like the backend's).  Errors: SQ_ERR_NOT_FOUND when there is no
 * OpenCL device or `device` names none, SQ_ERR_INVALID_ARG for impossible
 * parameters, SQ_ERR_NOMEM when the buffer does not fit, SQ_ERR_BACKEND for
 * driver failures and a wrong sum. */
sq_status sq_opencl_measure_bandwidth(const sq_opencl_bw_params *p, sq_opencl_bw_result *out, sq_error *err);

#ifdef __cplusplus
}
#endif
