/* tokenizer.h — the Qwen2 byte-level BPE tokenizer, built from a GGUF's
 * `tokenizer.ggml.*` metadata (spec §E.1, §F), matching llama.cpp id for id.
 *
 * Encoding runs in three steps:
 *   1. Added tokens (types CONTROL, USER_DEFINED and UNKNOWN) are cut out of
 *      the text first, longest token text first, as llama.cpp does.
 *      USER_DEFINED tokens (e.g. `<tool_call>` in Qwen2.5) are always matched;
 *      CONTROL and UNKNOWN tokens (`<|im_start|>`, …) only when parse_special
 *      is true — otherwise their text is tokenized as plain text.
 *   2. Each remaining fragment is split by the Qwen2 pre-tokenizer regex
 *      (PCRE2, JIT when available).
 *   3. Each piece is byte-level mapped and merged by BPE (lowest merge rank
 *      first, leftmost on ties).  A final symbol that is not a token falls back
 *      to the tokens of its single byte characters (llama.cpp keeps only the
 *      ASCII ones there; no Qwen vocabulary ever gets there).
 *
 * The GGUF has no separate added-token list: the token types are the list.
 * Beware that ggml-vocab-qwen2.gguf types its [PAD151646]… entries
 * USER_DEFINED, so those texts are matched as tokens, as in llama.cpp.
 *
 * Invalid UTF-8 never fails and never crashes: like llama.cpp, each byte that
 * does not start a well-formed sequence is replaced by U+FFFD (EF BF BD)
 * before pre-tokenization (so "\xE4\xB8A" encodes as U+FFFD U+FFFD "A").
 * llama.cpp's lenient decoder also accepts overlong forms and surrogates
 * (re-encoding the code point); so does this one.  Code points above U+10FFFF
 * become one U+FFFD (llama.cpp throws there).
 *
 * No token id is built in: special ids come from the vocabulary (the GGUF's
 * eos/bos/padding keys, sq_tokenizer_find for a text).
 *
 * Thread-safety: a loaded sq_tokenizer is immutable; any number of threads
 * may encode and decode with it concurrently.  An sq_detok_stream belongs to
 * one thread.  The tokenizer copies what it needs, so the sq_gguf may be
 * closed after sq_tokenizer_load returns.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gguf.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sq_tokenizer sq_tokenizer;

/* The values of `tokenizer.ggml.token_type`. */
typedef enum {
    SQ_TOKEN_UNDEFINED    = 0,
    SQ_TOKEN_NORMAL       = 1,
    SQ_TOKEN_UNKNOWN      = 2,
    SQ_TOKEN_CONTROL      = 3,  /* <|im_start|>, <|endoftext|>, …: special */
    SQ_TOKEN_USER_DEFINED = 4,  /* added tokens that are plain text (<tool_call>) */
    SQ_TOKEN_UNUSED       = 5,  /* [PAD151646] …: never produced, decode to nothing */
    SQ_TOKEN_BYTE         = 6,
} sq_token_type;

/* A growable id list.  Zero-initialize (or sq_tokens_init) before first use;
 * encoding appends, so clear `n` to reuse it. */
typedef struct {
    int32_t *ids;
    size_t   n;
    size_t   cap;
} sq_tokens;

void      sq_tokens_init(sq_tokens *v);
void      sq_tokens_free(sq_tokens *v);  /* frees ids and zeroes *v */
sq_status sq_tokens_push(sq_tokens *v, int32_t id, sq_error *err);

/* ---- loading ---- */

/* Builds the tokenizer from the `tokenizer.ggml.*` keys: model must be "gpt2"
 * and pre "qwen2" (anything else → SQ_ERR_UNSUPPORTED); tokens, token_type
 * (optional, NORMAL when absent) and merges are validated (lengths, types,
 * "left right" merge syntax, special ids in range → SQ_ERR_FORMAT otherwise).
 * Loading the 151936-token Qwen2 vocabulary takes a few tens of ms. */
sq_status sq_tokenizer_load(const sq_gguf *g, sq_tokenizer **out, sq_error *err);
void      sq_tokenizer_free(sq_tokenizer *t);

/* ---- vocabulary ---- */

int32_t       sq_tokenizer_n_vocab(const sq_tokenizer *t);
int32_t       sq_tokenizer_n_merges(const sq_tokenizer *t);
/* The stored token text (byte-level encoded for NORMAL tokens, e.g. "Ġthe"),
 * NUL-terminated; *len (if non-NULL) gets its length.  NULL for a bad id. */
