/* test-threadpool.c — the CPU backend's thread pool under back-to-back jobs
 * of different sizes, functions and contexts: every item must run exactly
 * once, with its own job's function and context, and sq_pool_run must not
 * return while any of its items is still running. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/threadpool.h"
#include "tap.h"

typedef struct {
    int          id;
    _Atomic int *hits;      /* per item */
    atomic_int   wrong;     /* a chunk ran with another job's context */
    atomic_int   running;   /* chunks in flight */
} job;

static void
run_a(void *ctx, int64_t first, int64_t last, int thread)
{
    (void)thread;
    job *j = ctx;
    atomic_fetch_add(&j->running, 1);
    for (int64_t i = first; i < last; i++)
        atomic_fetch_add(&j->hits[i], 1);
    atomic_fetch_sub(&j->running, 1);
}

static void
run_b(void *ctx, int64_t first, int64_t last, int thread)
{
    (void)thread;
    job *j = ctx;
    if (j->id % 2 == 0)          /* run_b only ever gets odd jobs */
        atomic_fetch_add(&j->wrong, 1);
    run_a(ctx, first, last, thread);
}

int
main(void)
{
    sq_pool *pool = NULL;
    sq_error err = { 0 };
    if (!ok(sq_pool_new(3, &pool, &err) == SQ_OK, "a pool of 3 threads"))
        return tap_done();
    int bad_counts = 0, bad_ctx = 0, early = 0;
    enum { JOBS = 20000, MAX_N = 257 };
    _Atomic int *hits = calloc(MAX_N, sizeof *hits);
    for (int k = 0; k < JOBS; k++) {
        /* a fresh job on the stack each time, as the backend's ops do */
        job j = { .id = k, .hits = hits };
        int64_t n = 1 + (k * 7919) % MAX_N;
        for (int64_t i = 0; i < n; i++)
            atomic_store(&hits[i], 0);
        sq_pool_run(pool, k % 2 ? run_b : run_a, &j, n, 1 + k % 5);
        if (atomic_load(&j.running) != 0)
            early++;
        for (int64_t i = 0; i < n; i++)
            if (atomic_load(&hits[i]) != 1)
                bad_counts++;
        bad_ctx += atomic_load(&j.wrong);
        /* scribble over the old job, as a new stack frame would */
        memset(&j, 0xa5, sizeof j);
    }
    ok(bad_counts == 0, "%d jobs: every item ran exactly once (%d wrong counts)", JOBS, bad_counts);
    ok(bad_ctx == 0, "no chunk ran with another job's function (%d)", bad_ctx);
    ok(early == 0, "sq_pool_run never returned with chunks in flight (%d)", early);
    free(hits);
    sq_pool_free(pool);
    return tap_done();
}
