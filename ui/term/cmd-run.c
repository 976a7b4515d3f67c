/* cmd-run.c — `squint-cli run`: one prompt, optional images, streamed reply.
 *
 *   squint-cli run -m TEXT.gguf [--mmproj MMPROJ.gguf] [--image FILE]...
 *                  (-p TEXT | --raw-prompt TEXT) [-n N] [--temp T] [--seed S]
 *                  [--threads N] [--dump-logits FILE] [--dump-image-embd FILE] [--json]
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "squint.h"
#include "term-output.h"
#include "term-view.h"

typedef struct {
    const char *model, *mmproj, *prompt, *raw_prompt, *backend;
    const char *remote, *api_key, *remote_model;   /* an OpenAI-compatible endpoint instead */
    char        demo_text[4096], demo_mmproj[4096];   /* the demo model's paths when no -m */
    const char *dump_logits, *dump_embd, *policy, *forced_reply;
    const char **images;
    int         n_images;
    int         n_predict, threads, n_ctx;
    float       temp, top_p, min_p, repeat_penalty;
    int         top_k;
    long long   seed;
    bool        json, ignore_eos, kv_f32, quiet, view;
} run_opts;

static void
usage(FILE *out)
{
    fprintf(out,
            "usage: squint-cli run [-m TEXT.gguf [--mmproj MMPROJ.gguf]] [--image FILE]...\n"
            "                      (-p TEXT | --raw-prompt TEXT) [options]\n"
            "\n"
            "  -m, --model FILE        text model GGUF (architecture qwen2vl); default: the built-in demo model\n"
            "      --mmproj FILE       vision model GGUF (needed for images)\n"
            "      --image FILE        an image (PNG, JPEG, BMP, GIF, PNM); repeatable\n"
            "  -p, --prompt TEXT       a question about the images, asked the way --policy says\n"
            "      --policy P          adaptive (VisionThink: half size first, the full image when the\n"
            "                          model asks), low (half size only) or full (full size, plain chat\n"
            "                          prompt); default: adaptive for VisionThink models, else full\n"
            "      --raw-prompt TEXT   the prompt as given, special tokens parsed; each <image> marker is\n"
            "                          replaced by the next image\n"
            "  -n, --n-predict N       tokens to generate (default 256)\n"
            "      --temp T            temperature; 0 = greedy (default 0)\n"
            "      --top-k N, --top-p P, --min-p P, --repeat-penalty R\n"
            "      --seed S            random seed for sampling\n"
            "      --ignore-eos        keep generating past end-of-turn tokens\n"
            "  -t, --threads N         CPU threads (default: all cores)\n"
            "  -c, --ctx-size N        context size in tokens (default 4096)\n"
            "      --kv-f32            keep the KV cache in F32 instead of F16\n"
            "      --backend NAME      compute backend: cpu (default), opencl or auto\n"
            "      --dump-logits FILE  write the float32 logits of the last prompt position\n"
            "      --dump-image-embd FILE  write every image's float32 embeddings, in order\n"
            "      --json              end with one JSON line: token counts, ids, timings\n"
            "  -q, --quiet             do not stream the reply\n"
            "      --view              show what the model sees (and the zoom) in a window\n"
            "      --debug-forced-reply TEXT  use TEXT as the model's first reply (tests)\n"
            "      --remote URL        ask an OpenAI-compatible endpoint (vLLM, squint-server, …) instead of\n"
            "                          a local model; the VisionThink loop runs here\n"
            "      --api-key KEY       its key (or $SQUINT_API_KEY); --remote-model NAME: its model name\n");
}

enum {
    OPT_MMPROJ = 256, OPT_IMAGE, OPT_RAW, OPT_TEMP, OPT_SEED, OPT_DUMP_LOGITS, OPT_DUMP_EMBD, OPT_JSON,
    OPT_IGNORE_EOS, OPT_BACKEND, OPT_KV_F32, OPT_TOP_K, OPT_TOP_P, OPT_MIN_P, OPT_REPEAT, OPT_POLICY,
    OPT_FORCED, OPT_VIEW, OPT_REMOTE, OPT_API_KEY, OPT_REMOTE_MODEL,
};

