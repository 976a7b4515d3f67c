/* cmd-chat.c — `squint-cli chat`: the interactive terminal assistant.
 *
 * Line editing and history come from libedit.  Commands start with '/':
 * /image PATH attaches an image to the next question, /policy sets the
 * resolution policy, /stats shows the conversation's ledger, /reset starts
 * over.  Ctrl-C stops a reply in progress without leaving; Ctrl-D leaves.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <editline/readline.h>

#include "cli.h"
#include "squint.h"
#include "term-output.h"
#include "term-view.h"

#define MAX_ATTACHED 8

static volatile sig_atomic_t interrupted;

static void
on_sigint(int sig)
{
    (void)sig;
    interrupted = 1;
}

typedef struct {
    sq_model   *model;
    sq_session *session;
    sq_policy   policy;
    sq_image    attached[MAX_ATTACHED];
    char       *attached_names[MAX_ATTACHED];
    int         n_attached;
    int         n_predict;
    float       temp;
    bool        tty;
    term_view  *view;
} chat_state;

static bool
should_abort(void *user_data)
{
    (void)user_data;
    return interrupted != 0;
}

static bool
print_token(int32_t id, const char *text, size_t len, void *user_data)
{
    (void)id;
    (void)user_data;
    fwrite(text, 1, len, stdout);
    fflush(stdout);
    return true;
}

static void
print_event(const sq_event *ev, void *user_data)
{
    const chat_state *c = user_data;
    term_print_event(stdout, ev);
    term_view_event(c->view, ev);
}

static void
clear_attached(chat_state *c)
{
    for (int i = 0; i < c->n_attached; i++) {
        sq_image_free(&c->attached[i]);
        free(c->attached_names[i]);
    }
    c->n_attached = 0;
}

static void
attach(chat_state *c, const char *path)
{
    if (!sq_model_get_info(c->model).has_vision) {
        printf("this model has no vision part: start chat with --mmproj\n");
        return;
    }
    if (c->n_attached == MAX_ATTACHED) {
        printf("at most %d images per question\n", MAX_ATTACHED);
        return;
    }
    sq_error err = { 0 };
    sq_image *img = &c->attached[c->n_attached];
    if (sq_image_load_file(path, NULL, img, &err) != SQ_OK) {
        printf("%s: %s\n", path, err.msg);
        return;
    }
    c->attached_names[c->n_attached++] = strdup(path);
    printf("attached %s (%d×%d); it goes with your next question\n", path, img->w, img->h);
}

static void
ask(chat_state *c, const char *question)
{
    const sq_image *imgs[MAX_ATTACHED];
    for (int i = 0; i < c->n_attached; i++)
        imgs[i] = &c->attached[i];
    sq_ask_params p = sq_ask_default_params();
    p.policy = c->policy;
    p.gen.n_predict = c->n_predict;
    p.gen.sampling.temperature = c->temp;
    p.gen.on_token = print_token;
    sq_callbacks cb = { print_event, should_abort, c };
    sq_session_set_callbacks(c->session, &cb);
    interrupted = 0;
    term_view_question(c->view, imgs, (size_t)c->n_attached, c->policy);
    sq_answer a;
    sq_error err = { 0 };
    sq_status st = sq_session_ask(c->session, question, imgs, (size_t)c->n_attached, &p, &a, &err);
    printf("\n");
    if (st == SQ_ERR_ABORTED) {
        printf("(stopped)\n");
    } else if (st != SQ_OK) {
        printf("error: %s\n", err.msg);
    } else {
        if (a.answer && a.answer[0] && strcmp(a.answer, a.reply) != 0)
            printf("\nanswer: %s\n", a.answer);
        term_print_ledger(stdout, &a);
        sq_stats totals = sq_session_stats(c->session);
        term_view_answer(c->view, &a, &totals);
        sq_answer_free(&a);
    }
    clear_attached(c);
}

static void
help(void)
{
    printf("Type a question and press Enter.  Commands:\n"
           "  /image PATH    attach an image to the next question (repeatable)\n"
           "  /policy NAME   adaptive (VisionThink), low (half size only) or full\n"
           "  /stats         visual tokens used vs. full resolution, context use, timings\n"
           "  /reset         forget the conversation\n"
           "  /help          this text\n"
           "  /quit          leave (or Ctrl-D)\n"
           "Ctrl-C stops a reply in progress.\n");
}

/* Returns false to leave. */
static bool
command(chat_state *c, char *line)
{
    char *arg = strchr(line, ' ');
    if (arg) {
        *arg++ = '\0';
        while (*arg == ' ')
            arg++;
    }
    sq_error err = { 0 };
    if (strcmp(line, "/quit") == 0 || strcmp(line, "/exit") == 0) {
        return false;
    } else if (strcmp(line, "/image") == 0 && arg && *arg) {
        attach(c, arg);
    } else if (strcmp(line, "/policy") == 0) {
        if (arg && *arg && sq_policy_parse(arg, &c->policy, &err) != SQ_OK)
            printf("%s\n", err.msg);
        printf("policy: %s\n", sq_policy_name(c->policy));
    } else if (strcmp(line, "/stats") == 0) {
        term_print_session_stats(stdout, c->session);
    } else if (strcmp(line, "/reset") == 0) {
        sq_session_reset(c->session);
        clear_attached(c);
        printf("conversation cleared\n");
    } else if (strcmp(line, "/help") == 0) {
        help();
    } else {
        printf("unknown command %s (try /help)\n", line);
    }
    return true;
}

