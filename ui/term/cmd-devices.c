/* cmd-devices.c — `squint-cli devices`: the compute devices Squint can run
 * on: the CPU backend always, and every OpenCL device (name, vendor, type,
 * memory, driver and OpenCL versions) when the OpenCL backend is built. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#ifdef SQ_HAVE_OPENCL
#include "opencl-backend.h"
#endif

int
cmd_devices(int argc, char **argv)
{
    if (argc > 2 || (argc == 2 && strcmp(argv[1], "--help") != 0 && strcmp(argv[1], "-h") != 0)) {
        fprintf(stderr, "usage: squint-cli devices\n");
        return 2;
    }
    if (argc == 2) {
        printf("usage: squint-cli devices\n"
               "Lists the compute devices: the CPU backend, and every OpenCL device with\n"
               "its vendor, type, memory, driver and OpenCL version.  The OpenCL backend\n"
               "(--backend opencl) runs on the device marked '*': the first GPU, unless\n"
               "SQUINT_DEVICE names another by index or by part of its name.\n");
        return 0;
    }
#ifdef SQ_HAVE_OPENCL
    sq_opencl_device_info *devs = NULL;
    size_t n = 0;
    sq_error err = { 0 };
    if (sq_opencl_list_devices(&devs, &n, &err) != SQ_OK) {
        fprintf(stderr, "squint-cli: %s\n", err.msg);
        printf("cpu: the CPU backend (always available)\n");
        return 1;
    }
    if (n == 0) {
        printf("No OpenCL device found (no OpenCL driver installed?): the CPU backend is the only one.\n");
        return 0;
    }
    printf("OpenCL devices (--backend opencl; SQUINT_DEVICE=N or a name picks one):\n\n");
    bool any_default = false;
    for (size_t i = 0; i < n; i++) {
        const sq_opencl_device_info *d = &devs[i];
        any_default = any_default || d->is_default;
        printf("%c %2d  %s\n", d->is_default ? '*' : ' ', d->index, d->name);
        printf("      vendor   %s\n", d->vendor);
        printf("      platform %s\n", d->platform);
        printf("      type     %s, %u compute units\n", sq_opencl_device_type_name(d->type), d->compute_units);
        printf("      memory   %.1f GiB (largest buffer %.1f GiB)\n", (double)d->global_mem_bytes / (1 << 30),
               (double)d->max_alloc_bytes / (1 << 30));
        printf("      driver   %s\n", d->driver_version);
        printf("      version  %s\n\n", d->opencl_version);
    }
    if (!any_default)
        printf("SQUINT_DEVICE='%s' matches none of these devices.\n", getenv("SQUINT_DEVICE"));
    printf("cpu: the CPU backend (--backend cpu, the default) is always available.\n");
    free(devs);
#else
    printf("This build of Squint has no OpenCL backend: the CPU backend is the only one.\n");
#endif
    return 0;
}
