/* test-image.c — decoding, Pillow-exact resampling, smart_resize and model
 * input preparation, against tables written by tools/gen-image-data.py
 * (Debian's python3-pil and python3-numpy). */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "image-private.h"
#include "image.h"
#include "tap.h"

/* ---- helpers -------------------------------------------------------------- */

static const float CLIP_MEAN[3] = {0.48145466f, 0.4578275f, 0.40821073f};
static const float CLIP_STD[3]  = {0.26862954f, 0.26130258f, 0.27577711f};

/* zlib's CRC-32, as the generator's zlib.crc32. */
static uint32_t
crc32_of(const void *data, size_t n)
{
    static uint32_t table[256];
    if (!table[1])
        for (uint32_t i = 0; i < 256; i++) {
            uint32_t c = i;
            for (int k = 0; k < 8; k++)
                c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            table[i] = c;
        }
    const uint8_t *p = data;
    uint32_t       c = 0xFFFFFFFFu;
    while (n--)
        c = table[(c ^ *p++) & 0xFF] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;
}

static uint32_t
image_crc(const sq_image *img)
{
    return crc32_of(img->rgb, (size_t)img->w * img->h * 3);
}

static const char *
data_path(const char *name)
{
    static char buf[4096];
    snprintf(buf, sizeof buf, "%s/image/%s", tap_data_dir(), name);
    return buf;
}

static uint8_t *
read_file(const char *name, size_t *size)
{
    FILE *f = fopen(data_path(name), "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = malloc(n > 0 ? (size_t)n : 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    *size = (size_t)n;
    return buf;
}

static sq_status
status_from_name(const char *s)
{
    if (!strcmp(s, "LIMIT"))
        return SQ_ERR_LIMIT;
    if (!strcmp(s, "FORMAT"))
        return SQ_ERR_FORMAT;
    if (!strcmp(s, "IO"))
        return SQ_ERR_IO;
    return SQ_OK;
}

/* Opens a table from the data directory, skipping nothing yet. */
static FILE *
open_table(const char *name)
{
    FILE *f = fopen(data_path(name), "r");
    if (!f)
        ok(0, "open %s: %s", name, strerror(errno));
    return f;
}

/* Next non-comment line into buf; false at the end. */
static bool
next_line(FILE *f, char *buf, size_t size)
{
    while (fgets(buf, (int)size, f))
        if (buf[0] != '#' && buf[0] != '\n')
            return true;
    return false;
}

/* ---- synthetic sources, mirroring synth() in the generator ------------------ */

static uint32_t
mix32(uint32_t u)
{
    u ^= u >> 16;
    u *= 0x7FEB352Du;
    u ^= u >> 15;
    u *= 0x846CA68Bu;
    u ^= u >> 16;
    return u;
}

static uint8_t
synth_value(bool noise, uint32_t seed, uint32_t x, uint32_t y, uint32_t c)
{
    if (noise)
        return (uint8_t)(mix32(x * 0x9E3779B1u + y * 0x85EBCA77u + c * 0xC2B2AE3Du +
                               seed * 0x27D4EB2Fu) >> 24);
    uint32_t v = (x * 5 + y * 3 + c * 85) & 255;
    return (uint8_t)(((x >> 4) ^ (y >> 4)) & 1 ? 255 - v : v);
}

/* "png:FILE", "noise:WxH:SEED" or "pattern:WxH". */
static bool
load_source(const char *spec, sq_image *img)
{
    if (!strncmp(spec, "png:", 4))
        return sq_image_load_file(data_path(spec + 4), NULL, img, NULL) == SQ_OK;
    int      w, h;
    unsigned seed  = 0;
    bool     noise = !strncmp(spec, "noise:", 6);
    if (noise ? sscanf(spec, "noise:%dx%d:%u", &w, &h, &seed) != 3
              : sscanf(spec, "pattern:%dx%d", &w, &h) != 2)
        return false;
    if (sq_image_new(w, h, img, NULL) != SQ_OK)
        return false;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int c = 0; c < 3; c++)
                img->rgb[((size_t)y * w + x) * 3 + c] = synth_value(noise, seed, x, y, c);
    return true;
}

