/* image-resample.c — Pillow-exact image resizing (bicubic, Lanczos) and
 * VisionThink's half-size and small-image rules.
 *
 * Bit-identical output to Pillow's `Image.resize` needs its exact recipe,
 * which is what every choice below follows:
 *   - separable: a horizontal pass, then a vertical pass; a pass is skipped
 *     when its dimension is unchanged;
 *   - each pass writes clamped uint8, so the vertical pass reads rounded
 *     values;
 *   - the kernel is widened by the downscale factor (support · max(1, in/out));
 *   - output sample i is centred at (i + 0.5) · in/out; its taps run from
 *     (int)(centre − support + 0.5) to (int)(centre + support + 0.5), clipped
 *     to the image, and are weighted k((j − centre + 0.5) / max(1, in/out)),
 *     normalized to sum 1 in double;
 *   - weights become 22-bit fixed point (32 bits − 8 for the pixel − 2 spare
 *     for the negative lobes' overshoot), rounded half away from zero, and
 *     the integer sum starts at one half (1 << 21) before the shift.
 * The floating-point expressions are written in Pillow's evaluation order:
 * reordering them changes the last bit of some weights, hence some pixels.
 */
#include "image.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define PRECISION_BITS (32 - 8 - 2)

/* Largest side a resize may produce.  The small-image rule can stretch a
 * thin image 28-fold (1×32768 → 28×917504), so this is above the decode
 * limit, yet keeps the per-row weight tables small. */
#define RESIZE_MAX_SIDE (1 << 20)

typedef struct {
    double (*fn)(double x);
    double support;
} kernel;

/* Keys' cubic convolution with a = −0.5. */
static double
bicubic(double x)
{
    const double a = -0.5;
    if (x < 0.0)
        x = -x;
    if (x < 1.0)
        return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
    if (x < 2.0)
        return (((x - 5) * x + 8) * x - 4) * a;
    return 0.0;
}

static double
sinc(double x)
{
    if (x == 0.0)
        return 1.0;
    x = x * M_PI;
    return sin(x) / x;
}

/* sinc windowed by a 3× wider sinc; the window is half-open like Pillow's. */
static double
lanczos3(double x)
{
    if (-3.0 <= x && x < 3.0)
        return sinc(x) * sinc(x / 3);
    return 0.0;
}

static kernel
kernel_for(sq_resample filter)
{
    if (filter == SQ_RESAMPLE_LANCZOS)
        return (kernel){lanczos3, 3.0};
    return (kernel){bicubic, 2.0};
}

/* The taps of one pass: output sample i reads count[i] inputs starting at
 * first[i], weighted by k[i·ksize …]. */
typedef struct {
    int      n_out;
    int      ksize;
    int     *first;   /* (n_out) */
    int     *count;   /* (n_out) */
    int32_t *k;       /* (n_out, ksize), 1.22 fixed point */
} taps;

static void
taps_free(taps *t)
{
    free(t->first);
    free(t->count);
    free(t->k);
    *t = (taps){0};
}

static int32_t
to_fixed(double w)
{
    double scaled = w * (1 << PRECISION_BITS);
    return (int32_t)(w < 0 ? -0.5 + scaled : 0.5 + scaled);
}

/* Weights of output sample i: computed in double, normalized, then fixed. */
static void
taps_one(taps *t, int i, int in_size, double scale, double support, double inv_fs,
         const kernel *kn, double *w)
{
    double centre = (i + 0.5) * scale;
    int    lo     = (int)(centre - support + 0.5);
    int    hi     = (int)(centre + support + 0.5);
    if (lo < 0)
        lo = 0;
    if (hi > in_size)
        hi = in_size;
    int    n   = hi - lo;
    double sum = 0.0;
    for (int j = 0; j < n; j++) {
        w[j] = kn->fn((j + lo - centre + 0.5) * inv_fs);
        sum += w[j];
    }
    int32_t *k = t->k + (size_t)i * (size_t)t->ksize;
    for (int j = 0; j < n; j++)
        k[j] = to_fixed(sum != 0.0 ? w[j] / sum : w[j]);
    t->first[i] = lo;
    t->count[i] = n;
}

static sq_status
taps_make(int in_size, int out_size, const kernel *kn, taps *t, sq_error *err)
{
    double scale = (double)in_size / out_size;
    double fs    = scale < 1.0 ? 1.0 : scale;
    double support = kn->support * fs;
    int    ksize   = (int)ceil(support) * 2 + 1;

    *t = (taps){.n_out = out_size, .ksize = ksize};
    t->first = malloc((size_t)out_size * sizeof *t->first);
    t->count = malloc((size_t)out_size * sizeof *t->count);
    t->k     = calloc((size_t)out_size * (size_t)ksize, sizeof *t->k);
    double *w = malloc((size_t)ksize * sizeof *w);
    if (!t->first || !t->count || !t->k || !w) {
        free(w);
        taps_free(t);
        return sq_error_set(err, SQ_ERR_NOMEM, "out of memory for resampling weights");
    }
    for (int i = 0; i < out_size; i++)
        taps_one(t, i, in_size, scale, support, 1.0 / fs, kn, w);
    free(w);
    return SQ_OK;
}

