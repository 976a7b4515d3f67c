/* threadpool.c — persistent workers that spin briefly between jobs.
 *
 * A job is published by writing its fields, resetting `done`, storing the
 * claim counter `next` (job tag in the high bits, item index in the low
 * ones) and bumping `generation`.  Everyone — the caller included — claims
 * chunks with a compare-and-swap on `next` that also checks the tag, so a
 * worker that wakes up late can never claim items of a job that has moved
 * on, and the caller returns as soon as every item is done, whether or not
 * each worker took part.  That matters on a busy 2-core machine: a worker
 * the scheduler has not run yet costs nothing but its share of the work.
 *
 * Idle workers spin on `generation` (with the CPU's pause hint, no system
 * calls) for about a millisecond — decode issues a few hundred small jobs
 * per token, microseconds apart — and then sleep on a condition variable;
 * the publisher signals it only when someone sleeps.
 */
#include "threadpool.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define cpu_relax() _mm_pause()
#elif defined(__aarch64__)
#define cpu_relax() __asm__ __volatile__("yield")
#else
#define cpu_relax() ((void)0)
#endif

#define TAG_SHIFT  40
#define INDEX_MASK ((UINT64_C(1) << TAG_SHIFT) - 1)
#define TAG_MASK   ((UINT64_C(1) << (64 - TAG_SHIFT)) - 1)
#define SPIN_NS    1000000   /* idle spin before sleeping */

typedef struct {
    sq_pool *pool;
    int      index;
} worker_arg;

struct sq_pool {
    int             n_threads;   /* including the caller */
    pthread_t      *threads;
    worker_arg     *args;
    pthread_mutex_t lock;
    pthread_cond_t  wake;
    /* the current job, stored (relaxed) before `next` and `generation`
     * publish it */
    _Atomic(sq_pool_fn) fn;
    _Atomic(void *)     ctx;
    _Atomic int64_t     n_tasks, chunk;
    /* the hot atomics on their own cache lines */
    _Alignas(64) _Atomic uint64_t next;    /* tag << TAG_SHIFT | next unclaimed item */
    _Alignas(64) _Atomic int64_t  done;    /* items finished */
    _Alignas(64) _Atomic uint32_t generation;
    _Atomic int     sleepers;
    _Atomic bool    quit;
};

static uint64_t
now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Claims and runs chunks of the job tagged `tag` until none is left. */
static void
work(sq_pool *p, uint64_t tag, int thread)
{
    uint64_t cur = atomic_load(&p->next);
    for (;;) {
        if ((cur >> TAG_SHIFT) != tag)
            return;
        /* Read after `next`: while an item of this tag is unclaimed the
         * job cannot have been replaced, and a stale read only leads to a
         * failing compare-and-swap. */
        int64_t first = (int64_t)(cur & INDEX_MASK);
        int64_t n = atomic_load(&p->n_tasks);
        int64_t chunk = atomic_load(&p->chunk);
        if (first >= n)
            return;
        int64_t last = first + chunk < n ? first + chunk : n;
        if (!atomic_compare_exchange_weak(&p->next, &cur, (tag << TAG_SHIFT) | (uint64_t)last))
            continue;
        sq_pool_fn fn = atomic_load_explicit(&p->fn, memory_order_relaxed);
        fn(atomic_load_explicit(&p->ctx, memory_order_relaxed), first, last, thread);
        atomic_fetch_add(&p->done, last - first);
        cur = atomic_load(&p->next);
    }
}

static void *
worker_main(void *arg)
{
    worker_arg *wa = arg;
    sq_pool *p = wa->pool;
    uint32_t seen = atomic_load(&p->generation);
    for (;;) {
        uint32_t gen = atomic_load(&p->generation);
        if (gen == seen && !atomic_load(&p->quit)) {
            uint64_t t0 = now_ns();
            for (int spins = 1; (gen = atomic_load(&p->generation)) == seen && !atomic_load(&p->quit); spins++) {
                cpu_relax();
                if (spins % 1024 == 0 && now_ns() - t0 > SPIN_NS)
                    break;
            }
            if (gen == seen && !atomic_load(&p->quit)) {
                pthread_mutex_lock(&p->lock);
                atomic_fetch_add(&p->sleepers, 1);
                while ((gen = atomic_load(&p->generation)) == seen && !atomic_load(&p->quit))
                    pthread_cond_wait(&p->wake, &p->lock);
                atomic_fetch_sub(&p->sleepers, 1);
                pthread_mutex_unlock(&p->lock);
            }
        }
        if (atomic_load(&p->quit))
            return NULL;
        seen = gen;
        work(p, gen & TAG_MASK, wa->index);
    }
}

