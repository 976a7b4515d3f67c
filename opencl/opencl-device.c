/* opencl-device.c — finding OpenCL devices and choosing one. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "opencl-private.h"

const char *
sq_opencl_device_type_name(sq_opencl_device_type t)
{
    switch (t) {
    case SQ_OPENCL_DEVICE_GPU:         return "GPU";
    case SQ_OPENCL_DEVICE_CPU:         return "CPU";
    case SQ_OPENCL_DEVICE_ACCELERATOR: return "accelerator";
    default:                           return "other";
    }
}

static void
get_str(cl_device_id d, cl_device_info what, char *buf, size_t size)
{
    buf[0] = '\0';
    if (clGetDeviceInfo(d, what, size, buf, NULL) != CL_SUCCESS)
        buf[0] = '\0';
    buf[size - 1] = '\0';
    /* Drivers pad some strings with spaces. */
    size_t n = strlen(buf);
    while (n > 0 && isspace((unsigned char)buf[n - 1]))
        buf[--n] = '\0';
}

static void
fill_info(cl_platform_id p, cl_device_id d, sq_opencl_device_info *info)
{
    memset(info, 0, sizeof *info);
    get_str(d, CL_DEVICE_NAME, info->name, sizeof info->name);
    get_str(d, CL_DEVICE_VENDOR, info->vendor, sizeof info->vendor);
    get_str(d, CL_DRIVER_VERSION, info->driver_version, sizeof info->driver_version);
    get_str(d, CL_DEVICE_VERSION, info->opencl_version, sizeof info->opencl_version);
    if (clGetPlatformInfo(p, CL_PLATFORM_NAME, sizeof info->platform, info->platform, NULL) != CL_SUCCESS)
        info->platform[0] = '\0';
    info->platform[sizeof info->platform - 1] = '\0';
    cl_device_type type = 0;
    clGetDeviceInfo(d, CL_DEVICE_TYPE, sizeof type, &type, NULL);
    info->type = type & CL_DEVICE_TYPE_GPU           ? SQ_OPENCL_DEVICE_GPU
               : type & CL_DEVICE_TYPE_ACCELERATOR   ? SQ_OPENCL_DEVICE_ACCELERATOR
               : type & CL_DEVICE_TYPE_CPU           ? SQ_OPENCL_DEVICE_CPU
                                                     : SQ_OPENCL_DEVICE_OTHER;
    cl_ulong mem = 0, alloc = 0;
    cl_uint cu = 0;
    clGetDeviceInfo(d, CL_DEVICE_GLOBAL_MEM_SIZE, sizeof mem, &mem, NULL);
    clGetDeviceInfo(d, CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof alloc, &alloc, NULL);
    clGetDeviceInfo(d, CL_DEVICE_MAX_COMPUTE_UNITS, sizeof cu, &cu, NULL);
    info->global_mem_bytes = mem;
    info->max_alloc_bytes = alloc;
    info->compute_units = cu;
}

sq_status
sq_cl_enumerate(sq_cl_device **out, size_t *n_out, sq_error *err)
{
    *out = NULL;
    *n_out = 0;
    cl_uint np = 0;
    cl_int rc = clGetPlatformIDs(0, NULL, &np);
    /* No ICD installed, or an ICD loader without platforms: no devices. */
    if (rc == -1001 /* CL_PLATFORM_NOT_FOUND_KHR */ || (rc == CL_SUCCESS && np == 0))
        return SQ_OK;
    if (rc != CL_SUCCESS)
        return sq_cl_fail(err, rc, "listing platforms");
    cl_platform_id *plats = calloc(np, sizeof *plats);
    if (!plats)
        return sq_error_set(err, SQ_ERR_NOMEM, "out of memory");
    if ((rc = clGetPlatformIDs(np, plats, NULL)) != CL_SUCCESS) {
        free(plats);
        return sq_cl_fail(err, rc, "listing platforms");
    }
    sq_cl_device *devs = NULL;
    size_t n = 0;
    sq_status st = SQ_OK;
    for (cl_uint p = 0; p < np && st == SQ_OK; p++) {
        cl_uint nd = 0;
        rc = clGetDeviceIDs(plats[p], CL_DEVICE_TYPE_ALL, 0, NULL, &nd);
        if (rc == CL_DEVICE_NOT_FOUND || nd == 0)
            continue;
        if (rc != CL_SUCCESS)
            continue; /* a broken platform must not hide the others */
        cl_device_id *ids = calloc(nd, sizeof *ids);
        sq_cl_device *grown = ids ? realloc(devs, (n + nd) * sizeof *devs) : NULL;
        if (!ids || !grown) {
            free(ids);
            st = sq_error_set(err, SQ_ERR_NOMEM, "out of memory");
            break;
        }
        devs = grown;
        if (clGetDeviceIDs(plats[p], CL_DEVICE_TYPE_ALL, nd, ids, NULL) == CL_SUCCESS) {
            for (cl_uint i = 0; i < nd; i++) {
                devs[n].platform = plats[p];
                devs[n].device = ids[i];
                fill_info(plats[p], ids[i], &devs[n].info);
                devs[n].info.index = (int)n;
                n++;
            }
        }
        free(ids);
    }
    free(plats);
    if (st != SQ_OK) {
        free(devs);
        return st;
    }
    *out = devs;
    *n_out = n;
    return SQ_OK;
}