/* Round the 1.22 sum to 0..255; negative sums (floor < 0) clamp to 0. */
static inline uint8_t
clip8(int32_t s)
{
    if (s < 0)
        return 0;
    s >>= PRECISION_BITS;
    return s > 255 ? 255 : (uint8_t)s;
}

/* Horizontal pass over rows [y0, y0 + rows) of src (width src_w); writes
 * rows × t->n_out pixels. */
static void
pass_h(const uint8_t *src, int src_w, int y0, int rows, const taps *t, uint8_t *dst)
{
    for (int y = 0; y < rows; y++) {
        const uint8_t *in = src + ((size_t)(y0 + y) * (size_t)src_w) * 3;
        for (int x = 0; x < t->n_out; x++) {
            const int32_t *k = t->k + (size_t)x * (size_t)t->ksize;
            const uint8_t *p = in + (size_t)t->first[x] * 3;
            int32_t s0 = 1 << (PRECISION_BITS - 1), s1 = s0, s2 = s0;
            for (int j = 0; j < t->count[x]; j++, p += 3) {
                s0 += p[0] * k[j];
                s1 += p[1] * k[j];
                s2 += p[2] * k[j];
            }
            *dst++ = clip8(s0);
            *dst++ = clip8(s1);
            *dst++ = clip8(s2);
        }
    }
}

/* Vertical pass: src rows are numbered from y0 (the horizontal pass only
 * produced the rows the vertical taps read).  Whole rows are accumulated in
 * acc (one int32 per byte of a row) so the inner loop runs along memory;
 * integer sums are exact, so the order of the terms does not matter. */
static void
pass_v(const uint8_t *src, int w, int y0, const taps *t, int32_t *acc, uint8_t *dst)
{
    size_t stride = (size_t)w * 3;
    for (int y = 0; y < t->n_out; y++, dst += stride) {
        const int32_t *k   = t->k + (size_t)y * (size_t)t->ksize;
        const uint8_t *row = src + (size_t)(t->first[y] - y0) * stride;
        for (size_t i = 0; i < stride; i++)
            acc[i] = 1 << (PRECISION_BITS - 1);
        for (int j = 0; j < t->count[y]; j++, row += stride)
            for (size_t i = 0; i < stride; i++)
                acc[i] += row[i] * k[j];
        for (size_t i = 0; i < stride; i++)
            dst[i] = clip8(acc[i]);
    }
}

/* The vertical pass into a new w×(t->n_out) image. */
static sq_status
resize_v(const sq_image *mid, int y0, const taps *t, sq_image *out, sq_error *err)
{
    int32_t *acc = malloc((size_t)mid->w * 3 * sizeof *acc);
    if (!acc)
        return sq_error_set(err, SQ_ERR_NOMEM, "out of memory for a resampling row");
    sq_status st = sq_image_new(mid->w, t->n_out, out, err);
    if (st == SQ_OK)
        pass_v(mid->rgb, mid->w, y0, t, acc, out->rgb);
    free(acc);
    return st;
}

static sq_status
check_resize_args(const sq_image *src, int w, int h, const sq_image *out, sq_error *err)
{
    if (!src || !src->rgb || src->w <= 0 || src->h <= 0 || !out || out == src)
        return sq_error_set(err, SQ_ERR_INVALID_ARG, "sq_image_resize: bad arguments");
    if (w <= 0 || h <= 0)
        return sq_error_set(err, SQ_ERR_INVALID_ARG, "cannot resize to %dx%d", w, h);
    if ((int64_t)w * h > SQ_IMAGE_DEFAULT_MAX_PIXELS || w > RESIZE_MAX_SIDE || h > RESIZE_MAX_SIDE)
        return sq_error_set(err, SQ_ERR_LIMIT, "resize target %dx%d is over the image size limit",
                            w, h);
    return SQ_OK;
}

/* Horizontal pass into a new image of w × (y1 − y0) rows. */
static sq_status
resize_h(const sq_image *src, int w, int y0, int y1, const kernel *kn, sq_image *out,
         sq_error *err)
{
    taps th;
    sq_status st = taps_make(src->w, w, kn, &th, err);
    if (st != SQ_OK)
        return st;
    st = sq_image_new(w, y1 - y0, out, err);
    if (st == SQ_OK)
        pass_h(src->rgb, src->w, y0, y1 - y0, &th, out->rgb);
    taps_free(&th);
    return st;
}

