/* demo-model.c — where the built-in demo model lives.
 *
 * $SQUINT_DEMO_DIR when it is set (tests, packagers: it alone, so that pointing
 * it at a folder without the files means "no demo model"); otherwise the
 * installed data folder (SQUINT_DEMO_INSTALL_DIR, set by meson), then the
 * source tree's assets/ (SQUINT_DEMO_SOURCE_DIR) so that `tools/run-app.sh`
 * works straight from a build tree without installing. */
#include "squint.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef SQUINT_DEMO_INSTALL_DIR
#define SQUINT_DEMO_INSTALL_DIR ""
#endif
#ifndef SQUINT_DEMO_SOURCE_DIR
#define SQUINT_DEMO_SOURCE_DIR ""
#endif

static int
is_readable_file(const char *path)
{
    return access(path, R_OK) == 0;
}

/* Both files in `dir`?  Fills text/mmproj when so. */
static int
try_dir(const char *dir, char *text, char *mmproj, size_t size)
{
    if (!dir || !dir[0])
        return 0;
    int a = snprintf(text, size, "%s/%s", dir, SQ_DEMO_TEXT_FILE);
    int b = snprintf(mmproj, size, "%s/%s", dir, SQ_DEMO_MMPROJ_FILE);
    if (a < 0 || b < 0 || (size_t)a >= size || (size_t)b >= size)
        return 0;
    return is_readable_file(text) && is_readable_file(mmproj);
}

sq_status
sq_demo_model_find(char *text, char *mmproj, size_t size, sq_error *err)
{
    if (!text || !mmproj || size == 0)
        return sq_error_set(err, SQ_ERR_INVALID_ARG, "sq_demo_model_find: no room for the paths");
    const char *env = getenv("SQUINT_DEMO_DIR");
    const char *dirs[] = { env, SQUINT_DEMO_INSTALL_DIR, SQUINT_DEMO_SOURCE_DIR };
    size_t n_dirs = env && env[0] ? 1 : sizeof dirs / sizeof dirs[0];
    char tried[3 * 256] = "";
    for (size_t i = 0; i < n_dirs; i++) {
        if (try_dir(dirs[i], text, mmproj, size))
            return SQ_OK;
        if (dirs[i] && dirs[i][0]) {
            size_t n = strlen(tried);
            snprintf(tried + n, sizeof tried - n, "%s%.250s", n ? ", " : "", dirs[i]);
        }
    }
    text[0] = mmproj[0] = '\0';
    return sq_error_set(err, SQ_ERR_NOT_FOUND, "the built-in demo model (%s + %s) is not in %s",
                        SQ_DEMO_TEXT_FILE, SQ_DEMO_MMPROJ_FILE, tried[0] ? tried : "any known folder");
}
