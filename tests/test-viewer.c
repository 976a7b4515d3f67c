/* test-viewer.c — the SDL2 model's-eye view, on a real X display (meson runs
 * it under xvfb-run).  Screenshots go to $SQ_VIEWER_OUT (default: the
 * current directory) for reviewers; tests/data/viewer/ holds the committed
 * expectations they are compared with.
 *
 * Checks: the low-resolution pass is shown with nearest-neighbour (every
 * pixel is one of the seen image's, in blocks of the expected size); the
 * ledger bar's length follows set_ledger; zoom returns at once, animates for
 * about 0.8 s and ends on the full image's pixels; status and ledger text
 * change; the F, Escape keys; closing; a second viewer is refused; shrinking
 * a big image averages; and without a display opening fails cleanly.
 */
#include <dlfcn.h>
#include <errno.h>
#include <link.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "squint-viewer.h"
#include "squint-viewer-private.h"
#include "tap.h"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#include <stb_easy_font.h>
#pragma GCC diagnostic pop

enum { WIN_W = 800, WIN_H = 618 };  /* image area 776×480: the 320×240 test image at ×2 */

static const char *out_dir;

static double
now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void
sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static uint8_t *
px(const sq_image *img, int x, int y)
{
    return img->rgb + ((size_t)y * img->w + x) * 3;
}

static uint32_t
rgb_at(const sq_image *img, int x, int y)
{
    const uint8_t *p = px(img, x, y);
    return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}

static void
set_px(sq_image *img, int x, int y, int r, int g, int b)
{
    uint8_t *p = px(img, x, y);
    p[0] = (uint8_t)r, p[1] = (uint8_t)g, p[2] = (uint8_t)b;
}

/* ---- the test image: 320×240 with detail that halving destroys ---- */

enum { TEST_W = 320, TEST_H = 240 };
static const SDL_Rect region_stripes = { 16, 16, 128, 96 };   /* 4-px stripes */
static const SDL_Rect region_checker = { 176, 16, 128, 96 };  /* 1-px checkerboard */
static const SDL_Rect region_text    = { 16, 128, 288, 96 };  /* 1-px strokes */

static bool
inside(SDL_Rect r, int x, int y)
{
    return x >= r.x && x < r.x + r.w && y >= r.y && y < r.y + r.h;
}

static void
text_into(sq_image *img, int x, int y, const char *text)
{
    static char vbuf[64 * 1024];
    int         quads = stb_easy_font_print((float)x, (float)y, (char *)text, NULL, vbuf, sizeof vbuf);
    for (int q = 0; q < quads; q++) {
        const float *v0 = (const float *)(vbuf + q * 64), *v2 = (const float *)(vbuf + q * 64 + 32);
        for (int yy = (int)v0[1]; yy < (int)v2[1]; yy++)
            for (int xx = (int)v0[0]; xx < (int)v2[0]; xx++)
                if (xx >= 0 && yy >= 0 && xx < img->w && yy < img->h)
                    set_px(img, xx, yy, 24, 36, 96);
    }
}

static void
make_test_image(sq_image *img)
{
    if (sq_image_new(TEST_W, TEST_H, img, NULL) != SQ_OK)
        abort();
    for (int y = 0; y < TEST_H; y++) {
        for (int x = 0; x < TEST_W; x++) {
            if (inside(region_stripes, x, y)) {
                int v = (x / 4) % 2 ? 232 : 28;
                set_px(img, x, y, v, v, v);
            } else if (inside(region_checker, x, y)) {
                int v = (x + y) % 2 ? 255 : 0;
                set_px(img, x, y, v, v, v);
            } else if (inside(region_text, x, y)) {
                set_px(img, x, y, 246, 244, 238);
            } else {
                set_px(img, x, y, 52 + x * 40 / TEST_W, 64 + y * 40 / TEST_H, 110);
            }
        }
    }
    text_into(img, 24, 136, "SQUINT 0123456789 model's-eye view");
    text_into(img, 24, 156, "the quick brown fox jumps over");
    text_into(img, 24, 176, "the lazy dog. THE QUICK BROWN FOX");
    text_into(img, 24, 196, "fine print: 1/2 size loses this");
}

