/* tap.h — a tiny TAP producer for the engine's test programs (no GLib in the
 * engine, so its tests use this instead of GTest).  Each check prints one
 * "ok N - what" / "not ok N - what" line; tap_done() prints the plan and
 * returns the exit status for main(). */
#pragma once

#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

static int tap_count_;
static int tap_failed_;

__attribute__((format(printf, 4, 5), unused)) static bool
tap_check_(bool ok, const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    tap_count_++;
    printf("%s %d - ", ok ? "ok" : "not ok", tap_count_);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    if (!ok) {
        tap_failed_++;
        printf("#   failed at %s:%d\n", file, line);
    }
    fflush(stdout);
    return ok;
}

/* ok(cond, "description %d", …) */
#define ok(cond, ...) tap_check_(!!(cond), __FILE__, __LINE__, __VA_ARGS__)

/* diag("…") prints a comment line that TAP consumers show on failure. */
__attribute__((format(printf, 1, 2), unused)) static void
diag(const char *fmt, ...)
{
    va_list ap;
    printf("# ");
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    fflush(stdout);
}

__attribute__((unused)) static int
tap_done(void)
{
    printf("1..%d\n", tap_count_);
    if (tap_failed_)
        printf("# %d of %d checks failed\n", tap_failed_, tap_count_);
    return tap_failed_ ? 1 : 0;
}

/* Directory holding test data; meson passes it in SQ_TEST_DATA. */
__attribute__((unused)) static const char *
tap_data_dir(void)
{
    const char *d = getenv("SQ_TEST_DATA");
    return d ? d : "tests/data";
}
