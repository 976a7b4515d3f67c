/* export-gguf.c — writes the demo model's GGUF pair with the engine's own
 * GGUF writer and quantizers (engine/gguf.h, engine/quant.h).
 *
 *   squint-demo-export MANIFEST.txt
 *
 * export.py dumps every tensor as raw little-endian float32 (PyTorch
 * row-major order = GGUF bytes, spec A.4) and writes a line manifest:
 *
 *   file PATH                      start a GGUF file
 *   vocab GGUF                     copy every tokenizer.* key of GGUF
 *   u32 KEY VALUE | f32 KEY VALUE | bool KEY 0|1 | str KEY VALUE(rest of line)
 *   i32a KEY V1 V2 ... | f32a KEY V1 V2 ...
 *   tensor NAME TYPE NDIMS NE0 NE1 NE2 NE3 RAWFILE   (TYPE f32|f16|q8_0)
 *   end                            write the file
 *
 * The token list is written as the vocabulary file has it (its 4160 rows
 * match the embedding rows).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gguf.h"
#include "quant.h"

static int
copy_tokenizer(sq_gguf_writer *w, const char *path)
{
    sq_error err = { 0 };
    sq_gguf *g = NULL;
    if (sq_gguf_open(path, &g, &err) != SQ_OK) {
        fprintf(stderr, "export: %s: %s\n", path, err.msg);
        return 0;
    }
    int ok = 1;
    for (int64_t i = 0; ok && i < sq_gguf_n_kv(g); i++) {
        const char *key = sq_gguf_kv_key(g, i);
        if (strncmp(key, "tokenizer.", 10) != 0)
            continue;
        switch (sq_gguf_kv_type(g, i)) {
        case SQ_GGUF_UINT32: { uint32_t v; ok = sq_gguf_get_u32(g, key, &v, &err) == SQ_OK; if (ok) sq_gguf_writer_set_u32(w, key, v); break; }
        case SQ_GGUF_INT32: { int32_t v; ok = sq_gguf_get_i32(g, key, &v, &err) == SQ_OK; if (ok) sq_gguf_writer_set_i32(w, key, v); break; }
        case SQ_GGUF_BOOL: { bool v; ok = sq_gguf_get_bool(g, key, &v, &err) == SQ_OK; if (ok) sq_gguf_writer_set_bool(w, key, v); break; }
        case SQ_GGUF_STRING: {
            sq_str s;
            ok = sq_gguf_get_str(g, key, &s, &err) == SQ_OK;
            if (ok) {
                char *v = strndup(s.ptr, s.len);
                sq_gguf_writer_set_str(w, key, v);
                free(v);
            }
            break;
        }
        case SQ_GGUF_ARRAY: {
            sq_gguf_array a;
            ok = sq_gguf_get_array(g, key, &a, &err) == SQ_OK;
            if (!ok)
                break;
            if (a.elem_type == SQ_GGUF_STRING) {
                char **strs = calloc(a.count ? a.count : 1, sizeof *strs);
                for (uint64_t k = 0; k < a.count; k++) {
                    sq_str s = sq_gguf_array_str(&a, k);
                    strs[k] = strndup(s.ptr, s.len);
                }
                sq_gguf_writer_set_str_array(w, key, (const char *const *)strs, a.count);
                for (uint64_t k = 0; k < a.count; k++)
                    free(strs[k]);
                free(strs);
            } else if (a.data) {
                sq_gguf_writer_set_array(w, key, a.elem_type, a.data, a.count);
            } else {
                fprintf(stderr, "export: %s: nested arrays are not copied\n", key);
                ok = 0;
            }
            break;
        }
        default:
            fprintf(stderr, "export: %s: value type not copied\n", key);
            ok = 0;
        }
    }
    if (!ok && err.msg[0])
        fprintf(stderr, "export: %s\n", err.msg);
    sq_gguf_close(g);
    return ok;
}

static int
add_tensor(sq_gguf_writer *w, const char *name, const char *type, int n_dims, const int64_t ne[4], const char *raw,
           size_t *bytes)
{
    sq_type t;
    if (strcmp(type, "f32") == 0)
        t = SQ_TYPE_F32;
    else if (strcmp(type, "f16") == 0)
        t = SQ_TYPE_F16;
    else if (strcmp(type, "q8_0") == 0)
        t = SQ_TYPE_Q8_0;
    else {
        fprintf(stderr, "export: %s: unknown type %s\n", name, type);
        return 0;
    }
    int64_t n = ne[0] * ne[1] * ne[2] * ne[3], rows = n / ne[0];
    float *f = malloc((size_t)n * sizeof *f);
    FILE *fp = fopen(raw, "rb");
    if (!f || !fp || fread(f, sizeof *f, (size_t)n, fp) != (size_t)n) {
        fprintf(stderr, "export: %s: cannot read %lld floats from %s\n", name, (long long)n, raw);
        free(f);
        if (fp)
            fclose(fp);
        return 0;
    }
    fclose(fp);
    size_t row = sq_type_row_size(t, ne[0]);
    if (row == 0) {
        fprintf(stderr, "export: %s: %lld columns are not whole %s blocks\n", name, (long long)ne[0], type);
        free(f);
        return 0;
    }
    const sq_quant_kernels *ref = sq_quant_kernels_scalar();
    uint8_t *data = malloc(row * (size_t)rows);
    for (int64_t r = 0; r < rows; r++)
        ref->quantize[t](f + r * ne[0], data + (size_t)r * row, ne[0]);
    sq_gguf_writer_add_tensor(w, name, t, (uint32_t)n_dims, ne, data);
    *bytes += row * (size_t)rows;
    free(data);
    free(f);
    return 1;
}

int
main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: squint-demo-export MANIFEST.txt\n");
        return 2;
    }
    FILE *m = fopen(argv[1], "r");
    if (!m) {
        perror(argv[1]);
        return 1;
    }
    char line[65536], path[4096] = "";
    sq_gguf_writer *w = NULL;
    size_t bytes = 0;
    int ok = 1;
    while (ok && fgets(line, sizeof line, m)) {
        line[strcspn(line, "\n")] = 0;
        char cmd[16], key[256];
        int off = 0;
        if (sscanf(line, "%15s%n", cmd, &off) != 1)
            continue;
        const char *rest = line + off + (line[off] == ' ');
        if (strcmp(cmd, "file") == 0) {
            snprintf(path, sizeof path, "%s", rest);
            w = sq_gguf_writer_new();
            bytes = 0;
        } else if (!w) {
            fprintf(stderr, "export: '%s' before 'file'\n", cmd);
            ok = 0;
        } else if (strcmp(cmd, "vocab") == 0) {
            ok = copy_tokenizer(w, rest);
        } else if (strcmp(cmd, "end") == 0) {
            sq_error err = { 0 };
            if (sq_gguf_writer_write(w, path, &err) != SQ_OK) {
                fprintf(stderr, "export: %s: %s\n", path, err.msg);
                ok = 0;
            } else {
                printf("%s: %.2f MB of tensors\n", path, (double)bytes / 1e6);
            }
            sq_gguf_writer_free(w);
            w = NULL;
        } else if (strcmp(cmd, "tensor") == 0) {
            char name[256], type[16], raw[4096];
            int nd;
            long long ne[4];
            if (sscanf(rest, "%255s %15s %d %lld %lld %lld %lld %4095s", name, type, &nd, &ne[0], &ne[1], &ne[2], &ne[3],
                       raw) != 8) {
                fprintf(stderr, "export: bad line: %s\n", line);
                ok = 0;
            } else {
                int64_t e[4] = { ne[0], ne[1], ne[2], ne[3] };
                ok = add_tensor(w, name, type, nd, e, raw, &bytes);
            }
        } else {
            int koff = 0;
            if (sscanf(rest, "%255s%n", key, &koff) != 1) {
                fprintf(stderr, "export: bad line: %s\n", line);
                ok = 0;
                continue;
            }
            const char *val = rest + koff + (rest[koff] == ' ');
            if (strcmp(cmd, "u32") == 0)
                sq_gguf_writer_set_u32(w, key, (uint32_t)strtoul(val, NULL, 10));
            else if (strcmp(cmd, "f32") == 0)
                sq_gguf_writer_set_f32(w, key, strtof(val, NULL));
            else if (strcmp(cmd, "bool") == 0)
                sq_gguf_writer_set_bool(w, key, atoi(val) != 0);
            else if (strcmp(cmd, "str") == 0)
                sq_gguf_writer_set_str(w, key, val);
            else if (strcmp(cmd, "i32a") == 0 || strcmp(cmd, "f32a") == 0) {
                int32_t iv[64];
                float fv[64];
                int n = 0;
                char *p = (char *)val, *end;
                while (n < 64) {
                    if (cmd[0] == 'i') {
                        long v = strtol(p, &end, 10);
                        if (end == p)
                            break;
                        iv[n++] = (int32_t)v;
                    } else {
                        float v = strtof(p, &end);
                        if (end == p)
                            break;
                        fv[n++] = v;
                    }
                    p = end;
                }
                if (cmd[0] == 'i')
                    sq_gguf_writer_set_array(w, key, SQ_GGUF_INT32, iv, (uint64_t)n);
                else
                    sq_gguf_writer_set_array(w, key, SQ_GGUF_FLOAT32, fv, (uint64_t)n);
            } else {
                fprintf(stderr, "export: unknown command '%s'\n", cmd);
                ok = 0;
            }
        }
    }
    fclose(m);
    if (w)
        sq_gguf_writer_free(w);
    return ok ? 0 : 1;
}
