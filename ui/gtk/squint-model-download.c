/* squint-model-download.c
 *
 * A run is one GTask: resolve the repository (when given one), then fetch
 * each file with squint_download_async() into the models folder; the
 * properties follow along for the dialog.
 *
 * SPDX-License-Identifier: MIT
 */
#define G_LOG_DOMAIN "squint-model-download"

#include "squint-config.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <string.h>

#include "download.h"
#include "squint-model-download.h"

#define MAX_FILES 2

struct _SquintModelDownload
{
  GObject                   parent_instance;

  /* owned */
  SoupSession              *session;
  char                     *dir;
  char                     *file_name;
  char                     *progress_text;
  char                     *error;

  SquintModelDownloadState  state;
  guint                     file_index;
  guint                     n_files;
  guint64                   received;
  guint64                   total;
  gboolean                  running;
};

enum {
  PROP_0,
  PROP_DIR,
  PROP_STATE,
  PROP_FILE_NAME,
  PROP_FILE_INDEX,
  PROP_N_FILES,
  PROP_RECEIVED,
  PROP_TOTAL,
  PROP_FRACTION,
  PROP_PROGRESS_TEXT,
  PROP_ERROR,
  N_PROPS
};

G_DEFINE_ENUM_TYPE (SquintModelDownloadState, squint_model_download_state,
                    G_DEFINE_ENUM_VALUE (SQUINT_MODEL_DOWNLOAD_IDLE, "idle"),
                    G_DEFINE_ENUM_VALUE (SQUINT_MODEL_DOWNLOAD_RESOLVING, "resolving"),
                    G_DEFINE_ENUM_VALUE (SQUINT_MODEL_DOWNLOAD_DOWNLOADING, "downloading"),
                    G_DEFINE_ENUM_VALUE (SQUINT_MODEL_DOWNLOAD_DONE, "done"),
                    G_DEFINE_ENUM_VALUE (SQUINT_MODEL_DOWNLOAD_STOPPED, "stopped"),
                    G_DEFINE_ENUM_VALUE (SQUINT_MODEL_DOWNLOAD_FAILED, "failed"))

G_DEFINE_FINAL_TYPE (SquintModelDownload, squint_model_download, G_TYPE_OBJECT)

static GParamSpec *properties[N_PROPS];

/* One run: the links, and the files they became. */
typedef struct
{
  char  *quant;
  char  *urls[MAX_FILES];
  char  *paths[MAX_FILES];
  guint  n_urls;
  guint  current;
} Run;

static void
run_free (gpointer data)
{
  Run *run = data;

  g_free (run->quant);
  for (guint i = 0; i < MAX_FILES; i++)
    {
      g_free (run->urls[i]);
      g_free (run->paths[i]);
    }
  g_free (run);
}

/* ---- state ---- */

static void
set_string (SquintModelDownload  *self,
            char                **field,
            const char           *value,
            guint                 prop)
{
  if (g_strcmp0 (*field, value) == 0)
    return;
  g_free (*field);
  *field = g_strdup (value);
  g_object_notify_by_pspec (G_OBJECT (self), properties[prop]);
}

static void
set_state (SquintModelDownload      *self,
           SquintModelDownloadState  state)
{
  if (self->state == state)
    return;
  self->state = state;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
}

static void
set_progress (SquintModelDownload *self,
              guint64              received,
              guint64              total)
{
  g_autofree char *text = NULL;
  double old_fraction = squint_model_download_get_fraction (self);

  if (self->received == received && self->total == total)
    return;
  g_object_freeze_notify (G_OBJECT (self));
  if (self->received != received)
    {
      self->received = received;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RECEIVED]);
    }
  if (self->total != total)
    {
      self->total = total;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TOTAL]);
    }
  if (squint_model_download_get_fraction (self) != old_fraction)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FRACTION]);
  if (total > 0)
    /* Translators: megabytes of a file downloaded so far and in all */
    text = g_strdup_printf (_("%.1f / %.1f MB"), received / 1e6, total / 1e6);
  else if (received > 0)
    /* Translators: megabytes downloaded so far (the size is not known) */
    text = g_strdup_printf (_("%.1f MB"), received / 1e6);
  set_string (self, &self->progress_text, text ? text : "", PROP_PROGRESS_TEXT);
  g_object_thaw_notify (G_OBJECT (self));
}

