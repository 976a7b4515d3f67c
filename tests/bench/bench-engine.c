/* bench-engine.c — the engine's speed against what the machine allows, on
 * the CPU backend, the OpenCL backend or both side by side.
 *
 *   bench-engine TEXT.gguf MMPROJ.gguf [options]
 *   bench-engine --models PREFIX [--make-model EXE --preset P --type T] [options]
 *
 * For each backend of --backend (default cpu; "cpu,opencl" for both) it
 * measures, and prints in one table, a column per backend, the ratio
 * OpenCL/CPU, and each value as a fraction of its own device's roofline:
 *   - the memory read bandwidth of the backend's device: for the CPU a
 *     streaming read of a 1 GiB buffer by as many threads as the engine uses
 *     (and by one), for OpenCL a kernel summing a 1 GiB device buffer
 *     (opencl/cl-bandwidth.h); best of 10 passes, measured before and after
 *     the backend's runs, the best counting;
 *   - decode tokens/s with N threads (default 2; the CPU backend's only) and,
 *     on the CPU, with 1, from the median token time of the best of --rounds
 *     rounds (so that a preemption on a shared machine does not count, and
 *     like the bandwidth's best pass; the mean of all is printed too), against
 *     the roofline bandwidth ÷ weight bytes read per token
 *     (sq_model_get_info().weight_bytes, cross-checked against the GGUF's
 *     tensor table: every block matrix plus the output matrix);
 *   - prefill tokens/s for a 512-token text prompt, against the weights read
 *     once per batch of 512 rows;
 *   - vision encode time of a 1008×756 image and of its VisionThink half
 *     (504×378 by Lanczos), against the vision weights read once;
 *   - time to first token (encode + prefill of a one-image chat prompt) of
 *     the low-resolution pass and of the full-resolution pass;
 *   - peak RSS against the model files plus the KV cache.
 * Prefill and encode are compute-bound: their fractions of the memory
 * roofline are far below 1 and say how far from it they are, no more.
 *
 * Every backend runs in a child process of its own (and every bandwidth
 * measurement in another), so that its peak RSS is its own (wait4), a 1 GiB
 * bandwidth buffer never counts in it, and no OpenCL driver state lives in
 * this process when it forks the next child.
 *
 * When OpenCL is asked for but there is no OpenCL device (or SQUINT_DEVICE
 * names none), or this build has no OpenCL backend, a line says so and the
 * table has the CPU column only; that is not a failure (exit 0).  Any other
 * failure of a backend exits 1 after printing what was measured.
 *
 * With --models PREFIX the pair is PREFIX-text.gguf / PREFIX-mmproj.gguf;
 * when those are missing and --make-model is given, that program
 * (squint-make-model) writes them first.
 *
 * Decode feeds one token at a time through sq_session_eval_tokens and picks
 * the next by argmax, which is what generation does minus detokenization.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "gguf.h"
#include "quant.h"
#include "squint.h"
#ifdef SQ_HAVE_OPENCL
#include "cl-bandwidth.h"
#endif

static double
now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* CPU seconds (user + system) this process has used. */
static double
cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6 + (double)ru.ru_stime.tv_sec +
           (double)ru.ru_stime.tv_usec * 1e-6;
}

/* Wall and CPU time of one phase: cores = cpu / wall shows how much of the
 * machine the phase got (below the thread count: others were running; for
 * OpenCL on a CPU device, the driver's threads count too). */
typedef struct {
    double wall, cpu;
} phase;

static phase
phase_start(void)
{
    return (phase){ now_s(), cpu_s() };
}

static double
phase_cores(phase p)
{
    double wall = now_s() - p.wall;
    return wall > 0 ? (cpu_s() - p.cpu) / wall : 0;
}

static double
file_mb(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (double)st.st_size / 1e6 : 0.0;
}

/* ---- the backends ---- */

enum { BK_CPU, BK_OPENCL, BK_COUNT };
static const char *const bk_name[BK_COUNT] = { "cpu", "opencl" };

typedef struct {
    const char *text, *mmproj;
    int         threads, n_decode, n_prefill, n_ctx, rounds;
    bool        vision, one_thread;
} bench_opts;

/* ---- child processes ---- */

static bool
write_all(int fd, const void *buf, size_t size)
{
    const char *p = buf;
    while (size > 0) {
        ssize_t w = write(fd, p, size);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        p += w;
        size -= (size_t)w;
    }
    return true;
}

static bool
read_all(int fd, void *buf, size_t size)
{
    char *p = buf;
    while (size > 0) {
        ssize_t r = read(fd, p, size);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return false;
        p += r;
        size -= (size_t)r;
    }
    return true;
}

/* Runs fn(arg, out) in a child process and reads its `size`-byte result
 * back through a pipe; *rss_mb (may be NULL) gets the child's peak RSS.
 * False when the child could not start, died or wrote less. */
static bool
run_child(void (*fn)(const void *arg, void *out), const void *arg, void *out, size_t size, double *rss_mb)
{
    int fd[2];
    if (pipe(fd) != 0)
        return false;
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        close(fd[0]);
        close(fd[1]);
        return false;
    }
    if (pid == 0) {
        close(fd[0]);
        void *res = calloc(1, size);
        bool good = res != NULL;
        if (good) {
            fn(arg, res);
            good = write_all(fd[1], res, size);
        }
        fflush(stdout);
        fflush(stderr);
        _exit(good ? 0 : 1);
    }
    close(fd[1]);
    bool got = read_all(fd[0], out, size);
    close(fd[0]);
    int status = 0;
    struct rusage ru;
    memset(&ru, 0, sizeof ru);
    while (wait4(pid, &status, 0, &ru) < 0 && errno == EINTR)
        ;
    if (rss_mb)
        *rss_mb = (double)ru.ru_maxrss * 1024.0 / 1e6;
    return got && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* ---- memory bandwidth ---- */