static bool
contains_nocase(const char *hay, const char *needle)
{
    size_t nl = strlen(needle);
    for (const char *h = hay; *h; h++) {
        size_t i = 0;
        while (i < nl && h[i] && tolower((unsigned char)h[i]) == tolower((unsigned char)needle[i]))
            i++;
        if (i == nl)
            return true;
    }
    return nl == 0;
}

static bool
all_digits(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s))
            return false;
    return true;
}

sq_status
sq_cl_choose(const sq_cl_device *devs, size_t n, const char *want, size_t *index, sq_error *err)
{
    if (!want || !*want) {
        const char *env = getenv("SQUINT_DEVICE");
        if (env && *env)
            want = env;
    }
    if (n == 0)
        return sq_error_set(err, SQ_ERR_NOT_FOUND, "no OpenCL device found (is an OpenCL driver / ICD installed?)");
    if (want && *want) {
        if (all_digits(want)) {
            unsigned long i = strtoul(want, NULL, 10);
            if (i >= n)
                return sq_error_set(err, SQ_ERR_NOT_FOUND,
                                    "OpenCL device %lu does not exist: there are %zu (see 'squint-cli devices')", i, n);
            *index = i;
            return SQ_OK;
        }
        for (size_t i = 0; i < n; i++) {
            const sq_opencl_device_info *d = &devs[i].info;
            if (contains_nocase(d->name, want) || contains_nocase(d->vendor, want) ||
                contains_nocase(d->platform, want)) {
                *index = i;
                return SQ_OK;
            }
        }
        return sq_error_set(err, SQ_ERR_NOT_FOUND,
                            "no OpenCL device matches '%s' among %zu (see 'squint-cli devices')", want, n);
    }
    static const sq_opencl_device_type order[] = { SQ_OPENCL_DEVICE_GPU, SQ_OPENCL_DEVICE_ACCELERATOR };
    for (size_t t = 0; t < sizeof order / sizeof order[0]; t++)
        for (size_t i = 0; i < n; i++)
            if (devs[i].info.type == order[t]) {
                *index = i;
                return SQ_OK;
            }
    *index = 0;
    return SQ_OK;
}

sq_status
sq_opencl_list_devices(sq_opencl_device_info **out, size_t *n_out, sq_error *err)
{
    *out = NULL;
    *n_out = 0;
    sq_cl_device *devs = NULL;
    size_t n = 0;
    sq_status st = sq_cl_enumerate(&devs, &n, err);
    if (st != SQ_OK || n == 0)
        return st;
    sq_opencl_device_info *list = calloc(n, sizeof *list);
    if (!list) {
        free(devs);
        return sq_error_set(err, SQ_ERR_NOMEM, "out of memory");
    }
    size_t chosen = n;
    if (sq_cl_choose(devs, n, NULL, &chosen, NULL) != SQ_OK)
        chosen = n; /* SQUINT_DEVICE matches nothing: no default */
    for (size_t i = 0; i < n; i++) {
        list[i] = devs[i].info;
        list[i].is_default = i == chosen;
    }
    free(devs);
    *out = list;
    *n_out = n;
    return SQ_OK;
}

bool
sq_opencl_has_gpu(void)
{
    sq_cl_device *devs = NULL;
    size_t n = 0;
    if (sq_cl_enumerate(&devs, &n, NULL) != SQ_OK)
        return false;
    const char *env = getenv("SQUINT_DEVICE");
    bool found = n > 0 && env && *env;
    for (size_t i = 0; i < n && !found; i++)
        found = devs[i].info.type == SQ_OPENCL_DEVICE_GPU;
    free(devs);
    return found;
}
