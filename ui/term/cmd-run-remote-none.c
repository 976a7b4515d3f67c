/* cmd-run-remote-none.c — `run --remote` in a build without the HTTP client
 * (libsoup 3 / json-glib were not found when it was configured). */
#include <stdio.h>

#include "cli.h"

int
cli_run_remote(const cli_remote_args *a)
{
    (void)a;
    fprintf(stderr, "squint-cli run: this build has no HTTP client (configure with libsoup-3.0 and json-glib)\n");
    return 2;
}

int
cmd_download(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "squint-cli download: this build has no HTTP client (configure with libsoup-3.0 and json-glib)\n");
    return 2;
}
