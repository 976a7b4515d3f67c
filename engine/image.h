/* image.h — image decoding, Pillow-exact resampling and Qwen2.5-VL input
 * preparation (smart_resize, normalization, patch extraction).
 *
 * Pipeline for one image:
 *
 *     sq_image_load_file()          PNG/JPEG/BMP/GIF/PNM → packed RGB8
 *     [sq_image_half()]             VisionThink turn 1: half size, Lanczos
 *     sq_image_prepare()            smart_resize (bicubic) + normalization
 *     sq_image_patchify()           rows of 3·14·14 pixels, merge-block order
 *
 * Alpha.  Images are decoded to RGB the way llama.cpp does it: stb_image is
 * asked for 3 channels, so an alpha channel is dropped — not composited onto
 * any background and not premultiplied.  The reference outputs were made that
 * way, and Hugging Face's processor (PIL `convert("RGB")`) also simply drops
 * alpha, so both reference pipelines agree with this one.
 *
 * Decoding is done by stb_image, like llama.cpp.  For PNG, BMP, PNM and GIF
 * the pixels are identical to Pillow's (except a GIF's transparent pixels,
 * which stb_image leaves black); JPEG decoders differ by a few levels
 * (stb_image is not libjpeg), so a JPEG matches llama.cpp but not HF exactly.
 *
 * Resampling reproduces Pillow's `Image.resize` bit for bit (Resample.c:
 * separable, horizontal pass then vertical pass, each rounded to uint8, with
 * 22-bit fixed-point weights), so the pixels equal HF's slow processor.
 * Verified on x86-64 against Debian's python3-pil (also when built with
 * -march=native); it relies on Pillow and Squint sharing the C library's
 * sin() for the Lanczos weights.
 *
 * Thread safety: every function is reentrant.  Distinct images may be
 * processed on different threads at the same time; an sq_image must not be
 * written by one thread while another reads it.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Qwen2.5-VL geometry: a 14-pixel patch, 2×2 patches merge into one token. */
enum {
    SQ_IMAGE_PATCH     = 14,
    SQ_IMAGE_MERGE     = 2,
    SQ_IMAGE_FACTOR    = SQ_IMAGE_PATCH * SQ_IMAGE_MERGE,   /* 28 */
    SQ_IMAGE_PATCH_DIM = 3 * SQ_IMAGE_PATCH * SQ_IMAGE_PATCH, /* 588 */
};

/* Decode limits by default: 64 Mi pixels (8192²) and 32768 per side. */
#define SQ_IMAGE_DEFAULT_MAX_PIXELS ((int64_t)64 * 1024 * 1024)
#define SQ_IMAGE_DEFAULT_MAX_SIDE   32768

/* Pixel limits of the Qwen2.5-VL checkpoints' preprocessor_config.json:
 * 4 … 16384 image tokens. */
#define SQ_IMAGE_QWEN25VL_MIN_PIXELS ((int64_t)3136)
#define SQ_IMAGE_QWEN25VL_MAX_PIXELS ((int64_t)12845056)

/* Packed RGB8, row-major, no row padding: channel c of pixel (x, y) is
 * rgb[((size_t)y * w + x) * 3 + c].  An empty image is {0, 0, NULL}. */
typedef struct {
    int      w, h;
    uint8_t *rgb;   /* (h, w, 3) */
} sq_image;

typedef enum {
    SQ_RESAMPLE_BICUBIC,  /* Pillow BICUBIC: a = -0.5, support 2 (smart_resize) */
    SQ_RESAMPLE_LANCZOS,  /* Pillow LANCZOS: a = 3, support 3 (VisionThink)    */
} sq_resample;

/* ---- the image container ------------------------------------------------ */

/* A new w×h image, all pixels black.  *out is overwritten, not freed. */
sq_status sq_image_new(int w, int h, sq_image *out, sq_error *err);

/* Frees the pixels and empties *img.  NULL and empty images are fine. */
void sq_image_free(sq_image *img);

/* A deep copy of src into *out (which must not be src). */
sq_status sq_image_copy(const sq_image *src, sq_image *out, sq_error *err);

/* ---- decoding ----------------------------------------------------------- */

typedef struct {
    int64_t max_pixels;  /* w·h above this → SQ_ERR_LIMIT */
    int     max_side;    /* w or h above this → SQ_ERR_LIMIT */
} sq_image_load_params;

sq_image_load_params sq_image_load_default_params(void);

/* Decodes PNG, JPEG, BMP, GIF (first frame) or PNM (PPM/PGM) to RGB8.
 * params may be NULL for the defaults.
 *
 * The header is read first and an image over the limits is refused with
 * SQ_ERR_LIMIT before any pixel memory is allocated; the decoder's own
 * allocations are further capped at a small multiple of the declared size,
 * so a stream that inflates to more than its header claims (a PNG
 * "decompression bomb") also ends in SQ_ERR_LIMIT.  Truncated or corrupt
 * data → SQ_ERR_FORMAT with stb_image's reason; an unreadable file →
 * SQ_ERR_IO.  On failure *out is left empty. */
