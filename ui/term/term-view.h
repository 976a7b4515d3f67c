/* term-view.h — squint-cli's --view: drives the SDL2 model's-eye view from
 * the answer loop.  Built without SDL2, term_view_open says so and returns
 * NULL, and every other call accepts NULL. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "squint.h"

typedef struct term_view term_view;

/* Opens the window; NULL (with a message on stderr) when it cannot. */
term_view *term_view_open(void);
void       term_view_close(term_view *tv);

/* A question is about to be asked with these images under this policy. */
void term_view_question(term_view *tv, const sq_image *const *images, size_t n, sq_policy policy);
/* Forwards the loop's events (the zoom). */
void term_view_event(term_view *tv, const sq_event *ev);
/* The answer is in: the ledger bar and the conversation's totals. */
void term_view_answer(term_view *tv, const sq_answer *a, const sq_stats *totals);
/* Blocks until the user closes the window (run --view, after the answer). */
void term_view_wait_closed(term_view *tv);
