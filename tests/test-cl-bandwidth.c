/* test-cl-bandwidth.c — the OpenCL read-bandwidth probe (opencl/cl-bandwidth.h)
 * that the engine benchmark holds the OpenCL backend against:
 *
 *   - on the default device, both kernel shapes: a positive, finite GB/s,
 *     median no faster than best, the buffer read in whole 4 KiB pages and
 *     never more than asked (every pass's sum is checked by the probe, so an
 *     OK means the kernel read every word exactly once);
 *   - a device by index is the device listed at that index;
 *   - errors with a message and no result: a device index past the last, a
 *     name matching nothing, a buffer under 1 MiB, negative passes, an
 *     unknown shape, no result to fill.
 *
 * Without an OpenCL device the program prints a TAP skip. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cl-bandwidth.h"
#include "opencl-backend.h"
#include "tap.h"

static void
check_measurement(const char *what, sq_opencl_bw_shape shape, uint64_t bytes, int passes)
{
    sq_opencl_bw_params p = sq_opencl_bw_default_params();
    p.bytes = bytes;
    p.passes = passes;
    p.shape = shape;
    sq_opencl_bw_result r;
    sq_error err = { 0 };
    sq_status st = sq_opencl_measure_bandwidth(&p, &r, &err);
    if (!ok(st == SQ_OK, "%s: measured (%s)", what, st == SQ_OK ? "ok" : err.msg))
        return;
    ok(isfinite(r.best_gb_s) && r.best_gb_s > 0, "%s: best %.2f GB/s is positive and finite", what, r.best_gb_s);
    ok(isfinite(r.median_gb_s) && r.median_gb_s > 0 && r.median_gb_s <= r.best_gb_s,
       "%s: median %.2f GB/s ≤ best", what, r.median_gb_s);
    ok(r.bytes > 0 && r.bytes <= bytes && r.bytes % 4096 == 0, "%s: read %llu bytes of %llu asked, whole pages", what,
       (unsigned long long)r.bytes, (unsigned long long)bytes);
    ok(r.passes == passes, "%s: %d passes", what, r.passes);
    if (shape != SQ_OPENCL_BW_SHAPE_AUTO)
        ok(r.cpu_shape == (shape == SQ_OPENCL_BW_SHAPE_CPU), "%s: the shape asked for", what);
    ok(r.device.name[0] != '\0', "%s: on %s (%s timing)", what, r.device.name, r.event_timing ? "event" : "wall-clock");
}

static void
check_error(const char *what, const sq_opencl_bw_params *p, sq_opencl_bw_result *out, sq_status want)
{
    sq_error err = { 0 };
    if (out)
        memset(out, 0x5a, sizeof *out);
    sq_status st = sq_opencl_measure_bandwidth(p, out, &err);
    ok(st == want && err.msg[0] != '\0', "%s: %s (%s)", what, sq_status_string(st), err.msg);
    if (out)
        ok(out->best_gb_s == 0 && out->bytes == 0, "%s: no result left behind", what);
}

int
main(void)
{
    /* the device choice must not come from the caller's environment */
    unsetenv("SQUINT_DEVICE");
    unsetenv("SQUINT_OPENCL_SHAPE");
    sq_opencl_device_info *devs = NULL;
    size_t n = 0;
    sq_error err = { 0 };
    if (sq_opencl_list_devices(&devs, &n, &err) != SQ_OK || n == 0) {
        printf("1..0 # SKIP no OpenCL device%s%s\n", err.msg[0] ? ": " : "", err.msg);
        free(devs);
        return 0;
    }

    sq_opencl_bw_params def = sq_opencl_bw_default_params();
    ok(def.device == NULL && def.bytes == 0 && def.passes == 0 && def.shape == SQ_OPENCL_BW_SHAPE_AUTO,
       "default parameters: the default device, 1 GiB, 10 passes, shape by device type");

    /* small buffers: this runs on PoCL on shared CI machines */
    check_measurement("default shape, 16 MiB", SQ_OPENCL_BW_SHAPE_AUTO, (uint64_t)16 << 20, 3);
    check_measurement("CPU shape, odd size", SQ_OPENCL_BW_SHAPE_CPU, ((uint64_t)5 << 20) + 12345, 2);
    check_measurement("GPU shape, odd size", SQ_OPENCL_BW_SHAPE_GPU, ((uint64_t)3 << 20) + 777, 1);

    /* a device by index */
    sq_opencl_bw_params p = sq_opencl_bw_default_params();
    char index[32];
    snprintf(index, sizeof index, "%zu", n - 1);
    p.device = index;
    p.bytes = (uint64_t)2 << 20;
    p.passes = 1;
    sq_opencl_bw_result r;
    sq_status st = sq_opencl_measure_bandwidth(&p, &r, &err);
    ok(st == SQ_OK && r.device.index == (int)(n - 1) && strcmp(r.device.name, devs[n - 1].name) == 0,
       "device \"%s\" is %s (%s)", index, devs[n - 1].name, st == SQ_OK ? r.device.name : err.msg);

    /* errors */
    snprintf(index, sizeof index, "%zu", n);
    p = sq_opencl_bw_default_params();
    p.device = index;
    p.bytes = (uint64_t)2 << 20;
    check_error("device index one past the last", &p, &r, SQ_ERR_NOT_FOUND);
    p.device = "no-such-opencl-device-anywhere";
    check_error("device name matching nothing", &p, &r, SQ_ERR_NOT_FOUND);
    p = sq_opencl_bw_default_params();
    p.bytes = 1000;
    check_error("a 1000-byte buffer", &p, &r, SQ_ERR_INVALID_ARG);
    p = sq_opencl_bw_default_params();
    p.passes = -1;
    check_error("-1 passes", &p, &r, SQ_ERR_INVALID_ARG);
    p = sq_opencl_bw_default_params();
    p.shape = (sq_opencl_bw_shape)42;
    check_error("shape 42", &p, &r, SQ_ERR_INVALID_ARG);
    check_error("no result", &p, NULL, SQ_ERR_INVALID_ARG);

    free(devs);
    return tap_done();
}
