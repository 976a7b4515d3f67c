/* cl-bandwidth.c — the read bandwidth of an OpenCL device (cl-bandwidth.h). */
#include "cl-bandwidth.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "opencl-private.h"

/* Both shapes add up 32-bit ones; every work-item writes its own sum, so
 * nothing can be optimized away and the host can check that every word was
 * read exactly once (the total is the number of words, modulo 2^32). */
static const char bw_source[] =
    "__kernel void bw_read_strided(__global const uint4 *src, const ulong n, __global uint *out)\n"
    "{\n"
    "    const ulong step = get_global_size(0);\n"
    "    ulong i = get_global_id(0);\n"
    "    uint4 a = (uint4)(0u), b = (uint4)(0u);\n"
    "    for (; i + step < n; i += 2 * step) {\n"
    "        a += src[i];\n"
    "        b += src[i + step];\n"
    "    }\n"
    "    if (i < n)\n"
    "        a += src[i];\n"
    "    a += b;\n"
    "    out[get_global_id(0)] = a.x + a.y + a.z + a.w;\n"
    "}\n"
    "\n"
    "__kernel void bw_read_slices(__global const uint16 *src, const ulong n, __global uint *out)\n"
    "{\n"
    "    const ulong g = get_global_id(0), slices = get_global_size(0);\n"
    "    const ulong end = (g + 1) * n / slices;\n"
    "    ulong i = g * n / slices;\n"
    "    uint16 a = (uint16)(0u), b = a, c = a, d = a;\n"
    "    for (; i + 4 <= end; i += 4) {\n"
    "        a += src[i];\n"
    "        b += src[i + 1];\n"
    "        c += src[i + 2];\n"
    "        d += src[i + 3];\n"
    "    }\n"
    "    for (; i < end; i++)\n"
    "        a += src[i];\n"
    "    a += b + c + d;\n"
    "    uint8 h = a.lo + a.hi;\n"
    "    uint4 q = h.lo + h.hi;\n"
    "    out[g] = q.x + q.y + q.z + q.w;\n"
    "}\n";

#define MIB ((uint64_t)1 << 20)

sq_opencl_bw_params
sq_opencl_bw_default_params(void)
{
    return (sq_opencl_bw_params){ .device = NULL, .bytes = 0, .passes = 0, .shape = SQ_OPENCL_BW_SHAPE_AUTO };
}

static double
now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef struct {
    cl_context       ctx;
    cl_command_queue queue;
    cl_program       prog;
    cl_kernel        kern;
    cl_mem           src, sums;
    cl_uint         *host_sums;
    double          *times;
} bw_state;

static void
bw_state_free(bw_state *s)
{
    if (s->kern)
        clReleaseKernel(s->kern);
    if (s->prog)
        clReleaseProgram(s->prog);
    if (s->src)
        clReleaseMemObject(s->src);
    if (s->sums)
        clReleaseMemObject(s->sums);
    if (s->queue)
        clReleaseCommandQueue(s->queue);
    if (s->ctx)
        clReleaseContext(s->ctx);
    free(s->host_sums);
    free(s->times);
}

/* Reads the per-item sums back and checks that they add up to one per word. */
static sq_status
check_sums(bw_state *s, size_t n_items, uint64_t bytes, sq_error *err)
{
    cl_int rc = clEnqueueReadBuffer(s->queue, s->sums, CL_TRUE, 0, n_items * sizeof(cl_uint), s->host_sums, 0,
                                    NULL, NULL);
    if (rc != CL_SUCCESS)
        return sq_cl_fail(err, rc, "reading the sums back");
    uint32_t total = 0, want = (uint32_t)(bytes / 4);
    for (size_t i = 0; i < n_items; i++)
        total += s->host_sums[i];
    if (total != want)
        return sq_error_set(err, SQ_ERR_BACKEND,
                            "the bandwidth kernel summed %" PRIu32 " words of %" PRIu32 " (modulo 2^32): "
                            "the device did not read the whole buffer",
                            total, want);
    return SQ_OK;
}

/* One pass: seconds from the profiling events, else the wall clock. */
static sq_status
timed_pass(bw_state *s, size_t global, size_t local, double *seconds, bool *by_events, sq_error *err)
{
    cl_event ev = NULL;
    double t0 = now_s();
    cl_int rc = clEnqueueNDRangeKernel(s->queue, s->kern, 1, NULL, &global, &local, 0, NULL, &ev);
    if (rc != CL_SUCCESS)
        return sq_cl_fail(err, rc, "running the bandwidth kernel");
    rc = clWaitForEvents(1, &ev);
    double wall = now_s() - t0;
    if (rc != CL_SUCCESS) {
        clReleaseEvent(ev);
        return sq_cl_fail(err, rc, "waiting for the bandwidth kernel");
    }
    cl_ulong start = 0, end = 0;
    *by_events = clGetEventProfilingInfo(ev, CL_PROFILING_COMMAND_START, sizeof start, &start, NULL) == CL_SUCCESS &&
                 clGetEventProfilingInfo(ev, CL_PROFILING_COMMAND_END, sizeof end, &end, NULL) == CL_SUCCESS &&
                 end > start;
    clReleaseEvent(ev);
    *seconds = *by_events ? (double)(end - start) * 1e-9 : wall;
    return SQ_OK;
}

