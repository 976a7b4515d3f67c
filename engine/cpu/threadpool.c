/* threadpool.c — persistent workers with a generation counter.
 *
 * A job is published by bumping `generation`; workers claim chunks from an
 * atomic counter, so uneven chunks balance themselves.  The caller works too
 * and then waits for `active` to reach zero.
 */
#include "threadpool.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define SPIN_ROUNDS 20000

typedef struct {
    sq_pool *pool;
    int      index;
} worker_arg;

struct sq_pool {
    int            n_threads;   /* including the caller */
    pthread_t     *threads;
    worker_arg    *args;
    pthread_mutex_t lock;
    pthread_cond_t  wake;
    /* the current job */
    sq_pool_fn     fn;
    void          *ctx;
    int64_t        n_tasks, chunk;
    atomic_int_fast64_t next;     /* next unclaimed item */
    atomic_int     active;        /* workers still inside the job */
    atomic_uint    generation;
    atomic_bool    quit;
};

static void
work(sq_pool *p, int thread)
{
    for (;;) {
        int64_t first = atomic_fetch_add(&p->next, p->chunk);
        if (first >= p->n_tasks)
            return;
        int64_t last = first + p->chunk < p->n_tasks ? first + p->chunk : p->n_tasks;
        p->fn(p->ctx, first, last, thread);
    }
}

static void *
worker_main(void *arg)
{
    worker_arg *wa = arg;
    sq_pool *p = wa->pool;
    int thread = wa->index;
    unsigned seen = 0;
    for (;;) {
        unsigned gen;
        int spins = 0;
        while ((gen = atomic_load(&p->generation)) == seen && !atomic_load(&p->quit)) {
            if (++spins < SPIN_ROUNDS) {
                sched_yield();
                continue;
            }
            pthread_mutex_lock(&p->lock);
            while (atomic_load(&p->generation) == seen && !atomic_load(&p->quit))
                pthread_cond_wait(&p->wake, &p->lock);
            pthread_mutex_unlock(&p->lock);
        }
        if (atomic_load(&p->quit))
            return NULL;
        seen = gen;
        work(p, thread);
        atomic_fetch_sub(&p->active, 1);
    }
}

sq_status
sq_pool_new(int n_threads, sq_pool **out, sq_error *err)
{
    if (n_threads < 1)
        n_threads = 1;
    sq_pool *p = calloc(1, sizeof *p);
    if (!p)
        return sq_error_set(err, SQ_ERR_NOMEM, "out of memory creating the thread pool");
    p->n_threads = n_threads;
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->wake, NULL);
    p->threads = calloc((size_t)n_threads, sizeof *p->threads);
    p->args = calloc((size_t)n_threads, sizeof *p->args);
    if (!p->threads || !p->args) {
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
    /* Several chunks per thread so a slow core does not hold everyone up. */
    int64_t chunk = n_tasks / (p->n_threads * 4);
    if (chunk < grain)
        chunk = grain;
    if (p->n_threads == 1 || n_tasks <= chunk) {
        fn(ctx, 0, n_tasks, 0);
        return;
    }
    p->fn = fn;
    p->ctx = ctx;
    p->n_tasks = n_tasks;
    p->chunk = chunk;
    atomic_store(&p->next, 0);
    atomic_store(&p->active, p->n_threads - 1);
    pthread_mutex_lock(&p->lock);
    atomic_fetch_add(&p->generation, 1);
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->lock);
    work(p, 0);
    while (atomic_load(&p->active) > 0)
        ;
}
