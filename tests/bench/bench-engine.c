/* bench-engine.c — the engine's speed against what the machine allows.
 *
 *   bench-engine TEXT.gguf MMPROJ.gguf [options]
 *   bench-engine --models PREFIX [--make-model EXE --preset P --type T] [options]
 *
 * Prints, each as a number and as a ratio:
 *   - the memory read bandwidth of this machine (a streaming read of a 1 GiB
 *     buffer by as many threads as the engine uses, best of 10), measured in
 *     a child process so its buffer does not count in the peak RSS below;
 *   - decode tokens/s with N threads (default 2) and with 1 (from the median
 *     token time, so that a preemption on a shared machine does not count;
 *     the mean is printed too), against the
 *     roofline bandwidth ÷ weight bytes read per token
 *     (sq_model_get_info().weight_bytes, cross-checked against the GGUF's
 *     tensor table: every block matrix plus the output matrix);
 *   - prefill tokens/s for a 512-token text prompt;
 *   - vision encode time of a 1008×756 image and of its VisionThink half
 *     (504×378 by Lanczos), and their ratio;
 *   - time to first token (encode + prefill of a one-image chat prompt) of
 *     the low-resolution pass against the full-resolution pass;
 *   - peak RSS (getrusage) against the model files plus the KV cache.
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
 * machine the phase got (below the thread count: others were running). */
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

/* ---- memory bandwidth ---- */