typedef struct {
    const uint64_t    *data;
    size_t             n;        /* words */
    pthread_barrier_t *start;
    uint64_t           sum;
} bw_arg;

static void *
bw_read(void *p)
{
    bw_arg *a = p;
    pthread_barrier_wait(a->start);
    /* eight independent sums: the loop is load-bound, not add-bound */
    uint64_t s[8] = { 0 };
    for (size_t i = 0; i + 8 <= a->n; i += 8)
        for (int k = 0; k < 8; k++)
            s[k] += a->data[i + k];
    a->sum = s[0] + s[1] + s[2] + s[3] + s[4] + s[5] + s[6] + s[7];
    return NULL;
}

/* Best read bandwidth in GB/s over `runs` passes of n_threads threads, each
 * streaming its contiguous share of the buffer once. */
static double
measure_bandwidth(const uint64_t *buf, size_t words, int n_threads, int runs)
{
    double best = 0.0;
    pthread_t th[64];
    bw_arg args[64];
    if (n_threads > 64)
        n_threads = 64;
    for (int r = 0; r < runs; r++) {
        pthread_barrier_t start;
        pthread_barrier_init(&start, NULL, (unsigned)n_threads + 1);
        size_t per = words / (size_t)n_threads / 8 * 8;
        for (int t = 0; t < n_threads; t++) {
            args[t] = (bw_arg){ buf + per * (size_t)t, per, &start, 0 };
            pthread_create(&th[t], NULL, bw_read, &args[t]);
        }
        double t0 = now_s();
        pthread_barrier_wait(&start);
        uint64_t sink = 0;
        for (int t = 0; t < n_threads; t++) {
            pthread_join(th[t], NULL);
            sink += args[t].sum;
        }
        double dt = now_s() - t0;
        pthread_barrier_destroy(&start);
        double gbs = (double)(per * (size_t)n_threads * 8) / dt / 1e9;
        if (gbs > best && sink != 1) /* sink keeps the sums alive */
            best = gbs;
    }
    return best;
}

/* One bandwidth measurement of one backend's device, made in a child. */
typedef struct {
    int  backend;
    int  threads;
    bool one_thread;   /* the CPU: measure one thread too */
} bw_job;

typedef struct {
    sq_status status;
    char      msg[SQ_ERROR_MAX];
    double    gbs;          /* best: the engine's threads, or the OpenCL device */
    double    gbs1;         /* the CPU: one thread */
    double    median_gbs;   /* OpenCL */
    double    mib;          /* buffer size */
    int       passes;
    bool      events, cpu_shape;
    char      device[320];  /* OpenCL: name, type, platform, compute units */
} bw_result;

static void
bw_child(const void *argp, void *outp)
{
    const bw_job *job = argp;
    bw_result *r = outp;
    r->status = SQ_OK;
    if (job->backend == BK_CPU) {
        size_t bytes = (size_t)1 << 30, words = bytes / 8;
        uint64_t *buf = aligned_alloc(4096, bytes);
        if (!buf) {
            r->status = SQ_ERR_NOMEM;
            snprintf(r->msg, sizeof r->msg, "cannot allocate 1 GiB to measure the CPU's bandwidth");
            return;
        }
        for (size_t i = 0; i < words; i++) /* fault every page in, non-zero */
            buf[i] = i;
        r->gbs = measure_bandwidth(buf, words, job->threads, 10);
        r->gbs1 = job->threads == 1 || !job->one_thread ? r->gbs : measure_bandwidth(buf, words, 1, 10);
        r->mib = 1024;
        r->passes = 10;
        free(buf);
        return;
    }
#ifdef SQ_HAVE_OPENCL
    sq_opencl_bw_params p = sq_opencl_bw_default_params();
    sq_opencl_bw_result res;
    sq_error err = { 0 };
    r->status = sq_opencl_measure_bandwidth(&p, &res, &err);
    if (r->status != SQ_OK) {
        snprintf(r->msg, sizeof r->msg, "%s", err.msg);
        return;
    }
    r->gbs = res.best_gb_s;
    r->median_gbs = res.median_gb_s;
    r->mib = (double)res.bytes / (1 << 20);
    r->passes = res.passes;
    r->events = res.event_timing;
    r->cpu_shape = res.cpu_shape;
    snprintf(r->device, sizeof r->device, "%.127s (%s, %.127s, %u compute units)", res.device.name,
             sq_opencl_device_type_name(res.device.type), res.device.platform, res.device.compute_units);
#else
    r->status = SQ_ERR_UNSUPPORTED;
    snprintf(r->msg, sizeof r->msg, "OpenCL is not built in");
#endif
}

/* ---- model facts from the GGUF ---- */

typedef struct {
    size_t  matrix_bytes;   /* block matrices + output matrix */
    int64_t n_layer, n_head_kv, head_dim;
    char    weight_type[16];
} text_facts;

static bool
read_text_facts(const char *path, text_facts *f)
{
    sq_gguf *g = NULL;
    sq_error err = { 0 };
    if (sq_gguf_open(path, &g, &err) != SQ_OK) {
        fprintf(stderr, "bench-engine: %s\n", err.msg);
        return false;
    }
    uint32_t n_layer = 0, n_head = 0, n_head_kv = 0, n_embd = 0;
    sq_gguf_get_u32(g, "qwen2vl.block_count", &n_layer, NULL);
    sq_gguf_get_u32(g, "qwen2vl.attention.head_count", &n_head, NULL);
    sq_gguf_get_u32(g, "qwen2vl.attention.head_count_kv", &n_head_kv, NULL);
    sq_gguf_get_u32(g, "qwen2vl.embedding_length", &n_embd, NULL);
    memset(f, 0, sizeof *f);
    f->n_layer = n_layer;
    f->n_head_kv = n_head_kv;
    f->head_dim = n_head ? n_embd / n_head : 0;
    const sq_gguf_tensor *out = sq_gguf_find_tensor(g, "output.weight");
    if (!out)
        out = sq_gguf_find_tensor(g, "token_embd.weight");
    if (out)
        f->matrix_bytes += out->nbytes;
    for (int64_t i = 0; i < sq_gguf_n_tensors(g); i++) {
        const sq_gguf_tensor *t = sq_gguf_tensor_at(g, i);
        if (strncmp(t->name, "blk.", 4) == 0 && t->n_dims == 2) {
            f->matrix_bytes += t->nbytes;
            if (strstr(t->name, ".ffn_up.weight") && !f->weight_type[0])
                snprintf(f->weight_type, sizeof f->weight_type, "%s", sq_type_get(t->type)->name);
        }
    }
    sq_gguf_close(g);
    return true;
}

