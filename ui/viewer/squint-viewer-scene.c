/* squint-viewer-scene.c — what the viewer draws: the layout, the image in
 * its three states (pixelated low-resolution pass, zoom animation, full
 * image), the caption, the status line and the visual-token ledger.
 *
 * Upscaling is always nearest-neighbour, so one pixel the model saw is one
 * visible block.  When the window is smaller than an image, the image is
 * shrunk by area averaging instead (dropping pixels would invent aliasing
 * the model never saw); that copy is made once the window size has settled.
 *
 * The zoom animation sharpens by shrinking the block size: frame by frame
 * the full image is averaged down to a resolution that goes geometrically
 * from the low-resolution pass to the full one, and shown with
 * nearest-neighbour; the low-resolution pixels fade out over the first part
 * and the image swells slightly, so it reads as a zoom.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "squint-viewer-private.h"

/* ---- layout ---- */

void
sqv_layout_compute(int win_w, int win_h, sqv_layout *out)
{
    int w = win_w > 0 ? win_w : 1, h = win_h > 0 ? win_h : 1;

    /* Text grows with the window: 1 font pixel per screen pixel up to about
     * 500×375, 2 at 640×480 … 1024×768, 3 at 1080p, 6 at 4K. */
    double fit = fmin(w / 320.0, h / 240.0);
    int    k = (int)floor(fit * 0.75 + 0.5);
    k = k < 1 ? 1 : k > 12 ? 12 : k;

    int pad = 6 * k, th = sqv_text_height(k);
    int caption_h = 9 * k;  /* capitals (7 rows) with a font pixel above and below */
    int bar_h = 4 * k;
    int panel_h = 3 * pad + 2 * th + 2 * k + bar_h;

    memset(out, 0, sizeof *out);
    out->scale   = k;
    out->pad     = pad;
    out->caption = (SDL_Rect){ pad, pad, w - 2 * pad, caption_h };
    out->panel   = (SDL_Rect){ 0, h - panel_h, w, panel_h };
    out->status  = (SDL_Rect){ pad, out->panel.y + pad, w - 2 * pad, th };
    out->ledger  = (SDL_Rect){ pad, out->status.y + th + pad, w - 2 * pad, th };
    out->bar     = (SDL_Rect){ pad, out->ledger.y + th + 2 * k, w - 2 * pad, bar_h };

    int top = out->caption.y + caption_h + pad, bottom = out->panel.y - pad;
    out->area = (SDL_Rect){ pad, top, w - 2 * pad, bottom - top };
    if (out->area.w < 0)
        out->area.w = 0;
    if (out->area.h < 0)
        out->area.h = 0;
}

SDL_Rect
sqv_fit(SDL_Rect area, int img_w, int img_h)
{
    SDL_Rect r = { area.x + area.w / 2, area.y + area.h / 2, 0, 0 };
    if (img_w <= 0 || img_h <= 0 || area.w <= 0 || area.h <= 0)
        return r;
    if ((int64_t)area.w * img_h <= (int64_t)area.h * img_w) {
        r.w = area.w;
        r.h = (int)(((int64_t)img_h * area.w + img_w / 2) / img_w);
    } else {
        r.h = area.h;
        r.w = (int)(((int64_t)img_w * area.h + img_h / 2) / img_h);
    }
    r.w = r.w < 1 ? 1 : r.w;
    r.h = r.h < 1 ? 1 : r.h;
    r.x = area.x + (area.w - r.w) / 2;
    r.y = area.y + (area.h - r.h) / 2;
    return r;
}

int
sqv_bar_fill(const sqv_layout *l, int64_t used, int64_t baseline)
{
    if (baseline <= 0 || used <= 0)
        return 0;
    if (used >= baseline)
        return l->bar.w;
    return (int)lround((double)l->bar.w * (double)used / (double)baseline);
}

float
sqv_ease(float t)
{
    t = t < 0 ? 0 : t > 1 ? 1 : t;
    return t < 0.5f ? 4 * t * t * t : 1 - powf(-2 * t + 2, 3) / 2;
}

