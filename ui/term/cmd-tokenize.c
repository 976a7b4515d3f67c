/* cmd-tokenize.c — `squint-cli tokenize` and `squint-cli detokenize`: the
 * tokenizer from the command line, for people and for the llama.cpp
 * comparison in tools/check-tokenizer.py. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "gguf.h"
#include "tokenizer.h"

static const char tokenize_help[] =
    "usage: squint-cli tokenize -m FILE.gguf [--no-special] [--] TEXT\n"
    "       squint-cli tokenize -m FILE.gguf [--no-special] -f FILE\n"
    "Prints the token ids of TEXT (or of the bytes of FILE, '-' for stdin) on one\n"
    "line, separated by single spaces.  No BOS or EOS is added.\n"
    "\n"
    "  -m, --model FILE  a GGUF with a Qwen2 tokenizer (a model or a vocab-only file)\n"
    "  --no-special      treat control tokens such as <|im_start|> as plain text\n"
    "                    (user-defined tokens such as <tool_call> still match)\n"
    "  -f, --file FILE   read the text from FILE instead of the command line\n"
    "  --                end of options: TEXT may start with '-'\n"
    "\n"
    "Exit status: 0 on success, 1 on an error, 2 on a usage error.\n";

static const char detokenize_help[] =
    "usage: squint-cli detokenize -m FILE.gguf [--skip-special] [--] ID...\n"
    "Prints the text of the token ids, exactly as bytes: no newline is added, so\n"
    "`squint-cli detokenize -m M $(squint-cli tokenize -m M -- TEXT)` gives back\n"
    "TEXT byte for byte.  The bytes need not be valid UTF-8 when the ids end in\n"
    "the middle of a character.\n"
    "\n"
    "  -m, --model FILE  a GGUF with a Qwen2 tokenizer\n"
    "  --skip-special    leave out control tokens such as <|im_end|>\n"
    "\n"
    "Exit status: 0 on success, 1 on an error, 2 on a usage error.\n";

static sq_tokenizer *
open_tokenizer(const char *path)
{
    sq_error err = { 0 };
    sq_gguf *g = NULL;
    sq_tokenizer *t = NULL;
    if (sq_gguf_open(path, &g, &err) != SQ_OK || sq_tokenizer_load(g, &t, &err) != SQ_OK)
        fprintf(stderr, "squint-cli: %s\n", err.msg);
    sq_gguf_close(g);
    return t;
}

static char *
slurp(const char *path, size_t *len)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "squint-cli: %s: %s\n", path, strerror(errno));
        return NULL;
    }
    size_t cap = 4096, n = 0, got;
    char *buf = malloc(cap);
    while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
    }
    bool failed = ferror(f);
    if (f != stdin)
        fclose(f);
    if (!buf || failed) {
        fprintf(stderr, "squint-cli: %s: %s\n", path, buf ? "read error" : "out of memory");
        free(buf);
        return NULL;
    }
    *len = n;
    return buf;
}

int
cmd_tokenize(int argc, char **argv)
{
    const char *model = NULL, *file = NULL, *text = NULL;
    bool special = true;
    int i = 1;
    for (; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(tokenize_help, stdout);
            return 0;
        } else if ((!strcmp(a, "-m") || !strcmp(a, "--model")) && i + 1 < argc) {
            model = argv[++i];
        } else if ((!strcmp(a, "-f") || !strcmp(a, "--file")) && i + 1 < argc) {
            file = argv[++i];
        } else if (!strcmp(a, "--no-special")) {
            special = false;
        } else if (!strcmp(a, "--")) {
            i++;
            break;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "squint-cli tokenize: unknown or incomplete option '%s'\n\n%s", a, tokenize_help);
            return 2;
        } else {
            break;
        }
    }
    if (i < argc)
        text = argv[i++];
    if (!model || (!text) == (!file) || i < argc) {
        fprintf(stderr, "squint-cli tokenize: %s\n\n%s",
                !model         ? "no model (-m FILE.gguf)"
                : text && file ? "give either TEXT or -f FILE"
                : i < argc     ? "one TEXT only (quote it)"
                               : "no TEXT",
                tokenize_help);
        return 2;
    }

    size_t len = 0;
    char *owned = NULL;
    if (file) {
        owned = slurp(file, &len);
        if (!owned)
            return 1;
        text = owned;
    } else {
        len = strlen(text);
    }
    sq_tokenizer *t = open_tokenizer(model);
    if (!t) {
        free(owned);
        return 1;
    }
    sq_tokens ids = { 0 };
    sq_error err = { 0 };
    int rc = 0;
    if (sq_tokenizer_encode(t, text, len, special, &ids, &err) != SQ_OK) {
        fprintf(stderr, "squint-cli: %s\n", err.msg);
        rc = 1;
    } else {
        for (size_t k = 0; k < ids.n; k++)
            printf(k ? " %d" : "%d", ids.ids[k]);
        putchar('\n');
        if (fflush(stdout) != 0)
            rc = 1;
    }
    sq_tokens_free(&ids);
    sq_tokenizer_free(t);
    free(owned);
    return rc;
}

int
cmd_detokenize(int argc, char **argv)
{
    const char *model = NULL;
    bool skip_special = false;
    int i = 1;
    for (; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(detokenize_help, stdout);
            return 0;
        } else if ((!strcmp(a, "-m") || !strcmp(a, "--model")) && i + 1 < argc) {
            model = argv[++i];
        } else if (!strcmp(a, "--skip-special")) {
            skip_special = true;
        } else if (!strcmp(a, "--")) {
            i++;
            break;
        } else if (a[0] == '-' && a[1] && !(a[1] >= '0' && a[1] <= '9')) {
            fprintf(stderr, "squint-cli detokenize: unknown or incomplete option '%s'\n\n%s", a,
                    detokenize_help);
            return 2;
        } else {
            break;
        }
    }
    if (!model) {
        fprintf(stderr, "squint-cli detokenize: no model (-m FILE.gguf)\n\n%s", detokenize_help);
        return 2;
    }
    size_t n = (size_t)(argc - i);
    int32_t *ids = malloc((n ? n : 1) * sizeof *ids);
    if (!ids) {
        fprintf(stderr, "squint-cli: out of memory\n");
        return 1;
    }
    for (size_t k = 0; k < n; k++) {
        const char *a = argv[i + (int)k];
        char *end;
        errno = 0;
        long v = strtol(a, &end, 10);
        if (end == a || *end || errno || v < INT32_MIN || v > INT32_MAX) {
            fprintf(stderr, "squint-cli detokenize: '%s' is not a token id\n", a);
            free(ids);
            return 2;
        }
        ids[k] = (int32_t)v;
    }
    sq_tokenizer *t = open_tokenizer(model);
    if (!t) {
        free(ids);
        return 1;
    }
    char *text = NULL;
    size_t len = 0;
    sq_error err = { 0 };
    int rc = 0;
    if (sq_tokenizer_decode(t, ids, n, skip_special, &text, &len, &err) != SQ_OK) {
        fprintf(stderr, "squint-cli: %s\n", err.msg);
        rc = 1;
    } else if (fwrite(text, 1, len, stdout) != len || fflush(stdout) != 0) {
        rc = 1;
    }
    free(text);
    free(ids);
    sq_tokenizer_free(t);
    return rc;
}