typedef struct {
    const uint64_t   *data;
    size_t            n;        /* words */
    pthread_barrier_t *start;
    uint64_t          sum;
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

/* Runs the measurement in a child so the buffer never counts in our RSS.
 * out[0] = n_threads bandwidth, out[1] = one thread. */
static bool
bandwidth_in_child(int n_threads, double out[2])
{
    int fd[2];
    if (pipe(fd) != 0)
        return false;
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0)
        return false;
    if (pid == 0) {
        close(fd[0]);
        size_t bytes = (size_t)1 << 30, words = bytes / 8;
        uint64_t *buf = aligned_alloc(4096, bytes);
        double res[2] = { 0, 0 };
        if (buf) {
            for (size_t i = 0; i < words; i++) /* fault every page in, non-zero */
                buf[i] = i;
            res[0] = measure_bandwidth(buf, words, n_threads, 10);
            res[1] = n_threads == 1 ? res[0] : measure_bandwidth(buf, words, 1, 10);
        }
        ssize_t w = write(fd[1], res, sizeof res);
        _exit(w == (ssize_t)sizeof res ? 0 : 1);
    }
    close(fd[1]);
    ssize_t got = read(fd[0], out, 2 * sizeof *out);
    close(fd[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    return got == (ssize_t)(2 * sizeof *out) && out[0] > 0;
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

/* ---- the engine ---- */

typedef struct {
    const char *text, *mmproj;
    int         threads, n_decode, n_prefill, n_ctx;
    bool        vision, one_thread;
} bench_opts;

static sq_model *
load(const bench_opts *o, int threads, bool vision)
{
    sq_model_params p = sq_model_default_params();
    p.text_path = o->text;
    p.mmproj_path = vision ? o->mmproj : NULL;
    p.n_threads = threads;
    sq_model *m = NULL;
    sq_error err = { 0 };
    if (sq_model_load(&p, &m, &err) != SQ_OK) {
        fprintf(stderr, "bench-engine: %s\n", err.msg);
        return NULL;
    }
    return m;
}

static sq_session *
new_session(sq_model *m, int n_ctx)
{
    sq_session_params sp = sq_session_default_params();
    sp.n_ctx = n_ctx;
    sq_session *s = NULL;
    sq_error err = { 0 };
    if (sq_session_new(m, &sp, &s, &err) != SQ_OK) {
        fprintf(stderr, "bench-engine: %s\n", err.msg);
        return NULL;
    }
    return s;
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

/* Feeds n_tokens one at a time (after 2 warm-up tokens).  Returns tokens/s
 * from the median token time — robust to the odd preemption on a shared
 * machine — and the plain mean rate in *mean. */
static double
decode_rate(sq_session *s, const sq_model *m, int n_tokens, double *mean)
{
    int n_vocab = sq_model_get_info(m).n_vocab;
    int n_tok = sq_tokenizer_n_vocab(sq_model_tokenizer(m));
    double *dt = calloc((size_t)n_tokens, sizeof *dt);
    sq_error err = { 0 };
    double t0 = 0, start = 0;
    if (!dt)
        return 0;
    for (int i = -2; i < n_tokens; i++) {
        if (i == 0)
            start = now_s();
        t0 = now_s();
        const float *logits = sq_session_logits(s);
        int32_t id = logits ? argmax(logits, n_vocab) % n_tok : 0;
        if (sq_session_eval_tokens(s, &id, 1, &err) != SQ_OK) {
            fprintf(stderr, "bench-engine: decode: %s\n", err.msg);
            free(dt);
            return 0;
        }
        if (i >= 0)
            dt[i] = now_s() - t0;
    }
    *mean = n_tokens / (now_s() - start);
    qsort(dt, (size_t)n_tokens, sizeof *dt, cmp_double);
    double med = n_tokens % 2 ? dt[n_tokens / 2] : 0.5 * (dt[n_tokens / 2 - 1] + dt[n_tokens / 2]);
    free(dt);
    return 1.0 / med;
}

static double
prefill_rate(sq_session *s, const sq_model *m, int n)
{
    int32_t *ids = malloc((size_t)n * sizeof *ids);
    if (!ids)
        return 0;
    uint64_t state = 42;
    for (int i = 0; i < n; i++)
        ids[i] = plain_token(sq_model_tokenizer(m), &state);
    sq_error err = { 0 };
    double t0 = now_s();
    sq_status st = sq_session_eval_tokens(s, ids, (size_t)n, &err);
    double dt = now_s() - t0;
    free(ids);
    if (st != SQ_OK) {
        fprintf(stderr, "bench-engine: prefill: %s\n", err.msg);
        return 0;
    }
    return n / dt;
}

/* A smooth colour gradient with some texture, w × h. */
static bool
make_image(int w, int h, sq_image *img)
{
    sq_error err = { 0 };
    if (sq_image_new(w, h, img, &err) != SQ_OK)
        return false;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            uint8_t *p = img->rgb + ((size_t)y * w + x) * 3;
            p[0] = (uint8_t)(255 * x / (w - 1));
            p[1] = (uint8_t)(255 * y / (h - 1));
            p[2] = (uint8_t)(128 + 127 * sin(x * 0.05) * cos(y * 0.07));
        }
    return true;
}

typedef struct {
    double encode_ms, ttft_ms;
    int    n_tokens, w, h;
} pass_result;

/* One VisionThink pass on a fresh conversation: a one-image chat prompt,
 * encoded and prefilled, then the first token picked. */
static bool
image_pass(sq_session *s, const sq_model *m, const sq_image *img, pass_result *r)
{
    static const char prompt[] =
        "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
        "<|im_start|>user\n<image>Describe this image.<|im_end|>\n<|im_start|>assistant\n";
    sq_session_reset(s);
    sq_error err = { 0 };
    const sq_image *imgs[1] = { img };
    double t0 = now_s();
    if (sq_session_eval_prompt(s, prompt, imgs, 1, &err) != SQ_OK) {
        fprintf(stderr, "bench-engine: image pass: %s\n", err.msg);
        return false;
    }
    int32_t first = argmax(sq_session_logits(s), sq_model_get_info(m).n_vocab);
    r->ttft_ms = (now_s() - t0) * 1e3;
    (void)first;
    size_t n = 0;
    const sq_image_info *ii = sq_session_images(s, &n);
    r->encode_ms = n ? ii[n - 1].encode_ms : 0;
    r->n_tokens = n ? ii[n - 1].n_tokens : 0;
    r->w = n ? ii[n - 1].w : 0;
    r->h = n ? ii[n - 1].h : 0;
    return n == 1;
}

/* ---- output ---- */

static void
row(const char *what, const char *value, const char *ref, const char *ratio)
{
    printf("  %-34s %16s  %-28s %s\n", what, value, ref, ratio);
}

/* The same with the share of the CPUs the phase got. */
static void
row_cores(const char *what, const char *value, const char *ref, const char *ratio, double cores)
{
    char r[96];
    snprintf(r, sizeof r, "%s [%.2f cores]", ref, cores);
    row(what, value, r, ratio);
}

static void
usage(FILE *out)
{
    fprintf(out,
            "usage: bench-engine TEXT.gguf MMPROJ.gguf [options]\n"
            "       bench-engine --models PREFIX [--make-model EXE --preset P --type T [--vocab F]] [options]\n"
            "  -t, --threads N     engine threads (default 2)\n"
            "      --decode N      tokens to time for decode (default 32)\n"
            "      --prefill N     prompt tokens for prefill (default 512)\n"
            "      --ctx N         KV cache size (default 4096)\n"
            "      --no-vision     skip the image passes\n"
            "      --no-1thread    skip the 1-thread decode\n");
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

int
main(int argc, char **argv)
{
    bench_opts o = { .threads = 2, .n_decode = 32, .n_prefill = 512, .n_ctx = 4096, .vision = true,
                     .one_thread = true };
    const char *models = NULL, *maker = NULL, *preset = "3b", *type = "q4_0", *vocab = NULL;
    enum { OPT_DECODE = 256, OPT_PREFILL, OPT_CTX, OPT_NO_VISION, OPT_NO_1T, OPT_MODELS, OPT_MAKER,
           OPT_PRESET, OPT_TYPE, OPT_VOCAB };
    static const struct option longopts[] = {
        { "threads", required_argument, NULL, 't' },
        { "decode", required_argument, NULL, OPT_DECODE },
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
    while ((c = getopt_long(argc, argv, "t:h", longopts, NULL)) != -1) {
        switch (c) {
        case 't': o.threads = atoi(optarg); break;
        case OPT_DECODE: o.n_decode = atoi(optarg); break;
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
    if (o.threads < 1 || o.n_decode < 1 || o.n_prefill < 1 || o.n_prefill + o.n_decode + 2 > o.n_ctx) {
        fprintf(stderr, "bench-engine: bad thread, token or context counts\n");
        return 2;
    }

    /* measured now and again around the decode runs; the best counts */
    double bw[2];
    if (!bandwidth_in_child(o.threads, bw)) {
        fprintf(stderr, "bench-engine: the bandwidth measurement failed\n");
        return 1;
    }
    text_facts tf;
    if (!read_text_facts(o.text, &tf))
        return 1;

    sq_model *m = load(&o, o.threads, o.vision);
    if (!m)
        return 1;
    sq_model_info info = sq_model_get_info(m);
    double wb = (double)info.weight_bytes;
    size_t kv_bytes = (size_t)o.n_ctx * (size_t)tf.n_layer * 2 * (size_t)(tf.n_head_kv * tf.head_dim) * 2;
    double text_mb = file_mb(o.text), mmproj_mb = o.vision ? file_mb(o.mmproj) : 0.0;

    printf("Squint engine benchmark — %s (%s), %d layers, n_embd %d, vocab rows %d\n", info.name,
           tf.weight_type, info.n_layer, info.n_embd, info.n_vocab);
    printf("  text %s (%.1f MB)\n", o.text, text_mb);
    if (o.vision)
        printf("  mmproj %s (%.1f MB), vision %d × %d\n", o.mmproj, mmproj_mb, info.vision_n_layer,
               info.vision_n_embd);
    double loadavg[3] = { 0, 0, 0 };
    getloadavg(loadavg, 3);
    printf("  backend %s, kernels %s, %d threads; KV cache %d slots F16; load average %.2f\n\n", info.backend,
           sq_quant_kernels_get()->name, o.threads, o.n_ctx, loadavg[0]);
    printf("  %-34s %16s  %-28s %s\n", "", "measured", "reference [CPU cores used]", "ratio");

    char v[64], r[64], q[64], what[64];
    snprintf(v, sizeof v, "%.1f MB", wb / 1e6);
    snprintf(r, sizeof r, "GGUF matrices: %.1f MB", (double)tf.matrix_bytes / 1e6);
    snprintf(q, sizeof q, "%.4f%s", wb / (double)tf.matrix_bytes,
             info.weight_bytes == tf.matrix_bytes ? "" : "  (mismatch!)");
    row("weight bytes read per token", v, r, q);

    sq_session *s = new_session(m, o.n_ctx);
    if (!s)
        return 1;
    phase ph = phase_start();
    double pf = prefill_rate(s, m, o.n_prefill);
    double cores = phase_cores(ph);
    snprintf(v, sizeof v, "%.1f tok/s", pf);
    snprintf(what, sizeof what, "prefill, %d tokens", o.n_prefill);
    snprintf(r, sizeof r, "%.0f ms", o.n_prefill / pf * 1e3);
    row_cores(what, v, r, "", cores);
    fflush(stdout);

    ph = phase_start();
    double dec_mean = 0, dec = decode_rate(s, m, o.n_decode, &dec_mean);
    cores = phase_cores(ph);
    double bw2[2];
    if (bandwidth_in_child(o.threads, bw2)) {
        bw[0] = bw2[0] > bw[0] ? bw2[0] : bw[0];
        bw[1] = bw2[1] > bw[1] ? bw2[1] : bw[1];
    }
    double roof = bw[0] * 1e9 / wb;
    snprintf(what, sizeof what, "decode, %d threads (median)", o.threads);
    snprintf(v, sizeof v, "%.2f tok/s", dec);
    snprintf(r, sizeof r, "roofline %.2f (mean %.2f)", roof, dec_mean);
    snprintf(q, sizeof q, "%.3f  (target ≥ 0.85: %s)", dec / roof, dec / roof >= 0.85 ? "met" : "MISSED");
    row_cores(what, v, r, q, cores);
    fflush(stdout);

    if (o.vision) {
        sq_image full = { 0 }, half = { 0 }, warm = { 0 };
        sq_error err = { 0 };
        if (!make_image(1008, 756, &full) || sq_image_half(&full, &half, &err) != SQ_OK ||
            !make_image(112, 112, &warm)) {
            fprintf(stderr, "bench-engine: cannot make the test images\n");
            return 1;
        }
        pass_result pw, lo, hi;
        /* a small image first: the vision weights are paged in there */
        bool ok = image_pass(s, m, &warm, &pw);
        phase ph_lo = phase_start();
        ok = ok && image_pass(s, m, &half, &lo);
        double cores_lo = phase_cores(ph_lo);
        phase ph_hi = phase_start();
        ok = ok && image_pass(s, m, &full, &hi);
        double cores_hi = phase_cores(ph_hi);
        if (ok) {
            snprintf(what, sizeof what, "vision encode %d×%d (%d tok)", hi.w, hi.h, hi.n_tokens);
            snprintf(v, sizeof v, "%.0f ms", hi.encode_ms);
            snprintf(r, sizeof r, "%.1f patches/s", hi.n_tokens * 4 / hi.encode_ms * 1e3);
            row(what, v, r, "");
            snprintf(what, sizeof what, "vision encode %d×%d (%d tok)", lo.w, lo.h, lo.n_tokens);
            snprintf(v, sizeof v, "%.0f ms", lo.encode_ms);
            snprintf(r, sizeof r, "%.1f patches/s", lo.n_tokens * 4 / lo.encode_ms * 1e3);
            snprintf(q, sizeof q, "half/full %.3f (tokens %.3f)", lo.encode_ms / hi.encode_ms,
                     (double)lo.n_tokens / hi.n_tokens);
            row(what, v, r, q);
            snprintf(v, sizeof v, "%.0f ms", hi.ttft_ms);
            snprintf(r, sizeof r, "encode %.0f + rest %.0f", hi.encode_ms, hi.ttft_ms - hi.encode_ms);
            row_cores("time to first token, full-res", v, r, "", cores_hi);
            snprintf(v, sizeof v, "%.0f ms", lo.ttft_ms);
            snprintf(r, sizeof r, "encode %.0f + rest %.0f", lo.encode_ms, lo.ttft_ms - lo.encode_ms);
            snprintf(q, sizeof q, "low/full %.3f", lo.ttft_ms / hi.ttft_ms);
            row_cores("time to first token, low-res", v, r, q, cores_lo);
        }
        sq_image_free(&full);
        sq_image_free(&half);
        sq_image_free(&warm);
        if (!ok)
            return 1;
    }
    sq_session_free(s);
    sq_model_free(m);
    fflush(stdout);

    if (o.one_thread && o.threads != 1) {
        m = load(&o, 1, false);
        s = m ? new_session(m, o.n_ctx) : NULL;
        if (!s)
            return 1;
        prefill_rate(s, m, 16);
        phase ph1 = phase_start();
        double dec1_mean = 0, dec1 = decode_rate(s, m, o.n_decode / 2 > 4 ? o.n_decode / 2 : 4, &dec1_mean);
        double cores1 = phase_cores(ph1), bw3[2];
        if (bandwidth_in_child(o.threads, bw3) && bw3[1] > bw[1])
            bw[1] = bw3[1];
        double roof1 = bw[1] * 1e9 / wb;
        snprintf(v, sizeof v, "%.2f tok/s", dec1);
        snprintf(r, sizeof r, "roofline %.2f (mean %.2f)", roof1, dec1_mean);
        snprintf(q, sizeof q, "%.3f", dec1 / roof1);
        row_cores("decode, 1 thread (median)", v, r, q, cores1);
        sq_session_free(s);
        sq_model_free(m);
    }

    snprintf(v, sizeof v, "%.2f GB/s", bw[0]);
    snprintf(r, sizeof r, "1 thread: %.2f GB/s", bw[1]);
    snprintf(q, sizeof q, "%.2f", bw[0] / bw[1]);
    snprintf(what, sizeof what, "memory read bandwidth, %d thr", o.threads);
    row(what, v, r, q);
    printf("  (bandwidth: best of 10 passes over 1 GiB, measured before and after each decode run;\n"
           "   the decode rooflines above use these best values)\n");

    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double rss = (double)ru.ru_maxrss * 1024.0 / 1e6, budget = text_mb + mmproj_mb + (double)kv_bytes / 1e6;
    snprintf(v, sizeof v, "%.1f MB", rss);
    snprintf(r, sizeof r, "files + KV %.1f MB", budget);
    snprintf(q, sizeof q, "%.3f  (target ≤ 1.10: %s)", rss / budget, rss / budget <= 1.10 ? "met" : "MISSED");
    row("peak RSS", v, r, q);
    printf("  (KV cache %.1f MB = %d slots × %lld layers × K,V × %lld × F16)\n", (double)kv_bytes / 1e6, o.n_ctx,
           (long long)tf.n_layer, (long long)(tf.n_head_kv * tf.head_dim));
    return 0;
}