static void
set_file (SquintModelDownload *self,
          const char          *name,
          guint                index,
          guint                n_files)
{
  g_object_freeze_notify (G_OBJECT (self));
  set_string (self, &self->file_name, name, PROP_FILE_NAME);
  if (self->file_index != index)
    {
      self->file_index = index;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FILE_INDEX]);
    }
  if (self->n_files != n_files)
    {
      self->n_files = n_files;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_FILES]);
    }
  g_object_thaw_notify (G_OBJECT (self));
}

/* Ends the run with error (owned). */
static void
fail (GTask  *task,
      GError *error)
{
  SquintModelDownload *self = g_task_get_source_object (task);

  self->running = FALSE;
  g_object_freeze_notify (G_OBJECT (self));
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      set_string (self, &self->error, NULL, PROP_ERROR);
      set_state (self, SQUINT_MODEL_DOWNLOAD_STOPPED);
    }
  else
    {
      g_debug ("Download failed: %s", error->message);
      set_string (self, &self->error, error->message, PROP_ERROR);
      set_state (self, SQUINT_MODEL_DOWNLOAD_FAILED);
    }
  g_object_thaw_notify (G_OBJECT (self));
  g_task_return_error (task, error);
}

/* ---- the run ---- */

static void next_file (GTask *task);

static void
on_progress (guint64  received,
             guint64  total,
             gpointer user_data)
{
  set_progress (SQUINT_MODEL_DOWNLOAD (user_data), received, total);
}

static void
downloaded (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  SquintModelDownload *self = g_task_get_source_object (task);
  Run *run = g_task_get_task_data (task);
  GError *error = NULL;

  if (!squint_download_finish (result, &error))
    {
      g_clear_pointer (&run->paths[run->current], g_free);
      fail (task, error);
      return;
    }
  if (self->total == 0)
    set_progress (self, self->received, self->received);   /* the size was not known: it is now */
  run->current++;
  next_file (g_steal_pointer (&task));
}

/* Fetches urls[current], or ends the run when all are there; takes task. */
static void
next_file (GTask *task)
{
  SquintModelDownload *self = g_task_get_source_object (task);
  Run *run = g_task_get_task_data (task);
  g_autofree char *name = NULL;
  GError *error = NULL;

  if (g_task_return_error_if_cancelled (task))
    {
      self->running = FALSE;
      set_state (self, SQUINT_MODEL_DOWNLOAD_STOPPED);
      g_object_unref (task);
      return;
    }
  if (run->current == run->n_urls)
    {
      self->running = FALSE;
      set_state (self, SQUINT_MODEL_DOWNLOAD_DONE);
      g_task_return_boolean (task, TRUE);
      g_object_unref (task);
      return;
    }
  if ((name = squint_model_download_file_name (run->urls[run->current], &error)) == NULL)
    {
      fail (task, error);
      g_object_unref (task);
      return;
    }
  if (run->current > 0 && g_str_equal (name, self->file_name))
    {
      fail (task, g_error_new (G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                               /* Translators: %s is a file name */
                               _("The language model and the vision projector are both called “%s”"), name));
      g_object_unref (task);
      return;
    }
  run->paths[run->current] = g_build_filename (self->dir, name, NULL);
  g_object_freeze_notify (G_OBJECT (self));
  set_file (self, name, run->current + 1, run->n_urls);
  set_progress (self, 0, 0);
  set_state (self, SQUINT_MODEL_DOWNLOAD_DOWNLOADING);
  g_object_thaw_notify (G_OBJECT (self));
  if (g_file_test (run->paths[run->current], G_FILE_TEST_IS_REGULAR))
    {
      /* fetched before */
      g_autoptr(GFile) file = g_file_new_for_path (run->paths[run->current]);
      g_autoptr(GFileInfo) info = g_file_query_info (file, G_FILE_ATTRIBUTE_STANDARD_SIZE, G_FILE_QUERY_INFO_NONE,
                                                     NULL, NULL);
      guint64 size = info ? (guint64)g_file_info_get_size (info) : 0;

      g_debug ("%s is already there", run->paths[run->current]);
      set_progress (self, size, size);
      run->current++;
      next_file (task);
      return;
    }
  squint_download_async (self->session, run->urls[run->current], run->paths[run->current], on_progress, self,
                         g_task_get_cancellable (task), downloaded, task);
}