sq_status sq_image_load_file(const char *path, const sq_image_load_params *params,
                             sq_image *out, sq_error *err);
sq_status sq_image_load_memory(const void *data, size_t size,
                               const sq_image_load_params *params,
                               sq_image *out, sq_error *err);

/* Encodes an image as PNG into a malloc'd buffer (*out, *out_len; free()). */
sq_status sq_image_encode_png(const sq_image *img, unsigned char **out, size_t *out_len, sq_error *err);

/* ---- resampling (Pillow-exact) ------------------------------------------ */

/* Resizes src to w×h exactly like Pillow's `Image.resize((w, h), filter)`
 * (no reducing_gap).  Same size → a copy.  out must not be src. */
sq_status sq_image_resize(const sq_image *src, int w, int h, sq_resample filter,
                          sq_image *out, sq_error *err);

/* VisionThink's small-image rule (its evaluation client, encode_image):
 * when a side is under 28 px, scale = max(28/w, 28/h) in float64 and the
 * image is resized with Lanczos to (int(w·scale), int(h·scale)) — truncated,
 * not rounded.  Otherwise a copy.  The client applies it to every image it
 * sends, the original of turn 2 included. */
sq_status sq_image_min_side_size(int w, int h, int *out_w, int *out_h, sq_error *err);
sq_status sq_image_ensure_min_side(const sq_image *src, sq_image *out, sq_error *err);

/* VisionThink turn 1: Lanczos to (w div 2, h div 2), then — on the halved
 * image — the small-image rule above, as a second Lanczos pass.  An image
 * with a side of 1 px cannot be halved (Pillow refuses a zero size):
 * SQ_ERR_UNSUPPORTED.  sq_image_half_size() gives the final size only. */
sq_status sq_image_half_size(int w, int h, int *out_w, int *out_h, sq_error *err);
sq_status sq_image_half(const sq_image *src, sq_image *out, sq_error *err);

/* ---- Qwen2.5-VL sizing and model input ---------------------------------- */

/* HF Qwen2VLImageProcessor smart_resize with factor 28, in float64 with
 * Python's round-half-to-even: both sides become multiples of 28 near the
 * original aspect ratio, with min_px ≤ w·h ≤ max_px where possible.
 * Refused (SQ_ERR_UNSUPPORTED) as HF refuses them: a side under 28 px, or an
 * aspect ratio over 200; also a result with a zero side (HF would return
 * one and then fail in resize). */
sq_status sq_image_smart_size(int w, int h, int64_t min_px, int64_t max_px,
                              int *out_w, int *out_h, sq_error *err);

/* Normalized planar pixels: chw[c][y][x] = (v/255 − mean[c]) / std[c], in
 * float32 exactly as llama.cpp computes them (the reference dumps of
 * `inp_raw`; HF's f64 rescale can differ by 1 ulp).  chw holds 3·h·w
 * floats. */
sq_status sq_image_normalize(const sq_image *img, const float mean[3], const float std[3],
                             float *chw, sq_error *err);

/* Patch rows for the patch embedding as one matmul.  chw is [3][h][w] with
 * w, h multiples of 28; patches receives (h/14)·(w/14) rows of 588 floats in
 * merge-block order — for each merged cell (R, C) in raster order, patches
 * (2R+dy, 2C+dx) for dy, dx in 0..1 — each row laid out [channel][ky][kx],
 * i.e. the Conv2d weight order. */
sq_status sq_image_patchify(const float *chw, int w, int h, float *patches, sq_error *err);

typedef struct {
    int64_t min_pixels;   /* smart_resize limits */
    int64_t max_pixels;
    float   mean[3];      /* from the mmproj: clip.vision.image_mean */
    float   std[3];       /*                  clip.vision.image_std  */
} sq_image_prep_params;

/* Qwen2.5-VL checkpoint limits (3136 … 12,845,056 px) and CLIP mean/std. */
sq_image_prep_params sq_image_prep_default_params(void);

typedef struct {
    int    w, h;          /* resized size, multiples of 28 */
    int    gw_p, gh_p;    /* patch grid: w/14 × h/14 */
    int    gw, gh;        /* merged grid: w/28 × h/28 */
    int    n_patches;     /* gw_p·gh_p */
    int    n_tokens;      /* gw·gh, the image's visual tokens */
    float *pixels;        /* [3][h][w] normalized, planar (llama.cpp inp_raw) */
} sq_image_prepared;

/* smart_resize (Pillow bicubic, skipped when the size already matches) and
 * normalization.  params may be NULL for the defaults.  Free the result with
 * sq_image_prepared_free(); on failure *out is left empty. */
sq_status sq_image_prepare(const sq_image *img, const sq_image_prep_params *params,
                           sq_image_prepared *out, sq_error *err);

void sq_image_prepared_free(sq_image_prepared *p);

#ifdef __cplusplus
}
#endif
