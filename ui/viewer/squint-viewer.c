/* squint-viewer.c — the viewer's thread, its event loop and the public API.
 *
 * The API side only copies what it is given into the "posted" fields under
 * the lock and wakes the viewer thread with an SDL user event (SDL_PushEvent
 * is thread-safe); the viewer thread owns SDL, the window, the renderer and
 * the scene, takes the posted state at the top of each loop and draws when
 * something changed or an animation runs.  So a caller never waits on
 * rendering, and rendering never waits on a caller.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "squint-viewer.h"
#include "squint-viewer-private.h"

/* A screenshot request: the caller waits until the viewer thread has read
 * the frame's pixels back (or could not), then writes the file itself. */
typedef struct {
    bool      done;
    int       w, h;
    uint8_t  *rgb;
    sq_status status;
    sq_error  err;
} shot_request;

struct sq_viewer {
    pthread_t       thread;
    pthread_mutex_t lock;
    pthread_cond_t  cond;           /* started, shot done, idle, stopped */
    char           *title;
    int             width, height;
    bool            fullscreen;

    /* ---- shared, under lock ---- */
    bool            started;        /* the thread has reported how opening went */
    sq_status       start_status;
    sq_error        start_err;
    bool            running;        /* window open, thread in its loop */
    bool            quit;           /* sq_viewer_close() asked the thread to stop */
    uint32_t        wake_type;      /* SDL user event that wakes the loop */
    bool            wake_pending;

    bool            post_show;      /* a new image to show (supersedes a posted zoom) */
    sq_image        post_seen;
    int             post_orig_w, post_orig_h;
    bool            post_zoom;
    sq_image        post_full;
    bool            post_state;     /* ledger or status changed (the post_ fields
                                       always hold the newest of both) */
    int64_t         post_used, post_baseline;
    char            post_status[256];
    uint64_t        posted, taken;  /* post counters, for wait_idle */
    bool            animating;
    shot_request   *shot;

    /* ---- the viewer thread's own ---- */
    SDL_Window     *win;
    int             windowed_w;     /* size before going fullscreen with F; 0: unknown */
    int             windowed_h;
    sqv_scene       scene;
};

/* SDL is process-global: one viewer at a time. */
static pthread_mutex_t instance_lock = PTHREAD_MUTEX_INITIALIZER;
static bool            instance_taken;

sq_viewer_params
sq_viewer_default_params(void)
{
    return (sq_viewer_params){
        .title      = "Squint \xe2\x80\x94 model's-eye view",
        .width      = 1024,
        .height     = 768,
        .fullscreen = false,
    };
}

/* ---- the viewer thread ---- */

/* Wakes the loop; call with the lock held and only while running (SDL is up). */
static void
wake_locked(sq_viewer *v)
{
    if (v->wake_pending)
        return;
    SDL_Event e = { .type = v->wake_type };
    if (SDL_PushEvent(&e) == 1)
        v->wake_pending = true;
}

/* SDL drivers that show nothing on a screen: used only when asked for by name
 * (SDL_VIDEODRIVER=offscreen renders without any display, for scripts). */
static bool
invisible_driver(const char *name)
{
    return name && (strcmp(name, "offscreen") == 0 || strcmp(name, "dummy") == 0 || strcmp(name, "evdev") == 0);
}

/* SDL_Init(VIDEO), retried a few times: a busy X server (Xvfb under load)
 * refuses connections for a moment with EAGAIN, and SDL would then quietly
 * fall back to its invisible "offscreen" driver. */
