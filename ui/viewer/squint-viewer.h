/* squint-viewer.h — the "model's-eye view": an SDL2 window that shows exactly
 * the pixels the model is looking at.
 *
 * VisionThink's first pass sees an image at half width and height.  The
 * viewer shows those pixels scaled up to the window with nearest-neighbour
 * (so the detail the model lost is visible as blocks), and when the model
 * asks for the full image it animates a zoom/sharpen to the full-resolution
 * pixels.  A bar at the bottom compares the visual tokens used so far with
 * the always-full-resolution baseline.
 *
 *     sq_viewer *v;
 *     if (sq_viewer_open(NULL, &v, &err) != SQ_OK) { warn(err.msg); v = NULL; }
 *     sq_viewer_show(v, &half, img.w, img.h);   // pass 1: what the model sees
 *     sq_viewer_set_status(v, "looking at half size");
 *     ...
 *     sq_viewer_zoom(v, &img);                  // the model asked for the full image
 *     sq_viewer_set_ledger(v, used, baseline);
 *     ...
 *     sq_viewer_close(v);
 *
 * Keys: F toggles fullscreen; Escape leaves fullscreen, or closes the window
 * when not fullscreen; Q closes the window.  Closing the window does not end
 * the program: the viewer just stops showing (sq_viewer_is_open() turns
 * false) and every later call is a no-op until sq_viewer_close().
 *
 * Thread safety: the window runs on its own thread with its own event loop.
 * Every function may be called from any thread and returns at once — images
 * are copied and posted to the viewer thread — except sq_viewer_open() (waits
 * for the window to exist or fail), sq_viewer_screenshot() and
 * sq_viewer_wait_idle(), which wait for the viewer thread by design.  NULL
 * for the viewer is accepted everywhere and does nothing, so a caller whose
 * open failed can keep calling.  sq_viewer_close() must be the last call on a
 * viewer and must not race with other calls on it.
 *
 * SDL is process-global, so one viewer may be open at a time per process; a
 * second sq_viewer_open() fails with SQ_ERR_UNSUPPORTED.  The program must
 * not use SDL's video subsystem itself while a viewer is open.  (On macOS,
 * where windows must live on the main thread, this design does not work;
 * Squint targets Linux/X11 and Wayland.)
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "image.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sq_viewer sq_viewer;

typedef struct {
    const char *title;       /* window title (UTF-8); copied */
    int         width;       /* initial window size in pixels; ≤ 0: default */
    int         height;
    bool        fullscreen;  /* start fullscreen (desktop resolution) */
} sq_viewer_params;

/* "Squint — model's-eye view", 1024×768, windowed. */
sq_viewer_params sq_viewer_default_params(void);

/* Starts the window on its own thread; fails with a clear message (no crash)
 * when there is no display or SDL cannot start: SQ_ERR_BACKEND.  p may be
 * NULL for the defaults.  On failure *out is NULL. */
sq_status sq_viewer_open(const sq_viewer_params *p, sq_viewer **out, sq_error *err);

/* The pixels the model sees now (copied): shown scaled to the window with
 * nearest-neighbour, letterboxed to the original aspect ratio; full_w/full_h:
 * the original size, for the caption (≤ 0: the seen image's own size).
 * Replaces whatever was shown and stops a running zoom.  NULL or an empty
 * image clears the view. */
void sq_viewer_show(sq_viewer *v, const sq_image *seen, int full_w, int full_h);

/* The model asked for the full image: animate (≈0.8 s, ease-in-out) from the
 * current pixelated view to the sharp full image (copied). */
void sq_viewer_zoom(sq_viewer *v, const sq_image *full);

/* The ledger bar: visual tokens used so far vs. the always-full baseline.
 * baseline ≤ 0 hides the numbers. */
void sq_viewer_set_ledger(sq_viewer *v, int64_t used, int64_t baseline);

/* A one-line status ("looking at half size", "zooming in…", "answered");
 * UTF-8, copied; NULL clears it. */
void sq_viewer_set_status(sq_viewer *v, const char *text);

/* False once the user closed the window (or the viewer thread stopped). */
bool sq_viewer_is_open(const sq_viewer *v);

/* Renders the current frame and writes it to path: PNG when the name ends in
 * ".png", BMP when it ends in ".bmp" (SQ_ERR_INVALID_ARG otherwise).  Waits
 * for the viewer thread.  SQ_ERR_UNSUPPORTED once the window was closed;
 * SQ_ERR_IO when the file cannot be written. */
sq_status sq_viewer_screenshot(sq_viewer *v, const char *path, sq_error *err);

/* Waits until everything posted so far has been taken up and any running zoom
 * animation has finished.  Returns at once when the window is closed. */
void sq_viewer_wait_idle(sq_viewer *v);

/* Closes the window (if still open), stops the thread and frees the viewer. */
void sq_viewer_close(sq_viewer *v);

#ifdef __cplusplus
}
#endif
