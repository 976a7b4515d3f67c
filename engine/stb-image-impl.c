/* stb-image-impl.c — stb_image's implementation, compiled once for the
 * engine, with its allocations routed through a per-thread byte budget.
 *
 * Only the formats Squint accepts are compiled in.  TGA in particular stays
 * out: it has no magic number, so stb would try to read arbitrary bytes as a
 * TGA image.
 */
#include "image-private.h"

#include <stdint.h>
#include <stdlib.h>

/* Each block carries its size in front so that frees can be counted; the
 * union keeps the pixels behind it aligned for any type. */
typedef union {
    size_t      size;
    max_align_t align_;
} block_head;

static _Thread_local size_t budget_limit = SIZE_MAX;
static _Thread_local size_t budget_live;
static _Thread_local size_t budget_peak;
static _Thread_local bool   budget_refused;

static bool
budget_take(size_t old_size, size_t new_size)
{
    size_t others = budget_live - old_size;
    if (new_size > budget_limit || others > budget_limit - new_size) {
        budget_refused = true;
        return false;
    }
    budget_live = others + new_size;
    if (budget_live > budget_peak)
        budget_peak = budget_live;
    return true;
}

static void *
budget_malloc(size_t n)
{
    if (n > SIZE_MAX - sizeof(block_head) || !budget_take(0, n))
        return NULL;
    block_head *b = malloc(sizeof(block_head) + n);
    if (!b) {
        budget_live -= n;
        return NULL;
    }
    b->size = n;
    return b + 1;
}

static void
budget_free(void *p)
{
    if (!p)
        return;
    block_head *b = (block_head *)p - 1;
    budget_live -= b->size;
    free(b);
}

static void *
budget_realloc(void *p, size_t n)
{
    if (!p)
        return budget_malloc(n);
    block_head *b = (block_head *)p - 1;
    size_t old = b->size;
    if (n > SIZE_MAX - sizeof(block_head) || !budget_take(old, n))
        return NULL;
    block_head *nb = realloc(b, sizeof(block_head) + n);
    if (!nb) {
        budget_live = budget_live - n + old;
        return NULL;
    }
    nb->size = n;
    return nb + 1;
}

void
sq_stbi_budget_begin(size_t limit)
{
    budget_limit   = limit;
    budget_peak    = budget_live;
    budget_refused = false;
}

bool
sq_stbi_budget_end(void)
{
    budget_limit = SIZE_MAX;
    return budget_refused;
}

size_t
sq_stbi_last_peak_bytes(void)
{
    return budget_peak;
}

#define STBI_MALLOC(n)     budget_malloc(n)
#define STBI_REALLOC(p, n) budget_realloc(p, n)
#define STBI_FREE(p)       budget_free(p)

#define STBI_ONLY_PNG
#define STBI_ONLY_JPEG
#define STBI_ONLY_BMP
#define STBI_ONLY_GIF
#define STBI_ONLY_PNM
#define STB_IMAGE_IMPLEMENTATION

/* Third-party code: its warnings are not ours to fix, and the project's
 * strict flags would otherwise fail the build on it. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-prototypes"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#pragma GCC diagnostic ignored "-Wshadow"
#include <stb_image.h>
#pragma GCC diagnostic pop

/* Like stbi_info_*(), but only the decoder whose signature matches reads the
 * header.  stb's own version tries every decoder in turn, so a PNG it refuses
 * as "too large" ends up reported as "unknown image type", and its JPEG probe
 * allocates decoder state even for other formats. */
static int
info_by_signature(stbi__context *s, int *w, int *h)
{
    int comp;
    if (stbi__png_test(s))
        return stbi__png_info(s, w, h, &comp);
    if (stbi__gif_test(s))
        return stbi__gif_info(s, w, h, &comp);
    if (stbi__bmp_test(s))
        return stbi__bmp_info(s, w, h, &comp);
    if (stbi__pnm_test(s)) {
        stbi__rewind(s);
        return stbi__pnm_info(s, w, h, &comp) != 0;
    }
    int b0 = stbi__get8(s), b1 = stbi__get8(s);
    stbi__rewind(s);
    if (b0 == 0xFF && b1 == 0xD8)
        return stbi__jpeg_info(s, w, h, &comp);
    return stbi__err("unknown image type", "Image not of any known type, or corrupt");
}

bool
sq_stbi_info_memory(const void *data, int size, int *w, int *h)
{
    stbi__context s;
    stbi__start_mem(&s, data, size);
    return info_by_signature(&s, w, h) != 0;
}

bool
sq_stbi_info_file(FILE *f, int *w, int *h)
{
    stbi__context s;
    long pos = ftell(f);
    stbi__start_file(&s, f);
    int r = info_by_signature(&s, w, h);
    fseek(f, pos, SEEK_SET);
    return r != 0;
}