/* Every tensor of the vision GGUF: what one image encode reads at least. */
static bool
read_vision_bytes(const char *path, double *bytes)
{
    sq_gguf *g = NULL;
    sq_error err = { 0 };
    if (sq_gguf_open(path, &g, &err) != SQ_OK) {
        fprintf(stderr, "bench-engine: %s\n", err.msg);
        return false;
    }
    *bytes = 0;
    for (int64_t i = 0; i < sq_gguf_n_tensors(g); i++)
        *bytes += (double)sq_gguf_tensor_at(g, i)->nbytes;
    sq_gguf_close(g);
    return true;
}

/* ---- the engine ---- */

static sq_status
load(const bench_opts *o, const char *backend, int threads, bool vision, sq_model **m, sq_error *err)
{
    sq_model_params p = sq_model_default_params();
    p.text_path = o->text;
    p.mmproj_path = vision ? o->mmproj : NULL;
    p.backend = backend;
    p.n_threads = threads;
    return sq_model_load(&p, m, err);
}

static sq_status
new_session(sq_model *m, int n_ctx, sq_session **s, sq_error *err)
{
    sq_session_params sp = sq_session_default_params();
    sp.n_ctx = n_ctx;
    return sq_session_new(m, &sp, s, err);
}

static int32_t
argmax(const float *x, int n)
{
    int32_t best = 0;
    for (int i = 1; i < n; i++)
        if (x[i] > x[best])
            best = i;
    return best;
}

/* Ordinary (non-special) token ids for synthetic prompts. */
static int32_t
plain_token(const sq_tokenizer *tok, uint64_t *state)
{
    int n = sq_tokenizer_n_vocab(tok);
    for (;;) {
        *state = *state * 6364136223846793005ULL + 1442695040888963407ULL;
        int32_t id = (int32_t)((*state >> 33) % (uint64_t)n);
        if (sq_tokenizer_token_type(tok, id) == SQ_TOKEN_NORMAL)
            return id;
    }
}

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double
median_of(double *dt, int n)
{
    qsort(dt, (size_t)n, sizeof *dt, cmp_double);
    return n % 2 ? dt[n / 2] : 0.5 * (dt[n / 2 - 1] + dt[n / 2]);
}

/* Feeds `rounds` runs of n_tokens, one token at a time (after 2 warm-up
 * tokens).  *rate: tokens/s from the median token time of the best round —
 * the median is robust to the odd preemption on a shared machine, and the
 * best round measures the machine at its quietest, as the bandwidth probe's
 * best pass does; *mean is the plain mean rate over every round. */
static sq_status
decode_rate(sq_session *s, const sq_model *m, int n_tokens, int rounds, double *rate, double *mean, sq_error *err)
{
    int n_vocab = sq_model_get_info(m).n_vocab;
    int n_tok = sq_tokenizer_n_vocab(sq_model_tokenizer(m));
    int total = n_tokens * rounds;
    double *dt = calloc((size_t)total, sizeof *dt);
    double t0 = 0, start = 0;
    if (!dt)
        return sq_error_set(err, SQ_ERR_NOMEM, "out of memory");
    for (int i = -2; i < total; i++) {
        if (i == 0)
            start = now_s();
        t0 = now_s();
        const float *logits = sq_session_logits(s);
        int32_t id = logits ? argmax(logits, n_vocab) % n_tok : 0;
        if (sq_session_eval_tokens(s, &id, 1, err) != SQ_OK) {
            free(dt);
            return sq_error_prefix(err, "decode");
        }
        if (i >= 0)
            dt[i] = now_s() - t0;
    }
    *mean = total / (now_s() - start);
    double best = INFINITY;
    printf("# token time medians by round (ms):");
    for (int r = 0; r < rounds; r++) {
        double med = median_of(dt + r * n_tokens, n_tokens);
        printf(" %.1f", 1e3 * med);
        if (med < best)
            best = med;
    }
    printf("\n");
    free(dt);
    *rate = 1.0 / best;
    return SQ_OK;
}

static sq_status
prefill_rate(sq_session *s, const sq_model *m, int n, double *rate, sq_error *err)
{
    int32_t *ids = malloc((size_t)n * sizeof *ids);
    if (!ids)
        return sq_error_set(err, SQ_ERR_NOMEM, "out of memory");
    uint64_t state = 42;
    for (int i = 0; i < n; i++)
        ids[i] = plain_token(sq_model_tokenizer(m), &state);
    double t0 = now_s();
    sq_status st = sq_session_eval_tokens(s, ids, (size_t)n, err);
    double dt = now_s() - t0;
    free(ids);
    if (st != SQ_OK)
        return sq_error_prefix(err, "prefill");
    *rate = n / dt;
    return SQ_OK;
}

