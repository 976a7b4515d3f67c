/* cmd-run-remote.c — `squint-cli run --remote URL`: the question goes to an
 * OpenAI-compatible endpoint through api/remote.c, which runs the VisionThink
 * loop here; the reply streams to stdout, a zoom is announced on stderr, and
 * --json ends with the same kind of line as a local run. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "remote.h"
#include "term-output.h"

typedef struct {
    const cli_remote_args *a;
    GMainLoop             *loop;
    SquintRemoteAnswer    *answer;
    GError                *error;
} remote_run;

static void
on_delta(const char *text, gpointer data)
{
    remote_run *r = data;
    if (!r->a->quiet) {
        fputs(text, stdout);
        fflush(stdout);
    }
}

static void
on_zoom(const SquintRemoteZoom *z, gpointer data)
{
    (void)data;
    fprintf(stderr, "\n[zooming in: %dx%d → %dx%d, %" G_GINT64_FORMAT " → %" G_GINT64_FORMAT " visual tokens]\n",
            z->low_w, z->low_h, z->full_w, z->full_h, z->low_tokens, z->full_tokens);
}

static void
answered(GObject *source, GAsyncResult *result, gpointer data)
{
    remote_run *r = data;
    (void)source;
    r->answer = squint_remote_ask_finish(NULL, result, &r->error);
    g_main_loop_quit(r->loop);
}

static void
print_json(const cli_remote_args *a, sq_policy policy, const SquintRemoteAnswer *ans)
{
    printf("{\"policy\": \"%s\", \"remote\": true, \"zoom_requested\": %s, \"zoomed\": %s, "
           "\"tool_call_error\": %s, ",
           sq_policy_name(policy), ans->zoom_requested ? "true" : "false", ans->zoomed ? "true" : "false",
           ans->tool_call_error ? "true" : "false");
    printf("\"visual_tokens\": {\"low\": %" G_GINT64_FORMAT ", \"full\": %" G_GINT64_FORMAT ", \"used\": %"
           G_GINT64_FORMAT ", \"baseline\": %" G_GINT64_FORMAT ", \"saved\": %" G_GINT64_FORMAT "}, ",
           ans->visual_low, ans->visual_full, ans->visual_used, ans->visual_baseline, ans->visual_saved);
    printf("\"prompt_tokens\": %" G_GINT64_FORMAT ", \"completion_tokens\": %" G_GINT64_FORMAT ", \"answer\": ",
           ans->prompt_tokens, ans->completion_tokens);
    term_json_string(stdout, ans->answer);
    printf(", \"reply\": ");
    term_json_string(stdout, ans->reply);
    printf("}\n");
    (void)a;
}

int
cli_run_remote(const cli_remote_args *a)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(SquintRemote) remote = squint_remote_new(a->url, a->api_key, a->model, &error);
    sq_policy policy = SQ_POLICY_ADAPTIVE;
    sq_error err = { 0 };
    int rc = 0;
    if (!remote) {
        fprintf(stderr, "squint-cli run: %s\n", error->message);
        return 2;
    }
    if (a->policy && sq_policy_parse(a->policy, &policy, &err) != SQ_OK) {
        fprintf(stderr, "squint-cli run: %s\n", err.msg);
        return 2;
    }
    sq_image *images = g_new0(sq_image, (gsize)a->n_images + 1);
    const sq_image **ptrs = g_new0(const sq_image *, (gsize)a->n_images + 1);
    for (int i = 0; i < a->n_images; i++) {
        if (sq_image_load_file(a->images[i], NULL, &images[i], &err) != SQ_OK) {
            fprintf(stderr, "squint-cli: %s\n", err.msg);
            rc = 1;
            goto out;
        }
        ptrs[i] = &images[i];
    }
    remote_run r = { a, g_main_loop_new(NULL, FALSE), NULL, NULL };
    SquintRemoteCallbacks cb = { on_delta, on_zoom };
    squint_remote_ask_async(remote, a->question, ptrs, (guint)a->n_images, policy, a->n_predict, a->temp, a->top_p,
                            &cb, &r, NULL, answered, &r);
    g_main_loop_run(r.loop);
    g_main_loop_unref(r.loop);
    if (!r.answer) {
        fprintf(stderr, "%ssquint-cli: %s\n", a->quiet ? "" : "\n", r.error->message);
        g_error_free(r.error);
        rc = 1;
        goto out;
    }
    if (!a->quiet)
        printf("\n");
    else if (!a->json)
        printf("%s\n", r.answer->answer);
    if (!a->quiet && r.answer->answer[0] && strcmp(r.answer->answer, r.answer->reply) != 0)
        printf("\nanswer: %s\n", r.answer->answer);
    if (a->n_images > 0)
        fprintf(a->json ? stderr : stdout,
                "visual tokens: %" G_GINT64_FORMAT " used / %" G_GINT64_FORMAT " full-resolution (saved %"
                G_GINT64_FORMAT ")%s\n",
                r.answer->visual_used, r.answer->visual_baseline, r.answer->visual_saved,
                r.answer->zoomed ? " · zoomed in" : "");
    if (a->json)
        print_json(a, policy, r.answer);
    squint_remote_answer_free(r.answer);
out:
    for (int i = 0; i < a->n_images; i++)
        sq_image_free(&images[i]);
    g_free(images);
    g_free(ptrs);
    return rc;
}