static sq_status
init_video(sq_error *err)
{
    const char *asked = getenv("SDL_VIDEODRIVER");
    bool        named = asked && *asked;
    bool        display = getenv("DISPLAY") || getenv("WAYLAND_DISPLAY");
    bool        retry = display && (!named || strstr(asked, "x11") || strstr(asked, "wayland"));
    char        why[256] = "";

    for (int attempt = 0; attempt < 5; attempt++) {
        if (attempt > 0)
            SDL_Delay(50u << (attempt - 1));  /* 50, 100, 200, 400 ms */
        if (SDL_Init(SDL_INIT_VIDEO) == 0) {
            const char *driver = SDL_GetCurrentVideoDriver();
            if (named || !invisible_driver(driver))
                return SQ_OK;
            snprintf(why, sizeof why, "no display could be opened (SDL fell back to its \"%s\" driver)", driver);
        } else {
            snprintf(why, sizeof why, "%s", SDL_GetError());
        }
        SDL_Quit();
        if (!retry)
            break;
    }
    return sq_error_set(err, SQ_ERR_BACKEND, "viewer: cannot start SDL video: %s%s", why,
                        display ? "" : " (neither DISPLAY nor WAYLAND_DISPLAY is set)");
}

static sq_status
start_sdl(sq_viewer *v, sq_error *err)
{
    /* The host program owns SIGINT/SIGTERM (Ctrl-C stops a reply); SDL must
     * not turn them into quit events.  And keep the desktop compositor on. */
    SDL_SetHint(SDL_HINT_NO_SIGNAL_HANDLERS, "1");
    SDL_SetHint(SDL_HINT_VIDEO_X11_NET_WM_BYPASS_COMPOSITOR, "0");

    sq_status st = init_video(err);
    if (st != SQ_OK)
        return st;
    uint32_t flags = SDL_WINDOW_RESIZABLE | SDL_WINDOW_ALLOW_HIGHDPI;
    if (v->fullscreen)
        flags |= SDL_WINDOW_FULLSCREEN_DESKTOP;
    v->win = SDL_CreateWindow(v->title, SDL_WINDOWPOS_CENTERED, SDL_WINDOWPOS_CENTERED, v->width, v->height,
                              flags);
    if (v->win) {
        v->scene.ren = SDL_CreateRenderer(v->win, -1, SDL_RENDERER_ACCELERATED | SDL_RENDERER_TARGETTEXTURE);
        if (!v->scene.ren)
            v->scene.ren = SDL_CreateRenderer(v->win, -1, SDL_RENDERER_SOFTWARE);
    }
    uint32_t wake = SDL_RegisterEvents(1);
    if (!v->win || !v->scene.ren || wake == (uint32_t)-1) {
        sq_error_set(err, SQ_ERR_BACKEND, "viewer: cannot create the window: %s", SDL_GetError());
        if (v->scene.ren)
            SDL_DestroyRenderer(v->scene.ren);
        if (v->win)
            SDL_DestroyWindow(v->win);
        v->scene.ren = NULL;
        v->win = NULL;
        SDL_Quit();
        return SQ_ERR_BACKEND;
    }
    SDL_RendererInfo info;
    if (SDL_GetRendererInfo(v->scene.ren, &info) == 0) {
        v->scene.max_tex_w = info.max_texture_width;
        v->scene.max_tex_h = info.max_texture_height;
    }
    v->scene.targets = SDL_RenderTargetSupported(v->scene.ren);
    v->windowed_w = v->width;
    v->windowed_h = v->height;
    v->wake_type = wake;
    return SQ_OK;
}

static void
stop_sdl(sq_viewer *v)
{
    sqv_scene_free(&v->scene);
    if (v->scene.ren)
        SDL_DestroyRenderer(v->scene.ren);
    if (v->win)
        SDL_DestroyWindow(v->win);
    v->scene.ren = NULL;
    v->win = NULL;
    SDL_Quit();
}

static void
toggle_fullscreen(sq_viewer *v)
{
    if (SDL_GetWindowFlags(v->win) & SDL_WINDOW_FULLSCREEN_DESKTOP) {
        SDL_SetWindowFullscreen(v->win, 0);
        /* Without a window manager (Xvfb, kiosks) X11 keeps the big size. */
        if (v->windowed_w > 0)
            SDL_SetWindowSize(v->win, v->windowed_w, v->windowed_h);
    } else {
        SDL_GetWindowSize(v->win, &v->windowed_w, &v->windowed_h);
        SDL_SetWindowFullscreen(v->win, SDL_WINDOW_FULLSCREEN_DESKTOP);
    }
}