static void
loop(chat_state *c)
{
    const char *prompt = c->tty ? "squint> " : "";
    for (;;) {
        interrupted = 0;
        char *line = readline(prompt);
        if (!line)
            break;
        char *text = line;
        while (*text == ' ' || *text == '\t')
            text++;
        size_t n = strlen(text);
        while (n > 0 && (text[n - 1] == ' ' || text[n - 1] == '\n' || text[n - 1] == '\r'))
            text[--n] = '\0';
        bool go_on = true;
        if (*text) {
            add_history(text);
            if (text[0] == '/')
                go_on = command(c, text);
            else
                ask(c, text);
        }
        free(line);
        if (!go_on)
            break;
    }
}

static void
usage(FILE *out)
{
    fprintf(out, "usage: squint-cli chat [-m TEXT.gguf [--mmproj MMPROJ.gguf]] [--image FILE]...\n"
                 "                       [--policy adaptive|low|full] [-n N] [--temp T] [-t THREADS] [-c CTX]\n"
                 "                       [--view]   (a window showing what the model sees)\n"
                 "Interactive chat about images; /help inside lists the commands.\n");
}

int
cmd_chat(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "model", required_argument, 0, 'm' }, { "mmproj", required_argument, 0, 'M' },
        { "image", required_argument, 0, 'i' }, { "policy", required_argument, 0, 'P' },
        { "n-predict", required_argument, 0, 'n' }, { "temp", required_argument, 0, 'T' },
        { "threads", required_argument, 0, 't' }, { "ctx-size", required_argument, 0, 'c' },
        { "view", no_argument, 0, 'V' }, { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 },
    };
    const char *model = NULL, *mmproj = NULL, *policy = NULL;
    const char *images[MAX_ATTACHED];
    int n_images = 0, threads = 0, n_ctx = 8192, n_predict = 1024;
    float temp = 0.0f;
    bool view = false;
    optind = 1;
    int ch;
    while ((ch = getopt_long(argc, argv, "m:n:t:c:h", longopts, NULL)) != -1) {
        switch (ch) {
        case 'm': model = optarg; break;
        case 'M': mmproj = optarg; break;
        case 'i':
            if (n_images < MAX_ATTACHED)
                images[n_images++] = optarg;
            break;
        case 'P': policy = optarg; break;
        case 'n': n_predict = atoi(optarg); break;
        case 'T': temp = strtof(optarg, NULL); break;
        case 't': threads = atoi(optarg); break;
        case 'c': n_ctx = atoi(optarg); break;
        case 'V': view = true; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (n_ctx < 64 || n_predict == 0) {
        usage(stderr);
        return 2;
    }
    char demo_text[4096], demo_mmproj[4096];
    if (!cli_pick_model("chat", &model, &mmproj, demo_text, demo_mmproj, sizeof demo_text))
        return 1;
    sq_model_params mp = sq_model_default_params();
    mp.text_path = model;
    mp.mmproj_path = mmproj;
    mp.n_threads = threads;
    sq_error err = { 0 };
    chat_state c = { .n_predict = n_predict, .temp = temp, .tty = isatty(STDIN_FILENO) };
    if (sq_model_load(&mp, &c.model, &err) != SQ_OK) {
        fprintf(stderr, "squint-cli: %s\n", err.msg);
        return 1;
    }
    c.policy = sq_model_default_policy(c.model);
    if (policy && sq_policy_parse(policy, &c.policy, &err) != SQ_OK) {
        fprintf(stderr, "squint-cli: %s\n", err.msg);
        sq_model_free(c.model);
        return 2;
    }
    sq_session_params sp = sq_session_default_params();
    sp.n_ctx = n_ctx;
    if (sq_session_new(c.model, &sp, &c.session, &err) != SQ_OK) {
        fprintf(stderr, "squint-cli: %s\n", err.msg);
        sq_model_free(c.model);
        return 1;
    }
    if (view)
        c.view = term_view_open();
    struct sigaction sa = { 0 };
    sa.sa_handler = on_sigint;
    sigaction(SIGINT, &sa, NULL);
    sq_model_info info = sq_model_get_info(c.model);
    printf("Squint · %s · policy %s · /help for commands\n", info.name, sq_policy_name(c.policy));
    for (int i = 0; i < n_images; i++)
        attach(&c, images[i]);
    loop(&c);
    clear_attached(&c);
    term_view_close(c.view);
    sq_session_free(c.session);
    sq_model_free(c.model);
    return 0;
}