static float
smoothstep(float lo, float hi, float x)
{
    float t = (x - lo) / (hi - lo);
    t = t < 0 ? 0 : t > 1 ? 1 : t;
    return t * t * (3 - 2 * t);
}

/* ---- area-averaging shrink ---- */

/* Source row j averaged horizontally into w columns of floats. */
static void
shrink_row(const sq_image *src, int j, int w, double sx, float *row)
{
    const uint8_t *s = src->rgb + (size_t)j * src->w * 3;
    for (int x = 0; x < w; x++) {
        double lo = x * sx, hi = (x + 1) * sx, sum[3] = { 0, 0, 0 };
        for (int i = (int)lo; i < src->w && i < hi; i++) {
            double wt = fmin(hi, i + 1) - fmax(lo, i);
            for (int c = 0; c < 3; c++)
                sum[c] += wt * s[i * 3 + c];
        }
        for (int c = 0; c < 3; c++)
            row[x * 3 + c] = (float)(sum[c] / sx);
    }
}

sq_status
sqv_shrink(const sq_image *src, int w, int h, sq_image *out, sq_error *err)
{
    if (!src->rgb || w <= 0 || h <= 0 || w > src->w || h > src->h)
        return sq_error_set(err, SQ_ERR_INVALID_ARG, "cannot shrink %dx%d to %dx%d", src->w, src->h, w, h);
    float *row = malloc(sizeof(float) * 3 * (size_t)w);
    float *acc = malloc(sizeof(float) * 3 * (size_t)w);
    sq_status st = row && acc ? sq_image_new(w, h, out, err)
                              : sq_error_set(err, SQ_ERR_NOMEM, "out of memory shrinking an image");
    if (st == SQ_OK) {
        double sx = (double)src->w / w, sy = (double)src->h / h;
        for (int y = 0; y < h; y++) {
            double lo = y * sy, hi = (y + 1) * sy;
            memset(acc, 0, sizeof(float) * 3 * (size_t)w);
            for (int j = (int)lo; j < src->h && j < hi; j++) {
                float wt = (float)(fmin(hi, j + 1) - fmax(lo, j));
                shrink_row(src, j, w, sx, row);
                for (int k = 0; k < 3 * w; k++)
                    acc[k] += wt * row[k];
            }
            uint8_t *o = out->rgb + (size_t)y * w * 3;
            for (int k = 0; k < 3 * w; k++) {
                float v = acc[k] / (float)sy + 0.5f;
                o[k] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
            }
        }
    }
    free(row);
    free(acc);
    return st;
}

/* ---- pictures ---- */

static SDL_Texture *
make_texture(SDL_Renderer *r, const sq_image *img)
{
    SDL_Texture *t = SDL_CreateTexture(r, SDL_PIXELFORMAT_RGB24, SDL_TEXTUREACCESS_STATIC, img->w, img->h);
    if (!t)
        return NULL;
    if (SDL_UpdateTexture(t, NULL, img->rgb, img->w * 3) != 0) {
        SDL_DestroyTexture(t);
        return NULL;
    }
    SDL_SetTextureBlendMode(t, SDL_BLENDMODE_BLEND);
    return t;
}

static void
picture_drop_textures(sqv_picture *p)
{
    if (p->tex)
        SDL_DestroyTexture(p->tex);
    if (p->fit)
        SDL_DestroyTexture(p->fit);
    p->tex = p->fit = NULL;
    p->fit_w = p->fit_h = 0;
}

static void
picture_free(sqv_picture *p)
{
    picture_drop_textures(p);
    sq_image_free(&p->img);
}

/* The picture's texture, made on first use; an image over the renderer's
 * texture size limit is shrunk to fit it. */