static bool
parse_int(const char *s, int lo, int hi, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || end == s || v < lo || v > hi)
        return false;
    *out = (int)v;
    return true;
}

static bool
parse_float(const char *s, float *out)
{
    char *end;
    errno = 0;
    float v = strtof(s, &end);
    if (errno || *end || end == s)
        return false;
    *out = v;
    return true;
}

/* Returns 0 on success, else the exit code. */
static int
parse_args(int argc, char **argv, run_opts *o)
{
    static const struct option longopts[] = {
        { "model", required_argument, 0, 'm' },       { "mmproj", required_argument, 0, OPT_MMPROJ },
        { "image", required_argument, 0, OPT_IMAGE }, { "prompt", required_argument, 0, 'p' },
        { "raw-prompt", required_argument, 0, OPT_RAW }, { "n-predict", required_argument, 0, 'n' },
        { "temp", required_argument, 0, OPT_TEMP },   { "seed", required_argument, 0, OPT_SEED },
        { "threads", required_argument, 0, 't' },     { "ctx-size", required_argument, 0, 'c' },
        { "dump-logits", required_argument, 0, OPT_DUMP_LOGITS },
        { "dump-image-embd", required_argument, 0, OPT_DUMP_EMBD },
        { "json", no_argument, 0, OPT_JSON },         { "ignore-eos", no_argument, 0, OPT_IGNORE_EOS },
        { "backend", required_argument, 0, OPT_BACKEND }, { "kv-f32", no_argument, 0, OPT_KV_F32 },
        { "top-k", required_argument, 0, OPT_TOP_K }, { "top-p", required_argument, 0, OPT_TOP_P },
        { "min-p", required_argument, 0, OPT_MIN_P }, { "repeat-penalty", required_argument, 0, OPT_REPEAT },
        { "quiet", no_argument, 0, 'q' },             { "help", no_argument, 0, 'h' },
        { "policy", required_argument, 0, OPT_POLICY }, { "debug-forced-reply", required_argument, 0, OPT_FORCED },
        { "view", no_argument, 0, OPT_VIEW },
        { "remote", required_argument, 0, OPT_REMOTE }, { "api-key", required_argument, 0, OPT_API_KEY },
        { "remote-model", required_argument, 0, OPT_REMOTE_MODEL },
        { 0, 0, 0, 0 },
    };
    o->images = calloc((size_t)argc, sizeof *o->images);
    if (!o->images)
        return 1;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "m:p:n:t:c:qh", longopts, NULL)) != -1) {
        bool ok = true;
        switch (c) {
        case 'm': o->model = optarg; break;
        case OPT_MMPROJ: o->mmproj = optarg; break;
        case OPT_IMAGE: o->images[o->n_images++] = optarg; break;
        case 'p': o->prompt = optarg; break;
        case OPT_RAW: o->raw_prompt = optarg; break;
        case 'n': ok = parse_int(optarg, -1, 1 << 20, &o->n_predict); break;
        case 't': ok = parse_int(optarg, 0, 1024, &o->threads); break;
        case 'c': ok = parse_int(optarg, 16, 1 << 22, &o->n_ctx); break;
        case OPT_TEMP: ok = parse_float(optarg, &o->temp); break;
        case OPT_TOP_K: ok = parse_int(optarg, 0, 1 << 24, &o->top_k); break;
        case OPT_TOP_P: ok = parse_float(optarg, &o->top_p); break;
        case OPT_MIN_P: ok = parse_float(optarg, &o->min_p); break;
        case OPT_REPEAT: ok = parse_float(optarg, &o->repeat_penalty); break;
        case OPT_SEED: {
            char *end;
            o->seed = strtoll(optarg, &end, 10);
            ok = *end == '\0';
            break;
        }
        case OPT_DUMP_LOGITS: o->dump_logits = optarg; break;
        case OPT_DUMP_EMBD: o->dump_embd = optarg; break;
        case OPT_JSON: o->json = true; break;
        case OPT_IGNORE_EOS: o->ignore_eos = true; break;
        case OPT_BACKEND: o->backend = optarg; break;
        case OPT_KV_F32: o->kv_f32 = true; break;
        case 'q': o->quiet = true; break;
        case OPT_POLICY: o->policy = optarg; break;
        case OPT_FORCED: o->forced_reply = optarg; break;
        case OPT_VIEW: o->view = true; break;
        case OPT_REMOTE: o->remote = optarg; break;
        case OPT_API_KEY: o->api_key = optarg; break;
        case OPT_REMOTE_MODEL: o->remote_model = optarg; break;
        case 'h': usage(stdout); return -1;
        default: usage(stderr); return 2;
        }
        if (!ok) {
            fprintf(stderr, "squint-cli run: bad value '%s' for option %s\n", optarg, argv[optind - 1]);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "squint-cli run: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    if (!o->prompt == !o->raw_prompt) {
        fprintf(stderr, "squint-cli run: need exactly one of -p or --raw-prompt\n");
        usage(stderr);
        return 2;
    }
    if (o->policy && !o->prompt) {
        fprintf(stderr, "squint-cli run: --policy applies to -p questions, not to --raw-prompt\n");
        return 2;
    }
    sq_policy dummy;
    sq_error perr = { 0 };
    if (o->policy && sq_policy_parse(o->policy, &dummy, &perr) != SQ_OK) {
        fprintf(stderr, "squint-cli run: %s\n", perr.msg);
        return 2;
    }
    if (o->remote) {
        if (!o->prompt) {
            fprintf(stderr, "squint-cli run: --remote takes questions (-p), not --raw-prompt\n");
            return 2;
        }
        return 0;
    }
    if (!cli_pick_model("run", &o->model, &o->mmproj, o->demo_text, o->demo_mmproj, sizeof o->demo_text))
        return 1;
    if (o->n_images > 0 && !o->mmproj) {
        fprintf(stderr, "squint-cli run: images need the vision model: add --mmproj MMPROJ.gguf\n");
        return 2;
    }
    return 0;
}