/* ---- screenshots ---- */

static bool
shoot(sq_viewer *v, const char *name, sq_image *out)
{
    char   path[1024];
    sq_error err = { 0 };
    snprintf(path, sizeof path, "%s/%s", out_dir, name);
    *out = (sq_image){ 0 };
    if (sq_viewer_screenshot(v, path, &err) != SQ_OK) {
        diag("screenshot %s: %s", path, err.msg);
        return false;
    }
    if (sq_image_load_file(path, NULL, out, &err) != SQ_OK) {
        diag("reading %s back: %s", path, err.msg);
        return false;
    }
    return true;
}

/* Fraction of the pixels inside d (less a 1-px rim) equal to a pixel of img
 * at the nearest-neighbour source position or one of its 8 neighbours. */
static double
nearest_match(const sq_image *shot, SDL_Rect d, const sq_image *img)
{
    long good = 0, total = 0;
    for (int sy = d.y + 1; sy < d.y + d.h - 1; sy++) {
        int iy = (int)((sy - d.y + 0.5) * img->h / d.h);
        for (int sx = d.x + 1; sx < d.x + d.w - 1; sx++) {
            int      ix = (int)((sx - d.x + 0.5) * img->w / d.w);
            uint32_t c = rgb_at(shot, sx, sy);
            bool     found = false;
            for (int dy = -1; dy <= 1 && !found; dy++)
                for (int dx = -1; dx <= 1 && !found; dx++) {
                    int x = ix + dx, y = iy + dy;
                    found = x >= 0 && y >= 0 && x < img->w && y < img->h && rgb_at(img, x, y) == c;
                }
            good += found;
            total++;
        }
    }
    return total ? (double)good / total : 0;
}

/* Runs of equal pixels along rows of the screen rectangle r: the fraction of
 * runs (not touching r's ends) whose length is a whole number of blocks of
 * size `block` (±1 px), and their median length. */
static double
block_runs(const sq_image *shot, SDL_Rect r, double block, int *median)
{
    static int lens[1 << 16];
    int        n = 0, good = 0;
    for (int y = r.y + 2; y < r.y + r.h - 2 && n < (1 << 16) - 1024; y += 7) {
        int start = r.x;
        for (int x = r.x + 1; x <= r.x + r.w; x++) {
            if (x < r.x + r.w && rgb_at(shot, x, y) == rgb_at(shot, x - 1, y))
                continue;
            if (start > r.x && x < r.x + r.w) {
                int    len = x - start;
                double blocks = len / block, off = fabs(blocks - round(blocks)) * block;
                good += round(blocks) >= 1 && off <= 1.0;
                lens[n++] = len;
            }
            start = x;
        }
    }
    /* median by counting sort of small lengths */
    int counts[4096] = { 0 }, seen = 0;
    *median = 0;
    for (int i = 0; i < n; i++)
        counts[lens[i] < 4095 ? lens[i] : 4095]++;
    for (int len = 0; len < 4096; len++) {
        seen += counts[len];
        if (seen * 2 >= n && n) {
            *median = len;
            break;
        }
    }
    return n ? (double)good / n : 0;
}

/* Screen rectangle of an image-space rectangle, for an image shown in d. */
static SDL_Rect
to_screen(SDL_Rect d, int img_w, int img_h, SDL_Rect r)
{
    int x0 = d.x + (int)ceil((double)r.x * d.w / img_w), y0 = d.y + (int)ceil((double)r.y * d.h / img_h);
    int x1 = d.x + (int)floor((double)(r.x + r.w) * d.w / img_w);
    int y1 = d.y + (int)floor((double)(r.y + r.h) * d.h / img_h);
    return (SDL_Rect){ x0, y0, x1 - x0, y1 - y0 };
}