/* ---- decoding ------------------------------------------------------------- */

static void
check_decoded_crc(const char *file, int w, int h, uint32_t want)
{
    sq_image img;
    sq_error err = {0};
    sq_status st = sq_image_load_file(data_path(file), NULL, &img, &err);
    if (!ok(st == SQ_OK, "decode %s", file)) {
        diag("%s", err.msg);
        return;
    }
    ok(img.w == w && img.h == h && image_crc(&img) == want,
       "%s: %dx%d RGB identical to PIL convert(\"RGB\")", file, w, h);
    sq_image_free(&img);

    size_t   size;
    uint8_t *buf = read_file(file, &size);
    st = sq_image_load_memory(buf, size, NULL, &img, &err);
    ok(st == SQ_OK && image_crc(&img) == want, "%s: same pixels from memory", file);
    sq_image_free(&img);
    free(buf);
}

static void
check_decoded_approx(const char *file, const char *ref, int max_abs, double max_mean)
{
    sq_image a, b;
    if (!ok(sq_image_load_file(data_path(file), NULL, &a, NULL) == SQ_OK &&
                sq_image_load_file(data_path(ref), NULL, &b, NULL) == SQ_OK,
            "decode %s and PIL's decode of it", file))
        return;
    int    worst = 0;
    double sum   = 0;
    size_t n     = (size_t)a.w * a.h * 3;
    for (size_t i = 0; a.w == b.w && a.h == b.h && i < n; i++) {
        int d = abs(a.rgb[i] - b.rgb[i]);
        worst = d > worst ? d : worst;
        sum += d;
    }
    ok(a.w == b.w && a.h == b.h && worst <= max_abs && sum / n <= max_mean,
       "%s: stb_image within %d (max) / %.2f (mean) of libjpeg: %d / %.3f", file, max_abs,
       max_mean, worst, sum / n);
    sq_image_free(&a);
    sq_image_free(&b);
}

static void
check_decode_fails(const char *file, sq_status want)
{
    sq_image img = {.w = 7};
    sq_error err = {0};
    sq_status st = sq_image_load_file(data_path(file), NULL, &img, &err);
    ok(st == want && img.rgb == NULL && img.w == 0 && err.msg[0],
       "%s refused with %s: %s", file, sq_status_string(want), err.msg);
    if (want == SQ_ERR_LIMIT)
        ok(sq_stbi_last_peak_bytes() <= ((size_t)2 << 20),
           "%s: the decoder held at most %zu bytes", file, sq_stbi_last_peak_bytes());
}

static void
test_decode_table(void)
{
    FILE *f = open_table("decode.txt");
    char  line[512], kind[16], file[128], ref[128], status[16];
    int   w, h, max_abs;
    double max_mean;
    unsigned crc;
    while (f && next_line(f, line, sizeof line)) {
        if (sscanf(line, "rgb %127s %d %d %x", file, &w, &h, &crc) == 4)
            check_decoded_crc(file, w, h, crc);
        else if (sscanf(line, "approx %127s %d %d %127s %d %lf", file, &w, &h, ref, &max_abs,
                        &max_mean) == 6)
            check_decoded_approx(file, ref, max_abs, max_mean);
        else if (sscanf(line, "fail %127s %15s", file, status) == 2)
            check_decode_fails(file, status_from_name(status));
        else
            ok(0, "decode.txt: bad line %s", sscanf(line, "%15s", kind) == 1 ? kind : line);
    }
    if (f)
        fclose(f);
}

