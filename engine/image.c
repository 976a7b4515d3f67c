/* image.c — the image container, decoding through stb_image with size
 * limits, smart_resize, normalization and patch extraction.
 * Resampling lives in image-resample.c. */
#include "image.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <stb_image.h>

#include "image-private.h"

/* ---- container ------------------------------------------------------------ */

static sq_status
check_size(int w, int h, sq_error *err)
{
    if (w <= 0 || h <= 0)
        return sq_error_set(err, SQ_ERR_INVALID_ARG, "image size %dx%d is not positive", w, h);
    if ((uint64_t)w * (uint64_t)h > SIZE_MAX / 3 / sizeof(float))
        return sq_error_set(err, SQ_ERR_LIMIT, "image size %dx%d is too large", w, h);
    return SQ_OK;
}

sq_status
sq_image_new(int w, int h, sq_image *out, sq_error *err)
{
    if (!out)
        return sq_error_set(err, SQ_ERR_INVALID_ARG, "sq_image_new: out is NULL");
    *out = (sq_image){0};
    sq_status st = check_size(w, h, err);
    if (st != SQ_OK)
        return st;
    uint8_t *rgb = calloc((size_t)w * (size_t)h, 3);
    if (!rgb)
        return sq_error_set(err, SQ_ERR_NOMEM, "out of memory for a %dx%d image", w, h);
    *out = (sq_image){.w = w, .h = h, .rgb = rgb};
    return SQ_OK;
}

void
sq_image_free(sq_image *img)
{
    if (!img)
        return;
    free(img->rgb);
    *img = (sq_image){0};
}

sq_status
sq_image_copy(const sq_image *src, sq_image *out, sq_error *err)
{
    if (!src || !src->rgb || !out || out == src)
        return sq_error_set(err, SQ_ERR_INVALID_ARG, "sq_image_copy: bad arguments");
    sq_status st = sq_image_new(src->w, src->h, out, err);
    if (st == SQ_OK)
        memcpy(out->rgb, src->rgb, (size_t)src->w * (size_t)src->h * 3);
    return st;
}

/* ---- decoding ------------------------------------------------------------- */

sq_image_load_params
sq_image_load_default_params(void)
{
    return (sq_image_load_params){
        .max_pixels = SQ_IMAGE_DEFAULT_MAX_PIXELS,
        .max_side   = SQ_IMAGE_DEFAULT_MAX_SIDE,
    };
}

/* stb_image allocates a few working buffers of up to ~8 bytes per pixel
 * (16-bit RGBA PNG: inflated rows, unfiltered rows, conversions; JPEG MCUs
 * are padded to 16 px), plus the compressed input it gathers.  Anything
 * well beyond that can only come from data inflating past the header. */
static size_t
decode_budget(int w, int h, size_t input_bytes)
{
    uint64_t padded = ((uint64_t)w + 16) * ((uint64_t)h + 16);
    uint64_t bytes  = 40 * padded + 2 * (uint64_t)input_bytes + (1u << 20);
    return bytes > SIZE_MAX ? SIZE_MAX : (size_t)bytes;
}

/* Enough for stb_image to parse any header (JPEG allocates its decoder
 * state, about 35 KB, even to read one). */
#define HEADER_BUDGET ((size_t)1 << 20)

static const char *
stbi_reason(void)
{
    const char *r = stbi_failure_reason();
    return r && *r ? r : "unknown error";
}

/* stb_image itself refuses headers it deems too large ("too large"); that is
 * a size limit too, not a malformed file. */
static sq_status
header_failure(sq_error *err)
{
    const char *r = stbi_reason();
    if (strcmp(r, "too large") == 0)
        return sq_error_set(err, SQ_ERR_LIMIT,
                            "image header declares a size too large to decode (stb_image: %s)", r);
    return sq_error_set(err, SQ_ERR_FORMAT,
                        "not a readable PNG, JPEG, BMP, GIF or PNM image (stb_image: %s)", r);
}

static sq_status
check_limits(int w, int h, const sq_image_load_params *p, sq_error *err)
{
    if (w <= 0 || h <= 0)
        return sq_error_set(err, SQ_ERR_FORMAT, "image header declares an empty size %dx%d", w, h);
    if (w > p->max_side || h > p->max_side)
        return sq_error_set(err, SQ_ERR_LIMIT,
                            "image is %dx%d; the limit is %d pixels per side", w, h, p->max_side);
    if ((int64_t)w * h > p->max_pixels)
        return sq_error_set(err, SQ_ERR_LIMIT, "image is %dx%d = %lld pixels; the limit is %lld",
                            w, h, (long long)w * h, (long long)p->max_pixels);
    return SQ_OK;
}

/* Why stb_image returned no pixels.  refused: our allocation cap stopped
 * it, which only data inflating past its header can cause. */