/* Standard deviation of the luma inside r. */
static double
contrast(const sq_image *shot, SDL_Rect r)
{
    double s = 0, s2 = 0;
    long   n = 0;
    for (int y = r.y; y < r.y + r.h; y++)
        for (int x = r.x; x < r.x + r.w; x++) {
            const uint8_t *p = px(shot, x, y);
            double         l = 0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2];
            s += l, s2 += l * l, n++;
        }
    return n ? sqrt(fmax(0, s2 / n - (s / n) * (s / n))) : 0;
}

/* Mean absolute difference of two screenshots inside r. */
static double
mean_diff(const sq_image *a, const sq_image *b, SDL_Rect r)
{
    double s = 0;
    long   n = 0;
    if (a->w != b->w || a->h != b->h)
        return 255;
    for (int y = r.y; y < r.y + r.h; y++)
        for (int x = r.x; x < r.x + r.w; x++, n++)
            for (int c = 0; c < 3; c++)
                s += abs(px(a, x, y)[c] - px(b, x, y)[c]) / 3.0;
    return n ? s / n : 0;
}

/* Length of the run of `color` along the bar's middle row from its left end. */
static int
bar_run(const sq_image *shot, const sqv_layout *l, uint32_t color)
{
    int y = l->bar.y + l->bar.h / 2, n = 0;
    while (n < l->bar.w && rgb_at(shot, l->bar.x + n, y) == color)
        n++;
    return n;
}

/* Compares a screenshot with a committed expectation: the fraction of pixels
 * off by more than 32 in some channel.  Negative: no expectation to compare. */
static double
against_expectation(const sq_image *shot, const char *name)
{
    char     path[1024];
    sq_image want = { 0 };
    snprintf(path, sizeof path, "%s/viewer/%s", tap_data_dir(), name);
    if (sq_image_load_file(path, NULL, &want, NULL) != SQ_OK)
        return -1;
    double frac = 1;
    if (want.w == shot->w && want.h == shot->h) {
        long bad = 0;
        for (int y = 0; y < want.h; y++)
            for (int x = 0; x < want.w; x++)
                for (int c = 0; c < 3; c++)
                    if (abs(px(&want, x, y)[c] - px(shot, x, y)[c]) > 32) {
                        bad++;
                        break;
                    }
        frac = (double)bad / ((double)want.w * want.h);
    }
    sq_image_free(&want);
    return frac;
}

static void
press(SDL_Keycode key)
{
    SDL_Event e = { .type = SDL_KEYDOWN };
    e.key.state = SDL_PRESSED;
    e.key.keysym.sym = key;
    SDL_PushEvent(&e);
}

/* Keeps every shared library loaded now (SDL's X11 and GL libraries, Mesa's
 * DRI driver) mapped for good.  SDL unloads them when the viewer closes, and
 * LeakSanitizer can then neither name nor suppress what they leaked — their
 * own caches, listed in tests/lsan-viewer.supp.  Our code is in this
 * executable and is never suppressed.  (The names are collected first:
 * dlopen() inside dl_iterate_phdr()'s callback can deadlock against a
 * dlopen() on the viewer thread.) */
typedef struct {
    char *names[512];
    int   n;
} library_list;

static int
list_library(struct dl_phdr_info *info, size_t size, void *data)
{
    library_list *l = data;
    (void)size;
    if (info->dlpi_name && info->dlpi_name[0] && l->n < 512)
        l->names[l->n++] = strdup(info->dlpi_name);
    return 0;
}

static void
pin_libraries(void)
{
    static library_list l;
    dl_iterate_phdr(list_library, &l);
    for (int i = 0; i < l.n; i++) {
        if (l.names[i])
            dlopen(l.names[i], RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE);
        free(l.names[i]);
    }
    l.n = 0;
}

/* ---- the cases ---- */