static SDL_Texture *
picture_texture(sqv_scene *s, sqv_picture *p)
{
    if (p->tex || !p->img.rgb)
        return p->tex;
    const sq_image *src = &p->img;
    sq_image small = { 0 };
    bool over = (s->max_tex_w && src->w > s->max_tex_w) || (s->max_tex_h && src->h > s->max_tex_h);
    if (over) {
        double f = fmin(s->max_tex_w ? (double)s->max_tex_w / src->w : 1.0,
                        s->max_tex_h ? (double)s->max_tex_h / src->h : 1.0);
        int w = (int)(src->w * f), h = (int)(src->h * f);
        if (sqv_shrink(src, w < 1 ? 1 : w, h < 1 ? 1 : h, &small, NULL) != SQ_OK)
            return NULL;
        src = &small;
    }
    p->tex = make_texture(s->ren, src);
    sq_image_free(&small);
    return p->tex;
}

/* Draws a picture into d.  Bigger on screen than the image: nearest-neighbour
 * blocks.  Smaller: the area-averaged copy of exactly d's size (made when the
 * window size has settled; meanwhile the texture with linear filtering). */
static void
draw_picture(sqv_scene *s, sqv_picture *p, SDL_Rect d, uint8_t alpha, uint64_t now)
{
    SDL_Texture *t = picture_texture(s, p);
    if (!t || d.w <= 0 || d.h <= 0)
        return;
    SDL_ScaleMode mode = SDL_ScaleModeNearest;
    bool smaller = d.w <= p->img.w && d.h <= p->img.h && (d.w < p->img.w || d.h < p->img.h);
    if (smaller) {
        bool tried = p->fit_w == d.w && p->fit_h == d.h;  /* a copy of this size was made (or failed) */
        if (!tried && now - s->last_resize < SQV_RESIZE_SETTLE) {
            s->refit_later = true;
        } else if (!tried) {
            /* Made once per size; if that fails (memory), linear filtering will do. */
            if (p->fit)
                SDL_DestroyTexture(p->fit);
            sq_image small = { 0 };
            p->fit = sqv_shrink(&p->img, d.w, d.h, &small, NULL) == SQ_OK ? make_texture(s->ren, &small) : NULL;
            sq_image_free(&small);
            p->fit_w = d.w;
            p->fit_h = d.h;
        }
        if (p->fit && p->fit_w == d.w && p->fit_h == d.h)
            t = p->fit;
        else
            mode = SDL_ScaleModeLinear;
    }
    SDL_SetTextureScaleMode(t, mode);
    SDL_SetTextureAlphaMod(t, alpha);
    SDL_RenderCopy(s->ren, t, NULL, &d);
}

/* ---- the scene ---- */

void
sqv_scene_show(sqv_scene *s, sq_image *seen, int orig_w, int orig_h)
{
    picture_free(&s->seen);
    picture_free(&s->full);
    s->seen.img = *seen;
    *seen = (sq_image){ 0 };
    s->orig_w = orig_w > 0 ? orig_w : s->seen.img.w;
    s->orig_h = orig_h > 0 ? orig_h : s->seen.img.h;
    s->mode = s->seen.img.rgb ? SQV_MODE_SEEN : SQV_MODE_EMPTY;
}

void
sqv_scene_zoom(sqv_scene *s, sq_image *full, uint64_t now)
{
    if (!full->rgb)
        return;
    picture_free(&s->full);
    s->full.img = *full;
    *full = (sq_image){ 0 };
    s->orig_w = s->full.img.w;
    s->orig_h = s->full.img.h;
    if (s->seen.img.rgb) {
        s->mode = SQV_MODE_ZOOMING;
        s->zoom_start = now;
    } else {
        s->mode = SQV_MODE_FULL;
    }
}

bool
sqv_scene_animate(sqv_scene *s, uint64_t now)
{
    if (s->mode != SQV_MODE_ZOOMING)
        return false;
    if (now - s->zoom_start < SQV_ZOOM_MS)
        return true;
    s->mode = SQV_MODE_FULL;
    if (s->target)
        SDL_DestroyTexture(s->target);
    s->target = NULL;
    s->target_w = s->target_h = 0;
    return false;
}

