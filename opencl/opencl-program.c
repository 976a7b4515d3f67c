/* opencl-program.c — building kernel programs, and the on-disk cache of
 * their binaries: $XDG_CACHE_HOME/squint/opencl/<key>.bin, where the key is
 * a 64-bit FNV-1a hash of device, driver, build options and source.  A file
 * that fails to load (truncated, from another driver) is rebuilt from source
 * and replaced; writes go through a temporary file and rename(), so
 * concurrent processes never see half a binary. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "opencl-private.h"

static uint64_t
fnv1a(uint64_t h, const void *data, size_t n)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

static uint64_t
fnv1a_str(uint64_t h, const char *s)
{
    /* Include the terminator so ("ab","c") and ("a","bc") differ. */
    return fnv1a(h, s, strlen(s) + 1);
}

/* Writes "<dir>/squint/opencl" into buf and creates it; false when there is
 * no cache directory or it cannot be created. */
static bool
cache_dir(char *buf, size_t size)
{
    const char *nc = getenv("SQUINT_OPENCL_NO_CACHE");
    if (nc && *nc && strcmp(nc, "0") != 0)
        return false;
    const char *xdg = getenv("XDG_CACHE_HOME");
    const char *home = getenv("HOME");
    int n;
    if (xdg && xdg[0] == '/')
        n = snprintf(buf, size, "%s/squint/opencl", xdg);
    else if (home && *home)
        n = snprintf(buf, size, "%s/.cache/squint/opencl", home);
    else
        return false;
    if (n < 0 || (size_t)n >= size)
        return false;
    /* mkdir -p */
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0700) != 0 && errno != EEXIST) {
            *p = '/';
            return false;
        }
        *p = '/';
    }
    return mkdir(buf, 0700) == 0 || errno == EEXIST;
}

static unsigned char *
read_all(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    unsigned char *data = NULL;
    long n = -1;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (data = malloc((size_t)n)) && fread(data, 1, (size_t)n, f) != (size_t)n) {
        free(data);
        data = NULL;
    }
    fclose(f);
    if (data)
        *size = (size_t)n;
    return data;
}

static void
write_atomically(const char *path, const unsigned char *data, size_t size)
{
    char tmp[4200];
    if (snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid()) >= (int)sizeof tmp)
        return;
    FILE *f = fopen(tmp, "wb");
    if (!f)
        return;
    bool good = fwrite(data, 1, size, f) == size;
    good = fclose(f) == 0 && good;
    if (!good || rename(tmp, path) != 0)
        remove(tmp);
}

static void
save_binary(cl_program prog, const char *path)
{
    size_t size = 0;
    if (clGetProgramInfo(prog, CL_PROGRAM_BINARY_SIZES, sizeof size, &size, NULL) != CL_SUCCESS || size == 0)
        return;
    unsigned char *bin = malloc(size);
    if (!bin)
        return;
    unsigned char *bins[1] = { bin };
    if (clGetProgramInfo(prog, CL_PROGRAM_BINARIES, sizeof bins, bins, NULL) == CL_SUCCESS)
        write_atomically(path, bin, size);
    free(bin);
}

/* The first lines of the build log, for the error message. */
static void
build_log(cl_program prog, cl_device_id dev, char *buf, size_t size)
{
    buf[0] = '\0';
    size_t n = 0;
    if (clGetProgramBuildInfo(prog, dev, CL_PROGRAM_BUILD_LOG, 0, NULL, &n) != CL_SUCCESS || n == 0)
        return;
    char *log = malloc(n + 1);
    if (!log)
        return;
    if (clGetProgramBuildInfo(prog, dev, CL_PROGRAM_BUILD_LOG, n, log, NULL) == CL_SUCCESS) {
        log[n] = '\0';
        snprintf(buf, size, "%s", log);
        for (char *p = buf; *p; p++)
            if (*p == '\n')
                *p = ' ';
    }
    free(log);
}

static cl_program
load_cached(cl_context ctx, cl_device_id dev, const char *path, const char *options)
{
    size_t size = 0;
    unsigned char *bin = read_all(path, &size);
    if (!bin)
        return NULL;
    const unsigned char *bins[1] = { bin };
    cl_int status = CL_SUCCESS, rc = CL_SUCCESS;
    cl_program prog = clCreateProgramWithBinary(ctx, 1, &dev, &size, bins, &status, &rc);
    free(bin);
    if (!prog)
        return NULL;
    if (rc != CL_SUCCESS || status != CL_SUCCESS || clBuildProgram(prog, 1, &dev, options, NULL, NULL) != CL_SUCCESS) {
        clReleaseProgram(prog);
        return NULL;
    }
    return prog;
}

sq_status
sq_cl_program_build(cl_context ctx, cl_device_id dev, const char *dev_key, const char *common, const char *source,
                    const char *name, const char *options, cl_program *out, bool *from_cache, sq_error *err)
{
    *out = NULL;
    *from_cache = false;
    uint64_t h = 0xcbf29ce484222325ULL;
    h = fnv1a_str(h, dev_key);
    h = fnv1a_str(h, options);
    h = fnv1a_str(h, common);
    h = fnv1a_str(h, source);
    char dir[4096], path[4160];
    bool cache = cache_dir(dir, sizeof dir);
    if (cache) {
        snprintf(path, sizeof path, "%s/%s-%016" PRIx64 ".bin", dir, name, h);
        cl_program prog = load_cached(ctx, dev, path, options);
        if (prog) {
            *out = prog;
            *from_cache = true;
            return SQ_OK;
        }
    }
    const char *srcs[2] = { common, source };
    cl_int rc = CL_SUCCESS;
    cl_program prog = clCreateProgramWithSource(ctx, 2, srcs, NULL, &rc);
    if (!prog || rc != CL_SUCCESS)
        return sq_cl_fail(err, rc, "creating a program");
    rc = clBuildProgram(prog, 1, &dev, options, NULL, NULL);
    if (rc != CL_SUCCESS) {
        char log[320];
        build_log(prog, dev, log, sizeof log);
        clReleaseProgram(prog);
        sq_status st = sq_cl_fail(err, rc, name);
        sq_error_prefix(err, "compiling kernels (%s)", log[0] ? log : "no build log");
        return st;
    }
    if (cache)
        save_binary(prog, path);
    *out = prog;
    return SQ_OK;
}
