/* test-demo-model.c — where sq_demo_model_find looks for the built-in demo
 * model: $SQUINT_DEMO_DIR alone when set (a folder without both files means
 * no demo model, even with one installed or in the source tree), and paths
 * that do not fit the caller's buffers are an error, not a truncated path. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "squint.h"
#include "tap.h"

/* dir/name into buf */
static const char *
path_in(char *buf, size_t size, const char *dir, const char *name)
{
    snprintf(buf, size, "%s/%s", dir, name);
    return buf;
}

static int
touch(const char *dir, const char *name)
{
    char path[1024];
    FILE *f = fopen(path_in(path, sizeof path, dir, name), "wb");
    if (!f)
        return 0;
    fputs("GGUF", f);
    return fclose(f) == 0;
}

int
main(void)
{
    char tmpl[] = "/tmp/squint-demo-XXXXXX";
    char *dir = mkdtemp(tmpl);
    if (!ok(dir != NULL, "a temporary folder"))
        return tap_done();
    char text[1024], mmproj[1024], want[1024];
    sq_error err = { 0 };

    setenv("SQUINT_DEMO_DIR", dir, 1);
    ok(sq_demo_model_find(text, mmproj, sizeof text, &err) == SQ_ERR_NOT_FOUND,
       "an empty SQUINT_DEMO_DIR: no demo model (%s)", err.msg);
    ok(text[0] == '\0' && mmproj[0] == '\0', "no paths filled in");
    ok(strstr(err.msg, dir) != NULL, "the message names the folder it looked in");

    touch(dir, SQ_DEMO_TEXT_FILE);
    ok(sq_demo_model_find(text, mmproj, sizeof text, &err) == SQ_ERR_NOT_FOUND,
       "the text GGUF without its mmproj is no demo model");

    touch(dir, SQ_DEMO_MMPROJ_FILE);
    ok(sq_demo_model_find(text, mmproj, sizeof text, &err) == SQ_OK, "both files: found");
    ok(strcmp(text, path_in(want, sizeof want, dir, SQ_DEMO_TEXT_FILE)) == 0, "text path %s", text);
    ok(strcmp(mmproj, path_in(want, sizeof want, dir, SQ_DEMO_MMPROJ_FILE)) == 0, "mmproj path %s", mmproj);

    ok(sq_demo_model_find(text, mmproj, 8, &err) != SQ_OK, "buffers too small for the paths: an error");
    ok(sq_demo_model_find(NULL, mmproj, sizeof mmproj, &err) == SQ_ERR_INVALID_ARG, "no buffer: invalid argument");

    unlink(path_in(want, sizeof want, dir, SQ_DEMO_TEXT_FILE));
    unlink(path_in(want, sizeof want, dir, SQ_DEMO_MMPROJ_FILE));
    rmdir(dir);
    return tap_done();
}
