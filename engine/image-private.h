/* image-private.h — shared by image.c and stb-image-impl.c (and white-box
 * tests); not part of the engine's API.
 *
 * Every allocation stb_image makes goes through a per-thread budget, so that
 * a file whose compressed data inflates far beyond what its header declares
 * cannot make the decoder allocate without bound.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* The size an image header declares, read by the one stb_image decoder whose
 * signature matches (PNG, GIF, BMP, PNM, else JPEG).  On false,
 * stbi_failure_reason() says why ("too large" for sizes stb refuses). */
bool sq_stbi_info_memory(const void *data, int size, int *w, int *h);
bool sq_stbi_info_file(FILE *f, int *w, int *h);

/* Starts a budget of limit bytes for stb_image's allocations on this thread
 * and resets the statistics below. */
void sq_stbi_budget_begin(size_t limit);

/* Ends the budget (back to unlimited).  Returns true when an allocation was
 * refused because it would have exceeded the limit. */
bool sq_stbi_budget_end(void);

/* The largest number of bytes stb_image held at once during the last budget
 * on this thread (0 when it allocated nothing). */
size_t sq_stbi_last_peak_bytes(void);