void
sqv_scene_drop_textures(sqv_scene *s)
{
    picture_drop_textures(&s->seen);
    picture_drop_textures(&s->full);
    if (s->target)
        SDL_DestroyTexture(s->target);
    s->target = NULL;
    s->target_w = s->target_h = 0;
}

void
sqv_scene_free(sqv_scene *s)
{
    sqv_scene_drop_textures(s);
    picture_free(&s->seen);
    picture_free(&s->full);
}

static void
set_color(SDL_Renderer *r, uint32_t rgb, uint8_t alpha)
{
    SDL_SetRenderDrawColor(r, rgb >> 16 & 0xff, rgb >> 8 & 0xff, rgb & 0xff, alpha);
}

static void
fill(SDL_Renderer *r, SDL_Rect rect, uint32_t rgb)
{
    set_color(r, rgb, 0xff);
    SDL_RenderFillRect(r, &rect);
}

/* An outline of thickness t just outside rect. */
static void
outline(SDL_Renderer *r, SDL_Rect d, int t)
{
    SDL_Rect sides[4] = {
        { d.x - t, d.y - t, d.w + 2 * t, t },
        { d.x - t, d.y + d.h, d.w + 2 * t, t },
        { d.x - t, d.y, t, d.h },
        { d.x + d.w, d.y, t, d.h },
    };
    SDL_RenderFillRects(r, sides, 4);
}

/* One frame of the zoom: e is the eased progress.  The block size goes
 * geometrically from the low-resolution pass's to the full image's. */
static void
draw_zoom(sqv_scene *s, const sqv_layout *l, SDL_Rect d, float e, uint64_t now)
{
    float    grow = 0.04f * sinf((float)M_PI * e);
    int      gx = (int)lroundf(d.w * grow / 2), gy = (int)lroundf(d.h * grow / 2);
    SDL_Rect z = { d.x - gx, d.y - gy, d.w + 2 * gx, d.h + 2 * gy };

    /* First the sharpening pass into the scratch target (before any clip). */
    SDL_Texture *full = picture_texture(s, &s->full);
    bool         sharpened = false;
    int          fw = 0, fh = 0;
    if (full && s->targets && s->seen.img.w > 0)
        SDL_QueryTexture(full, NULL, NULL, &fw, &fh);
    double p0 = fw ? (double)z.w / s->seen.img.w : 0;  /* screen pixels per model pixel, start */
    double p1 = fw ? fmax(1.0, (double)z.w / fw) : 0;   /* … and end */
    if (fw && p0 > p1 * 1.01) {
        double p  = p0 * pow(p1 / p0, e);
        int    iw = (int)lround(z.w / p), ih = (int)lround(z.h / p);
        iw = iw < 1 ? 1 : iw;
        ih = ih < 1 ? 1 : ih;
        if (iw < fw && ih < fh) {
            if (!s->target || s->target_w < iw || s->target_h < ih) {
                if (s->target)
                    SDL_DestroyTexture(s->target);
                /* Room for the frames to come: up to the shown size (or the full
                 * image's, when that is smaller), with a margin for the swell. */
                s->target_w = SDL_min(fw, SDL_max(iw, z.w + z.w / 8));
                s->target_h = SDL_min(fh, SDL_max(ih, z.h + z.h / 8));
                s->target = SDL_CreateTexture(s->ren, SDL_PIXELFORMAT_ARGB8888, SDL_TEXTUREACCESS_TARGET,
                                              s->target_w, s->target_h);
                if (s->target)
                    SDL_SetTextureBlendMode(s->target, SDL_BLENDMODE_NONE);
            }
            SDL_Texture *screen = SDL_GetRenderTarget(s->ren);  /* NULL, or a screenshot's */
            if (s->target && SDL_SetRenderTarget(s->ren, s->target) == 0) {
                SDL_Rect small = { 0, 0, iw, ih };
                set_color(s->ren, 0, 0xff);
                SDL_RenderClear(s->ren);
                SDL_SetTextureScaleMode(full, SDL_ScaleModeLinear);
                SDL_SetTextureAlphaMod(full, 0xff);
                SDL_RenderCopy(s->ren, full, NULL, &small);
                SDL_SetRenderTarget(s->ren, screen);
                SDL_RenderSetClipRect(s->ren, &l->area);
                SDL_SetTextureScaleMode(s->target, SDL_ScaleModeNearest);
                SDL_RenderCopy(s->ren, s->target, &small, &z);
                sharpened = true;
            }
        }
    }
    SDL_RenderSetClipRect(s->ren, &l->area);
    if (!sharpened)
        draw_picture(s, &s->full, z, 0xff, now);

    /* The low-resolution pixels fade out over the first 60 %. */
    float fade = 1 - smoothstep(0, 0.6f, e);
    if (fade > 0)
        draw_picture(s, &s->seen, z, (uint8_t)lroundf(fade * 255), now);

    set_color(s->ren, SQV_COLOR_BAR, (uint8_t)lroundf(220 * sinf((float)M_PI * e)));
    outline(s->ren, z, l->scale);
    SDL_RenderSetClipRect(s->ren, NULL);
}