static sq_status
decode_failure(bool refused, int hdr_w, int hdr_h, sq_error *err)
{
    const char *r = stbi_reason();
    if (refused)
        return sq_error_set(err, SQ_ERR_LIMIT,
                            "image data inflates far beyond its declared %dx%d size "
                            "(decompression bomb?)", hdr_w, hdr_h);
    if (strcmp(r, "too large") == 0)
        return sq_error_set(err, SQ_ERR_LIMIT, "image %dx%d is too large to decode (stb_image: %s)",
                            hdr_w, hdr_h, r);
    if (strcmp(r, "outofmem") == 0)
        return sq_error_set(err, SQ_ERR_NOMEM, "out of memory decoding a %dx%d image", hdr_w,
                            hdr_h);
    return sq_error_set(err, SQ_ERR_FORMAT, "image data is truncated or corrupt (stb_image: %s)", r);
}

/* Takes ownership of stb's pixels: copies them into a plain malloc'd image
 * (stb's blocks carry the budget header, so free() must not see them). */
static sq_status
adopt_pixels(stbi_uc *px, int w, int h, int hdr_w, int hdr_h, sq_image *out, sq_error *err)
{
    sq_status st = SQ_OK;
    if (w != hdr_w || h != hdr_h)
        st = sq_error_set(err, SQ_ERR_FORMAT, "image decoded to %dx%d, but its header says %dx%d",
                          w, h, hdr_w, hdr_h);
    else if ((st = sq_image_new(w, h, out, err)) == SQ_OK)
        memcpy(out->rgb, px, (size_t)w * (size_t)h * 3);
    stbi_image_free(px);
    return st;
}

static const sq_image_load_params *
load_params_or_default(const sq_image_load_params *p, sq_image_load_params *storage)
{
    if (p)
        return p;
    *storage = sq_image_load_default_params();
    return storage;
}

sq_status
sq_image_load_memory(const void *data, size_t size, const sq_image_load_params *params,
                     sq_image *out, sq_error *err)
{
    if (!out)
        return sq_error_set(err, SQ_ERR_INVALID_ARG, "sq_image_load_memory: out is NULL");
    *out = (sq_image){0};
    if (!data && size)
        return sq_error_set(err, SQ_ERR_INVALID_ARG, "sq_image_load_memory: data is NULL");
    if (size > INT_MAX)
        return sq_error_set(err, SQ_ERR_LIMIT, "image file of %zu bytes is too large", size);
    sq_image_load_params storage;
    const sq_image_load_params *p = load_params_or_default(params, &storage);

    int w = 0, h = 0, n = 0, dw = 0, dh = 0;
    sq_stbi_budget_begin(HEADER_BUDGET);
    bool ok = sq_stbi_info_memory(data, (int)size, &w, &h);
    sq_stbi_budget_end();
    if (!ok)
        return header_failure(err);
    sq_status st = check_limits(w, h, p, err);
    if (st != SQ_OK)
        return st;

    sq_stbi_budget_begin(decode_budget(w, h, size));
    stbi_uc *px = stbi_load_from_memory(data, (int)size, &dw, &dh, &n, 3);
    bool refused = sq_stbi_budget_end();
    if (!px)
        return decode_failure(refused, w, h, err);
    return adopt_pixels(px, dw, dh, w, h, out, err);
}

/* The status st, with the file's name in front of err's message. */
static sq_status
with_path(sq_status st, const char *path, sq_error *err)
{
    sq_error_prefix(err, "%s", path);
    return st;
}

static sq_status
load_stream(FILE *f, const char *path, const sq_image_load_params *p, sq_image *out,
            sq_error *err)
{
    struct stat sb;
    if (fstat(fileno(f), &sb) != 0)
        return sq_error_set(err, SQ_ERR_IO, "%s: %s", path, strerror(errno));
    if (S_ISDIR(sb.st_mode))
        return sq_error_set(err, SQ_ERR_IO, "%s: %s", path, strerror(EISDIR));

    int w = 0, h = 0, n = 0, dw = 0, dh = 0;
    sq_stbi_budget_begin(HEADER_BUDGET);
    bool ok = sq_stbi_info_file(f, &w, &h);
    sq_stbi_budget_end();
    if (!ok)
        return with_path(header_failure(err), path, err);
    sq_status st = check_limits(w, h, p, err);
    if (st != SQ_OK)
        return with_path(st, path, err);

    /* A pipe has no size: allow for a generous amount of compressed data. */
    size_t input = S_ISREG(sb.st_mode) ? (size_t)sb.st_size : (size_t)256 << 20;
    sq_stbi_budget_begin(decode_budget(w, h, input));
    stbi_uc *px = stbi_load_from_file(f, &dw, &dh, &n, 3);
    bool refused = sq_stbi_budget_end();
    st = px ? adopt_pixels(px, dw, dh, w, h, out, err) : decode_failure(refused, w, h, err);
    return st == SQ_OK ? SQ_OK : with_path(st, path, err);
}

