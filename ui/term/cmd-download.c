/* cmd-download.c — `squint-cli download`: a model from a Hugging Face
 * repository (its GGUF and mmproj) or from direct URLs, into a folder, with
 * a progress line; an interrupted download continues where it stopped when
 * run again (Ctrl-C keeps what arrived). */
#include <getopt.h>
#include <glib-unix.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "download.h"

typedef struct {
    GMainLoop    *loop;
    GCancellable *cancel;
    GError       *error;
    gboolean      ok;
    char         *text_url, *mmproj_url;
    const char   *name;     /* the file being fetched, for the progress line */
    gint64        t0;
    guint64       first;    /* bytes already there when this run began */
} dl_state;

static void
usage(FILE *out)
{
    fprintf(out, "usage: squint-cli download (OWNER/REPO [--quant Q] | URL [MMPROJ_URL]) [--dir DIR]\n"
                 "\n"
                 "  OWNER/REPO        a Hugging Face repository: its GGUF whose name holds the quant\n"
                 "                    (--quant, default Q4_K_M) and its mmproj ($HF_ENDPOINT is honoured)\n"
                 "  URL [MMPROJ_URL]  a text GGUF and its mmproj by direct http(s) URLs\n"
                 "  --dir DIR         where to put them (default $XDG_DATA_HOME/squint/models)\n"
                 "Run it again after an interruption: it continues where it stopped.\n");
}

static void
on_progress(guint64 received, guint64 total, gpointer data)
{
    dl_state *st = data;
    double secs = (g_get_monotonic_time() - st->t0) / 1e6;
    if (st->first == G_MAXUINT64)
        st->first = received;
    double rate = secs > 0.2 ? (double)(received - st->first) / secs / 1e6 : 0;
    if (total > 0)
        fprintf(stderr, "\r%s  %.1f / %.1f MB  %3d%%  %.1f MB/s   ", st->name, received / 1e6, total / 1e6,
                (int)(100.0 * (double)received / (double)total), rate);
    else
        fprintf(stderr, "\r%s  %.1f MB  %.1f MB/s   ", st->name, received / 1e6, rate);
}

static void
resolved(GObject *source, GAsyncResult *result, gpointer data)
{
    dl_state *st = data;
    (void)source;
    st->ok = squint_hf_resolve_finish(result, &st->text_url, &st->mmproj_url, &st->error);
    g_main_loop_quit(st->loop);
}

static void
downloaded(GObject *source, GAsyncResult *result, gpointer data)
{
    dl_state *st = data;
    (void)source;
    st->ok = squint_download_finish(result, &st->error);
    g_main_loop_quit(st->loop);
}

static gboolean
on_sigint(gpointer data)
{
    g_cancellable_cancel(((dl_state *)data)->cancel);
    return G_SOURCE_CONTINUE;
}

/* The file name a URL ends with (without its query). */
static char *
url_basename(const char *url)
{
    g_autofree char *path = g_uri_parse_scheme(url) ? g_strdup(url) : NULL;
    if (!path)
        return NULL;
    char *q = strpbrk(path, "?#");
    if (q)
        *q = '\0';
    char *slash = strrchr(path, '/');
    if (!slash || !slash[1])
        return NULL;
    return g_uri_unescape_string(slash + 1, NULL);
}

static gboolean
fetch_one(SoupSession *session, dl_state *st, const char *url, const char *dir, char **out_path)
{
    g_autofree char *base = url_basename(url);
    if (!base || strchr(base, '/') || base[0] == '.') {
        fprintf(stderr, "squint-cli download: cannot name a file after '%s'\n", url);
        return FALSE;
    }
    g_autofree char *dest = g_build_filename(dir, base, NULL);
    if (g_file_test(dest, G_FILE_TEST_EXISTS)) {
        printf("%s is already there\n", dest);
        *out_path = g_steal_pointer(&dest);
        return TRUE;
    }
    st->name = base;
    st->t0 = g_get_monotonic_time();
    st->first = G_MAXUINT64;
    squint_download_async(session, url, dest, on_progress, st, st->cancel, downloaded, st);
    g_main_loop_run(st->loop);
    fprintf(stderr, "\n");
    if (!st->ok) {
        gboolean cancelled = g_error_matches(st->error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
        fprintf(stderr, "squint-cli download: %s\n",
                cancelled ? "stopped; run the same command again to continue" : st->error->message);
        g_clear_error(&st->error);
        return FALSE;
    }
    *out_path = g_steal_pointer(&dest);
    return TRUE;
}

int
cmd_download(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "dir", required_argument, 0, 'd' }, { "quant", required_argument, 0, 'Q' },
        { "help", no_argument, 0, 'h' },      { 0, 0, 0, 0 },
    };
    const char *dir_opt = NULL, *quant = NULL;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'd': dir_opt = optarg; break;
        case 'Q': quant = optarg; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    int n = argc - optind;
    if (n < 1 || n > 2) {
        usage(stderr);
        return 2;
    }
    g_autofree char *dir = dir_opt ? g_strdup(dir_opt) : g_build_filename(g_get_user_data_dir(), "squint", "models", NULL);
    if (g_mkdir_with_parents(dir, 0755) != 0) {
        fprintf(stderr, "squint-cli download: cannot create %s\n", dir);
        return 1;
    }
    g_autoptr(SoupSession) session = soup_session_new_with_options("user-agent", "squint/0.1", NULL);
    dl_state st = { g_main_loop_new(NULL, FALSE), g_cancellable_new(), NULL, FALSE, NULL, NULL, NULL, 0, 0 };
    guint sig = g_unix_signal_add(SIGINT, on_sigint, &st);
    int rc = 1;
    g_autofree char *text = NULL, *mmproj = NULL;
    const char *first = argv[optind];
    if (g_str_has_prefix(first, "http://") || g_str_has_prefix(first, "https://")) {
        st.text_url = g_strdup(first);
        st.mmproj_url = n == 2 ? g_strdup(argv[optind + 1]) : NULL;
    } else if (n == 1) {
        squint_hf_resolve_async(session, NULL, first, quant, st.cancel, resolved, &st);
        g_main_loop_run(st.loop);
        if (!st.ok) {
            fprintf(stderr, "squint-cli download: %s\n", st.error->message);
            g_clear_error(&st.error);
            goto out;
        }
    } else {
        usage(stderr);
        rc = 2;
        goto out;
    }
    if (!fetch_one(session, &st, st.text_url, dir, &text))
        goto out;
    if (st.mmproj_url && !fetch_one(session, &st, st.mmproj_url, dir, &mmproj))
        goto out;
    printf("\nready: squint-cli chat -m %s%s%s\n", text, mmproj ? " --mmproj " : "", mmproj ? mmproj : "");
    rc = 0;
out:
    g_source_remove(sig);
    g_free(st.text_url);
    g_free(st.mmproj_url);
    g_object_unref(st.cancel);
    g_main_loop_unref(st.loop);
    return rc;
}
