/* term-view.c — the model's-eye view for squint-cli (see term-view.h). */
#include "term-view.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#ifdef SQ_HAVE_VIEWER
#include "squint-viewer.h"

struct term_view {
    sq_viewer *v;
    sq_image   full;   /* the original of the question's first image */
};

term_view *
term_view_open(void)
{
    sq_viewer_params p = sq_viewer_default_params();
    p.title = "Squint — what the model sees";
    sq_error err = { 0 };
    term_view *tv = calloc(1, sizeof *tv);
    if (!tv || sq_viewer_open(&p, &tv->v, &err) != SQ_OK) {
        fprintf(stderr, "squint-cli: no model's-eye view: %s\n", tv ? err.msg : "out of memory");
        free(tv);
        return NULL;
    }
    return tv;
}

void
term_view_close(term_view *tv)
{
    if (!tv)
        return;
    sq_viewer_close(tv->v);
    sq_image_free(&tv->full);
    free(tv);
}

void
term_view_question(term_view *tv, const sq_image *const *images, size_t n, sq_policy policy)
{
    if (!tv || n == 0)
        return;
    sq_image_free(&tv->full);
    sq_error err = { 0 };
    if (sq_image_copy(images[0], &tv->full, &err) != SQ_OK)
        return;
    sq_image half = { 0 };
    /* the same half-size pass the engine feeds, so the pixels are the model's */
    if (policy != SQ_POLICY_FULL && sq_image_half(images[0], &half, &err) == SQ_OK) {
        sq_viewer_show(tv->v, &half, images[0]->w, images[0]->h);
        sq_viewer_set_status(tv->v, "looking at half size");
        sq_image_free(&half);
    } else {
        sq_viewer_show(tv->v, images[0], images[0]->w, images[0]->h);
        sq_viewer_set_status(tv->v, "looking at full size");
    }
}

void
term_view_event(term_view *tv, const sq_event *ev)
{
    if (!tv)
        return;
    if (ev->kind == SQ_EVENT_ZOOM_REQUESTED && tv->full.rgb) {
        sq_viewer_set_status(tv->v, "zooming in…");
        sq_viewer_zoom(tv->v, &tv->full);
    } else if (ev->kind == SQ_EVENT_ZOOM_DONE) {
        sq_viewer_set_status(tv->v, "looking at the full image");
    }
}

void
term_view_answer(term_view *tv, const sq_answer *a, const sq_stats *totals)
{
    if (!tv)
        return;
    sq_viewer_set_ledger(tv->v, totals->visual_used, totals->visual_baseline);
    sq_viewer_set_status(tv->v, a->zoomed ? "answered after zooming in" : "answered");
}

void
term_view_wait_closed(term_view *tv)
{
    if (!tv)
        return;
    fflush(stdout);
    fprintf(stderr, "(close the view window, or press Q in it, to finish)\n");
    while (sq_viewer_is_open(tv->v))
        usleep(100 * 1000);
}

#else

struct term_view {
    int unused;
};

term_view *
term_view_open(void)
{
    fprintf(stderr, "squint-cli: this build has no model's-eye view (it was built without SDL2)\n");
    return NULL;
}

void term_view_close(term_view *tv) { (void)tv; }
void term_view_question(term_view *tv, const sq_image *const *images, size_t n, sq_policy policy)
{
    (void)tv; (void)images; (void)n; (void)policy;
}
void term_view_event(term_view *tv, const sq_event *ev) { (void)tv; (void)ev; }
void term_view_answer(term_view *tv, const sq_answer *a, const sq_stats *totals) { (void)tv; (void)a; (void)totals; }
void term_view_wait_closed(term_view *tv) { (void)tv; }

#endif