static void
resolved (GObject      *object,
          GAsyncResult *result,
          gpointer      user_data)
{
  GTask *task = user_data;
  Run *run = g_task_get_task_data (task);
  GError *error = NULL;

  if (!squint_hf_resolve_finish (result, &run->urls[0], &run->urls[1], &error))
    {
      fail (task, error);
      g_object_unref (task);
      return;
    }
  run->n_urls = run->urls[1] != NULL ? 2 : 1;
  next_file (task);
}

/* ---- the class ---- */

static void
squint_model_download_dispose (GObject *object)
{
  SquintModelDownload *self = (SquintModelDownload *)object;

  g_clear_object (&self->session);

  G_OBJECT_CLASS (squint_model_download_parent_class)->dispose (object);
}

static void
squint_model_download_finalize (GObject *object)
{
  SquintModelDownload *self = (SquintModelDownload *)object;

  g_clear_pointer (&self->dir, g_free);
  g_clear_pointer (&self->file_name, g_free);
  g_clear_pointer (&self->progress_text, g_free);
  g_clear_pointer (&self->error, g_free);

  G_OBJECT_CLASS (squint_model_download_parent_class)->finalize (object);
}

static void
squint_model_download_get_property (GObject    *object,
                                    guint       prop_id,
                                    GValue     *value,
                                    GParamSpec *pspec)
{
  SquintModelDownload *self = SQUINT_MODEL_DOWNLOAD (object);

  switch (prop_id)
    {
    case PROP_DIR:
      g_value_set_string (value, self->dir);
      break;
    case PROP_STATE:
      g_value_set_enum (value, self->state);
      break;
    case PROP_FILE_NAME:
      g_value_set_string (value, self->file_name);
      break;
    case PROP_FILE_INDEX:
      g_value_set_uint (value, self->file_index);
      break;
    case PROP_N_FILES:
      g_value_set_uint (value, self->n_files);
      break;
    case PROP_RECEIVED:
      g_value_set_uint64 (value, self->received);
      break;
    case PROP_TOTAL:
      g_value_set_uint64 (value, self->total);
      break;
    case PROP_FRACTION:
      g_value_set_double (value, squint_model_download_get_fraction (self));
      break;
    case PROP_PROGRESS_TEXT:
      g_value_set_string (value, self->progress_text);
      break;
    case PROP_ERROR:
      g_value_set_string (value, self->error);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
squint_model_download_set_property (GObject      *object,
                                    guint         prop_id,
                                    const GValue *value,
                                    GParamSpec   *pspec)
{
  SquintModelDownload *self = SQUINT_MODEL_DOWNLOAD (object);

  switch (prop_id)
    {
    case PROP_DIR:
      g_free (self->dir);
      self->dir = g_value_dup_string (value);
      if (self->dir == NULL)
        self->dir = g_build_filename (g_get_user_data_dir (), "squint", "models", NULL);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
squint_model_download_class_init (SquintModelDownloadClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  const GParamFlags ro = G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->dispose = squint_model_download_dispose;
  object_class->finalize = squint_model_download_finalize;
  object_class->get_property = squint_model_download_get_property;
  object_class->set_property = squint_model_download_set_property;

  properties[PROP_DIR] =
    g_param_spec_string ("dir", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_STATE] =
    g_param_spec_enum ("state", NULL, NULL, SQUINT_TYPE_MODEL_DOWNLOAD_STATE, SQUINT_MODEL_DOWNLOAD_IDLE, ro);
  properties[PROP_FILE_NAME] = g_param_spec_string ("file-name", NULL, NULL, NULL, ro);
  properties[PROP_FILE_INDEX] = g_param_spec_uint ("file-index", NULL, NULL, 0, MAX_FILES, 0, ro);
  properties[PROP_N_FILES] = g_param_spec_uint ("n-files", NULL, NULL, 0, MAX_FILES, 0, ro);
  properties[PROP_RECEIVED] = g_param_spec_uint64 ("received", NULL, NULL, 0, G_MAXUINT64, 0, ro);
  properties[PROP_TOTAL] = g_param_spec_uint64 ("total", NULL, NULL, 0, G_MAXUINT64, 0, ro);
  properties[PROP_FRACTION] = g_param_spec_double ("fraction", NULL, NULL, 0, 1, 0, ro);
  properties[PROP_PROGRESS_TEXT] = g_param_spec_string ("progress-text", NULL, NULL, "", ro);
  properties[PROP_ERROR] = g_param_spec_string ("error", NULL, NULL, NULL, ro);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
squint_model_download_init (SquintModelDownload *self)
{
  /* a stalled server ends in an error the user can retry, not a hang */
  self->session = soup_session_new_with_options ("user-agent", "squint/" PACKAGE_VERSION,
                                                 "timeout", 60,
                                                 NULL);
  self->progress_text = g_strdup ("");
}

/* ---- public ---- */

SquintModelDownload *
squint_model_download_new (const char *dir)
{
  return g_object_new (SQUINT_TYPE_MODEL_DOWNLOAD, "dir", dir, NULL);
}

const char *
squint_model_download_get_dir (SquintModelDownload *self)
{
  g_return_val_if_fail (SQUINT_IS_MODEL_DOWNLOAD (self), NULL);

  return self->dir;
}

SquintModelDownloadState
squint_model_download_get_state (SquintModelDownload *self)
{
  g_return_val_if_fail (SQUINT_IS_MODEL_DOWNLOAD (self), SQUINT_MODEL_DOWNLOAD_IDLE);

  return self->state;
}

const char *
squint_model_download_get_file_name (SquintModelDownload *self)
{
  g_return_val_if_fail (SQUINT_IS_MODEL_DOWNLOAD (self), NULL);

  return self->file_name;
}

guint
squint_model_download_get_file_index (SquintModelDownload *self)
{
  g_return_val_if_fail (SQUINT_IS_MODEL_DOWNLOAD (self), 0);

  return self->file_index;
}

guint
squint_model_download_get_n_files (SquintModelDownload *self)
{
  g_return_val_if_fail (SQUINT_IS_MODEL_DOWNLOAD (self), 0);

  return self->n_files;
}

guint64
squint_model_download_get_received (SquintModelDownload *self)
{
  g_return_val_if_fail (SQUINT_IS_MODEL_DOWNLOAD (self), 0);

  return self->received;
}

guint64
squint_model_download_get_total (SquintModelDownload *self)
{
  g_return_val_if_fail (SQUINT_IS_MODEL_DOWNLOAD (self), 0);

  return self->total;
}

double
squint_model_download_get_fraction (SquintModelDownload *self)
{
  g_return_val_if_fail (SQUINT_IS_MODEL_DOWNLOAD (self), 0);

  if (self->total == 0)
    return 0;
  return CLAMP ((double)self->received / (double)self->total, 0.0, 1.0);
}

const char *
squint_model_download_get_progress_text (SquintModelDownload *self)
{
  g_return_val_if_fail (SQUINT_IS_MODEL_DOWNLOAD (self), NULL);

  return self->progress_text;
}

const char *
squint_model_download_get_error (SquintModelDownload *self)
{
  g_return_val_if_fail (SQUINT_IS_MODEL_DOWNLOAD (self), NULL);

  return self->error;
}

void
squint_model_download_run_async (SquintModelDownload *self,
                                 const char          *source,
                                 const char          *mmproj_url,
                                 const char          *quant,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autofree char *what = NULL;
  g_autofree char *mmproj = NULL;
  Run *run;

  g_return_if_fail (SQUINT_IS_MODEL_DOWNLOAD (self));
  g_return_if_fail (source != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, squint_model_download_run_async);
  if (self->running)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_PENDING, _("A download is already running"));
      return;
    }
  run = g_new0 (Run, 1);
  run->quant = quant != NULL && quant[0] != '\0' ? g_strdup (quant) : NULL;
  g_task_set_task_data (task, run, run_free);

  what = g_strstrip (g_strdup (source));
  mmproj = g_strstrip (g_strdup (mmproj_url ? mmproj_url : ""));
  self->running = TRUE;
  g_object_freeze_notify (G_OBJECT (self));
  set_string (self, &self->error, NULL, PROP_ERROR);
  set_file (self, NULL, 0, 0);
  set_progress (self, 0, 0);
  g_object_thaw_notify (G_OBJECT (self));

  if (what[0] == '\0')
    {
      fail (task, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                                       _("Enter a Hugging Face repository (owner/name) or a link to a GGUF file")));
      return;
    }
  if (mmproj[0] != '\0' && !squint_model_download_is_url (mmproj))
    {
      fail (task, g_error_new (G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                               /* Translators: %s is what the user typed */
                               _("“%s” is not an http or https link"), mmproj));
      return;
    }
  if (g_mkdir_with_parents (self->dir, 0755) != 0)
    {
      int saved = errno;

      fail (task, g_error_new (SQUINT_DOWNLOAD_ERROR, SQUINT_DOWNLOAD_ERROR_DISK,
                               /* Translators: the folder, then the system's reason */
                               _("Cannot create the folder %s: %s"), self->dir, g_strerror (saved)));
      return;
    }

  if (squint_model_download_is_url (what))
    {
      run->urls[run->n_urls++] = g_strdup (what);
      if (mmproj[0] != '\0')
        run->urls[run->n_urls++] = g_strdup (mmproj);
      next_file (g_steal_pointer (&task));
      return;
    }
  if (mmproj[0] != '\0')
    {
      fail (task, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                                       _("A vision projector link goes with a link to the language model, "
                                         "not with a repository")));
      return;
    }
  set_file (self, what, 0, 0);
  set_state (self, SQUINT_MODEL_DOWNLOAD_RESOLVING);
  squint_hf_resolve_async (self->session, NULL, what, run->quant, cancellable, resolved, g_steal_pointer (&task));
}

gboolean
squint_model_download_run_finish (SquintModelDownload  *self,
                                  GAsyncResult         *result,
                                  char                **text_path,
                                  char                **mmproj_path,
                                  GError              **error)
{
  Run *run;

  g_return_val_if_fail (SQUINT_IS_MODEL_DOWNLOAD (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  if (!g_task_propagate_boolean (G_TASK (result), error))
    return FALSE;
  run = g_task_get_task_data (G_TASK (result));
  if (text_path != NULL)
    *text_path = g_strdup (run->paths[0]);
  if (mmproj_path != NULL)
    *mmproj_path = g_strdup (run->paths[1]);
  return TRUE;
}

gboolean
squint_model_download_is_url (const char *source)
{
  g_return_val_if_fail (source != NULL, FALSE);

  return g_ascii_strncasecmp (source, "http://", 7) == 0 || g_ascii_strncasecmp (source, "https://", 8) == 0;
}

char *
squint_model_download_file_name (const char  *url,
                                 GError     **error)
{
  g_autoptr(GUri) uri = NULL;
  g_autofree char *name = NULL;
  const char *path, *slash;

  g_return_val_if_fail (url != NULL, NULL);

  if (squint_model_download_is_url (url))
    uri = g_uri_parse (url, G_URI_FLAGS_ENCODED, NULL);
  if (uri == NULL || g_uri_get_host (uri) == NULL || g_uri_get_host (uri)[0] == '\0')
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   /* Translators: %s is what the user typed */
                   _("“%s” is not an http or https link"), url);
      return NULL;
    }
  path = g_uri_get_path (uri);
  slash = strrchr (path, '/');
  name = g_uri_unescape_string (slash ? slash + 1 : path, "/\\");
  if (name == NULL || name[0] == '\0' || name[0] == '.' || !g_utf8_validate (name, -1, NULL))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_FILENAME,
                   /* Translators: %s is a link */
                   _("The link %s does not end with a file name"), url);
      return NULL;
    }
  return g_steal_pointer (&name);
}