/* A smooth colour gradient with some texture, w × h. */
static sq_status
make_image(int w, int h, sq_image *img, sq_error *err)
{
    sq_status st = sq_image_new(w, h, img, err);
    if (st != SQ_OK)
        return st;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            uint8_t *p = img->rgb + ((size_t)y * w + x) * 3;
            p[0] = (uint8_t)(255 * x / (w - 1));
            p[1] = (uint8_t)(255 * y / (h - 1));
            p[2] = (uint8_t)(128 + 127 * sin(x * 0.05) * cos(y * 0.07));
        }
    return SQ_OK;
}

typedef struct {
    double encode_ms, ttft_ms;
    int    n_tokens, n_rows, w, h;
} pass_result;

/* One VisionThink pass on a fresh conversation: a one-image chat prompt,
 * encoded and prefilled, then the first token picked. */
static sq_status
image_pass(sq_session *s, const sq_model *m, const sq_image *img, pass_result *r, sq_error *err)
{
    static const char prompt[] =
        "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
        "<|im_start|>user\n<image>Describe this image.<|im_end|>\n<|im_start|>assistant\n";
    sq_session_reset(s);
    const sq_image *imgs[1] = { img };
    double t0 = now_s();
    if (sq_session_eval_prompt(s, prompt, imgs, 1, err) != SQ_OK)
        return sq_error_prefix(err, "image pass %d×%d", img->w, img->h);
    int32_t first = argmax(sq_session_logits(s), sq_model_get_info(m).n_vocab);
    r->ttft_ms = (now_s() - t0) * 1e3;
    (void)first;
    size_t n = 0, rows = 0;
    const sq_image_info *ii = sq_session_images(s, &n);
    sq_session_sequence(s, &rows);
    if (n != 1)
        return sq_error_set(err, SQ_ERR_BACKEND, "image pass: %zu images in the context, not 1", n);
    r->encode_ms = ii[0].encode_ms;
    r->n_tokens = ii[0].n_tokens;
    r->n_rows = (int)rows;
    r->w = ii[0].w;
    r->h = ii[0].h;
    return SQ_OK;
}

/* What one backend measured, sent back by its child. */
typedef struct {
    sq_status   status;     /* SQ_OK, or why the backend stopped */
    char        msg[SQ_ERROR_MAX];
    char        name[128], backend[32];
    int         n_layer, n_embd, n_vocab, vision_n_layer, vision_n_embd;
    double      weight_bytes;
    bool        prefill_done, decode_done, vision_done, one_thread_done;
    double      prefill_tps, prefill_cores;
    double      decode_tps, decode_mean, decode_cores;
    pass_result lo, hi;
    double      lo_cores, hi_cores;
    double      decode1_tps, decode1_mean, decode1_cores;
    char        kernels[32];
} bk_result;

typedef struct {
    const bench_opts *o;
    int               backend;
} bk_job;

/* The full-resolution pass (k = 0) or the half (k = 1). */
static const pass_result *
pass_of(const bk_result *r, int k)
{
    return k == 0 ? &r->hi : &r->lo;
}

static void
bk_child(const void *argp, void *outp)
{
    const bk_job *job = argp;
    const bench_opts *o = job->o;
    const char *be = bk_name[job->backend];
    bk_result *r = outp;
    sq_error err = { 0 };
    sq_model *m = NULL;
    sq_session *s = NULL;
    sq_image full = { 0 }, half = { 0 }, warm = { 0 };
    snprintf(r->kernels, sizeof r->kernels, "%s", sq_quant_kernels_get()->name);

    printf("# %s: loading the model\n", be);
    fflush(stdout);
    sq_status st = load(o, be, o->threads, o->vision, &m, &err);
    if (st == SQ_OK) {
        sq_model_info info = sq_model_get_info(m);
        snprintf(r->name, sizeof r->name, "%s", info.name);
        snprintf(r->backend, sizeof r->backend, "%s", info.backend);
        r->n_layer = info.n_layer;
        r->n_embd = info.n_embd;
        r->n_vocab = info.n_vocab;
        r->vision_n_layer = info.vision_n_layer;
        r->vision_n_embd = info.vision_n_embd;
        r->weight_bytes = (double)info.weight_bytes;
        st = new_session(m, o->n_ctx, &s, &err);
    }
    if (st == SQ_OK) {
        phase ph = phase_start();
        st = prefill_rate(s, m, o->n_prefill, &r->prefill_tps, &err);
        r->prefill_cores = phase_cores(ph);
        r->prefill_done = st == SQ_OK;
        if (st == SQ_OK)
            printf("# %s: prefill %d tokens, %.1f tok/s\n", be, o->n_prefill, r->prefill_tps);
        fflush(stdout);
    }
    if (st == SQ_OK) {
        phase ph = phase_start();
        st = decode_rate(s, m, o->n_decode, o->rounds, &r->decode_tps, &r->decode_mean, &err);
        r->decode_cores = phase_cores(ph);
        r->decode_done = st == SQ_OK;
        if (st == SQ_OK)
            printf("# %s: decode %.2f tok/s (median), %.2f (mean)\n", be, r->decode_tps, r->decode_mean);
        fflush(stdout);
    }
    if (st == SQ_OK && o->vision) {
        pass_result pw;
        if ((st = make_image(1008, 756, &full, &err)) == SQ_OK && (st = sq_image_half(&full, &half, &err)) == SQ_OK)
            st = make_image(112, 112, &warm, &err);
        /* a small image first: the vision weights are paged in (or uploaded) there */
        if (st == SQ_OK)
            st = image_pass(s, m, &warm, &pw, &err);
        phase ph = phase_start();
        if (st == SQ_OK)
            st = image_pass(s, m, &half, &r->lo, &err);
        r->lo_cores = phase_cores(ph);
        ph = phase_start();
        if (st == SQ_OK)
            st = image_pass(s, m, &full, &r->hi, &err);
        r->hi_cores = phase_cores(ph);
        r->vision_done = st == SQ_OK;
        if (st == SQ_OK)
            printf("# %s: encode %d×%d %.0f ms, %d×%d %.0f ms\n", be, r->hi.w, r->hi.h, r->hi.encode_ms, r->lo.w,
                   r->lo.h, r->lo.encode_ms);
        fflush(stdout);
    }
    sq_image_free(&full);
    sq_image_free(&half);
    sq_image_free(&warm);
    sq_session_free(s);
    sq_model_free(m);
    s = NULL;
    m = NULL;

    /* one thread: the CPU backend's alone */
    if (st == SQ_OK && job->backend == BK_CPU && o->one_thread && o->threads != 1) {
        st = load(o, be, 1, false, &m, &err);
        if (st == SQ_OK)
            st = new_session(m, o->n_ctx, &s, &err);
        double warm_rate = 0;
        if (st == SQ_OK)
            st = prefill_rate(s, m, 16, &warm_rate, &err);
        if (st == SQ_OK) {
            phase ph = phase_start();
            st = decode_rate(s, m, o->n_decode / 2 > 4 ? o->n_decode / 2 : 4, o->rounds, &r->decode1_tps,
                             &r->decode1_mean, &err);
            r->decode1_cores = phase_cores(ph);
            r->one_thread_done = st == SQ_OK;
            if (st == SQ_OK)
                printf("# %s: decode, 1 thread, %.2f tok/s (median)\n", be, r->decode1_tps);
            fflush(stdout);
        }
        sq_session_free(s);
        sq_model_free(m);
    }
    r->status = st;
    if (st != SQ_OK)
        snprintf(r->msg, sizeof r->msg, "%s", err.msg);
}