/* Handles one event; returns false when the user closed the window. */
static bool
handle_event(sq_viewer *v, const SDL_Event *e, bool *dirty, uint64_t now)
{
    switch (e->type) {
    case SDL_QUIT:
        return false;
    case SDL_WINDOWEVENT:
        switch (e->window.event) {
        case SDL_WINDOWEVENT_CLOSE:
            return false;
        case SDL_WINDOWEVENT_SIZE_CHANGED:
        case SDL_WINDOWEVENT_RESIZED:
            v->scene.last_resize = now;
            *dirty = true;
            break;
        case SDL_WINDOWEVENT_EXPOSED:
        case SDL_WINDOWEVENT_SHOWN:
        case SDL_WINDOWEVENT_RESTORED:
        case SDL_WINDOWEVENT_MAXIMIZED:
            *dirty = true;
            break;
        }
        break;
    case SDL_KEYDOWN:
        if (e->key.repeat)
            break;
        switch (e->key.keysym.sym) {
        case SDLK_f:
            toggle_fullscreen(v);
            *dirty = true;
            break;
        case SDLK_ESCAPE:
            if (SDL_GetWindowFlags(v->win) & SDL_WINDOW_FULLSCREEN_DESKTOP) {
                toggle_fullscreen(v);
                *dirty = true;
                break;
            }
            return false;
        case SDLK_q:
            return false;
        }
        break;
    case SDL_RENDER_DEVICE_RESET:
        sqv_scene_drop_textures(&v->scene);
        *dirty = true;
        break;
    case SDL_RENDER_TARGETS_RESET:
        *dirty = true;
        break;
    }
    return true;
}

/* Moves what the API posted into the scene.  Returns the pending screenshot
 * request, if any, and in *seq the post counter that was taken. */
static shot_request *
take_posts(sq_viewer *v, bool *dirty, uint64_t now, uint64_t *seq)
{
    sq_image seen = { 0 }, full = { 0 };
    bool     show, zoom;
    int      ow, oh;

    pthread_mutex_lock(&v->lock);
    v->wake_pending = false;
    show = v->post_show, zoom = v->post_zoom;
    if (show) {
        seen = v->post_seen;
        ow = v->post_orig_w, oh = v->post_orig_h;
        v->post_seen = (sq_image){ 0 };
    }
    if (zoom) {
        full = v->post_full;
        v->post_full = (sq_image){ 0 };
    }
    if (v->post_state) {
        v->scene.used = v->post_used;
        v->scene.baseline = v->post_baseline;
        memcpy(v->scene.status, v->post_status, sizeof v->scene.status);
        *dirty = true;
    }
    v->post_show = v->post_zoom = v->post_state = false;
    *seq = v->posted;
    shot_request *shot = v->shot;
    pthread_mutex_unlock(&v->lock);

    if (show)
        sqv_scene_show(&v->scene, &seen, ow, oh);
    if (zoom)
        sqv_scene_zoom(&v->scene, &full, now);
    if (show || zoom)
        *dirty = true;
    sq_image_free(&seen);
    sq_image_free(&full);
    return shot;
}

/* Reads the frame just drawn back into a screenshot request. */
static void
read_frame(sq_viewer *v, shot_request *shot)
{
    int w = 0, h = 0;
    SDL_GetRendererOutputSize(v->scene.ren, &w, &h);
    uint8_t *rgb = w > 0 && h > 0 ? malloc((size_t)w * h * 3) : NULL;
    if (!rgb) {
        shot->status = sq_error_set(&shot->err, SQ_ERR_NOMEM, "screenshot: out of memory (%dx%d)", w, h);
    } else if (SDL_RenderReadPixels(v->scene.ren, NULL, SDL_PIXELFORMAT_RGB24, rgb, w * 3) != 0) {
        shot->status = sq_error_set(&shot->err, SQ_ERR_BACKEND, "screenshot: %s", SDL_GetError());
        free(rgb);
    } else {
        shot->w = w, shot->h = h, shot->rgb = rgb;
        shot->status = SQ_OK;
    }
}