sq_status
sq_image_load_file(const char *path, const sq_image_load_params *params, sq_image *out,
                   sq_error *err)
{
    if (!out || !path)
        return sq_error_set(err, SQ_ERR_INVALID_ARG, "sq_image_load_file: bad arguments");
    *out = (sq_image){0};
    sq_image_load_params storage;
    const sq_image_load_params *p = load_params_or_default(params, &storage);

    FILE *f = fopen(path, "rb");
    if (!f)
        return sq_error_set(err, SQ_ERR_IO, "%s: %s", path, strerror(errno));
    sq_status st = load_stream(f, path, p, out, err);
    fclose(f);
    return st;
}

/* ---- smart_resize --------------------------------------------------------- */

/* Python's round(): half to even, which nearbyint() gives under the default
 * rounding mode.  C's round()/lround() would take 70 px to 84 instead of 56. */
static int
round_by_factor(int v)
{
    return (int)nearbyint((double)v / SQ_IMAGE_FACTOR) * SQ_IMAGE_FACTOR;
}

sq_status
sq_image_smart_size(int w, int h, int64_t min_px, int64_t max_px, int *out_w, int *out_h,
                    sq_error *err)
{
    if (!out_w || !out_h || min_px < 0 || max_px <= 0)
        return sq_error_set(err, SQ_ERR_INVALID_ARG, "sq_image_smart_size: bad arguments");
    if (w < SQ_IMAGE_FACTOR || h < SQ_IMAGE_FACTOR)
        return sq_error_set(err, SQ_ERR_UNSUPPORTED,
                            "image is %dx%d; both sides must be at least %d px", w, h,
                            SQ_IMAGE_FACTOR);
    /* Python divides the ints exactly and rounds once; so does this, as both
     * operands are exact in a double. */
    double hi = w > h ? w : h, lo = w > h ? h : w;
    if (hi / lo > 200.0)
        return sq_error_set(err, SQ_ERR_UNSUPPORTED,
                            "image is %dx%d; the aspect ratio must not exceed 200", w, h);

    int64_t hb = round_by_factor(h), wb = round_by_factor(w);
    double  area = (double)h * (double)w;
    if (hb * wb > max_px) {
        double beta = sqrt(area / (double)max_px);
        hb = (int64_t)floor((double)h / beta / SQ_IMAGE_FACTOR) * SQ_IMAGE_FACTOR;
        wb = (int64_t)floor((double)w / beta / SQ_IMAGE_FACTOR) * SQ_IMAGE_FACTOR;
    } else if (hb * wb < min_px) {
        double beta = sqrt((double)min_px / area);
        hb = (int64_t)ceil((double)h * beta / SQ_IMAGE_FACTOR) * SQ_IMAGE_FACTOR;
        wb = (int64_t)ceil((double)w * beta / SQ_IMAGE_FACTOR) * SQ_IMAGE_FACTOR;
    }
    if (hb <= 0 || wb <= 0 || hb > INT_MAX || wb > INT_MAX)
        return sq_error_set(err, SQ_ERR_UNSUPPORTED,
                            "image %dx%d cannot be fitted to %lld..%lld pixels", w, h,
                            (long long)min_px, (long long)max_px);
    *out_w = (int)wb;
    *out_h = (int)hb;
    return SQ_OK;
}

/* ---- model input ---------------------------------------------------------- */

sq_status
sq_image_normalize(const sq_image *img, const float mean[3], const float std[3], float *chw,
                   sq_error *err)
{
    if (!img || !img->rgb || !mean || !std || !chw)
        return sq_error_set(err, SQ_ERR_INVALID_ARG, "sq_image_normalize: bad arguments");
    for (int c = 0; c < 3; c++)
        if (!(std[c] != 0.0f) || !isfinite(std[c]) || !isfinite(mean[c]))
            return sq_error_set(err, SQ_ERR_INVALID_ARG, "normalization std[%d] = %g is unusable",
                                c, (double)std[c]);

    /* 256 values per channel; a table gives the same floats as computing each
     * pixel, which is llama.cpp's f32 expression. */
    float lut[3][256];
    for (int c = 0; c < 3; c++)
        for (int v = 0; v < 256; v++)
            lut[c][v] = ((float)v / 255.0f - mean[c]) / std[c];

    size_t         plane = (size_t)img->w * (size_t)img->h;
    const uint8_t *px    = img->rgb;
    for (size_t i = 0; i < plane; i++, px += 3) {
        chw[i]             = lut[0][px[0]];
        chw[plane + i]     = lut[1][px[1]];
        chw[2 * plane + i] = lut[2][px[2]];
    }
    return SQ_OK;
}

