/* status.c — status names and the error-message helpers. */
#include "status.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *
sq_status_string(sq_status s)
{
    switch (s) {
    case SQ_OK:               return "ok";
    case SQ_ERR_INVALID_ARG:  return "invalid argument";
    case SQ_ERR_IO:           return "I/O error";
    case SQ_ERR_FORMAT:       return "malformed file";
    case SQ_ERR_UNSUPPORTED:  return "unsupported";
    case SQ_ERR_NOT_FOUND:    return "not found";
    case SQ_ERR_TYPE:         return "wrong type";
    case SQ_ERR_NOMEM:        return "out of memory";
    case SQ_ERR_ABORTED:      return "aborted";
    case SQ_ERR_BACKEND:      return "compute backend error";
    case SQ_ERR_LIMIT:        return "over a size limit";
    }
    return "unknown status";
}

sq_status
sq_error_set(sq_error *err, sq_status status, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        err->status = status;
    }
    return status;
}

sq_status
sq_error_prefix(sq_error *err, const char *fmt, ...)
{
    if (!err)
        return SQ_OK;
    char prefix[SQ_ERROR_MAX];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    if (n < 0)
        return err->status;
    /* Room for both halves, then cut to the message size. */
    char joined[2 * SQ_ERROR_MAX + 2];
    snprintf(joined, sizeof joined, "%s: %s", prefix, err->msg);
    size_t len = strnlen(joined, sizeof err->msg - 1);
    memcpy(err->msg, joined, len);
    err->msg[len] = '\0';
    return err->status;
}

void
sq_error_clear(sq_error *err)
{
    if (err) {
        err->status = SQ_OK;
        err->msg[0] = '\0';
    }
}
