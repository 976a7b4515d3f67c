/* download.h — model downloads: one file from a URL into a folder, resumable
 * (a DEST.part grows across attempts, continued with an HTTP Range request),
 * checked against the SHA-256 the server names when it names one (Hugging
 * Face's X-Linked-Etag / ETag of LFS files, or a Digest header), the disk
 * space checked before it starts, renamed into place only when complete.
 * And the files of a Hugging Face repository: its GGUF and its mmproj.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <libsoup/soup.h>

G_BEGIN_DECLS

#define SQUINT_DOWNLOAD_ERROR (squint_download_error_quark ())
GQuark squint_download_error_quark (void);

typedef enum
{
  SQUINT_DOWNLOAD_ERROR_HTTP,       /* the server refused (status kept in the message) */
  SQUINT_DOWNLOAD_ERROR_NETWORK,    /* the connection failed or broke: the .part is kept */
  SQUINT_DOWNLOAD_ERROR_CHECKSUM,   /* the file is not what the server said: the .part is removed */
  SQUINT_DOWNLOAD_ERROR_DISK,       /* not enough space, or the file cannot be written */
  SQUINT_DOWNLOAD_ERROR_NOT_FOUND,  /* no such repository, or no GGUF in it */
} SquintDownloadError;

/* received and total bytes of the file (total 0: unknown); on the main context. */
typedef void (*SquintDownloadProgress) (guint64 received, guint64 total, gpointer user_data);

void     squint_download_async  (SoupSession            *session,
                                 const char             *url,
                                 const char             *dest,
                                 SquintDownloadProgress  progress,
                                 gpointer                progress_data,
                                 GCancellable           *cancellable,
                                 GAsyncReadyCallback     callback,
                                 gpointer                user_data);
/* TRUE when dest is complete (and verified where a checksum was given). */
gboolean squint_download_finish (GAsyncResult           *result,
                                 GError                **error);

/* The text GGUF and mmproj file names of a Hugging Face repository
 * ("org/name"): the text file whose name contains `quant` (case-insensitive;
 * NULL: Q4_K_M, else the first GGUF), the mmproj preferring F16.  endpoint:
 * NULL for https://huggingface.co ($HF_ENDPOINT is honoured). */
void     squint_hf_resolve_async  (SoupSession          *session,
                                   const char           *endpoint,
                                   const char           *repo,
                                   const char           *quant,
                                   GCancellable         *cancellable,
                                   GAsyncReadyCallback   callback,
                                   gpointer              user_data);
/* *text_url and *mmproj_url (free them); mmproj may be NULL when there is none. */
gboolean squint_hf_resolve_finish (GAsyncResult         *result,
                                   char                **text_url,
                                   char                **mmproj_url,
                                   GError              **error);

G_END_DECLS
