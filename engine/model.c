/* model.c — loading a text GGUF + mmproj GGUF pair onto a backend. */
#include <stdlib.h>
#include <string.h>

#include "model-private.h"
#ifdef SQ_HAVE_OPENCL
#include "opencl-backend.h"
#endif

sq_model_params
sq_model_default_params(void)
{
    return (sq_model_params){ .backend = "cpu", .n_threads = 0 };
}

static void
progress(const sq_model_params *p, float f)
{
    if (p->progress)
        p->progress(f, p->user_data);
}

static char *
model_name(const sq_gguf *g, const char *path)
{
    sq_str s;
    if (sq_gguf_get_str(g, "general.name", &s, NULL) == SQ_OK && s.len > 0)
        return strndup(s.ptr, s.len);
    const char *slash = strrchr(path, '/');
    return strdup(slash ? slash + 1 : path);
}

static sq_status
load_vision(sq_model *m, const sq_model_params *p, sq_error *err)
{
    sq_status st = sq_gguf_open(p->mmproj_path, &m->mmproj_file, err);
    if (st != SQ_OK)
        return st;
    if ((st = sq_vision_model_load(m->be, m->mmproj_file, &m->vision, err)) != SQ_OK)
        return sq_error_prefix(err, "vision model %s", p->mmproj_path);
    if (m->vision.hp.proj_dim != m->text.hp.n_embd)
        return sq_error_set(err, SQ_ERR_FORMAT,
                            "the vision model %s projects to %d dimensions but the text model has %d: "
                            "they are not a pair",
                            p->mmproj_path, m->vision.hp.proj_dim, m->text.hp.n_embd);
    m->vision_start = sq_tokenizer_find(m->tok, "<|vision_start|>");
    m->vision_end = sq_tokenizer_find(m->tok, "<|vision_end|>");
    if (m->vision_start < 0 || m->vision_end < 0)
        return sq_error_set(err, SQ_ERR_FORMAT, "the vocabulary lacks <|vision_start|>/<|vision_end|>");
    m->has_vision = true;
    return SQ_OK;
}

sq_status
sq_model_load(const sq_model_params *p, sq_model **out, sq_error *err)
{
    if (!p || !p->text_path || !out)
        return sq_error_set(err, SQ_ERR_INVALID_ARG, "no text model given");
    *out = NULL;
    /* "auto": the OpenCL backend when a GPU is present, else the CPU */
    const char *backend = p->backend ? p->backend : "cpu";
    bool use_opencl = strcmp(backend, "opencl") == 0;
#ifdef SQ_HAVE_OPENCL
    if (strcmp(backend, "auto") == 0)
        use_opencl = sq_opencl_has_gpu();
#else
    if (use_opencl)
        return sq_error_set(err, SQ_ERR_UNSUPPORTED,
                            "this build of Squint has no OpenCL backend (it was configured without OpenCL/CLBlast); "
                            "use the cpu backend");
#endif
    if (!use_opencl && strcmp(backend, "cpu") != 0 && strcmp(backend, "auto") != 0)
        return sq_error_set(err, SQ_ERR_UNSUPPORTED, "unknown backend '%s' (available: cpu, opencl, auto)", backend);
    sq_model *m = calloc(1, sizeof *m);
    if (!m)
        return sq_error_set(err, SQ_ERR_NOMEM, "out of memory");
    m->vision_start = m->vision_end = -1;
    progress(p, 0.0f);
#ifdef SQ_HAVE_OPENCL
    sq_status st = use_opencl ? sq_backend_opencl_new(NULL, &m->be, err) : sq_backend_cpu_new(p->n_threads, &m->be, err);
#else
    sq_status st = sq_backend_cpu_new(p->n_threads, &m->be, err);
#endif
    if (st == SQ_OK)
        st = sq_gguf_open(p->text_path, &m->text_file, err);
    /* The text model first: its architecture check names a wrong file
     * (an mmproj in the text slot) better than a missing tokenizer would. */
    if (st == SQ_OK && (st = sq_text_model_load(m->be, m->text_file, &m->text, err)) != SQ_OK)
        sq_error_prefix(err, "text model %s", p->text_path);
    progress(p, 0.5f);
    if (st == SQ_OK && (st = sq_tokenizer_load(m->text_file, &m->tok, err)) != SQ_OK)
        sq_error_prefix(err, "%s", p->text_path);
    if (st == SQ_OK && sq_tokenizer_n_vocab(m->tok) > m->text.hp.n_vocab)
        st = sq_error_set(err, SQ_ERR_FORMAT, "%s: the vocabulary has %d tokens but the embedding table %d rows",
                          p->text_path, sq_tokenizer_n_vocab(m->tok), m->text.hp.n_vocab);
    progress(p, 0.7f);
    if (st == SQ_OK && p->mmproj_path)
        st = load_vision(m, p, err);
    if (st == SQ_OK && !(m->name = model_name(m->text_file, p->text_path)))
        st = sq_error_set(err, SQ_ERR_NOMEM, "out of memory");
    if (st != SQ_OK) {
        sq_model_free(m);
        return st;
    }
    progress(p, 1.0f);
    *out = m;
    return SQ_OK;
}

void
sq_model_free(sq_model *m)
{
    if (!m)
        return;
    if (m->be) {
        sq_text_model_free(&m->text);
        sq_vision_model_free(&m->vision);
        m->be->ops->free(m->be);
    }
    sq_tokenizer_free(m->tok);
    sq_gguf_close(m->text_file);
    sq_gguf_close(m->mmproj_file);
    free(m->name);
    free(m);
}

sq_model_info
sq_model_get_info(const sq_model *m)
{
    return (sq_model_info){
        .name = m->name,
        .n_vocab = m->text.hp.n_vocab,
        .n_embd = m->text.hp.n_embd,
        .n_layer = m->text.hp.n_layer,
        .n_ctx_train = m->text.hp.n_ctx_train,
        .has_vision = m->has_vision,
        .vision_n_embd = m->has_vision ? m->vision.hp.n_embd : 0,
        .vision_n_layer = m->has_vision ? m->vision.hp.n_layer : 0,
        .weight_bytes = m->text.weight_bytes,
        .backend = m->be->ops->name,
    };
}

const sq_tokenizer *
sq_model_tokenizer(const sq_model *m)
{
    return m->tok;
}
