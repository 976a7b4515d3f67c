/* cmd-inspect.c — `squint-cli inspect FILE.gguf`: metadata (arrays
 * abbreviated) and the tensor table, in the spirit of gguf-dump. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "gguf.h"

static void
print_tensor(int64_t i, const sq_gguf_tensor *t)
{
    char shape[96];
    int o = 0;
    for (uint32_t d = 0; d < t->n_dims; d++)
        o += snprintf(shape + o, sizeof shape - (size_t)o, "%s%" PRId64, d ? ", " : "", t->ne[d]);
    printf("%5" PRId64 "  %-40s %-5s [%-20s] %12" PRIu64 " %12zu\n", i, t->name,
           sq_type_get(t->type)->name, shape, t->offset, t->nbytes);
}

int
cmd_inspect(int argc, char **argv)
{
    if (argc != 2 || strcmp(argv[1], "--help") == 0) {
        fprintf(argc == 2 ? stdout : stderr,
                "usage: squint-cli inspect FILE.gguf\n"
                "Prints the GGUF header, every metadata key with its type and value\n"
                "(long strings and arrays abbreviated) and the tensor table.\n");
        return argc == 2 ? 0 : 2;
    }
    sq_error err = { 0 };
    sq_gguf *g = NULL;
    if (sq_gguf_open(argv[1], &g, &err) != SQ_OK) {
        fprintf(stderr, "squint-cli: %s\n", err.msg);
        return 1;
    }
    printf("GGUF v%u, %zu bytes, alignment %u, data at offset %zu\n", sq_gguf_version(g),
           sq_gguf_file_size(g), sq_gguf_alignment(g), sq_gguf_data_offset(g));
    printf("\n%" PRId64 " metadata keys:\n", sq_gguf_n_kv(g));
    char value[512];
    for (int64_t i = 0; i < sq_gguf_n_kv(g); i++) {
        sq_gguf_kv_format(g, i, value, sizeof value);
        printf("%5" PRId64 "  %-45s %-4s %s\n", i, sq_gguf_kv_key(g, i),
               sq_gguf_type_name(sq_gguf_kv_type(g, i)), value);
    }
    printf("\n%" PRId64 " tensors:\n", sq_gguf_n_tensors(g));
    printf("%5s  %-40s %-5s [%-20s] %12s %12s\n", "#", "name", "type", "shape", "offset", "bytes");
    size_t total = 0;
    for (int64_t i = 0; i < sq_gguf_n_tensors(g); i++) {
        const sq_gguf_tensor *t = sq_gguf_tensor_at(g, i);
        print_tensor(i, t);
        total += t->nbytes;
    }
    printf("\ntensor data: %zu bytes\n", total);
    sq_gguf_close(g);
    return 0;
}
