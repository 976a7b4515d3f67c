/* squint-cli — Squint's terminal face: chat, one-shot runs and the
 * inspection commands that tests and people use. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

typedef struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} command;

static const command commands[] = {
    { "chat",       cmd_chat,       "chat about images in the terminal (interactive)" },
    { "run",        cmd_run,        "answer one prompt about images, streaming the reply" },
    { "devices",    cmd_devices,    "list the compute devices (CPU, OpenCL GPUs)" },
    { "download",   cmd_download,   "download a model (Hugging Face repository or URLs), resumable" },
    { "inspect",    cmd_inspect,    "show a GGUF file's metadata and tensor table" },
    { "tokenize",   cmd_tokenize,   "print the token ids of a text" },
    { "detokenize", cmd_detokenize, "print the text of token ids" },
};

static void
usage(FILE *out)
{
    fprintf(out, "usage: squint-cli COMMAND [ARGS]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-12s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\n'squint-cli COMMAND --help' describes a command.\n");
}

int
main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("squint-cli %s\n", SQUINT_VERSION);
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "squint-cli: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}