static sq_status
measure(const sq_cl_device *dev, const sq_opencl_bw_params *p, sq_opencl_bw_result *out, bw_state *s,
        sq_error *err)
{
    sq_opencl_device_info info = dev->info;
    /* the backend's device-memory cap applies here too */
    const char *cap_env = getenv("SQUINT_OPENCL_MEMORY_MB");
    if (cap_env && *cap_env) {
        uint64_t cap = (uint64_t)strtoull(cap_env, NULL, 10) << 20;
        if (cap > 0 && cap < info.global_mem_bytes)
            info.global_mem_bytes = cap;
    }
    bool cpu_shape = p->shape == SQ_OPENCL_BW_SHAPE_CPU;
    if (p->shape == SQ_OPENCL_BW_SHAPE_AUTO) {
        const char *env = getenv("SQUINT_OPENCL_SHAPE");
        cpu_shape = env && *env ? strcmp(env, "cpu") == 0 : info.type == SQ_OPENCL_DEVICE_CPU;
    }
    uint64_t bytes = p->bytes ? p->bytes : (uint64_t)1 << 30;
    if (info.max_alloc_bytes && bytes > info.max_alloc_bytes)
        bytes = info.max_alloc_bytes;
    if (info.global_mem_bytes && bytes > info.global_mem_bytes / 4)
        bytes = info.global_mem_bytes / 4;
    bytes &= ~(uint64_t)4095;
    if (bytes < MIB)
        return sq_error_set(err, SQ_ERR_NOMEM, "the device allows only %.1f MiB for one buffer, "
                            "too little to measure its bandwidth", (double)bytes / (double)MIB);
    int passes = p->passes ? p->passes : 10;

    cl_int rc = CL_SUCCESS;
    cl_context_properties props[] = { CL_CONTEXT_PLATFORM, (cl_context_properties)dev->platform, 0 };
    s->ctx = clCreateContext(props, 1, &dev->device, NULL, NULL, &rc);
    if (!s->ctx || rc != CL_SUCCESS) {
        s->ctx = NULL;
        return sq_cl_fail(err, rc, "creating a context");
    }
    s->queue = clCreateCommandQueue(s->ctx, dev->device, CL_QUEUE_PROFILING_ENABLE, &rc);
    if (!s->queue || rc != CL_SUCCESS) {
        /* no profiling: the wall clock times the passes */
        s->queue = clCreateCommandQueue(s->ctx, dev->device, 0, &rc);
        if (!s->queue || rc != CL_SUCCESS) {
            s->queue = NULL;
            return sq_cl_fail(err, rc, "creating a command queue");
        }
    }
    char key[600];
    snprintf(key, sizeof key, "squint-opencl-bw-1|%s|%s|%s|%s|%s", info.name, info.vendor, info.driver_version,
             info.opencl_version, info.platform);
    bool cached = false;
    sq_status st = sq_cl_program_build(s->ctx, dev->device, key, "", bw_source, "bandwidth", "-cl-std=CL1.2",
                                       &s->prog, &cached, err);
    if (st != SQ_OK)
        return st;
    const char *kname = cpu_shape ? "bw_read_slices" : "bw_read_strided";
    s->kern = clCreateKernel(s->prog, kname, &rc);
    if (!s->kern || rc != CL_SUCCESS) {
        s->kern = NULL;
        return sq_cl_fail(err, rc, "creating the bandwidth kernel");
    }

    /* CPU shape: a few slices per core, one work-item each.  GPU shape:
     * groups of up to 256 items, eight groups per compute unit. */
    uint32_t cus = info.compute_units ? info.compute_units : 1;
    size_t local = 1, global;
    if (cpu_shape) {
        global = (size_t)cus * 4;
    } else {
        size_t max_wg = 0, kwg = 0;
        clGetDeviceInfo(dev->device, CL_DEVICE_MAX_WORK_GROUP_SIZE, sizeof max_wg, &max_wg, NULL);
        clGetKernelWorkGroupInfo(s->kern, dev->device, CL_KERNEL_WORK_GROUP_SIZE, sizeof kwg, &kwg, NULL);
        local = 256;
        while (local > 1 && ((max_wg && local > max_wg) || (kwg && local > kwg)))
            local /= 2;
        global = local * (size_t)cus * 8;
    }
    cl_ulong n = cpu_shape ? bytes / 64 : bytes / 16; /* uint16 or uint4 words */

    s->host_sums = calloc(global, sizeof *s->host_sums);
    s->times = calloc((size_t)passes, sizeof *s->times);
    if (!s->host_sums || !s->times)
        return sq_error_set(err, SQ_ERR_NOMEM, "out of memory");
    s->src = clCreateBuffer(s->ctx, CL_MEM_READ_ONLY, (size_t)bytes, NULL, &rc);
    if (!s->src || rc != CL_SUCCESS) {
        s->src = NULL;
        char what[96];
        snprintf(what, sizeof what, "allocating %.0f MiB", (double)bytes / (double)MIB);
        return sq_cl_fail(err, rc, what);
    }
    s->sums = clCreateBuffer(s->ctx, CL_MEM_WRITE_ONLY, global * sizeof(cl_uint), NULL, &rc);
    if (!s->sums || rc != CL_SUCCESS) {
        s->sums = NULL;
        return sq_cl_fail(err, rc, "allocating the sums");
    }
    const cl_uint one = 1;
    rc = clEnqueueFillBuffer(s->queue, s->src, &one, sizeof one, 0, (size_t)bytes, 0, NULL, NULL);
    if (rc == CL_SUCCESS)
        rc = clFinish(s->queue);
    if (rc != CL_SUCCESS) {
        char what[96];
        snprintf(what, sizeof what, "filling %.0f MiB", (double)bytes / (double)MIB);
        return sq_cl_fail(err, rc, what);
    }
    if ((rc = clSetKernelArg(s->kern, 0, sizeof s->src, &s->src)) != CL_SUCCESS ||
        (rc = clSetKernelArg(s->kern, 1, sizeof n, &n)) != CL_SUCCESS ||
        (rc = clSetKernelArg(s->kern, 2, sizeof s->sums, &s->sums)) != CL_SUCCESS)
        return sq_cl_fail(err, rc, "setting the bandwidth kernel's arguments");

    /* warm-up (pages, caches, clocks), checked, not timed */
    double warm = 0;
    bool by_events = false, all_events = true;
    if ((st = timed_pass(s, global, local, &warm, &by_events, err)) != SQ_OK ||
        (st = check_sums(s, global, bytes, err)) != SQ_OK)
        return st;
    for (int i = 0; i < passes; i++) {
        if ((st = timed_pass(s, global, local, &s->times[i], &by_events, err)) != SQ_OK)
            return st;
        all_events = all_events && by_events;
    }
    if ((st = check_sums(s, global, bytes, err)) != SQ_OK)
        return st;
    qsort(s->times, (size_t)passes, sizeof *s->times, cmp_double);
    double med = passes % 2 ? s->times[passes / 2] : 0.5 * (s->times[passes / 2 - 1] + s->times[passes / 2]);
    if (!(s->times[0] > 0))
        return sq_error_set(err, SQ_ERR_BACKEND, "the bandwidth kernel took no measurable time");
    out->best_gb_s = (double)bytes / s->times[0] / 1e9;
    out->median_gb_s = (double)bytes / med / 1e9;
    out->bytes = bytes;
    out->passes = passes;
    out->event_timing = all_events;
    out->cpu_shape = cpu_shape;
    out->device = dev->info;
    return SQ_OK;
}