const char *
squint_model_download_error_title (const GError *error)
{
  g_return_val_if_fail (error != NULL, NULL);

  if (error->domain == SQUINT_DOWNLOAD_ERROR)
    switch ((SquintDownloadError)error->code)
      {
      case SQUINT_DOWNLOAD_ERROR_HTTP:
        return _("The server refused the download.");
      case SQUINT_DOWNLOAD_ERROR_NETWORK:
        return _("The connection failed. Download again to continue where it stopped.");
      case SQUINT_DOWNLOAD_ERROR_CHECKSUM:
        return _("The file arrived damaged (its checksum is wrong) and was removed. Download it again.");
      case SQUINT_DOWNLOAD_ERROR_DISK:
        return _("The file could not be saved.");
      case SQUINT_DOWNLOAD_ERROR_NOT_FOUND:
        return _("No such model was found.");
      default:
        break;
      }
  if (error->domain == G_IO_ERROR &&
      (error->code == G_IO_ERROR_INVALID_ARGUMENT || error->code == G_IO_ERROR_INVALID_FILENAME))
    return _("The model cannot be downloaded from there.");
  if (error->domain == G_RESOLVER_ERROR || error->domain == G_TLS_ERROR || error->domain == G_IO_ERROR)
    return _("The connection failed. Download again to continue where it stopped.");
  return _("The download failed.");
}