/* "12,845,056" */
static void
format_count(char *buf, size_t size, int64_t n)
{
    char digits[32];
    snprintf(digits, sizeof digits, "%" PRId64, n < 0 ? -n : n);
    size_t len = strlen(digits), o = 0;
    if (n < 0 && o + 1 < size)
        buf[o++] = '-';
    for (size_t i = 0; i < len && o + 1 < size; i++) {
        if (i > 0 && (len - i) % 3 == 0 && o + 1 < size)
            buf[o++] = ',';
        if (o + 1 < size)
            buf[o++] = digits[i];
    }
    buf[o] = '\0';
}

static void
draw_caption(sqv_scene *s, const sqv_layout *l)
{
    SDL_Renderer *r = s->ren;
    int           k = l->scale, x = l->caption.x, y = l->caption.y + k;
    char          text[256];
    const char   *badge = NULL;
    uint32_t      badge_color = 0;
    int           sw = s->seen.img.w, sh = s->seen.img.h;

    switch (s->mode) {
    case SQV_MODE_EMPTY:
        snprintf(text, sizeof text, "waiting for an image");
        break;
    case SQV_MODE_SEEN:
        if (sw == s->orig_w && sh == s->orig_h) {
            badge = "FULL-RES", badge_color = SQV_COLOR_FULL;
            snprintf(text, sizeof text, "model sees %d x %d px, full resolution", sw, sh);
        } else {
            badge = "LOW-RES", badge_color = SQV_COLOR_LOW;
            snprintf(text, sizeof text, "model sees %d x %d px of %d x %d", sw, sh, s->orig_w, s->orig_h);
        }
        break;
    case SQV_MODE_ZOOMING:
        badge = "ZOOMING", badge_color = SQV_COLOR_BAR;
        snprintf(text, sizeof text, "zooming in: %d x %d -> %d x %d px", sw, sh, s->orig_w, s->orig_h);
        break;
    case SQV_MODE_FULL:
        badge = "FULL-RES", badge_color = SQV_COLOR_FULL;
        snprintf(text, sizeof text, "model sees %d x %d px, full resolution", s->full.img.w, s->full.img.h);
        break;
    }

    if (badge) {
        SDL_Rect b = { x, l->caption.y, sqv_text_width(badge, k) + 4 * k, l->caption.h };
        fill(r, b, badge_color);
        sqv_text_draw(r, x + 2 * k, y, badge, k, SQV_COLOR_BADGE_INK, 0);
        x += b.w + 3 * k;
    }
    sqv_text_draw(r, x, y, text, k, s->mode == SQV_MODE_EMPTY ? SQV_COLOR_TEXT_DIM : SQV_COLOR_TEXT,
                  l->caption.x + l->caption.w - x);
}