/* The zero-allocation promise for a header claiming 100000×100000. */
static void
test_bomb_header_allocates_nothing(void)
{
    size_t   size;
    uint8_t *buf = read_file("bomb_100000.png", &size);
    sq_image img;
    sq_error err = {0};
    sq_status st = sq_image_load_memory(buf, size, NULL, &img, &err);
    ok(st == SQ_ERR_LIMIT && sq_stbi_last_peak_bytes() == 0,
       "100000x100000 header: SQ_ERR_LIMIT with no decoder allocation (%zu bytes): %s",
       sq_stbi_last_peak_bytes(), err.msg);
    free(buf);
}

static void
test_truncated(void)
{
    size_t   size;
    uint8_t *buf = read_file("img_224x168.png", &size);
    if (!ok(buf != NULL, "read img_224x168.png"))
        return;
    size_t cuts[] = {0, 7, 8, 20, 33, 60, 1000, size / 2, size - 100, size - 20};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        sq_image  img;
        sq_error  err = {0};
        sq_status st  = sq_image_load_memory(buf, cuts[i], NULL, &img, &err);
        ok(st == SQ_ERR_FORMAT && !img.rgb, "PNG cut to %zu of %zu bytes: format error: %s",
           cuts[i], size, err.msg);
    }

    /* The same through a file. */
    char path[] = "/tmp/sq-test-image-XXXXXX";
    int  fd     = mkstemp(path);
    bool wrote  = fd >= 0 && write(fd, buf, size / 3) == (ssize_t)(size / 3);
    if (fd >= 0)
        close(fd);
    sq_image  img;
    sq_error  err = {0};
    sq_status st  = wrote ? sq_image_load_file(path, NULL, &img, &err) : SQ_OK;
    ok(st == SQ_ERR_FORMAT && strstr(err.msg, path), "truncated PNG file: %s", err.msg);
    unlink(path);

    buf[1] ^= 0xFF;   /* broken signature */
    st = sq_image_load_memory(buf, size, NULL, &img, &err);
    ok(st == SQ_ERR_FORMAT, "PNG with a broken signature: %s", err.msg);
    free(buf);
}

static void
test_limits_and_io(void)
{
    sq_image  img;
    sq_error  err = {0};
    sq_image_load_params p = sq_image_load_default_params();
    ok(p.max_pixels == 64 * 1024 * 1024 && p.max_side == 32768, "default limits 64 Mi px, 32768");

    p.max_side = 300;
    sq_status st = sq_image_load_file(data_path("img_308x252.png"), &p, &img, &err);
    ok(st == SQ_ERR_LIMIT && sq_stbi_last_peak_bytes() == 0, "max_side 300 refuses 308x252: %s",
       err.msg);
    p = sq_image_load_default_params();
    p.max_pixels = 308 * 252 - 1;
    st = sq_image_load_file(data_path("img_308x252.png"), &p, &img, &err);
    ok(st == SQ_ERR_LIMIT, "max_pixels one short refuses: %s", err.msg);
    p.max_pixels = 308 * 252;
    st = sq_image_load_file(data_path("img_308x252.png"), &p, &img, &err);
    ok(st == SQ_OK && img.w == 308, "max_pixels exactly the size accepts");
    sq_image_free(&img);

    st = sq_image_load_file(data_path("no-such-file.png"), NULL, &img, &err);
    ok(st == SQ_ERR_IO && strstr(err.msg, "no-such-file.png"), "missing file: %s", err.msg);
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/image", tap_data_dir());
    st = sq_image_load_file(dir, NULL, &img, &err);
    ok(st == SQ_ERR_IO, "a directory: %s", err.msg);
    st = sq_image_load_memory(NULL, 0, NULL, &img, &err);
    ok(st == SQ_ERR_FORMAT, "empty buffer: %s", err.msg);
}

/* RGBA: the alpha channel is dropped, the RGB under it kept untouched.  The
 * file's top-left 28×28 corner is fully transparent over varied colours;
 * compositing would have made it uniform black (or white). */
