/* squint-viewer-private.h — what the viewer's files (and its test) share:
 * the layout, the palette, the built-in font and the scene the viewer
 * thread draws.  Everything here runs on the viewer thread only.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <SDL.h>

#include "image.h"
#include "status.h"

/* ---- palette (0xRRGGBB) ---- */

#define SQV_COLOR_WINDOW    0x111318u  /* window background */
#define SQV_COLOR_IMAGE_BG  0x0a0b0eu  /* letterbox around the image */
#define SQV_COLOR_PANEL     0x1a1d24u  /* bottom panel */
#define SQV_COLOR_BORDER    0x2b3039u  /* hairlines between areas */
#define SQV_COLOR_TEXT      0xe8eaedu
#define SQV_COLOR_TEXT_DIM  0x8d939eu
#define SQV_COLOR_TRACK     0x2a2f39u  /* the ledger bar's empty part */
#define SQV_COLOR_BAR       0x4c9effu  /* visual tokens used */
#define SQV_COLOR_BAR_OVER  0xff6b5bu  /* used more than the baseline */
#define SQV_COLOR_LOW       0xf0b429u  /* "LOW-RES" badge */
#define SQV_COLOR_FULL      0x3ecf8eu  /* "FULL-RES" badge */
#define SQV_COLOR_BADGE_INK 0x111318u  /* text on a badge */

/* ---- timing ---- */

#define SQV_ZOOM_MS        800  /* the zoom/sharpen animation */
#define SQV_RESIZE_SETTLE  150  /* ms after a resize before refitting big images */

/* ---- layout ---- */

typedef struct {
    int      scale;    /* size of one font pixel in window pixels */
    int      pad;      /* outer margin */
    SDL_Rect caption;  /* top row: badge, caption, key hints */
    SDL_Rect area;     /* where the image is letterboxed */
    SDL_Rect panel;    /* bottom panel (background) */
    SDL_Rect status;   /* status line */
    SDL_Rect ledger;   /* the ledger's numbers */
    SDL_Rect bar;      /* the ledger bar's track */
} sqv_layout;

/* The layout of a win_w × win_h window (render output pixels). */
void sqv_layout_compute(int win_w, int win_h, sqv_layout *out);

/* img_w × img_h fitted into area, aspect ratio kept, centred. */
SDL_Rect sqv_fit(SDL_Rect area, int img_w, int img_h);

/* Width of the ledger bar's filled part (clamped to the track). */
int sqv_bar_fill(const sqv_layout *l, int64_t used, int64_t baseline);

/* ---- the built-in font: 5×7 glyphs plus 2 rows of descenders in a 6×9 cell ---- */

enum { SQV_GLYPH_W = 5, SQV_GLYPH_ROWS = 9, SQV_GLYPH_ADVANCE = 6 };

/* Printable ASCII; common UTF-8 punctuation (…, ×, —, →, quotes) is mapped
 * to ASCII look-alikes and anything else drawn as '?'. */
int  sqv_text_width(const char *utf8, int scale);
/* Draws text with its top-left corner at (x, y), clipped to max_w pixels
 * (ending in "..." when cut; max_w ≤ 0: no limit).  Returns the width drawn. */
int  sqv_text_draw(SDL_Renderer *r, int x, int y, const char *utf8, int scale,
                   uint32_t rgb, int max_w);
static inline int sqv_text_height(int scale) { return SQV_GLYPH_ROWS * scale; }

/* ---- the scene ---- */

/* An image kept in memory with its textures: native size, and a box-filtered
 * copy that fits the screen when the image is bigger than its place there. */
typedef struct {
    sq_image     img;
    SDL_Texture *tex;       /* img, or img shrunk to the renderer's size limit */
    SDL_Texture *fit;       /* box-filtered copy of fit_w × fit_h, or NULL */
    int          fit_w, fit_h;  /* the size that copy was made for (tried once) */
} sqv_picture;

typedef enum {
    SQV_MODE_EMPTY,    /* nothing shown yet */
    SQV_MODE_SEEN,     /* the low-resolution pass, pixelated */
    SQV_MODE_ZOOMING,  /* animating to the full image */
    SQV_MODE_FULL,     /* the full image */
} sqv_mode;

typedef struct {
    SDL_Renderer *ren;
    int           max_tex_w, max_tex_h;   /* 0: no limit */
    bool          targets;                /* render targets supported */

    sqv_mode      mode;
    sqv_picture   seen;                   /* what the model saw first */
    sqv_picture   full;                   /* the full image, once zoomed */
    int           orig_w, orig_h;         /* original size, for caption and aspect */
    int64_t       used, baseline;         /* the ledger */
    char          status[256];

    uint64_t      zoom_start;             /* SDL ticks when the zoom began */
    SDL_Texture  *target;                 /* scratch for the sharpening frames */
    int           target_w, target_h;

    uint64_t      last_resize;            /* SDL ticks of the last size change */
    bool          refit_later;            /* a fit copy waits for the size to settle */
} sqv_scene;

/* Replaces the shown image (ownership of *seen moves in; it is emptied). */
void sqv_scene_show(sqv_scene *s, sq_image *seen, int orig_w, int orig_h);
/* Starts the zoom animation to *full (moved in). */
void sqv_scene_zoom(sqv_scene *s, sq_image *full, uint64_t now);
/* Advances the animation; true while it runs. */
bool sqv_scene_animate(sqv_scene *s, uint64_t now);
/* Draws a whole frame (no present). */
void sqv_scene_draw(sqv_scene *s, uint64_t now);
/* Drops every texture (after a render-device reset, or before teardown);
 * they are made again from the images when needed. */
void sqv_scene_drop_textures(sqv_scene *s);
void sqv_scene_free(sqv_scene *s);

/* The ease-in-out curve of the animation, t in [0, 1]. */
float sqv_ease(float t);

/* Area-averaging shrink of src to w × h (w ≤ src.w, h ≤ src.h). */
sq_status sqv_shrink(const sq_image *src, int w, int h, sq_image *out, sq_error *err);

/* ---- files ---- */

/* Writes packed RGB8 pixels as PNG or BMP, chosen by path's extension. */
sq_status sqv_save_rgb(const char *path, int w, int h, const uint8_t *rgb, sq_error *err);
