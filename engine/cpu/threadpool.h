/* threadpool.h — a persistent pool of worker threads for the CPU backend.
 *
 * sq_pool_run splits `n_tasks` work items over the workers and the calling
 * thread and returns when all are done.  Items are claimed in chunks, so a
 * worker that the OS has not scheduled yet simply takes no part.  Workers
 * spin for about a millisecond between jobs (decode issues hundreds of small
 * jobs per token) and then sleep.
 */
#pragma once

#include <stdint.h>

#include "status.h"

typedef struct sq_pool sq_pool;

/* fn(ctx, first, last, thread) handles items [first, last); thread is in
 * [0, sq_pool_size) and lets a job index per-thread scratch memory. */
typedef void (*sq_pool_fn)(void *ctx, int64_t first, int64_t last, int thread);

sq_status sq_pool_new(int n_threads, sq_pool **out, sq_error *err);
void      sq_pool_free(sq_pool *pool);
int       sq_pool_size(const sq_pool *pool);
/* Runs fn over [0, n_tasks) in chunks of at least `grain` items. */
void      sq_pool_run(sq_pool *pool, sq_pool_fn fn, void *ctx, int64_t n_tasks, int64_t grain);