const char   *sq_tokenizer_token_text(const sq_tokenizer *t, int32_t id, size_t *len);
/* SQ_TOKEN_UNDEFINED for a bad id. */
sq_token_type sq_tokenizer_token_type(const sq_tokenizer *t, int32_t id);
/* The id whose stored text is exactly `text` (e.g. "<|im_end|>"), or -1. */
int32_t       sq_tokenizer_find(const sq_tokenizer *t, const char *text);
int32_t       sq_tokenizer_find_n(const sq_tokenizer *t, const char *text, size_t len);

/* Ids from the GGUF keys (tokenizer.ggml.{bos,eos,padding}_token_id), -1 when
 * absent, and tokenizer.ggml.add_bos_token (false when absent). */
int32_t sq_tokenizer_bos(const sq_tokenizer *t);
int32_t sq_tokenizer_eos(const sq_tokenizer *t);
int32_t sq_tokenizer_pad(const sq_tokenizer *t);
bool    sq_tokenizer_add_bos(const sq_tokenizer *t);

/* End of generation: the eos id, and the tokens `<|im_end|>` and
 * `<|endoftext|>` when the vocabulary has them.  (llama.cpp also stops on
 * Qwen's FIM tokens <|fim_pad|>, <|repo_name|>, <|file_sep|>; Squint does not.) */
bool sq_tokenizer_is_eog(const sq_tokenizer *t, int32_t id);

/* ---- encoding ---- */

/* Tokenizes len bytes of text (NUL bytes are ordinary text; text may be NULL
 * when len is 0) and APPENDS the ids to *out.  No BOS/EOS is added.  Fails
 * only for SQ_ERR_INVALID_ARG (NULL t or out), SQ_ERR_NOMEM, or SQ_ERR_LIMIT
 * if the regex engine gives up (it does not on real text).  Speed: ~20 MB/s
 * of mixed text, ~2 µs for a short chat prompt; a single multi-megabyte
 * piece (a 4 MB run of spaces) takes seconds, as the merge loop is n log n. */
sq_status sq_tokenizer_encode(const sq_tokenizer *t, const char *text, size_t len,
                              bool parse_special, sq_tokens *out, sq_error *err);

/* ---- decoding ---- */

/* The bytes one token stands for: NORMAL tokens byte-level decoded, CONTROL,
 * UNKNOWN and USER_DEFINED tokens their literal text — except that with
 * skip_special, CONTROL and UNKNOWN tokens give "" — and UNUSED/UNDEFINED
 * tokens "".  Not NUL-terminated in general (a piece may even contain NUL);
 * NULL with *len = 0 for a bad id.  The pointer lives as long as t.
 * A piece may be an incomplete UTF-8 sequence (one byte of an emoji). */
const char *sq_tokenizer_piece(const sq_tokenizer *t, int32_t id, bool skip_special, size_t *len);
size_t      sq_tokenizer_max_piece_len(const sq_tokenizer *t);

/* Concatenates the pieces of n ids into a new NUL-terminated buffer (*text,
 * free() it; *len excludes the NUL).  The result is the exact bytes, which
 * need not be valid UTF-8.  A bad id → SQ_ERR_INVALID_ARG. */
sq_status sq_tokenizer_decode(const sq_tokenizer *t, const int32_t *ids, size_t n,
                              bool skip_special, char **text, size_t *len, sq_error *err);

/* Streaming detokenizer for generation: feed ids one at a time, get back only
 * complete, valid UTF-8 text.  The bytes of a character split across tokens
 * are held back until it completes; bytes that can never form a valid
 * character are replaced by U+FFFD, so the output is always valid UTF-8. */
typedef struct {
    const sq_tokenizer *tok;
    bool                skip_special;
    unsigned char       pending[4];  /* an incomplete UTF-8 sequence so far */
    size_t              n_pending;
    char               *buf;         /* the text handed back by push/flush */
    size_t              buf_cap;
} sq_detok_stream;

/* Pair every init with a free (init does not release an earlier buffer). */
void      sq_detok_stream_init(sq_detok_stream *s, const sq_tokenizer *t, bool skip_special);
/* Decodes one id; *text and *len get the newly completed text (possibly empty),
 * valid until the next call on s.  A bad id → SQ_ERR_INVALID_ARG. */
sq_status sq_detok_stream_push(sq_detok_stream *s, int32_t id, const char **text, size_t *len,
                               sq_error *err);
/* Ends the stream: a held-back incomplete sequence comes out as one U+FFFD.
 * The stream may be reused afterwards. */
void      sq_detok_stream_flush(sq_detok_stream *s, const char **text, size_t *len);
void      sq_detok_stream_free(sq_detok_stream *s);

#ifdef __cplusplus
}
#endif
