/* cli.h — the subcommands of squint-cli.  Each takes the argument vector
 * starting at the subcommand's own name and returns the process exit code. */
#pragma once

int cmd_inspect(int argc, char **argv);
int cmd_tokenize(int argc, char **argv);
int cmd_detokenize(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_chat(int argc, char **argv);
int cmd_devices(int argc, char **argv);
int cmd_download(int argc, char **argv);   /* cmd-download.c, or a message without the HTTP client */

#include <stddef.h>

/* The model a command runs: the user's -m/--mmproj, or with no -m the
 * built-in demo model (both files).  `text_buf`/`mmproj_buf` (`size` bytes)
 * hold the demo paths.  Prints why and returns false when there is none. */
#include <stdbool.h>
bool cli_pick_model(const char *cmd, const char **model, const char **mmproj, char *text_buf, char *mmproj_buf,
                    size_t size);

/* `squint-cli run --remote`: a question to an OpenAI-compatible endpoint with
 * the VisionThink loop run here (cmd-run-remote.c; needs the HTTP client). */
typedef struct {
    const char        *url, *api_key, *model, *question, *policy;
    const char *const *images;
    int                n_images, n_predict;
    float              temp, top_p;   /* top_p ≤ 0: the endpoint's default */
    bool               json, quiet;
} cli_remote_args;

int cli_run_remote(const cli_remote_args *a);