/* Without any display, in a child process so that even a crash is caught. */
static void
test_no_display(void)
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        unsetenv("DISPLAY");
        unsetenv("WAYLAND_DISPLAY");
        unsetenv("SDL_VIDEODRIVER");  /* SDL's own fallback ("offscreen") must not count */
        sq_viewer *v = NULL;
        sq_error   err = { 0 };
        sq_status  st = sq_viewer_open(NULL, &v, &err);
        if (st == SQ_OK) {
            sq_viewer_close(v);
            _exit(1);
        }
        printf("# no display: %s\n", err.msg);
        fflush(stdout);
        _exit(st == SQ_ERR_BACKEND && err.msg[0] && !v ? 0 : 2);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
       "without DISPLAY, open fails with a message (child exit %d, signal %d)",
       WIFEXITED(status) ? WEXITSTATUS(status) : -1, WIFSIGNALED(status) ? WTERMSIG(status) : 0);

    /* In this process too: a video driver SDL does not have. */
    const char *old = getenv("SDL_VIDEODRIVER");
    char       *saved = old ? strdup(old) : NULL;
    setenv("SDL_VIDEODRIVER", "no-such-driver", 1);
    sq_viewer *v = (sq_viewer *)&status;  /* must be overwritten with NULL */
    sq_error   err = { 0 };
    sq_status  st = sq_viewer_open(NULL, &v, &err);
    ok(st == SQ_ERR_BACKEND && v == NULL && strstr(err.msg, "SDL"),
       "an unavailable video driver fails cleanly: %s", err.msg);
    if (saved)
        setenv("SDL_VIDEODRIVER", saved, 1);
    else
        unsetenv("SDL_VIDEODRIVER");
    free(saved);
}

