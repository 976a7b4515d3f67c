/* openai-request.h — an OpenAI chat-completions request, parsed and checked,
 * and the error shape the API answers with.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define SQUINT_API_ERROR (squint_api_error_quark ())
GQuark squint_api_error_quark (void);

/* Each maps to an HTTP status and an OpenAI error "type". */
typedef enum
{
  SQUINT_API_ERROR_INVALID,        /* 400 invalid_request_error */
  SQUINT_API_ERROR_UNAUTHORIZED,   /* 401 authentication_error */
  SQUINT_API_ERROR_NOT_FOUND,      /* 404 not_found_error (unknown model or path) */
  SQUINT_API_ERROR_METHOD,         /* 405 invalid_request_error */
  SQUINT_API_ERROR_TOO_LARGE,      /* 413 invalid_request_error */
  SQUINT_API_ERROR_LENGTH,         /* 411 invalid_request_error: a body without Content-Length */
  SQUINT_API_ERROR_BUSY,           /* 429 rate_limit_error: the queue is full */
  SQUINT_API_ERROR_INTERNAL,       /* 500 server_error */
  SQUINT_API_ERROR_UNAVAILABLE,    /* 503 server_error: no model / shutting down */
} SquintApiError;

guint       squint_api_error_http_status (const GError *error);
const char *squint_api_error_type        (const GError *error);
/* {"error": {"message", "type", "param", "code"}} */
char       *squint_api_error_json        (const GError *error,
                                          const char   *param);

typedef struct
{
  char *text;             /* NULL for an image */
  int   image;            /* ≥ 0: the index into the message's image_urls */
} SquintChatPart;

typedef struct
{
  char      *role;        /* "system", "user", "assistant" */
  char      *text;        /* the text parts, joined by newlines */
  GPtrArray *image_urls;  /* of char*: data: or http(s) URLs, in order */
  GPtrArray *parts;       /* of SquintChatPart*: text and images as sent, in order */
} SquintChatMessage;

typedef struct
{
  char      *model;        /* may be NULL: the served model */
  GPtrArray *messages;     /* of SquintChatMessage*; the last is from the user */
  gboolean   stream;
  gboolean   include_usage; /* stream_options.include_usage */
  double     temperature;  /* < 0: the server's default */
  double     top_p;        /* < 0: default */
  int        max_tokens;   /* ≤ 0: default */
  gint64     seed;         /* < 0: none */
  GStrv      stop;         /* may be NULL */
  char      *policy;       /* "squint_policy": adaptive/low/full, or NULL */
} SquintChatRequest;

/* Parses a request body.  Errors are SQUINT_API_ERROR_INVALID with the
 * offending parameter's name in *param (free it). */
SquintChatRequest *squint_chat_request_parse (const char  *body,
                                              gsize        len,
                                              char       **param,
                                              GError     **error);
void               squint_chat_request_free  (SquintChatRequest *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SquintChatRequest, squint_chat_request_free)

G_END_DECLS
