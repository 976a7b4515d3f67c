/* squint-viewer-save.c — screenshots as PNG or BMP, with stb_image_write's
 * implementation compiled here (static, so nothing clashes with another copy
 * elsewhere in a program).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "squint-viewer-private.h"

#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STBI_WRITE_NO_STDIO

/* Third-party code: its warnings are not ours to fix.  Unused static
 * functions are reported at the end of the file, so that one stays off. */
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-prototypes"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#pragma GCC diagnostic ignored "-Wshadow"
#include <stb_image_write.h>
#pragma GCC diagnostic pop

typedef struct {
    FILE *f;
    int   error;  /* errno of the first failed write */
} sink;

static void
sink_write(void *ctx, void *data, int size)
{
    sink *s = ctx;
    if (!s->error && fwrite(data, 1, (size_t)size, s->f) != (size_t)size)
        s->error = errno ? errno : EIO;
}

static bool
has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcasecmp(s + n - k, suffix) == 0;
}

sq_status
sqv_save_rgb(const char *path, int w, int h, const uint8_t *rgb, sq_error *err)
{
    bool png = has_suffix(path, ".png");
    if (!png && !has_suffix(path, ".bmp"))
        return sq_error_set(err, SQ_ERR_INVALID_ARG, "%s: screenshots are .png or .bmp files", path);

    sink s = { fopen(path, "wb"), 0 };
    if (!s.f)
        return sq_error_set(err, SQ_ERR_IO, "%s: %s", path, strerror(errno));
    int done = png ? stbi_write_png_to_func(sink_write, &s, w, h, 3, rgb, w * 3)
                   : stbi_write_bmp_to_func(sink_write, &s, w, h, 3, rgb);
    if (fclose(s.f) != 0 && !s.error)
        s.error = errno;
    if (s.error || !done) {
        remove(path);
        return s.error ? sq_error_set(err, SQ_ERR_IO, "%s: %s", path, strerror(s.error))
                       : sq_error_set(err, SQ_ERR_NOMEM, "%s: could not encode the image", path);
    }
    return SQ_OK;
}