static void
test_view_and_zoom(const sq_image *full, const sq_image *half)
{
    sq_viewer_params p = sq_viewer_default_params();
    p.width = WIN_W;
    p.height = WIN_H;
    p.title = "test-viewer";
    sq_viewer *v = NULL;
    sq_error   err = { 0 };
    if (!ok(sq_viewer_open(&p, &v, &err) == SQ_OK, "open an %dx%d viewer", WIN_W, WIN_H)) {
        diag("%s", err.msg);
        return;
    }
    ok(sq_viewer_is_open(v), "is_open after open");
    diag("SDL video driver: %s", SDL_GetCurrentVideoDriver());
    pin_libraries();

    sq_viewer *second = NULL;
    ok(sq_viewer_open(&p, &second, &err) == SQ_ERR_UNSUPPORTED && !second,
       "a second viewer in the same process is refused: %s", err.msg);

    /* ---- the low-resolution pass ---- */
    sq_viewer_show(v, half, full->w, full->h);
    sq_viewer_set_status(v, "looking at half size");
    sq_viewer_set_ledger(v, 150, 600);
    sq_image low;
    if (!ok(shoot(v, "viewer-lowres.png", &low), "screenshot of the low-resolution pass"))
        goto done;
    ok(low.w == WIN_W && low.h == WIN_H, "screenshot is the window's size: %dx%d", low.w, low.h);

    sqv_layout l;
    sqv_layout_compute(low.w, low.h, &l);
    SDL_Rect d = sqv_fit(l.area, full->w, full->h);
    double   block = (double)d.w / half->w;
    diag("image shown at %d,%d %dx%d: %.2f screen px per model px", d.x, d.y, d.w, d.h, block);

    double m = nearest_match(&low, d, half);
    ok(m >= 0.995, "every shown pixel is a seen pixel (nearest-neighbour, no blending): %.4f", m);
    int    median;
    double runs = block_runs(&low, to_screen(d, full->w, full->h, region_stripes), block, &median);
    ok(runs >= 0.95 && median >= (int)block - 1,
       "the stripes are drawn as %.1f-px blocks: %.3f of the runs whole blocks, median run %d", block, runs,
       median);
    runs = block_runs(&low, to_screen(d, full->w, full->h, region_text), block, &median);
    ok(runs >= 0.95, "the blurred text is drawn as blocks: %.3f of the runs whole blocks", runs);
    SDL_Rect checker = to_screen(d, full->w, full->h, region_checker);
    double   c_low = contrast(&low, checker);
    ok(c_low < 30, "the 1-px checkerboard is lost at half size (contrast %.1f)", c_low);
    ok(rgb_at(&low, l.caption.x + 1, l.caption.y + 1) == SQV_COLOR_LOW, "the LOW-RES badge is shown");
    ok(rgb_at(&low, 0, 0) == SQV_COLOR_WINDOW && rgb_at(&low, l.area.x + 1, l.area.y + 1) == SQV_COLOR_IMAGE_BG,
       "dark window and letterbox backgrounds");

    int want = sqv_bar_fill(&l, 150, 600), got = bar_run(&low, &l, SQV_COLOR_BAR);
    ok(abs(got - l.bar.w / 4) <= 2 && abs(got - want) <= 1,
       "ledger 150/600: bar filled %d of %d px (a quarter: %d)", got, l.bar.w, l.bar.w / 4);
    ok(rgb_at(&low, l.bar.x + l.bar.w - 2, l.bar.y + l.bar.h / 2) == SQV_COLOR_TRACK,
       "the rest of the bar is the empty track");
    double e = against_expectation(&low, "lowres.png");
    if (e >= 0)
        ok(e < 0.01, "matches tests/data/viewer/lowres.png (%.4f of the pixels differ)", e);

    /* ---- zoom ---- */
    double t0 = now_s();
    sq_viewer_zoom(v, full);
    double t_call = now_s() - t0;
    ok(t_call < 0.05, "zoom returns at once (%.1f ms)", t_call * 1e3);
    sq_viewer_set_status(v, "zooming in\xe2\x80\xa6");
    sleep_ms(SQV_ZOOM_MS / 2);
    sq_image mid;
    if (shoot(v, "viewer-zooming.png", &mid)) {
        diag("mid-zoom frame differs from the low-res one by %.1f", mean_diff(&mid, &low, d));
        sq_image_free(&mid);
    }
    sq_viewer_wait_idle(v);
    double t_anim = now_s() - t0;
    ok(t_anim >= 0.75 && t_anim < 5, "the zoom animates for about 0.8 s (wait_idle after %.2f s)", t_anim);

    sq_viewer_set_status(v, "answered");
    sq_viewer_set_ledger(v, 450, 600);
    sq_image zoomed;
    if (!ok(shoot(v, "viewer-zoomed.png", &zoomed), "screenshot after the zoom")) {
        sq_image_free(&low);
        goto done;
    }
    m = nearest_match(&zoomed, d, full);
    ok(m >= 0.995, "the full image's pixels are shown exactly (nearest-neighbour): %.4f", m);
    double c_full = contrast(&zoomed, checker);
    ok(c_full > 100, "the 1-px checkerboard is back (contrast %.1f, was %.1f)", c_full, c_low);
    double dd = mean_diff(&zoomed, &low, d);
    ok(dd > 10, "the image area changed a lot from the low-res view (mean difference %.1f)", dd);
    ok(rgb_at(&zoomed, l.caption.x + 1, l.caption.y + 1) == SQV_COLOR_FULL, "the FULL-RES badge is shown");
    got = bar_run(&zoomed, &l, SQV_COLOR_BAR);
    ok(abs(got - l.bar.w * 3 / 4) <= 2, "ledger 450/600: bar filled %d of %d px (three quarters: %d)", got,
       l.bar.w, l.bar.w * 3 / 4);
    ok(mean_diff(&zoomed, &low, l.ledger) > 1, "the ledger numbers changed with set_ledger");
    ok(mean_diff(&zoomed, &low, l.status) > 1, "the status line changed with set_status");
    e = against_expectation(&zoomed, "zoomed.png");
    if (e >= 0)
        ok(e < 0.01, "matches tests/data/viewer/zoomed.png (%.4f of the pixels differ)", e);

    sq_viewer_set_ledger(v, 700, 600);
    sq_image over;
    if (shoot(v, "viewer-over.bmp", &over)) {
        ok(bar_run(&over, &l, SQV_COLOR_BAR_OVER) == l.bar.w, "more than the baseline: a full bar in red (BMP)");
        sq_image_free(&over);
    }
    ok(sq_viewer_screenshot(v, "/nonexistent-dir/x.png", &err) == SQ_ERR_IO, "unwritable path: %s", err.msg);
    ok(sq_viewer_screenshot(v, "x.jpg", &err) == SQ_ERR_INVALID_ARG, "unknown extension: %s", err.msg);

    /* ---- fullscreen and keys ---- */
    press(SDLK_f);
    sq_image fs = { 0 };
    for (int i = 0; i < 40; i++) {  /* the X server resizes asynchronously */
        sleep_ms(50);
        sq_image_free(&fs);
        if (!shoot(v, "viewer-fullscreen.png", &fs) || fs.w != WIN_W)
            break;
    }
    ok(fs.w > WIN_W && fs.h > WIN_H, "F: fullscreen (%dx%d)", fs.w, fs.h);
    if (fs.w > WIN_W) {
        sqv_layout lf;
        sqv_layout_compute(fs.w, fs.h, &lf);
        SDL_Rect df = sqv_fit(lf.area, full->w, full->h);
        m = nearest_match(&fs, df, full);
        ok(m >= 0.995 && bar_run(&fs, &lf, SQV_COLOR_BAR_OVER) == lf.bar.w && lf.scale > l.scale,
           "fullscreen is laid out for its size (text x%d, image %dx%d, pixels %.4f)", lf.scale, df.w, df.h, m);
    }
    sq_image_free(&fs);
    press(SDLK_ESCAPE);  /* first Escape leaves fullscreen */
    for (int i = 0; i < 40; i++) {
        sleep_ms(50);
        sq_image_free(&fs);
        if (!shoot(v, "viewer-windowed.png", &fs) || fs.w == WIN_W)
            break;
    }
    ok(fs.w == WIN_W && fs.h == WIN_H && sq_viewer_is_open(v), "Escape leaves fullscreen (%dx%d)", fs.w, fs.h);
    sq_image_free(&fs);

    press(SDLK_ESCAPE);  /* then closes the window */
    for (int i = 0; i < 100 && sq_viewer_is_open(v); i++)
        sleep_ms(20);
    ok(!sq_viewer_is_open(v), "Escape closes the window");
    sq_viewer_show(v, half, full->w, full->h);  /* no-ops now */
    sq_viewer_zoom(v, full);
    sq_viewer_set_status(v, "nobody is looking");
    sq_viewer_set_ledger(v, 1, 2);
    sq_viewer_wait_idle(v);
    ok(sq_viewer_screenshot(v, "closed.png", &err) == SQ_ERR_UNSUPPORTED,
       "after closing, calls are no-ops and a screenshot says so: %s", err.msg);

    sq_image_free(&low);
    sq_image_free(&zoomed);
done:
    sq_viewer_close(v);
}