static void
test_rgba(void)
{
    sq_image img;
    if (!ok(sq_image_load_file(data_path("img_rgba_224x168.png"), NULL, &img, NULL) == SQ_OK,
            "decode the RGBA PNG"))
        return;
    int lo = 255, hi = 0;
    for (int y = 0; y < 28; y++)
        for (int x = 0; x < 28 * 3; x++) {
            int v = img.rgb[(size_t)y * 224 * 3 + x];
            lo = v < lo ? v : lo;
            hi = v > hi ? v : hi;
        }
    ok(img.w == 224 && img.h == 168 && hi - lo > 16,
       "RGBA: transparent corner keeps its RGB (values %d..%d), alpha dropped", lo, hi);
    sq_image_free(&img);
}

/* ---- normalization -------------------------------------------------------- */

static bool
normalized(const char *file, sq_image *img, float **chw)
{
    *chw = NULL;
    if (sq_image_load_file(data_path(file), NULL, img, NULL) != SQ_OK)
        return false;
    *chw = malloc((size_t)img->w * img->h * 3 * sizeof(float));
    return *chw && sq_image_normalize(img, CLIP_MEAN, CLIP_STD, *chw, NULL) == SQ_OK;
}

static void
test_norm_table(void)
{
    FILE    *f = open_table("norm.txt");
    char     line[512], file[128], hex[64];
    unsigned crc;
    int      c, y, x, bad_samples = 0, n_samples = 0;
    while (f && next_line(f, line, sizeof line)) {
        sq_image img;
        float   *chw;
        if (sscanf(line, "norm %127s %x", file, &crc) == 2) {
            bool ready = normalized(file, &img, &chw);
            ok(ready && crc32_of(chw, (size_t)img.w * img.h * 3 * sizeof(float)) == crc,
               "%s: planar normalized floats identical to numpy float32", file);
        } else if (sscanf(line, "sample %127s %d %d %d %63s", file, &c, &y, &x, hex) == 5) {
            bool  ready = normalized(file, &img, &chw);
            float want  = strtof(hex, NULL);
            float got   = ready ? chw[((size_t)c * img.h + y) * img.w + x] : NAN;
            n_samples++;
            if (memcmp(&got, &want, sizeof got)) {
                bad_samples++;
                diag("%s [%d][%d][%d]: %a, want %a", file, c, y, x, (double)got, (double)want);
            }
        } else {
            ok(0, "norm.txt: bad line %s", line);
            continue;
        }
        free(chw);
        sq_image_free(&img);
    }
    ok(n_samples > 0 && bad_samples == 0, "%d sampled normalized values exact", n_samples);
    if (f)
        fclose(f);
}

/* ---- resampling ----------------------------------------------------------- */

static void
check_resize(const char *spec, const char *filter, int w, int h, unsigned crc)
{
    sq_image src, out = {0};
    sq_resample f = !strcmp(filter, "lanczos") ? SQ_RESAMPLE_LANCZOS : SQ_RESAMPLE_BICUBIC;
    bool ready = load_source(spec, &src);
    sq_status st = ready ? sq_image_resize(&src, w, h, f, &out, NULL) : SQ_ERR_IO;
    ok(st == SQ_OK && out.w == w && out.h == h && image_crc(&out) == crc,
       "%s %s %dx%d -> %dx%d bit-identical to PIL", filter, spec, src.w, src.h, w, h);
    sq_image_free(&out);
    sq_image_free(&src);
}

static void
check_vt(const char *kind, const char *spec, int w, int h, unsigned crc)
{
    sq_image src, out = {0};
    bool half = !strcmp(kind, "half");
    bool ready = load_source(spec, &src);
    sq_status st = !ready ? SQ_ERR_IO
                   : half ? sq_image_half(&src, &out, NULL)
                          : sq_image_ensure_min_side(&src, &out, NULL);
    int sw = 0, sh = 0;
    if (half)
        sq_image_half_size(src.w, src.h, &sw, &sh, NULL);
    else
        sq_image_min_side_size(src.w, src.h, &sw, &sh, NULL);
    ok(st == SQ_OK && out.w == w && out.h == h && sw == w && sh == h && image_crc(&out) == crc,
       "VisionThink %s %s -> %dx%d bit-identical to its Python client", kind, spec, w, h);
    sq_image_free(&out);
    sq_image_free(&src);
}