/* Draws the frame for a screenshot into a texture of the window's size and
 * reads it back.  Not from the window itself: after a resize the window
 * system may not have resized its buffers yet (Mesa's GLX takes the new size
 * at a later swap), and a hidden or covered window has no defined pixels. */
static void
screenshot_frame(sq_viewer *v, shot_request *shot, uint64_t now)
{
    SDL_Renderer *r = v->scene.ren;
    SDL_Texture  *t = NULL;
    int           w = 0, h = 0;
    SDL_GetRendererOutputSize(r, &w, &h);
    if (v->scene.targets && w > 0 && h > 0)
        t = SDL_CreateTexture(r, SDL_PIXELFORMAT_ARGB8888, SDL_TEXTUREACCESS_TARGET, w, h);
    if (t && SDL_SetRenderTarget(r, t) == 0) {
        sqv_scene_draw(&v->scene, now);
        read_frame(v, shot);
        SDL_SetRenderTarget(r, NULL);
    } else {
        sqv_scene_draw(&v->scene, now);  /* no render targets: the window's back buffer */
        read_frame(v, shot);
    }
    if (t)
        SDL_DestroyTexture(t);
}

static void *
viewer_main(void *arg)
{
    sq_viewer *v = arg;
    sq_error   err = { 0 };
    sq_status  st = start_sdl(v, &err);

    pthread_mutex_lock(&v->lock);
    v->started = true;
    v->start_status = st;
    v->start_err = err;
    v->running = st == SQ_OK;
    pthread_cond_broadcast(&v->cond);
    pthread_mutex_unlock(&v->lock);
    if (st != SQ_OK)
        return NULL;

    bool     dirty = true, open = true;
    uint64_t next_frame = 0;
    while (open) {
        /* Sleep until an event, a post, or the next animation frame (60 Hz). */
        uint64_t now = SDL_GetTicks64();
        int      timeout = 1000;
        if (v->scene.mode == SQV_MODE_ZOOMING || dirty)
            timeout = next_frame > now ? (int)(next_frame - now) : 0;
        else if (v->scene.refit_later)
            timeout = SQV_RESIZE_SETTLE;
        SDL_Event e;
        if (SDL_WaitEventTimeout(&e, timeout)) {
            now = SDL_GetTicks64();
            open = handle_event(v, &e, &dirty, now);
            while (open && SDL_PollEvent(&e))
                open = handle_event(v, &e, &dirty, now);
        }
        pthread_mutex_lock(&v->lock);
        open = open && !v->quit;
        pthread_mutex_unlock(&v->lock);
        if (!open)
            break;

        now = SDL_GetTicks64();
        uint64_t      seq;
        shot_request *shot = take_posts(v, &dirty, now, &seq);
        bool          was_zooming = v->scene.mode == SQV_MODE_ZOOMING;
        bool          animating = sqv_scene_animate(&v->scene, now);
        if (was_zooming && !animating)
            dirty = true;  /* the last frame: the plain full image */
        if (v->scene.refit_later && now - v->scene.last_resize >= SQV_RESIZE_SETTLE)
            dirty = true;

        if (dirty || animating || shot) {
            if (shot || now >= next_frame || !animating) {
                if (shot)
                    screenshot_frame(v, shot, now);
                sqv_scene_draw(&v->scene, now);
                SDL_RenderPresent(v->scene.ren);
                next_frame = now + 16;
                dirty = false;
            }
        }

        /* Published together, so wait_idle never sees a zoom taken but not yet animating. */
        pthread_mutex_lock(&v->lock);
        v->taken = seq;
        v->animating = animating;
        if (shot) {
            shot->done = true;
            v->shot = NULL;
        }
        pthread_cond_broadcast(&v->cond);
        pthread_mutex_unlock(&v->lock);
    }

    /* Closed by the user or by sq_viewer_close(): nothing may push events any
     * more once running is false, then SDL can go. */
    pthread_mutex_lock(&v->lock);
    v->running = false;
    v->animating = false;
    if (v->shot) {
        v->shot->status = sq_error_set(&v->shot->err, SQ_ERR_UNSUPPORTED, "screenshot: the viewer window was closed");
        v->shot->done = true;
        v->shot = NULL;
    }
    pthread_cond_broadcast(&v->cond);
    pthread_mutex_unlock(&v->lock);
    stop_sdl(v);
    return NULL;
}