/* A picture bigger than its place on screen is averaged down, not sampled. */
static void
test_big_image(void)
{
    sq_viewer_params p = sq_viewer_default_params();
    p.width = 640;
    p.height = 480;
    sq_viewer *v = NULL;
    sq_error   err = { 0 };
    if (!ok(sq_viewer_open(&p, &v, &err) == SQ_OK, "a viewer opens again after the last one closed")) {
        diag("%s", err.msg);
        return;
    }
    diag("SDL video driver: %s", SDL_GetCurrentVideoDriver());
    pin_libraries();  /* this time SDL may have fallen back to other libraries (EGL) */
    sq_image big;
    if (sq_image_new(1600, 1200, &big, NULL) != SQ_OK)
        abort();
    for (int y = 0; y < big.h; y++)
        for (int x = 0; x < big.w; x++) {
            int v1 = ((x / 3 + y / 5) % 2) ? 220 : 30;  /* fine pattern that sampling would alias */
            set_px(&big, x, y, v1, (x * 255) / big.w, (y * 255) / big.h);
        }
    sq_viewer_show(v, &big, big.w, big.h);
    sq_viewer_wait_idle(v);
    sleep_ms(SQV_RESIZE_SETTLE + 100);  /* the averaged copy is made once the size has settled */
    sq_image shot;
    if (shoot(v, "viewer-big.png", &shot)) {
        sqv_layout l;
        sqv_layout_compute(shot.w, shot.h, &l);
        SDL_Rect d = sqv_fit(l.area, big.w, big.h);
        sq_image want;
        if (sqv_shrink(&big, d.w, d.h, &want, NULL) == SQ_OK) {
            double s = 0;
            for (int y = 0; y < d.h; y++)
                for (int x = 0; x < d.w; x++)
                    for (int c = 0; c < 3; c++)
                        s += abs(px(&shot, d.x + x, d.y + y)[c] - px(&want, x, y)[c]);
            s /= 3.0 * d.w * d.h;
            ok(s < 1.0, "an image bigger than the window is shown area-averaged (mean difference %.2f)", s);
            sq_image_free(&want);
        }
        ok(rgb_at(&shot, l.caption.x + 1, l.caption.y + 1) == SQV_COLOR_FULL,
           "seen at its original size: the FULL-RES badge");
        sq_image_free(&shot);
    }

    /* Closing in the middle of a zoom neither hangs nor leaks. */
    sq_image half;
    if (sq_image_half(&big, &half, NULL) == SQ_OK) {
        sq_viewer_show(v, &half, big.w, big.h);
        sq_viewer_zoom(v, &big);
        sleep_ms(100);
        sq_image_free(&half);
    }
    double t0 = now_s();
    sq_viewer_close(v);
    ok(now_s() - t0 < 2, "closing during a zoom returns promptly (%.0f ms)", (now_s() - t0) * 1e3);
    sq_image_free(&big);
}

