/* status.h — status codes and error messages shared by every engine module.
 *
 * Every engine function that can fail returns an sq_status and, when given a
 * non-NULL sq_error, fills it with a human-readable message naming what went
 * wrong.  No engine function ever exits or aborts on bad input.
 */
#pragma once

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    SQ_OK = 0,
    SQ_ERR_INVALID_ARG,   /* a caller passed something impossible */
    SQ_ERR_IO,            /* a file could not be opened, read or written */
    SQ_ERR_FORMAT,        /* a file is malformed, truncated or hostile */
    SQ_ERR_UNSUPPORTED,   /* well-formed, but something Squint cannot run */
    SQ_ERR_NOT_FOUND,     /* a key, tensor or token is missing */
    SQ_ERR_TYPE,          /* a value exists with another type than asked */
    SQ_ERR_NOMEM,         /* an allocation failed or would be too large */
    SQ_ERR_ABORTED,       /* the caller's abort callback asked to stop */
    SQ_ERR_BACKEND,       /* a compute device or driver reported an error */
    SQ_ERR_LIMIT,         /* an input is over a configured size limit */
} sq_status;

#define SQ_ERROR_MAX 512

typedef struct {
    sq_status status;
    char      msg[SQ_ERROR_MAX];
} sq_error;

/* A short English name for a status ("format error", …). Never NULL. */
const char *sq_status_string(sq_status s);

/* Records status and a printf-style message in err (which may be NULL) and
 * returns status, so failures read `return sq_error_set(err, SQ_ERR_IO, …);`. */
sq_status sq_error_set(sq_error *err, sq_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prefixes an existing message with context ("text model: …"). */
sq_status sq_error_prefix(sq_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

void sq_error_clear(sq_error *err);

#ifdef __cplusplus
}
#endif