/* ---- public API ---- */

static void
viewer_free(sq_viewer *v)
{
    sq_image_free(&v->post_seen);
    sq_image_free(&v->post_full);
    pthread_cond_destroy(&v->cond);
    pthread_mutex_destroy(&v->lock);
    free(v->title);
    free(v);
}

sq_status
sq_viewer_open(const sq_viewer_params *p, sq_viewer **out, sq_error *err)
{
    sq_viewer_params d = sq_viewer_default_params();
    if (!out)
        return sq_error_set(err, SQ_ERR_INVALID_ARG, "viewer: no place for the result");
    *out = NULL;
    if (!p)
        p = &d;

    pthread_mutex_lock(&instance_lock);
    bool taken = instance_taken;
    instance_taken = true;
    pthread_mutex_unlock(&instance_lock);
    if (taken)
        return sq_error_set(err, SQ_ERR_UNSUPPORTED, "viewer: one viewer window at a time per process");

    sq_viewer *v = calloc(1, sizeof *v);
    if (!v || !(v->title = strdup(p->title ? p->title : d.title))) {
        free(v);
        pthread_mutex_lock(&instance_lock);
        instance_taken = false;
        pthread_mutex_unlock(&instance_lock);
        return sq_error_set(err, SQ_ERR_NOMEM, "viewer: out of memory");
    }
    v->width = p->width > 0 ? p->width : d.width;
    v->height = p->height > 0 ? p->height : d.height;
    v->fullscreen = p->fullscreen;
    pthread_mutex_init(&v->lock, NULL);
    pthread_cond_init(&v->cond, NULL);

    sq_status st = SQ_OK;
    int       rc = pthread_create(&v->thread, NULL, viewer_main, v);
    if (rc != 0) {
        st = sq_error_set(err, SQ_ERR_BACKEND, "viewer: cannot start its thread: %s", strerror(rc));
    } else {
        pthread_mutex_lock(&v->lock);
        while (!v->started)
            pthread_cond_wait(&v->cond, &v->lock);
        st = v->start_status;
        pthread_mutex_unlock(&v->lock);
        if (st != SQ_OK) {
            pthread_join(v->thread, NULL);
            if (err)
                *err = v->start_err;
        }
    }
    if (st != SQ_OK) {
        viewer_free(v);
        pthread_mutex_lock(&instance_lock);
        instance_taken = false;
        pthread_mutex_unlock(&instance_lock);
        return st;
    }
    *out = v;
    return SQ_OK;
}

/* A copy of img, or an empty image for NULL/empty; false when out of memory. */
static bool
copy_image(const sq_image *img, sq_image *out)
{
    *out = (sq_image){ 0 };
    if (!img || img->w <= 0 || img->h <= 0 || !img->rgb)
        return true;
    return sq_image_copy(img, out, NULL) == SQ_OK;
}

void
sq_viewer_show(sq_viewer *v, const sq_image *seen, int full_w, int full_h)
{
    sq_image copy;
    if (!v || !sq_viewer_is_open(v) || !copy_image(seen, &copy))
        return;
    pthread_mutex_lock(&v->lock);
    if (v->running) {
        sq_image_free(&v->post_seen);
        sq_image_free(&v->post_full);
        v->post_seen = copy;
        copy = (sq_image){ 0 };
        v->post_orig_w = full_w;
        v->post_orig_h = full_h;
        v->post_show = true;
        v->post_zoom = false;  /* an earlier, untaken zoom is about the old image */
        v->posted++;
        wake_locked(v);
    }
    pthread_mutex_unlock(&v->lock);
    sq_image_free(&copy);
}