/* ---- output ---- */

enum { LABEL_W = 40, VALUE_W = 11, RATIO_W = 11, FRAC_W = 12 };

/* The backends with a column, in order. */
static int n_cols;
static int col_bk[BK_COUNT];

/* Prints s padded to `width` columns (UTF-8 characters, not bytes). */
static void
put_cell(const char *s, int width, bool right)
{
    int w = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        w += (*p & 0xc0) != 0x80;
    int pad = width > w ? width - w : 0;
    if (right)
        printf("%*s%s", pad, "", s);
    else
        printf("%s%*s", s, pad, "");
}

static void
table_header(void)
{
    char h[64];
    printf("  ");
    put_cell("", LABEL_W, false);
    for (int c = 0; c < n_cols; c++)
        put_cell(bk_name[col_bk[c]], VALUE_W, true);
    if (n_cols == 2)
        put_cell("opencl/cpu", RATIO_W, true);
    for (int c = 0; c < n_cols; c++) {
        snprintf(h, sizeof h, n_cols == 1 ? "of roofline" : "%s/roof", bk_name[col_bk[c]]);
        put_cell(h, FRAC_W, true);
    }
    printf("\n");
}

/* One metric: its value per backend (NAN: none) with `decimals`, the ratio
 * OpenCL/CPU, and each value's fraction of its own roofline (NAN: none). */
static void
table_row(const char *label, int decimals, const double v[BK_COUNT], const double frac[BK_COUNT])
{
    char cell[64];
    printf("  ");
    put_cell(label, LABEL_W, false);
    for (int c = 0; c < n_cols; c++) {
        double x = v[col_bk[c]];
        if (isfinite(x))
            snprintf(cell, sizeof cell, "%.*f", decimals, x);
        else
            snprintf(cell, sizeof cell, "—");
        put_cell(cell, VALUE_W, true);
    }
    if (n_cols == 2) {
        double a = v[BK_CPU], b = v[BK_OPENCL];
        if (isfinite(a) && isfinite(b) && a != 0)
            snprintf(cell, sizeof cell, "%.3f", b / a);
        else
            snprintf(cell, sizeof cell, "—");
        put_cell(cell, RATIO_W, true);
    }
    for (int c = 0; c < n_cols; c++) {
        double f = frac ? frac[col_bk[c]] : NAN;
        if (isfinite(f))
            snprintf(cell, sizeof cell, "%.3f", f);
        else
            cell[0] = '\0';
        put_cell(cell, FRAC_W, true);
    }
    printf("\n");
}

static void
usage(FILE *out)
{
    fprintf(out,
            "usage: bench-engine TEXT.gguf MMPROJ.gguf [options]\n"
            "       bench-engine --models PREFIX [--make-model EXE --preset P --type T [--vocab F]] [options]\n"
            "  -b, --backend LIST  cpu, opencl or both, comma-separated (default cpu); the OpenCL\n"
            "                      device is SQUINT_DEVICE's, else the backend's default choice\n"
            "  -t, --threads N     CPU backend threads (default 2)\n"
            "      --decode N      tokens to time for decode (default 32)\n"
            "      --rounds R      decode rounds of N tokens; the best round's median counts (default 3)\n"
            "      --prefill N     prompt tokens for prefill (default 512)\n"
            "      --ctx N         KV cache size (default 4096)\n"
            "      --no-vision     skip the image passes\n"
            "      --no-1thread    skip the CPU's 1-thread decode\n");
}

