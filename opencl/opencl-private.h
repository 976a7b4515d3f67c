/* opencl-private.h — what the files of the OpenCL backend share: status
 * mapping, device enumeration and the program cache. */
#pragma once

#include <CL/cl.h>
#include <stdbool.h>
#include <stddef.h>

#include "opencl-backend.h"

/* ---- opencl-errors.c: one table for cl_int and CLBlastStatusCode ---- */

/* "CL_OUT_OF_RESOURCES", "CLBlastInsufficientMemoryTemp", … ("unknown"
 * for codes neither defines).  CLBlast's codes mirror cl_int where they
 * overlap, so one table serves both. */
const char *sq_cl_code_name(int code);
/* A sentence saying what the code means. */
const char *sq_cl_code_message(int code);
/* SQ_ERR_NOMEM for the out-of-memory codes, SQ_ERR_BACKEND otherwise. */
sq_status sq_cl_code_status(int code);
/* Sets err to "<what>: <NAME> (<code>): <message>" with the mapped status. */
sq_status sq_cl_fail(sq_error *err, int code, const char *what);

/* ---- opencl-device.c ---- */

typedef struct {
    cl_platform_id        platform;
    cl_device_id          device;
    sq_opencl_device_info info;
} sq_cl_device;

/* Every device of every platform (*out malloc'ed, NULL and 0 when none). */
sq_status sq_cl_enumerate(sq_cl_device **out, size_t *n, sq_error *err);
/* The index chosen by `want` (NULL: SQUINT_DEVICE, then the default order);
 * SQ_ERR_NOT_FOUND when nothing matches or there is no device. */
sq_status sq_cl_choose(const sq_cl_device *devs, size_t n, const char *want, size_t *index, sq_error *err);

/* ---- opencl-program.c ---- */

/* Builds `source` (after `common`) for one device, or loads the binary a
 * previous run cached under $XDG_CACHE_HOME/squint/opencl/.  dev_key names
 * device and driver; it, the options and both sources form the cache key.
 * *from_cache tells whether the binary came from the cache. */
sq_status sq_cl_program_build(cl_context ctx, cl_device_id dev, const char *dev_key, const char *common,
                              const char *source, const char *name, const char *options, cl_program *out,
                              bool *from_cache, sq_error *err);