void
sq_viewer_zoom(sq_viewer *v, const sq_image *full)
{
    sq_image copy;
    if (!v || !full || !full->rgb || !sq_viewer_is_open(v) || !copy_image(full, &copy))
        return;
    pthread_mutex_lock(&v->lock);
    if (v->running) {
        sq_image_free(&v->post_full);
        v->post_full = copy;
        copy = (sq_image){ 0 };
        v->post_zoom = true;
        v->posted++;
        wake_locked(v);
    }
    pthread_mutex_unlock(&v->lock);
    sq_image_free(&copy);
}

void
sq_viewer_set_ledger(sq_viewer *v, int64_t used, int64_t baseline)
{
    if (!v)
        return;
    pthread_mutex_lock(&v->lock);
    if (v->running) {
        v->post_used = used;
        v->post_baseline = baseline;
        v->post_state = true;
        v->posted++;
        wake_locked(v);
    }
    pthread_mutex_unlock(&v->lock);
}

void
sq_viewer_set_status(sq_viewer *v, const char *text)
{
    if (!v)
        return;
    pthread_mutex_lock(&v->lock);
    if (v->running) {
        snprintf(v->post_status, sizeof v->post_status, "%s", text ? text : "");
        v->post_state = true;
        v->posted++;
        wake_locked(v);
    }
    pthread_mutex_unlock(&v->lock);
}

bool
sq_viewer_is_open(const sq_viewer *v)
{
    if (!v)
        return false;
    sq_viewer *m = (sq_viewer *)v;  /* the lock is the only thing touched */
    pthread_mutex_lock(&m->lock);
    bool running = m->running;
    pthread_mutex_unlock(&m->lock);
    return running;
}

sq_status
sq_viewer_screenshot(sq_viewer *v, const char *path, sq_error *err)
{
    if (!v || !path)
        return sq_error_set(err, SQ_ERR_INVALID_ARG, "screenshot: no viewer or no path");
    shot_request shot = { .status = SQ_OK };
    pthread_mutex_lock(&v->lock);
    while (v->running && v->shot)  /* one request at a time */
        pthread_cond_wait(&v->cond, &v->lock);
    if (!v->running) {
        pthread_mutex_unlock(&v->lock);
        return sq_error_set(err, SQ_ERR_UNSUPPORTED, "screenshot: the viewer window was closed");
    }
    v->shot = &shot;
    wake_locked(v);
    while (!shot.done)
        pthread_cond_wait(&v->cond, &v->lock);
    pthread_mutex_unlock(&v->lock);

    if (shot.status != SQ_OK) {
        if (err)
            *err = shot.err;
        return shot.status;
    }
    sq_status st = sqv_save_rgb(path, shot.w, shot.h, shot.rgb, err);
    free(shot.rgb);
    return st;
}

void
sq_viewer_wait_idle(sq_viewer *v)
{
    if (!v)
        return;
    pthread_mutex_lock(&v->lock);
    uint64_t target = v->posted;
    while (v->running && (v->taken < target || v->animating || v->post_show || v->post_zoom))
        pthread_cond_wait(&v->cond, &v->lock);
    pthread_mutex_unlock(&v->lock);
}

void
sq_viewer_close(sq_viewer *v)
{
    if (!v)
        return;
    pthread_mutex_lock(&v->lock);
    v->quit = true;
    if (v->running)
        wake_locked(v);
    pthread_mutex_unlock(&v->lock);
    pthread_join(v->thread, NULL);
    viewer_free(v);

    pthread_mutex_lock(&instance_lock);
    instance_taken = false;
    pthread_mutex_unlock(&instance_lock);
}
