/* image-write.c — RGB8 images to PNG bytes (stb_image_write), for sending
 * an image elsewhere exactly as the engine would see it (the remote
 * backend's half-size first look). */
#include "image.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-prototypes"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wunused-function"
#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STB_IMAGE_WRITE_STATIC
#define STBI_WRITE_NO_STDIO
#include <stb_image_write.h>

typedef struct {
    unsigned char *data;
    size_t         len, cap;
    bool           failed;
} png_buf;

static void
png_append(void *context, void *data, int size)
{
    png_buf *b = context;
    if (b->failed || size <= 0)
        return;
    if (b->len + (size_t)size > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + (size_t)size)
            cap *= 2;
        unsigned char *p = realloc(b->data, cap);
        if (!p) {
            b->failed = true;
            return;
        }
        b->data = p;
        b->cap = cap;
    }
    memcpy(b->data + b->len, data, (size_t)size);
    b->len += (size_t)size;
}

sq_status
sq_image_encode_png(const sq_image *img, unsigned char **out, size_t *out_len, sq_error *err)
{
    if (!img || !img->rgb || img->w <= 0 || img->h <= 0 || !out || !out_len)
        return sq_error_set(err, SQ_ERR_INVALID_ARG, "sq_image_encode_png: no image");
    if ((int64_t)img->w * 3 > INT32_MAX)
        return sq_error_set(err, SQ_ERR_LIMIT, "the image is too wide to encode (%d px)", img->w);
    png_buf b = { 0 };
    if (!stbi_write_png_to_func(png_append, &b, img->w, img->h, 3, img->rgb, img->w * 3) || b.failed) {
        free(b.data);
        return sq_error_set(err, SQ_ERR_NOMEM, "the image could not be encoded as PNG (%dx%d)", img->w, img->h);
    }
    *out = b.data;
    *out_len = b.len;
    return SQ_OK;
}
