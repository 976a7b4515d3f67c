/* api-server.h — the OpenAI-compatible HTTP face of one model:
 * POST /v1/chat/completions (streamed or not), GET /v1/models, GET /health.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <libsoup/soup.h>

#include "generator.h"

G_BEGIN_DECLS

typedef struct _SquintApiServer SquintApiServer;

typedef struct
{
  const char *model_id;        /* the name clients ask for */
  const char *api_key;         /* NULL: none asked */
  gsize       max_body;        /* request bytes (default 32 MiB) */
  gsize       max_image;       /* bytes per image (default 20 MiB) */
  guint       fetch_timeout_s; /* http(s) images (default 20) */
  gboolean    fetch_remote;    /* allow http(s) image URLs (default TRUE) */
} SquintApiServerOptions;

/* Takes ownership of gen. */
SquintApiServer *squint_api_server_new    (SquintGenerator              *gen,
                                           const SquintApiServerOptions *options);
void             squint_api_server_free   (SquintApiServer *self);
/* Listens on host:port (port 0: any free one). */
gboolean         squint_api_server_listen (SquintApiServer *self,
                                           const char      *host,
                                           guint            port,
                                           GError         **error);
/* The first address listened on, as http://host:port. */
char            *squint_api_server_get_url (SquintApiServer *self);
void             squint_api_server_counts (SquintApiServer *self,
                                           guint64         *requests,
                                           guint64         *completed,
                                           guint64         *rejected,
                                           guint64         *failed);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SquintApiServer, squint_api_server_free)

G_END_DECLS