static void
check_half_refused(const char *spec)
{
    sq_image src, out;
    sq_error err = {0};
    bool ready = load_source(spec, &src);
    ok(ready && sq_image_half(&src, &out, &err) == SQ_ERR_UNSUPPORTED && !out.rgb,
       "VisionThink half of %s refused like Pillow's zero size: %s", spec, err.msg);
    sq_image_free(&src);
}

static void
check_prepare(const char *spec, long long lo, long long hi, int w, int h, unsigned crc)
{
    sq_image             src;
    sq_image_prepared    prep = {0};
    sq_image_prep_params p    = sq_image_prep_default_params();
    p.min_pixels = lo;
    p.max_pixels = hi;
    bool ready = load_source(spec, &src);
    sq_status st = ready ? sq_image_prepare(&src, &p, &prep, NULL) : SQ_ERR_IO;
    ok(st == SQ_OK && prep.w == w && prep.h == h &&
           crc32_of(prep.pixels, (size_t)w * h * 3 * sizeof(float)) == crc,
       "prepare %s [%lld, %lld] -> %dx%d: smart_resize + bicubic + normalize == HF/PIL", spec,
       lo, hi, w, h);
    ok(prep.gw_p == w / 14 && prep.gh_p == h / 14 && prep.gw == w / 28 && prep.gh == h / 28 &&
           prep.n_tokens == (w / 28) * (h / 28) && prep.n_patches == (w / 14) * (h / 14),
       "prepare %s: grid %dx%d patches, %d tokens", spec, prep.gw_p, prep.gh_p, prep.n_tokens);
    sq_image_prepared_free(&prep);
    sq_image_free(&src);
}

/* Patch rows of chw[i] = i against HF's reshape/transpose. */
static void
check_patch_crc(int w, int h, unsigned crc)
{
    size_t n   = (size_t)w * h * 3;
    float *chw = malloc(n * sizeof(float));
    float *out = malloc(n * sizeof(float));
    for (size_t i = 0; chw && i < n; i++)
        chw[i] = (float)i;
    sq_status st = chw && out ? sq_image_patchify(chw, w, h, out, NULL) : SQ_ERR_NOMEM;
    ok(st == SQ_OK && crc32_of(out, n * sizeof(float)) == crc,
       "patch rows of a %dx%d image in HF pixel_values order", w, h);
    free(chw);
    free(out);
}

static void
test_resample_table(void)
{
    FILE     *f = open_table("resample.txt");
    char      line[512], spec[128], filter[16];
    int       w, h;
    long long lo, hi;
    unsigned  crc;
    while (f && next_line(f, line, sizeof line)) {
        if (sscanf(line, "resize %127s %15s %d %d %x", spec, filter, &w, &h, &crc) == 5)
            check_resize(spec, filter, w, h, crc);
        else if (sscanf(line, "half %127s %d %d %x", spec, &w, &h, &crc) == 4)
            check_vt("half", spec, w, h, crc);
        else if (sscanf(line, "minside %127s %d %d %x", spec, &w, &h, &crc) == 4)
            check_vt("minside", spec, w, h, crc);
        else if (sscanf(line, "halferr %127s", spec) == 1)
            check_half_refused(spec);
        else if (sscanf(line, "prepare %127s %lld %lld %d %d %x", spec, &lo, &hi, &w, &h, &crc) == 6)
            check_prepare(spec, lo, hi, w, h, crc);
        else if (sscanf(line, "patch %d %d %x", &w, &h, &crc) == 3)
            check_patch_crc(w, h, crc);
        else
            ok(0, "resample.txt: bad line %s", line);
    }
    if (f)
        fclose(f);
}

/* ---- smart_resize --------------------------------------------------------- */

