/* cli.h — the subcommands of squint-cli.  Each takes the argument vector
 * starting at the subcommand's own name and returns the process exit code. */
#pragma once

int cmd_inspect(int argc, char **argv);
int cmd_tokenize(int argc, char **argv);
int cmd_detokenize(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_chat(int argc, char **argv);
int cmd_devices(int argc, char **argv);