static void
test_units(void)
{
    ok(sqv_ease(0) == 0 && sqv_ease(1) == 1 && fabsf(sqv_ease(0.5f) - 0.5f) < 1e-6f &&
       sqv_ease(0.25f) < 0.25f && sqv_ease(0.75f) > 0.75f, "the animation eases in and out");
    sqv_layout l;
    sqv_layout_compute(1920, 1080, &l);
    ok(l.scale == 3 && l.area.w > 1800 && l.area.h > 800, "1080p layout: text ×%d, image area %dx%d", l.scale,
       l.area.w, l.area.h);
    sqv_layout_compute(1, 1, &l);
    ok(l.area.w >= 0 && l.area.h >= 0, "a 1×1 window still has a layout");
    SDL_Rect d = sqv_fit((SDL_Rect){ 10, 20, 400, 100 }, 320, 240);
    ok(d.h == 100 && d.w == 133 && d.x == 10 + (400 - 133) / 2 && d.y == 20, "letterboxing keeps the aspect ratio");
    ok(sqv_text_width("ab", 2) == (2 * 6 - 1) * 2 && sqv_text_width("\xe2\x80\xa6", 1) == sqv_text_width("...", 1),
       "text widths, with … drawn as ...");
}

int
main(void)
{
    out_dir = getenv("SQ_VIEWER_OUT");
    if (!out_dir || !*out_dir)
        out_dir = ".";

    test_units();
    test_no_display();
    if (!getenv("DISPLAY") && !getenv("WAYLAND_DISPLAY")) {
        diag("no DISPLAY: skipping the on-screen checks (meson runs this test under xvfb-run)");
        return tap_done();
    }

    sq_image full, half = { 0 };
    make_test_image(&full);
    bool halved = sq_image_half(&full, &half, NULL) == SQ_OK;
    if (!ok(halved && half.w == TEST_W / 2 && half.h == TEST_H / 2, "the seen image is %dx%d", half.w, half.h))
        return tap_done();
    char path[1024];
    snprintf(path, sizeof path, "%s/viewer-test-image.png", out_dir);
    sqv_save_rgb(path, full.w, full.h, full.rgb, NULL);

    test_view_and_zoom(&full, &half);
    test_big_image();

    sq_image_free(&full);
    sq_image_free(&half);
    return tap_done();
}