sq_status
sq_image_resize(const sq_image *src, int w, int h, sq_resample filter, sq_image *out,
                sq_error *err)
{
    if (out && out != src)
        *out = (sq_image){0};
    sq_status st = check_resize_args(src, w, h, out, err);
    if (st != SQ_OK)
        return st;
    if (w == src->w && h == src->h)
        return sq_image_copy(src, out, err);

    kernel kn = kernel_for(filter);
    if (h == src->h)
        return resize_h(src, w, 0, src->h, &kn, out, err);

    taps tv;
    if ((st = taps_make(src->h, h, &kn, &tv, err)) != SQ_OK)
        return st;
    /* Rows the vertical taps touch; only those need the horizontal pass. */
    int y0 = tv.first[0], y1 = tv.first[h - 1] + tv.count[h - 1];
    sq_image mid = {0};
    const sq_image *vin = src;
    if (w != src->w) {
        st  = resize_h(src, w, y0, y1, &kn, &mid, err);
        vin = &mid;
    } else {
        y0 = 0;
    }
    if (st == SQ_OK)
        st = resize_v(vin, y0, &tv, out, err);
    sq_image_free(&mid);
    taps_free(&tv);
    return st;
}

/* ---- VisionThink ---------------------------------------------------------- */

sq_status
sq_image_min_side_size(int w, int h, int *out_w, int *out_h, sq_error *err)
{
    if (!out_w || !out_h || w <= 0 || h <= 0)
        return sq_error_set(err, SQ_ERR_INVALID_ARG, "sq_image_min_side_size: bad arguments");
    if (w >= SQ_IMAGE_FACTOR && h >= SQ_IMAGE_FACTOR) {
        *out_w = w;
        *out_h = h;
        return SQ_OK;
    }
    /* Python: scale = max(28 / w, 28 / h); int(w * scale), int(h * scale). */
    double sw = 28.0 / w, sh = 28.0 / h;
    double scale = sw >= sh ? sw : sh;
    double nw = w * scale, nh = h * scale;
    if (nw > RESIZE_MAX_SIDE || nh > RESIZE_MAX_SIDE || nw * nh > (double)SQ_IMAGE_DEFAULT_MAX_PIXELS)
        return sq_error_set(err, SQ_ERR_LIMIT, "image %dx%d is too thin to enlarge to 28 px", w,
                            h);
    *out_w = (int)nw;
    *out_h = (int)nh;
    return SQ_OK;
}

sq_status
sq_image_ensure_min_side(const sq_image *src, sq_image *out, sq_error *err)
{
    if (!src || !src->rgb || !out || out == src)
        return sq_error_set(err, SQ_ERR_INVALID_ARG, "sq_image_ensure_min_side: bad arguments");
    *out = (sq_image){0};
    int w = 0, h = 0;
    sq_status st = sq_image_min_side_size(src->w, src->h, &w, &h, err);
    if (st != SQ_OK)
        return st;
    return sq_image_resize(src, w, h, SQ_RESAMPLE_LANCZOS, out, err);
}

static sq_status
check_halvable(int w, int h, sq_error *err)
{
    if (w < 2 || h < 2)
        return sq_error_set(err, SQ_ERR_UNSUPPORTED,
                            "image %dx%d is too small to halve (needs 2 px per side)", w, h);
    return SQ_OK;
}

sq_status
sq_image_half_size(int w, int h, int *out_w, int *out_h, sq_error *err)
{
    sq_status st = check_halvable(w, h, err);
    if (st != SQ_OK)
        return st;
    return sq_image_min_side_size(w / 2, h / 2, out_w, out_h, err);
}

sq_status
sq_image_half(const sq_image *src, sq_image *out, sq_error *err)
{
    if (!src || !src->rgb || !out || out == src)
        return sq_error_set(err, SQ_ERR_INVALID_ARG, "sq_image_half: bad arguments");
    *out = (sq_image){0};
    sq_status st = check_halvable(src->w, src->h, err);
    if (st != SQ_OK)
        return st;
    /* Two Lanczos passes when the rule applies, as VisionThink's client does
     * them: the small-image rule looks at the halved image. */
    sq_image half;
    st = sq_image_resize(src, src->w / 2, src->h / 2, SQ_RESAMPLE_LANCZOS, &half, err);
    if (st != SQ_OK)
        return st;
    if (half.w >= SQ_IMAGE_FACTOR && half.h >= SQ_IMAGE_FACTOR) {
        *out = half;
        return SQ_OK;
    }
    st = sq_image_ensure_min_side(&half, out, err);
    sq_image_free(&half);
    return st;
}