static bool
write_floats(const char *path, const float *v, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return false;
    bool ok = fwrite(v, sizeof *v, n, f) == n;
    return (fclose(f) == 0) && ok;
}

typedef struct {
    const run_opts *o;
    sq_model       *model;
    term_view      *view;
    sq_tokens       ids;
    bool            dumped;
    int             rc;
} run_state;

static bool
on_token(int32_t id, const char *text, size_t len, void *user_data)
{
    run_state *rs = user_data;
    if (id >= 0)
        sq_tokens_push(&rs->ids, id, NULL);
    if (!rs->o->quiet && len > 0) {
        fwrite(text, 1, len, stdout);
        fflush(stdout);
    }
    return true;
}

static void
on_event(const sq_event *ev, void *user_data)
{
    const run_state *rs = user_data;
    if (!rs->o->quiet)
        term_print_event(stdout, ev);
    term_view_event(rs->view, ev);
}

/* Writes the logits and image embeddings of the (first) prompt. */
static void
dump(sq_session *s, int pass, void *user_data)
{
    run_state *rs = user_data;
    if (pass != 1 || rs->dumped)
        return;
    rs->dumped = true;
    sq_model_info info = sq_model_get_info(rs->model);
    size_t rows = 0;
    const float *embd = sq_session_image_embd(s, &rows);
    if (rs->o->dump_embd && !write_floats(rs->o->dump_embd, embd, rows * (size_t)info.n_embd)) {
        fprintf(stderr, "squint-cli: cannot write %s: %s\n", rs->o->dump_embd, strerror(errno));
        rs->rc = 1;
    }
    if (rs->o->dump_logits && !write_floats(rs->o->dump_logits, sq_session_logits(s), (size_t)info.n_vocab)) {
        fprintf(stderr, "squint-cli: cannot write %s: %s\n", rs->o->dump_logits, strerror(errno));
        rs->rc = 1;
    }
}