static void
draw_panel(sqv_scene *s, const sqv_layout *l)
{
    SDL_Renderer *r = s->ren;
    int           k = l->scale;

    fill(r, l->panel, SQV_COLOR_PANEL);
    fill(r, (SDL_Rect){ l->panel.x, l->panel.y, l->panel.w, k }, SQV_COLOR_BORDER);

    /* The status line, and the keys on its right when there is room. */
    const char *hints = "F fullscreen   Q close";
    int         hw = sqv_text_width(hints, k), room = l->status.w;
    if (sqv_text_width(s->status, k) + hw + 8 * k <= room) {
        sqv_text_draw(r, l->status.x + l->status.w - hw, l->status.y, hints, k, SQV_COLOR_TEXT_DIM, 0);
        room -= hw + 8 * k;
    }
    sqv_text_draw(r, l->status.x, l->status.y, s->status, k, SQV_COLOR_TEXT, room);

    fill(r, l->bar, SQV_COLOR_TRACK);
    if (s->baseline <= 0) {
        sqv_text_draw(r, l->ledger.x, l->ledger.y, "visual tokens: no ledger yet", k, SQV_COLOR_TEXT_DIM,
                      l->ledger.w);
        return;
    }

    char used[32], base[32], left[128], right[32];
    format_count(used, sizeof used, s->used);
    format_count(base, sizeof base, s->baseline);
    snprintf(left, sizeof left, "visual tokens: %s used / %s full-res baseline", used, base);
    snprintf(right, sizeof right, "%.0f%%", 100.0 * (double)s->used / (double)s->baseline);

    bool over = s->used > s->baseline;
    int  rw = sqv_text_width(right, k);
    sqv_text_draw(r, l->ledger.x + l->ledger.w - rw, l->ledger.y, right, k,
                  over ? SQV_COLOR_BAR_OVER : SQV_COLOR_TEXT, 0);
    sqv_text_draw(r, l->ledger.x, l->ledger.y, left, k, SQV_COLOR_TEXT_DIM, l->ledger.w - rw - 4 * k);

    int filled = sqv_bar_fill(l, s->used, s->baseline);
    if (filled > 0)
        fill(r, (SDL_Rect){ l->bar.x, l->bar.y, filled, l->bar.h }, over ? SQV_COLOR_BAR_OVER : SQV_COLOR_BAR);
}

void
sqv_scene_draw(sqv_scene *s, uint64_t now)
{
    int w = 0, h = 0;
    SDL_GetRendererOutputSize(s->ren, &w, &h);
    sqv_layout l;
    sqv_layout_compute(w, h, &l);
    s->refit_later = false;

    SDL_SetRenderDrawBlendMode(s->ren, SDL_BLENDMODE_BLEND);
    set_color(s->ren, SQV_COLOR_WINDOW, 0xff);
    SDL_RenderClear(s->ren);
    fill(s->ren, l.area, SQV_COLOR_IMAGE_BG);

    SDL_Rect d = sqv_fit(l.area, s->orig_w, s->orig_h);
    switch (s->mode) {
    case SQV_MODE_EMPTY:
        break;
    case SQV_MODE_SEEN:
        SDL_RenderSetClipRect(s->ren, &l.area);
        draw_picture(s, &s->seen, d, 0xff, now);
        SDL_RenderSetClipRect(s->ren, NULL);
        break;
    case SQV_MODE_ZOOMING:
        draw_zoom(s, &l, d, sqv_ease((float)(now - s->zoom_start) / SQV_ZOOM_MS), now);
        break;
    case SQV_MODE_FULL:
        SDL_RenderSetClipRect(s->ren, &l.area);
        draw_picture(s, &s->full, d, 0xff, now);
        SDL_RenderSetClipRect(s->ren, NULL);
        break;
    }

    draw_caption(s, &l);
    draw_panel(s, &l);
}