static bool
make_models(const char *exe, const char *prefix, const char *preset, const char *type, const char *vocab)
{
    printf("# writing %s-{text,mmproj}.gguf with %s (--preset %s --type %s)\n", prefix, exe, preset, type);
    fflush(stdout);
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", prefix);
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir) {
        *slash = '\0';
        mkdir(dir, 0755);
    }
    pid_t pid = fork();
    if (pid < 0)
        return false;
    if (pid == 0) {
        if (vocab)
            execl(exe, exe, "--preset", preset, "--type", type, "--vocab", vocab, "-o", prefix, (char *)NULL);
        else
            execl(exe, exe, "--preset", preset, "--type", type, "-o", prefix, (char *)NULL);
        fprintf(stderr, "bench-engine: cannot run %s: %s\n", exe, strerror(errno));
        _exit(127);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* Parses "cpu,opencl" into want[]; false on an unknown name or none. */
static bool
parse_backends(const char *list, bool want[BK_COUNT])
{
    memset(want, 0, BK_COUNT * sizeof *want);
    bool any = false;
    const char *p = list;
    while (*p) {
        size_t n = strcspn(p, ",");
        bool known = false;
        for (int b = 0; b < BK_COUNT; b++)
            if (n == strlen(bk_name[b]) && strncmp(p, bk_name[b], n) == 0)
                known = want[b] = true;
        if (!known) {
            fprintf(stderr, "bench-engine: unknown backend '%.*s' in --backend %s (cpu, opencl)\n", (int)n, p, list);
            return false;
        }
        any = true;
        p += n;
        if (*p == ',')
            p++;
    }
    if (!any)
        fprintf(stderr, "bench-engine: --backend needs cpu, opencl or both\n");
    return any;
}

static double
max2(double a, double b)
{
    return a > b ? a : b;
}

int
main(int argc, char **argv)
{
    bench_opts o = { .threads = 2, .n_decode = 32, .rounds = 3, .n_prefill = 512, .n_ctx = 4096, .vision = true,
                     .one_thread = true };
    const char *models = NULL, *maker = NULL, *preset = "3b", *type = "q4_0", *vocab = NULL, *backends = "cpu";
    enum { OPT_DECODE = 256, OPT_ROUNDS, OPT_PREFILL, OPT_CTX, OPT_NO_VISION, OPT_NO_1T, OPT_MODELS, OPT_MAKER,
           OPT_PRESET, OPT_TYPE, OPT_VOCAB };
    static const struct option longopts[] = {
        { "backend", required_argument, NULL, 'b' },
        { "threads", required_argument, NULL, 't' },
        { "decode", required_argument, NULL, OPT_DECODE },
        { "rounds", required_argument, NULL, OPT_ROUNDS },
        { "prefill", required_argument, NULL, OPT_PREFILL },
        { "ctx", required_argument, NULL, OPT_CTX },
        { "no-vision", no_argument, NULL, OPT_NO_VISION },
        { "no-1thread", no_argument, NULL, OPT_NO_1T },
        { "models", required_argument, NULL, OPT_MODELS },
        { "make-model", required_argument, NULL, OPT_MAKER },
        { "preset", required_argument, NULL, OPT_PRESET },
        { "type", required_argument, NULL, OPT_TYPE },
        { "vocab", required_argument, NULL, OPT_VOCAB },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int c;
    while ((c = getopt_long(argc, argv, "b:t:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'b': backends = optarg; break;
        case 't': o.threads = atoi(optarg); break;
        case OPT_DECODE: o.n_decode = atoi(optarg); break;
        case OPT_ROUNDS: o.rounds = atoi(optarg); break;
        case OPT_PREFILL: o.n_prefill = atoi(optarg); break;
        case OPT_CTX: o.n_ctx = atoi(optarg); break;
        case OPT_NO_VISION: o.vision = false; break;
        case OPT_NO_1T: o.one_thread = false; break;
        case OPT_MODELS: models = optarg; break;
        case OPT_MAKER: maker = optarg; break;
        case OPT_PRESET: preset = optarg; break;
        case OPT_TYPE: type = optarg; break;
        case OPT_VOCAB: vocab = optarg; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    bool want[BK_COUNT];
    if (!parse_backends(backends, want))
        return 2;
    char text_path[4096], mmproj_path[4096];
    if (models) {
        snprintf(text_path, sizeof text_path, "%s-text.gguf", models);
        snprintf(mmproj_path, sizeof mmproj_path, "%s-mmproj.gguf", models);
        if ((access(text_path, R_OK) != 0 || access(mmproj_path, R_OK) != 0) &&
            (!maker || !make_models(maker, models, preset, type, vocab))) {
            fprintf(stderr, "bench-engine: %s-{text,mmproj}.gguf missing\n", models);
            return 1;
        }
        o.text = text_path;
        o.mmproj = mmproj_path;
    } else if (argc - optind == 2) {
        o.text = argv[optind];
        o.mmproj = argv[optind + 1];
    } else {
        usage(stderr);
        return 2;
    }
    if (o.threads < 1 || o.n_decode < 1 || o.rounds < 1 || o.n_prefill < 1
        || o.n_prefill + o.rounds * o.n_decode + 2 > o.n_ctx) {
        fprintf(stderr, "bench-engine: bad thread, token or context counts\n");
        return 2;
    }

    text_facts tf;
    double vision_bytes = 0;
    if (!read_text_facts(o.text, &tf) || (o.vision && !read_vision_bytes(o.mmproj, &vision_bytes)))
        return 1;

    /* Each backend: its device's bandwidth, its runs, the bandwidth again. */
    bool failed = false, have[BK_COUNT] = { false, false };
    char missing[BK_COUNT][SQ_ERROR_MAX + 64];
    bw_result bw[BK_COUNT], bw2;
    bk_result res[BK_COUNT];
    double rss[BK_COUNT] = { 0, 0 };
    memset(missing, 0, sizeof missing);
    memset(bw, 0, sizeof bw);
    memset(res, 0, sizeof res);
    for (int b = 0; b < BK_COUNT; b++) {
        if (!want[b])
            continue;
#ifndef SQ_HAVE_OPENCL
        if (b == BK_OPENCL) {
            snprintf(missing[b], sizeof missing[b],
                     "OpenCL is not built in (this build was configured without OpenCL/CLBlast)");
            continue;
        }
#endif
        bw_job bj = { b, o.threads, o.one_thread };
        printf("# %s: measuring the read bandwidth\n", bk_name[b]);
        if (!run_child(bw_child, &bj, &bw[b], sizeof bw[b], NULL)) {
            fprintf(stderr, "bench-engine: %s: the bandwidth measurement died\n", bk_name[b]);
            failed = true;
            continue;
        }
        if (bw[b].status != SQ_OK) {
            if (b == BK_OPENCL && bw[b].status == SQ_ERR_NOT_FOUND) {
                snprintf(missing[b], sizeof missing[b], "the OpenCL backend cannot be created: %.400s", bw[b].msg);
            } else {
                fprintf(stderr, "bench-engine: %s: %s\n", bk_name[b], bw[b].msg);
                failed = true;
            }
            continue;
        }
        printf("# %s: %.2f GB/s%s%s\n", bk_name[b], bw[b].gbs, bw[b].device[0] ? " on " : "", bw[b].device);
        bk_job job = { &o, b };
        if (!run_child(bk_child, &job, &res[b], sizeof res[b], &rss[b])) {
            fprintf(stderr, "bench-engine: %s: the benchmark process died\n", bk_name[b]);
            failed = true;
            continue;
        }
        if (res[b].status != SQ_OK) {
            bool no_device = b == BK_OPENCL && res[b].status == SQ_ERR_NOT_FOUND && !res[b].name[0];
            if (no_device) {
                snprintf(missing[b], sizeof missing[b], "the OpenCL backend cannot be created: %.400s", res[b].msg);
            } else {
                fprintf(stderr, "bench-engine: %s: %s\n", bk_name[b], res[b].msg);
                failed = true;
            }
            /* a backend that stopped half-way still shows what it measured */
            if (!res[b].prefill_done)
                continue;
        }
        have[b] = true;
        /* the bandwidth again: the best of both counts */
        if (run_child(bw_child, &bj, &bw2, sizeof bw2, NULL) && bw2.status == SQ_OK) {
            if (bw2.gbs > bw[b].gbs) {
                bw[b].gbs = bw2.gbs;
                bw[b].median_gbs = bw2.median_gbs;
            }
            bw[b].gbs1 = max2(bw[b].gbs1, bw2.gbs1);
        }
    }

    n_cols = 0;
    for (int b = 0; b < BK_COUNT; b++)
        if (have[b])
            col_bk[n_cols++] = b;
    for (int b = 0; b < BK_COUNT; b++)
        if (missing[b][0])
            printf("%s: %s; %s\n", bk_name[b], missing[b],
                   have[BK_CPU] ? "only the CPU column is reported" : "nothing to report");
    if (n_cols == 0)
        return failed ? 1 : 0;

    const bk_result *first = &res[col_bk[0]];
    double text_mb = file_mb(o.text), mmproj_mb = o.vision ? file_mb(o.mmproj) : 0.0;
    size_t kv_bytes = (size_t)o.n_ctx * (size_t)tf.n_layer * 2 * (size_t)(tf.n_head_kv * tf.head_dim) * 2;
    int n_batch = sq_session_default_params().n_batch;
    printf("\nSquint engine benchmark — %s (%s), %d layers, n_embd %d, vocab rows %d\n", first->name,
           tf.weight_type, first->n_layer, first->n_embd, first->n_vocab);
    printf("  text %s (%.1f MB)\n", o.text, text_mb);
    if (o.vision)
        printf("  mmproj %s (%.1f MB), vision %d × %d\n", o.mmproj, mmproj_mb, first->vision_n_layer,
               first->vision_n_embd);
    double loadavg[3] = { 0, 0, 0 };
    getloadavg(loadavg, 3);
    printf("  KV cache %d slots F16, batches of %d rows; load average %.2f\n", o.n_ctx, n_batch, loadavg[0]);
    if (have[BK_CPU])
        printf("  cpu: %s kernels, %d threads\n", res[BK_CPU].kernels, o.threads);
    if (have[BK_OPENCL])
        printf("  opencl: %s\n", bw[BK_OPENCL].device);
    printf("\n");
    table_header();

    double v[BK_COUNT], f[BK_COUNT], wb[BK_COUNT], gbs[BK_COUNT];
    char label[96];
    for (int b = 0; b < BK_COUNT; b++) {
        wb[b] = res[b].weight_bytes;
        gbs[b] = bw[b].gbs * 1e9; /* bytes/s */
    }
#define FOR_B for (int b = 0; b < BK_COUNT; b++)
    FOR_B v[b] = have[b] ? wb[b] / 1e6 : NAN;
    table_row("weight bytes read per token (MB)", 2, v, NULL);
    FOR_B v[b] = have[b] ? bw[b].gbs : NAN;
    table_row("read bandwidth (GB/s)", 2, v, NULL);

    /* prefill: the weights once per batch */
    int batches = (o.n_prefill + n_batch - 1) / n_batch;
    FOR_B {
        v[b] = have[b] && res[b].prefill_done ? res[b].prefill_tps : NAN;
        f[b] = v[b] / (o.n_prefill * gbs[b] / (wb[b] * batches));
    }
    snprintf(label, sizeof label, "prefill, %d tokens (tok/s)", o.n_prefill);
    table_row(label, 1, v, f);

    /* decode: the weights once per token */
    double dec_frac[BK_COUNT];
    FOR_B {
        v[b] = have[b] && res[b].decode_done ? res[b].decode_tps : NAN;
        f[b] = dec_frac[b] = v[b] / (gbs[b] / wb[b]);
    }
    table_row("decode, median, best round (tok/s)", 2, v, f);
    FOR_B {
        v[b] = have[b] && res[b].decode_done ? res[b].decode_mean : NAN;
        f[b] = v[b] / (gbs[b] / wb[b]);
    }
    table_row("decode, mean of all (tok/s)", 2, v, f);
    if (have[BK_CPU] && res[BK_CPU].one_thread_done) {
        FOR_B v[b] = f[b] = NAN;
        v[BK_CPU] = res[BK_CPU].decode1_tps;
        f[BK_CPU] = v[BK_CPU] / (bw[BK_CPU].gbs1 * 1e9 / wb[BK_CPU]);
        table_row("decode, 1 CPU thread, median (tok/s)", 2, v, f);
    }

    /* images: the vision weights once; the first token, the text weights
     * once per batch of the prompt's rows too */
    const bk_result *vis = NULL;
    FOR_B if (have[b] && res[b].vision_done && !vis) vis = &res[b];
    if (vis) {
        for (int k = 0; k < 2; k++) {
            FOR_B {
                v[b] = have[b] && res[b].vision_done ? pass_of(&res[b], k)->encode_ms : NAN;
                f[b] = vision_bytes / gbs[b] * 1e3 / v[b];
            }
            const pass_result *pr = pass_of(vis, k);
            snprintf(label, sizeof label, "encode %d×%d, %d tok (ms)", pr->w, pr->h, pr->n_tokens);
            table_row(label, 1, v, f);
        }
        for (int k = 0; k < 2; k++) {
            FOR_B {
                const pass_result *pr = pass_of(&res[b], k);
                int nb = (pr->n_rows + n_batch - 1) / n_batch;
                v[b] = have[b] && res[b].vision_done ? pr->ttft_ms : NAN;
                f[b] = (vision_bytes + wb[b] * nb) / gbs[b] * 1e3 / v[b];
            }
            const pass_result *pr = pass_of(vis, k);
            snprintf(label, sizeof label, "first token, %d×%d (ms)", pr->w, pr->h);
            table_row(label, 1, v, f);
        }
    }
    FOR_B v[b] = have[b] ? rss[b] : NAN;
    table_row("peak RSS (MB)", 1, v, NULL);

    /* notes */
    printf("\n  roofline: weight bytes read ÷ the device's read bandwidth — decode reads the text weights once\n"
           "  per token, prefill once per %d-row batch",
           n_batch);
    if (o.vision)
        printf(", an encode the %.1f MB of vision weights once, the\n"
               "  first token both; prefill and encode are compute-bound, far below their memory roofline.\n",
               vision_bytes / 1e6);
    else
        printf("; prefill is compute-bound, far below its memory roofline.\n");
    if (n_cols == 2)
        printf("  opencl/cpu above 1: OpenCL's number is higher (faster in tok/s, slower in ms).\n");
    printf("  decode, target ≥ 0.85 of the roofline:");
    for (int k = 0; k < n_cols; k++) {
        int b = col_bk[k];
        if (res[b].decode_done)
            printf("  %s %.3f %s", bk_name[b], dec_frac[b], dec_frac[b] >= 0.85 ? "met" : "MISSED");
    }
    double budget = text_mb + mmproj_mb + (double)kv_bytes / 1e6;
    printf("\n  peak RSS ÷ (files + KV cache %.1f MB), target ≤ 1.10:", budget);
    for (int k = 0; k < n_cols; k++) {
        int b = col_bk[k];
        printf("  %s %.3f %s", bk_name[b], rss[b] / budget, rss[b] / budget <= 1.10 ? "met" : "MISSED");
    }
    printf("\n  (KV cache %.1f MB = %d slots × %lld layers × K,V × %lld × F16)\n", (double)kv_bytes / 1e6, o.n_ctx,
           (long long)tf.n_layer, (long long)(tf.n_head_kv * tf.head_dim));
    printf("  weight bytes per token ÷ GGUF matrices (%.2f MB):", (double)tf.matrix_bytes / 1e6);
    for (int k = 0; k < n_cols; k++) {
        int b = col_bk[k];
        printf("  %s %.4f%s", bk_name[b], wb[b] / (double)tf.matrix_bytes,
               (size_t)wb[b] == tf.matrix_bytes ? "" : " (mismatch!)");
    }
    printf("\n");
    if (vis) {
        printf("  half/full: tokens %.3f; encode", (double)vis->lo.n_tokens / vis->hi.n_tokens);
        for (int k = 0; k < n_cols; k++) {
            int b = col_bk[k];
            if (res[b].vision_done)
                printf(" %s %.3f", bk_name[b], res[b].lo.encode_ms / res[b].hi.encode_ms);
        }
        printf("; first token");
        for (int k = 0; k < n_cols; k++) {
            int b = col_bk[k];
            if (res[b].vision_done)
                printf(" %s %.3f", bk_name[b], res[b].lo.ttft_ms / res[b].hi.ttft_ms);
        }
        printf("\n");
    }
    printf("  CPU cores busy (prefill, decode, first token full/half):");
    for (int k = 0; k < n_cols; k++) {
        int b = col_bk[k];
        printf("  %s %.2f %.2f", bk_name[b], res[b].prefill_cores, res[b].decode_cores);
        if (res[b].vision_done)
            printf(" %.2f/%.2f", res[b].hi_cores, res[b].lo_cores);
    }
    printf("\n");
    if (have[BK_CPU]) {
        printf("  cpu bandwidth: best of %d passes over %.0f MiB by %d thread%s, before and after its runs",
               bw[BK_CPU].passes, bw[BK_CPU].mib, o.threads, o.threads == 1 ? "" : "s");
        if (o.one_thread && o.threads != 1)
            printf("; 1 thread %.2f GB/s", bw[BK_CPU].gbs1);
        printf("\n");
    }
    if (have[BK_OPENCL])
        printf("  opencl bandwidth: best of %d passes over %.0f MiB on the device (median %.2f GB/s), %s kernel,"
               " %s timing, before and after its runs\n",
               bw[BK_OPENCL].passes, bw[BK_OPENCL].mib, bw[BK_OPENCL].median_gbs,
               bw[BK_OPENCL].cpu_shape ? "CPU-shaped" : "GPU-shaped", bw[BK_OPENCL].events ? "event" : "wall-clock");
#undef FOR_B
    return failed ? 1 : 0;
}
