/* term-output.h — what squint-cli prints about answers: the ledger line,
 * the zoom notice and the JSON summary line, shared by `run` and `chat`. */
#pragma once

#include <stdio.h>

#include "squint.h"

/* "visual tokens: 240 used / 192 full-resolution (saved -48, -25.0%) · zoomed in · 31.2 tok/s" */
void term_print_ledger(FILE *out, const sq_answer *a);

/* The conversation's running total, for /stats. */
void term_print_session_stats(FILE *out, const sq_session *s);

/* Prints events worth a line (zooming in…, image encoded) to out. */
void term_print_event(FILE *out, const sq_event *ev);

/* Writes s as a JSON string literal (quotes included). */
void term_json_string(FILE *out, const char *s);

/* One JSON line describing an answer: policy, zoom decision, ledger,
 * per-pass timings, generated ids and the answer text. */
void term_print_answer_json(FILE *out, const sq_session *s, sq_policy policy, const sq_answer *a,
                            const int32_t *ids, size_t n_ids);