static void
test_smart_size_table(void)
{
    FILE     *f = open_table("smart_size.txt");
    char      line[256];
    int       w, h, ow, oh, n = 0, bad = 0, refused = 0;
    long long lo, hi;
    while (f && next_line(f, line, sizeof line)) {
        if (sscanf(line, "%d %d %lld %lld %d %d", &w, &h, &lo, &hi, &ow, &oh) != 6) {
            ok(0, "smart_size.txt: bad line %s", line);
            continue;
        }
        int       gw = -1, gh = -1;
        sq_status st = sq_image_smart_size(w, h, lo, hi, &gw, &gh, NULL);
        if (st != SQ_OK)
            gw = gh = -1;
        n++;
        refused += ow < 0;
        if (gw != ow || gh != oh) {
            bad++;
            diag("smart_size(%d, %d, %lld, %lld) = %dx%d, want %dx%d", w, h, lo, hi, gw, gh, ow,
                 oh);
        }
    }
    ok(n > 300 && bad == 0, "smart_resize matches Python on %d cases (%d refused)", n, refused);
    if (f)
        fclose(f);

    int rw, rh;
    sq_image_smart_size(70, 70, 0, 1 << 30, &rw, &rh, NULL);
    ok(rw == 56 && rh == 56, "70 px rounds half to even: 56 (C round() would give 84)");
    sq_image_smart_size(98, 126, 0, 1 << 30, &rw, &rh, NULL);
    ok(rw == 112 && rh == 112, "98 -> 112 and 126 -> 112 (ties to even)");
}

/* ---- patches, preparation, VisionThink sizes -------------------------------- */

/* Each value encodes where it came from, checked with plain loops. */
static void
test_patch_order(void)
{
    const int w = 84, h = 56;
    float     chw[3 * 56 * 84], rows[3 * 56 * 84];
    for (int c = 0; c < 3; c++)
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                chw[(c * h + y) * w + x] = (float)(c * 1000000 + y * 1000 + x);
    ok(sq_image_patchify(chw, w, h, rows, NULL) == SQ_OK, "patchify 84x56");
    int bad = 0, idx = 0;
    for (int R = 0; R < h / 28; R++)
        for (int C = 0; C < w / 28; C++)
            for (int dy = 0; dy < 2; dy++)
                for (int dx = 0; dx < 2; dx++, idx++)
                    for (int c = 0; c < 3; c++)
                        for (int ky = 0; ky < 14; ky++)
                            for (int kx = 0; kx < 14; kx++) {
                                int   y = 14 * (2 * R + dy) + ky, x = 14 * (2 * C + dx) + kx;
                                float want = (float)(c * 1000000 + y * 1000 + x);
                                bad += rows[idx * 588 + (c * 14 + ky) * 14 + kx] != want;
                            }
    ok(idx == 24 && bad == 0, "patch (2R+dy, 2C+dx) rows laid out [c][ky][kx]");
    ok(sq_image_patchify(chw, 84, 42, rows, NULL) == SQ_ERR_INVALID_ARG,
       "patchify refuses a side that is not a multiple of 28");
}