sq_status
sq_opencl_measure_bandwidth(const sq_opencl_bw_params *params, sq_opencl_bw_result *out, sq_error *err)
{
    sq_opencl_bw_params p = params ? *params : sq_opencl_bw_default_params();
    if (!out)
        return sq_error_set(err, SQ_ERR_INVALID_ARG, "measuring bandwidth: no result to fill");
    memset(out, 0, sizeof *out);
    if (p.passes < 0 || p.passes > 10000)
        return sq_error_set(err, SQ_ERR_INVALID_ARG, "measuring bandwidth: %d passes (0 … 10000)", p.passes);
    if (p.bytes != 0 && p.bytes < MIB)
        return sq_error_set(err, SQ_ERR_INVALID_ARG, "measuring bandwidth: a %" PRIu64 "-byte buffer "
                            "(at least 1 MiB)", p.bytes);
    if (p.shape != SQ_OPENCL_BW_SHAPE_AUTO && p.shape != SQ_OPENCL_BW_SHAPE_GPU && p.shape != SQ_OPENCL_BW_SHAPE_CPU)
        return sq_error_set(err, SQ_ERR_INVALID_ARG, "measuring bandwidth: unknown kernel shape %d", (int)p.shape);

    sq_cl_device *devs = NULL;
    size_t n = 0, index = 0;
    sq_status st = sq_cl_enumerate(&devs, &n, err);
    if (st == SQ_OK)
        st = sq_cl_choose(devs, n, p.device, &index, err);
    if (st != SQ_OK) {
        free(devs);
        return st;
    }
    bw_state s = { 0 };
    st = measure(&devs[index], &p, out, &s, err);
    bw_state_free(&s);
    if (st != SQ_OK) {
        memset(out, 0, sizeof *out);
        sq_error_prefix(err, "OpenCL device %s: measuring bandwidth", devs[index].info.name);
    }
    free(devs);
    return st;
}
