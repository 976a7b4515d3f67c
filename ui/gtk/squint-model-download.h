/* squint-model-download.h — fetching a model into the models folder: the
 * GGUF of a Hugging Face repository (the file of the chosen quantization and
 * its mmproj) or files named by direct links, one after the other, with the
 * progress as properties the "Add Model" dialog binds to.  No widgets, so it
 * is tested without a display.
 *
 * A stopped or broken download keeps DEST.part; the next run continues it
 * with an HTTP Range request.  A file already in the folder is not fetched
 * again.  Built only with libsoup (SQUINT_HAVE_API).
 *
 * Main thread only; one run at a time.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef enum
{
  SQUINT_MODEL_DOWNLOAD_IDLE,
  SQUINT_MODEL_DOWNLOAD_RESOLVING,     /* asking Hugging Face for the repository's files */
  SQUINT_MODEL_DOWNLOAD_DOWNLOADING,
  SQUINT_MODEL_DOWNLOAD_DONE,
  SQUINT_MODEL_DOWNLOAD_STOPPED,       /* cancelled: what arrived is kept for the next run */
  SQUINT_MODEL_DOWNLOAD_FAILED,        /* see the error property */
} SquintModelDownloadState;

#define SQUINT_TYPE_MODEL_DOWNLOAD_STATE (squint_model_download_state_get_type ())
#define SQUINT_TYPE_MODEL_DOWNLOAD       (squint_model_download_get_type ())

GType squint_model_download_state_get_type (void) G_GNUC_CONST;

G_DECLARE_FINAL_TYPE (SquintModelDownload, squint_model_download, SQUINT, MODEL_DOWNLOAD, GObject)

/* dir: where the files go; NULL for $XDG_DATA_HOME/squint/models. */
SquintModelDownload      *squint_model_download_new               (const char           *dir);
const char               *squint_model_download_get_dir           (SquintModelDownload  *self);
SquintModelDownloadState  squint_model_download_get_state         (SquintModelDownload  *self);
/* The file being fetched (or last fetched), its place among the files. */
const char               *squint_model_download_get_file_name     (SquintModelDownload  *self);
guint                     squint_model_download_get_file_index    (SquintModelDownload  *self);
guint                     squint_model_download_get_n_files       (SquintModelDownload  *self);
/* Bytes of the current file on disk and in all (0: not known yet). */
guint64                   squint_model_download_get_received      (SquintModelDownload  *self);
guint64                   squint_model_download_get_total         (SquintModelDownload  *self);
/* received / total, 0 … 1; and "12.3 / 45.6 MB". */
double                    squint_model_download_get_fraction      (SquintModelDownload  *self);
const char               *squint_model_download_get_progress_text (SquintModelDownload  *self);
/* Why the last run failed, or NULL. */
const char               *squint_model_download_get_error         (SquintModelDownload  *self);

/* source: "owner/name" (a Hugging Face repository; quant picks its file,
 * NULL or "" for Q4_K_M) or an http(s) link to a text GGUF, with
 * mmproj_url its vision projector (NULL or "": none).  $HF_ENDPOINT
 * replaces https://huggingface.co. */
void                      squint_model_download_run_async         (SquintModelDownload  *self,
                                                                   const char           *source,
                                                                   const char           *mmproj_url,
                                                                   const char           *quant,
                                                                   GCancellable         *cancellable,
                                                                   GAsyncReadyCallback   callback,
                                                                   gpointer              user_data);
/* The paths of the files (*mmproj_path NULL when there is none). */
gboolean                  squint_model_download_run_finish        (SquintModelDownload  *self,
                                                                   GAsyncResult         *result,
                                                                   char                **text_path,
                                                                   char                **mmproj_path,
                                                                   GError              **error);

/* Whether source is a link rather than a repository name. */
gboolean                  squint_model_download_is_url            (const char           *source);
/* The name a link's file is saved under: the last part of its path. */
char                     *squint_model_download_file_name         (const char           *url,
                                                                   GError              **error);
/* A line for the user saying what kind of failure error is. */
const char               *squint_model_download_error_title       (const GError         *error);

G_END_DECLS