static void
test_visionthink_sizes(void)
{
    int w = 0, h = 0;
    ok(sq_image_half_size(1024, 768, &w, &h, NULL) == SQ_OK && w == 512 && h == 384,
       "half of 1024x768 is 512x384");
    ok(sq_image_half_size(40, 30, &w, &h, NULL) == SQ_OK && w == 37 && h == 28,
       "half of 40x30 is 20x15, then enlarged to int(20*1.867)x28 = 37x28");
    ok(sq_image_half_size(1, 30, &w, &h, NULL) == SQ_ERR_UNSUPPORTED, "1 px side cannot halve");

    int64_t lo = SQ_IMAGE_QWEN25VL_MIN_PIXELS, hi = SQ_IMAGE_QWEN25VL_MAX_PIXELS;
    ok(sq_image_smart_size(512, 384, lo, hi, &w, &h, NULL) == SQ_OK && w == 504 && h == 392 &&
           (w / 28) * (h / 28) == 252,
       "1024x768 at half size: 504x392, 252 tokens (protocol example)");
    ok(sq_image_smart_size(1024, 768, lo, hi, &w, &h, NULL) == SQ_OK && w == 1036 && h == 756 &&
           (w / 28) * (h / 28) == 999,
       "1024x768 at full size: 1036x756, 999 tokens");

    sq_image src, half;
    sq_image_prepared prep;
    if (load_source("pattern:1024x768", &src) && sq_image_half(&src, &half, NULL) == SQ_OK) {
        ok(sq_image_prepare(&half, NULL, &prep, NULL) == SQ_OK && prep.n_tokens == 252 &&
               prep.gw == 18 && prep.gh == 14 && prep.gw_p == 36 && prep.gh_p == 28,
           "turn-1 image prepared: 18x14 merged grid, 252 tokens");
        sq_image_prepared_free(&prep);
        sq_image_free(&half);
    }
    sq_image_free(&src);
}

static void
test_reference_grid(void)
{
    sq_image          img;
    sq_image_prepared prep;
    if (sq_image_load_file(data_path("img_308x252.png"), NULL, &img, NULL) != SQ_OK) {
        ok(0, "load img_308x252.png");
        return;
    }
    ok(sq_image_prepare(&img, NULL, &prep, NULL) == SQ_OK && prep.w == 308 && prep.h == 252 &&
           prep.gw_p == 22 && prep.gh_p == 18 && prep.gw == 11 && prep.gh == 9 &&
           prep.n_tokens == 99,
       "308x252: no resize, 22x18 patches, 11x9 merged, 99 tokens (reference table)");
    sq_image_prepared_free(&prep);
    sq_image_free(&img);
}

static void
test_bad_arguments(void)
{
    sq_image  src, out;
    sq_error  err = {0};
    ok(sq_image_new(0, 5, &src, &err) == SQ_ERR_INVALID_ARG && !src.rgb, "new 0x5 refused");
    ok(sq_image_new(3, 2, &src, NULL) == SQ_OK, "new 3x2");
    ok(sq_image_resize(&src, 0, 4, SQ_RESAMPLE_BICUBIC, &out, &err) == SQ_ERR_INVALID_ARG,
       "resize to 0x4 refused: %s", err.msg);
    ok(sq_image_resize(&src, 3, 2, SQ_RESAMPLE_BICUBIC, &src, &err) == SQ_ERR_INVALID_ARG,
       "resize in place refused");
    ok(sq_image_resize(&src, 100000, 100000, SQ_RESAMPLE_BICUBIC, &out, &err) == SQ_ERR_LIMIT,
       "resize to 100000x100000 refused: %s", err.msg);
    ok(sq_image_copy(&src, &out, NULL) == SQ_OK && out.w == 3 && out.h == 2 &&
           !memcmp(out.rgb, src.rgb, 18),
       "copy");
    sq_image_free(&out);
    float bad_std[3] = {1, 0, 1}, buf[18];
    ok(sq_image_normalize(&src, CLIP_MEAN, bad_std, buf, &err) == SQ_ERR_INVALID_ARG,
       "normalize refuses std 0: %s", err.msg);
    ok(sq_image_smart_size(27, 100, 0, 1 << 30, &(int){0}, &(int){0}, &err) == SQ_ERR_UNSUPPORTED,
       "smart_size refuses a side under 28: %s", err.msg);
    sq_image_free(&src);
    sq_image_free(&src);
    sq_image_free(NULL);
}

int
main(void)
{
    test_decode_table();
    test_bomb_header_allocates_nothing();
    test_truncated();
    test_limits_and_io();
    test_rgba();
    test_norm_table();
    test_resample_table();
    test_smart_size_table();
    test_patch_order();
    test_visionthink_sizes();
    test_reference_grid();
    test_bad_arguments();
    return tap_done();
}
