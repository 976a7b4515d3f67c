/* fuzz-gguf.c — libFuzzer target for the GGUF reader.  Whatever parses is
 * walked completely (every key formatted, every array element and every
 * tensor byte touched) so the sanitizers see any read the validation missed. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gguf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
walk(const sq_gguf *g)
{
    char buf[512];
    for (int64_t i = 0; i < sq_gguf_n_kv(g); i++) {
        sq_gguf_kv_format(g, i, buf, sizeof buf);
        const char *key = sq_gguf_kv_key(g, i);
        sq_gguf_array arr;
        if (sq_gguf_get_array(g, key, &arr, NULL) != SQ_OK)
            continue;
        if (arr.elem_type == SQ_GGUF_STRING) {
            for (uint64_t k = 0; k < arr.count; k++) {
                sq_str s = sq_gguf_array_str(&arr, k);
                if (s.len)
                    buf[0] ^= s.ptr[s.len - 1];
            }
        } else if (arr.count <= 1u << 20) {
            int64_t *ints = malloc((size_t)arr.count * sizeof *ints + 1);
            float *floats = malloc((size_t)arr.count * sizeof *floats + 1);
            sq_gguf_array_ints(&arr, ints, NULL);
            sq_gguf_array_floats(&arr, floats, NULL);
            free(ints);
            free(floats);
        }
    }
    volatile uint8_t sink = 0;
    for (int64_t i = 0; i < sq_gguf_n_tensors(g); i++) {
        const sq_gguf_tensor *t = sq_gguf_tensor_at(g, i);
        if (t->nbytes)
            sink ^= ((const uint8_t *)t->data)[0] ^ ((const uint8_t *)t->data)[t->nbytes - 1];
        (void)sq_gguf_find_tensor(g, t->name);
    }
    (void)sink;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* A private copy so reads past `size` hit ASan's redzone. */
    uint8_t *copy = malloc(size ? size : 1);
    memcpy(copy, data, size);
    sq_gguf *g = NULL;
    sq_error err = { 0 };
    if (sq_gguf_open_memory(copy, size, &g, &err) == SQ_OK) {
        walk(g);
        sq_gguf_close(g);
    } else if (err.msg[0] == '\0') {
        abort(); /* every failure must say why */
    }
    free(copy);
    return 0;
}