/* Copies patch (pr, pc) of the planar image into one 588-float row. */
static void
copy_patch(const float *chw, int w, int h, int pr, int pc, float *row)
{
    size_t plane = (size_t)w * (size_t)h;
    for (int c = 0; c < 3; c++)
        for (int ky = 0; ky < SQ_IMAGE_PATCH; ky++) {
            size_t y = (size_t)pr * SQ_IMAGE_PATCH + (size_t)ky;
            size_t x = (size_t)pc * SQ_IMAGE_PATCH;
            memcpy(row, chw + c * plane + y * (size_t)w + x, SQ_IMAGE_PATCH * sizeof(float));
            row += SQ_IMAGE_PATCH;
        }
}

sq_status
sq_image_patchify(const float *chw, int w, int h, float *patches, sq_error *err)
{
    if (!chw || !patches)
        return sq_error_set(err, SQ_ERR_INVALID_ARG, "sq_image_patchify: NULL buffer");
    if (w <= 0 || h <= 0 || w % SQ_IMAGE_FACTOR || h % SQ_IMAGE_FACTOR)
        return sq_error_set(err, SQ_ERR_INVALID_ARG,
                            "image %dx%d: sides must be positive multiples of %d", w, h,
                            SQ_IMAGE_FACTOR);
    /* Merge-block order (HF pixel_values, llama.cpp after its permute): the
     * four patches of a 2×2 merge group are consecutive rows. */
    int gh = h / SQ_IMAGE_FACTOR, gw = w / SQ_IMAGE_FACTOR;
    for (int r = 0; r < gh; r++)
        for (int c = 0; c < gw; c++)
            for (int dy = 0; dy < SQ_IMAGE_MERGE; dy++)
                for (int dx = 0; dx < SQ_IMAGE_MERGE; dx++) {
                    copy_patch(chw, w, h, 2 * r + dy, 2 * c + dx, patches);
                    patches += SQ_IMAGE_PATCH_DIM;
                }
    return SQ_OK;
}

sq_image_prep_params
sq_image_prep_default_params(void)
{
    return (sq_image_prep_params){
        .min_pixels = SQ_IMAGE_QWEN25VL_MIN_PIXELS,
        .max_pixels = SQ_IMAGE_QWEN25VL_MAX_PIXELS,
        .mean       = {0.48145466f, 0.4578275f, 0.40821073f},
        .std        = {0.26862954f, 0.26130258f, 0.27577711f},
    };
}

void
sq_image_prepared_free(sq_image_prepared *p)
{
    if (!p)
        return;
    free(p->pixels);
    *p = (sq_image_prepared){0};
}

static sq_status
fill_prepared(const sq_image *sized, const sq_image_prep_params *p, sq_image_prepared *out,
              sq_error *err)
{
    size_t n      = (size_t)sized->w * (size_t)sized->h * 3;
    float *pixels = malloc(n * sizeof(float));
    if (!pixels)
        return sq_error_set(err, SQ_ERR_NOMEM, "out of memory for %zu normalized pixels", n);
    sq_status st = sq_image_normalize(sized, p->mean, p->std, pixels, err);
    if (st != SQ_OK) {
        free(pixels);
        return st;
    }
    int gw = sized->w / SQ_IMAGE_FACTOR, gh = sized->h / SQ_IMAGE_FACTOR;
    *out = (sq_image_prepared){
        .w = sized->w, .h = sized->h,
        .gw_p = 2 * gw, .gh_p = 2 * gh,
        .gw = gw, .gh = gh,
        .n_patches = 4 * gw * gh,
        .n_tokens = gw * gh,
        .pixels = pixels,
    };
    return SQ_OK;
}

sq_status
sq_image_prepare(const sq_image *img, const sq_image_prep_params *params,
                 sq_image_prepared *out, sq_error *err)
{
    if (!img || !img->rgb || !out)
        return sq_error_set(err, SQ_ERR_INVALID_ARG, "sq_image_prepare: bad arguments");
    *out = (sq_image_prepared){0};
    sq_image_prep_params p = params ? *params : sq_image_prep_default_params();

    int w = 0, h = 0;
    sq_status st = sq_image_smart_size(img->w, img->h, p.min_pixels, p.max_pixels, &w, &h, err);
    if (st != SQ_OK)
        return st;
    if (w == img->w && h == img->h)
        return fill_prepared(img, &p, out, err);

    sq_image sized;
    st = sq_image_resize(img, w, h, SQ_RESAMPLE_BICUBIC, &sized, err);
    if (st != SQ_OK)
        return st;
    st = fill_prepared(&sized, &p, out, err);
    sq_image_free(&sized);
    return st;
}