sq_status
sq_pool_new(int n_threads, sq_pool **out, sq_error *err)
{
    if (n_threads < 1)
        n_threads = 1;
    sq_pool *p = aligned_alloc(64, (sizeof *p + 63) & ~(size_t)63);
    if (!p)
        return sq_error_set(err, SQ_ERR_NOMEM, "out of memory creating the thread pool");
    memset(p, 0, sizeof *p);
    p->n_threads = n_threads;
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->wake, NULL);
    p->threads = calloc((size_t)n_threads, sizeof *p->threads);
    p->args = calloc((size_t)n_threads, sizeof *p->args);
    if (!p->threads || !p->args) {
        p->n_threads = 1;
        sq_pool_free(p);
        return sq_error_set(err, SQ_ERR_NOMEM, "out of memory creating the thread pool");
    }
    for (int i = 1; i < n_threads; i++) {
        p->args[i] = (worker_arg){ p, i };
        if (pthread_create(&p->threads[i], NULL, worker_main, &p->args[i]) != 0) {
            p->n_threads = i;
            sq_pool_free(p);
            return sq_error_set(err, SQ_ERR_NOMEM, "cannot start worker thread %d", i);
        }
    }
    *out = p;
    return SQ_OK;
}

void
sq_pool_free(sq_pool *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->lock);
    atomic_store(&p->quit, true);
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->lock);
    for (int i = 1; i < p->n_threads; i++)
        if (p->threads)
            pthread_join(p->threads[i], NULL);
    pthread_mutex_destroy(&p->lock);
    pthread_cond_destroy(&p->wake);
    free(p->threads);
    free(p->args);
    free(p);
}

int
sq_pool_size(const sq_pool *p)
{
    return p->n_threads;
}

void
sq_pool_run(sq_pool *p, sq_pool_fn fn, void *ctx, int64_t n_tasks, int64_t grain)
{
    if (n_tasks <= 0)
        return;
    if (grain < 1)
        grain = 1;
    /* Several chunks per thread so a slow or preempted core does not hold
     * everyone up. */
    int64_t chunk = n_tasks / (p->n_threads * 4);
    if (chunk < grain)
        chunk = grain;
    if (p->n_threads == 1 || n_tasks <= chunk) {
        fn(ctx, 0, n_tasks, 0);
        return;
    }
    uint32_t gen = atomic_load(&p->generation) + 1;
    uint64_t tag = gen & TAG_MASK;
    /* Retire the previous job's `next` before touching the job fields: a
     * worker still holding the old value would otherwise win its
     * compare-and-swap against it, with this job's fn and the old ctx. */
    atomic_store(&p->next, (tag << TAG_SHIFT) | INDEX_MASK);
    atomic_store_explicit(&p->fn, fn, memory_order_relaxed);
    atomic_store_explicit(&p->ctx, ctx, memory_order_relaxed);
    atomic_store_explicit(&p->n_tasks, n_tasks, memory_order_relaxed);
    atomic_store_explicit(&p->chunk, chunk, memory_order_relaxed);
    atomic_store(&p->done, 0);
    atomic_store(&p->next, tag << TAG_SHIFT);
    atomic_store(&p->generation, gen);
    if (atomic_load(&p->sleepers) > 0) {
        pthread_mutex_lock(&p->lock);
        pthread_cond_broadcast(&p->wake);
        pthread_mutex_unlock(&p->lock);
    }
    work(p, tag, 0);
    /* Chunks still running on workers: spin briefly (~50 µs), then give the
     * core away in case the worker we wait for shares it. */
    for (int spins = 0; atomic_load(&p->done) < n_tasks; spins++) {
        if (spins < 2000)
            cpu_relax();
        else
            sched_yield();
    }
}