static void
print_json(const sq_session *s, const sq_tokens *gen)
{
    sq_stats st = sq_session_stats(s);
    size_t n_images = 0;
    const sq_image_info *infos = sq_session_images(s, &n_images);
    printf("{\"prompt_tokens\": %lld, \"visual_tokens\": %lld, \"image_tokens\": [",
           (long long)st.n_prompt_tokens, (long long)st.n_visual_tokens);
    for (size_t i = 0; i < n_images; i++)
        printf("%s%d", i ? ", " : "", infos[i].n_tokens);
    printf("], \"generated_ids\": [");
    for (size_t i = 0; i < gen->n; i++)
        printf("%s%d", i ? ", " : "", gen->ids[i]);
    double tps = st.decode_ms > 0 ? (double)st.n_generated * 1e3 / st.decode_ms : 0.0;
    printf("], \"n_generated\": %lld, \"timings\": {\"encode_ms\": %.3f, \"prefill_ms\": %.3f, "
           "\"decode_ms\": %.3f, \"first_token_ms\": %.3f, \"decode_tokens_per_s\": %.3f}}\n",
           (long long)st.n_generated, st.encode_ms, st.prefill_ms, st.decode_ms, st.first_token_ms, tps);
}

static sq_generate_params
generate_params(const run_opts *o, run_state *rs)
{
    sq_generate_params gp = sq_generate_default_params();
    gp.n_predict = o->n_predict;
    gp.ignore_eos = o->ignore_eos;
    gp.sampling.temperature = o->temp;
    gp.sampling.seed = (uint64_t)o->seed;
    if (o->top_k >= 0)
        gp.sampling.top_k = o->top_k;
    if (o->top_p > 0)
        gp.sampling.top_p = o->top_p;
    if (o->min_p >= 0)
        gp.sampling.min_p = o->min_p;
    if (o->repeat_penalty > 0)
        gp.sampling.repeat_penalty = o->repeat_penalty;
    gp.on_token = on_token;
    gp.user_data = rs;
    return gp;
}

/* --raw-prompt: the text as given, then plain generation. */
static sq_status
run_raw(const run_opts *o, sq_session *s, const sq_image *const *imgs, run_state *rs, sq_error *err)
{
    sq_status st = sq_session_eval_prompt(s, o->raw_prompt, imgs, (size_t)o->n_images, err);
    if (st != SQ_OK)
        return st;
    dump(s, 1, rs);
    sq_generate_params gp = generate_params(o, rs);
    if ((st = sq_session_generate(s, &gp, NULL, NULL, err)) != SQ_OK)
        return st;
    if (!o->quiet)
        printf("\n");
    if (o->json)
        print_json(s, &rs->ids);
    return SQ_OK;
}

/* -p: a question through the VisionThink loop (or the plain template). */
static sq_status
run_question(const run_opts *o, sq_session *s, const sq_image *const *imgs, run_state *rs, sq_error *err)
{
    sq_ask_params ap = sq_ask_default_params();
    ap.policy = sq_model_default_policy(rs->model);
    if (o->policy)
        sq_policy_parse(o->policy, &ap.policy, NULL);
    ap.gen = generate_params(o, rs);
    ap.forced_reply = o->forced_reply;
    ap.on_prompt = dump;
    ap.user_data = rs;
    sq_callbacks cb = { on_event, NULL, rs };
    sq_session_set_callbacks(s, &cb);
    term_view_question(rs->view, imgs, (size_t)o->n_images, ap.policy);
    sq_answer a;
    sq_status st = sq_session_ask(s, o->prompt, imgs, (size_t)o->n_images, &ap, &a, err);
    if (st != SQ_OK)
        return st;
    sq_stats totals = sq_session_stats(s);
    term_view_answer(rs->view, &a, &totals);
    if (!o->quiet) {
        printf("\n");
        if (a.answer && a.answer[0] && strcmp(a.answer, a.reply) != 0)
            printf("\nanswer: %s\n", a.answer);
    } else if (!o->json) {
        printf("%s\n", a.answer ? a.answer : "");
    }
    if (a.n_images > 0 || a.visual_used > 0)
        term_print_ledger(o->json ? stderr : stdout, &a);
    if (o->json)
        term_print_answer_json(stdout, s, ap.policy, &a, rs->ids.ids, rs->ids.n);
    sq_answer_free(&a);
    return SQ_OK;
}

/* Loads the images and runs the prompt or question. */
static int
run(const run_opts *o, sq_model *model)
{
    sq_error err = { 0 };
    run_state rs = { .o = o, .model = model };
    sq_tokens_init(&rs.ids);
    sq_session_params sp = sq_session_default_params();
    if (o->n_ctx)
        sp.n_ctx = o->n_ctx;
    sp.kv_f32 = o->kv_f32;
    sq_session *s = NULL;
    sq_image *imgs = calloc((size_t)o->n_images + 1, sizeof *imgs);
    const sq_image **ptrs = calloc((size_t)o->n_images + 1, sizeof *ptrs);
    int rc = 1;
    if (!imgs || !ptrs) {
        fprintf(stderr, "squint-cli: out of memory\n");
        goto out;
    }
    for (int i = 0; i < o->n_images; i++) {
        if (sq_image_load_file(o->images[i], NULL, &imgs[i], &err) != SQ_OK) {
            fprintf(stderr, "squint-cli: %s\n", err.msg);
            goto out;
        }
        ptrs[i] = &imgs[i];
    }
    if (o->view && !(rs.view = term_view_open()))
        goto out;
    sq_status st = sq_session_new(model, &sp, &s, &err);
    if (st == SQ_OK)
        st = o->prompt ? run_question(o, s, ptrs, &rs, &err) : run_raw(o, s, ptrs, &rs, &err);
    if (st == SQ_OK)
        term_view_wait_closed(rs.view);
    if (st != SQ_OK)
        fprintf(stderr, "squint-cli: %s\n", err.msg);
    rc = st == SQ_OK ? rs.rc : 1;
out:
    term_view_close(rs.view);
    sq_tokens_free(&rs.ids);
    sq_session_free(s);
    for (int i = 0; i < o->n_images; i++)
        sq_image_free(&imgs[i]);
    free(imgs);
    free(ptrs);
    return rc;
}

int
cmd_run(int argc, char **argv)
{
    run_opts o = { .n_predict = 256, .temp = 0.0f, .top_k = -1, .top_p = -1, .min_p = -1,
                   .repeat_penalty = -1, .backend = "cpu" };
    int rc = parse_args(argc, argv, &o);
    if (rc != 0) {
        free(o.images);
        return rc < 0 ? 0 : rc;
    }
    if (o.remote) {
        cli_remote_args ra = { o.remote, o.api_key ? o.api_key : getenv("SQUINT_API_KEY"), o.remote_model,
                               o.prompt, o.policy, (const char *const *)o.images, o.n_images, o.n_predict, o.temp,
                               o.top_p, o.json, o.quiet };
        rc = cli_run_remote(&ra);
        free(o.images);
        return rc;
    }
    sq_model_params mp = sq_model_default_params();
    mp.text_path = o.model;
    mp.mmproj_path = o.mmproj;
    mp.n_threads = o.threads;
    mp.backend = o.backend;
    sq_model *model = NULL;
    sq_error err = { 0 };
    if (sq_model_load(&mp, &model, &err) != SQ_OK) {
        fprintf(stderr, "squint-cli: %s\n", err.msg);
        free(o.images);
        return 1;
    }
    rc = run(&o, model);
    sq_model_free(model);
    free(o.images);
    return rc;
}
