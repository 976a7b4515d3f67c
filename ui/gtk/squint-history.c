/* squint-history.c
 *
 * Schema version 1:
 *
 *   conversations (id, title, policy, created, updated)
 *   messages      (id, conversation_id → conversations ON DELETE CASCADE, role, text,
 *                  think, answer, state, zoom, policy, error, has_stats, visual_low,
 *                  visual_full, visual_used, visual_baseline, tokens_per_second,
 *                  first_token_ms, created)
 *   images        (id, message_id → messages ON DELETE CASCADE, position, file, name,
 *                  width, height)
 *
 * images.file is a name inside images/ (or an absolute path).  Every write
 * is one transaction.  Statements are small and few, so they run on the main
 * thread; image files are written by the loaders' threads beforehand.
 *
 * SPDX-License-Identifier: MIT
 */
#define G_LOG_DOMAIN "squint-history"

#include "squint-config.h"

#include <glib/gi18n.h>
#include <errno.h>
#include <glib/gstdio.h>
#include <sqlite3.h>
#include <string.h>

#include "squint-error.h"
#include "squint-history.h"

#define SCHEMA_VERSION 1

struct _SquintHistory
{
  GObject     parent_instance;

  char       *dir;
  char       *images_dir;
  sqlite3    *db;
  GListStore *conversations;
};

G_DEFINE_FINAL_TYPE (SquintHistory, squint_history, G_TYPE_OBJECT)

static const char schema[] =
  "CREATE TABLE IF NOT EXISTS conversations ("
  "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
  "  title TEXT,"
  "  policy TEXT NOT NULL DEFAULT 'adaptive',"
  "  created INTEGER NOT NULL,"
  "  updated INTEGER NOT NULL);"
  "CREATE TABLE IF NOT EXISTS messages ("
  "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
  "  conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,"
  "  role TEXT NOT NULL,"
  "  text TEXT NOT NULL DEFAULT '',"
  "  think TEXT,"
  "  answer TEXT,"
  "  state TEXT NOT NULL DEFAULT 'done',"
  "  zoom TEXT NOT NULL DEFAULT 'none',"
  "  policy TEXT,"
  "  error TEXT,"
  "  has_stats INTEGER NOT NULL DEFAULT 0,"
  "  visual_low INTEGER NOT NULL DEFAULT 0,"
  "  visual_full INTEGER NOT NULL DEFAULT 0,"
  "  visual_used INTEGER NOT NULL DEFAULT 0,"
  "  visual_baseline INTEGER NOT NULL DEFAULT 0,"
  "  tokens_per_second REAL NOT NULL DEFAULT 0,"
  "  first_token_ms REAL NOT NULL DEFAULT 0,"
  "  created INTEGER NOT NULL);"
  "CREATE INDEX IF NOT EXISTS messages_by_conversation ON messages(conversation_id, id);"
  "CREATE TABLE IF NOT EXISTS images ("
  "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
  "  message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,"
  "  position INTEGER NOT NULL,"
  "  file TEXT NOT NULL,"
  "  name TEXT,"
  "  width INTEGER NOT NULL,"
  "  height INTEGER NOT NULL);"
  "CREATE INDEX IF NOT EXISTS images_by_message ON images(message_id, position);";

static gboolean
db_error (SquintHistory  *self,
          GError        **error,
          const char     *what)
{
  g_set_error (error, SQUINT_ERROR, SQUINT_ERROR_HISTORY,
               /* Translators: e.g. "History: saving a message failed: disk I/O error" */
               _("History: %s failed: %s"), what, sqlite3_errmsg (self->db));
  return FALSE;
}

static gboolean
exec (SquintHistory  *self,
      const char     *sql,
      GError        **error)
{
  if (sqlite3_exec (self->db, sql, NULL, NULL, NULL) != SQLITE_OK)
    return db_error (self, error, sql);
  return TRUE;
}

static sqlite3_stmt *
prepare (SquintHistory  *self,
         const char     *sql,
         GError        **error)
{
  sqlite3_stmt *stmt = NULL;

  if (sqlite3_prepare_v2 (self->db, sql, -1, &stmt, NULL) != SQLITE_OK)
    {
      db_error (self, error, sql);
      return NULL;
    }
  return stmt;
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (sqlite3_stmt, sqlite3_finalize)

static void
bind_text (sqlite3_stmt *stmt,
           int           i,
           const char   *text)
{
  if (text != NULL)
    sqlite3_bind_text (stmt, i, text, -1, SQLITE_TRANSIENT);
  else
    sqlite3_bind_null (stmt, i);
}

static const char *
enum_nick (GType type,
           int   value)
{
  g_autoptr(GEnumClass) klass = g_type_class_ref (type);
  GEnumValue *v = g_enum_get_value (klass, value);

  return v ? v->value_nick : "";
}

static int
enum_value (GType       type,
            const char *nick,
            int         fallback)
{
  g_autoptr(GEnumClass) klass = g_type_class_ref (type);
  GEnumValue *v = nick ? g_enum_get_value_by_nick (klass, nick) : NULL;

  return v ? v->value : fallback;
}

static char *
file_for_path (SquintHistory *self,
               const char    *path)
{
  g_autofree char *dir = g_path_get_dirname (path);

  if (g_strcmp0 (dir, self->images_dir) == 0)
    return g_path_get_basename (path);
  return g_strdup (path);
}

static char *
path_for_file (SquintHistory *self,
               const char    *file)
{
  if (g_path_is_absolute (file))
    return g_strdup (file);
  return g_build_filename (self->images_dir, file, NULL);
}

/* ---- loading ---- */

static gboolean
load_images (SquintHistory  *self,
             SquintMessage  *message,
             GError        **error)
{
  g_autoptr(sqlite3_stmt) stmt =
    prepare (self, "SELECT file, name, width, height FROM images WHERE message_id = ? ORDER BY position", error);
  int rc;

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, squint_message_get_id (message));
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      g_autofree char *path = path_for_file (self, (const char *)sqlite3_column_text (stmt, 0));
      g_autoptr(SquintImage) image =
        squint_image_new_for_path (path, (const char *)sqlite3_column_text (stmt, 1),
                                   sqlite3_column_int (stmt, 2), sqlite3_column_int (stmt, 3));

      squint_message_add_image (message, image);
    }
  return rc == SQLITE_DONE || db_error (self, error, "SELECT images");
}

static gboolean
load_messages (SquintHistory       *self,
               SquintConversation  *conversation,
               GError             **error)
{
  g_autoptr(sqlite3_stmt) stmt =
    prepare (self,
             "SELECT id, role, text, think, answer, state, zoom, policy, error, has_stats, visual_low,"
             " visual_full, visual_used, visual_baseline, tokens_per_second, first_token_ms, created"
             " FROM messages WHERE conversation_id = ? ORDER BY id", error);
  SquintImage *subject = NULL;
  int rc;

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, squint_conversation_get_id (conversation));
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      SquintRole role = enum_value (SQUINT_TYPE_ROLE, (const char *)sqlite3_column_text (stmt, 1), SQUINT_ROLE_USER);
      g_autoptr(SquintMessage) m = squint_message_new (role, (const char *)sqlite3_column_text (stmt, 2));
      SquintMessageState state;

      squint_message_set_id (m, sqlite3_column_int64 (stmt, 0));
      squint_message_set_created (m, sqlite3_column_int64 (stmt, 16));
      if (role == SQUINT_ROLE_ASSISTANT)
        {
          squint_message_set_parts (m, (const char *)sqlite3_column_text (stmt, 3),
                                    (const char *)sqlite3_column_text (stmt, 4));
          state = enum_value (SQUINT_TYPE_MESSAGE_STATE, (const char *)sqlite3_column_text (stmt, 5),
                              SQUINT_MESSAGE_DONE);
          /* an answer cut short by quitting the app */
          if (state == SQUINT_MESSAGE_GENERATING || state == SQUINT_MESSAGE_WAITING)
            state = SQUINT_MESSAGE_STOPPED;
          squint_message_set_state (m, state);
          squint_message_set_zoom_state (m, enum_value (SQUINT_TYPE_ZOOM_STATE,
                                                        (const char *)sqlite3_column_text (stmt, 6),
                                                        SQUINT_ZOOM_NONE));
          squint_message_set_policy (m, (const char *)sqlite3_column_text (stmt, 7));
          squint_message_set_error (m, (const char *)sqlite3_column_text (stmt, 8));
          if (squint_message_get_zoom_state (m) != SQUINT_ZOOM_NONE)
            squint_message_set_subject (m, subject);
          if (sqlite3_column_int (stmt, 9))
            {
              SquintMessageStats st = {
                .visual_low = sqlite3_column_int64 (stmt, 10),
                .visual_full = sqlite3_column_int64 (stmt, 11),
                .visual_used = sqlite3_column_int64 (stmt, 12),
                .visual_baseline = sqlite3_column_int64 (stmt, 13),
                .tokens_per_second = sqlite3_column_double (stmt, 14),
                .first_token_ms = sqlite3_column_double (stmt, 15),
              };
              squint_message_set_stats (m, &st);
            }
        }
      else
        {
          if (!load_images (self, m, error))
            return FALSE;
          if (g_list_model_get_n_items (squint_message_get_images (m)) > 0)
            {
              g_autoptr(SquintImage) first = g_list_model_get_item (squint_message_get_images (m), 0);

              subject = first; /* borrowed: the message keeps it */
            }
        }
      squint_conversation_append (conversation, m);
    }
  return rc == SQLITE_DONE || db_error (self, error, "SELECT messages");
}

static gboolean
load_conversations (SquintHistory  *self,
                    GError        **error)
{
  g_autoptr(sqlite3_stmt) stmt =
    prepare (self, "SELECT id, title, policy, updated FROM conversations ORDER BY updated DESC, id DESC", error);
  int rc;

  if (stmt == NULL)
    return FALSE;
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      g_autoptr(SquintConversation) c = squint_conversation_new ((const char *)sqlite3_column_text (stmt, 2));

      squint_conversation_set_id (c, sqlite3_column_int64 (stmt, 0));
      squint_conversation_set_title (c, (const char *)sqlite3_column_text (stmt, 1));
      squint_conversation_set_updated (c, sqlite3_column_int64 (stmt, 3));
      if (!load_messages (self, c, error))
        return FALSE;
      g_list_store_append (self->conversations, c);
    }
  return rc == SQLITE_DONE || db_error (self, error, "SELECT conversations");
}

static gboolean
open_db (SquintHistory  *self,
         GError        **error)
{
  g_autofree char *path = g_build_filename (self->dir, "history.db", NULL);
  g_autoptr(sqlite3_stmt) version = NULL;
  int v;

  if (g_mkdir_with_parents (self->images_dir, 0700) != 0)
    {
      int errsv = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv),
                   _("Could not create the folder “%s”: %s"), self->images_dir, g_strerror (errsv));
      return FALSE;
    }
  if (sqlite3_open_v2 (path, &self->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK)
    return db_error (self, error, path);
  sqlite3_busy_timeout (self->db, 2000);
  if (!exec (self, "PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;", error))
    return FALSE;

  if (!(version = prepare (self, "PRAGMA user_version", error)) || sqlite3_step (version) != SQLITE_ROW)
    return db_error (self, error, "PRAGMA user_version");
  v = sqlite3_column_int (version, 0);
  if (v > SCHEMA_VERSION)
    {
      g_set_error (error, SQUINT_ERROR, SQUINT_ERROR_HISTORY,
                   _("The history in “%s” was written by a newer Squint"), path);
      return FALSE;
    }
  if (v < SCHEMA_VERSION)
    {
      g_autofree char *sql = g_strdup_printf ("BEGIN IMMEDIATE; %s PRAGMA user_version = %d; COMMIT;",
                                              schema, SCHEMA_VERSION);

      if (!exec (self, sql, error))
        {
          exec (self, "ROLLBACK", NULL);
          return FALSE;
        }
    }
  return TRUE;
}

/* ---- the class ---- */

static void
squint_history_dispose (GObject *object)
{
  SquintHistory *self = (SquintHistory *)object;

  g_clear_object (&self->conversations);

  G_OBJECT_CLASS (squint_history_parent_class)->dispose (object);
}

static void
squint_history_finalize (GObject *object)
{
  SquintHistory *self = (SquintHistory *)object;

  g_clear_pointer (&self->db, sqlite3_close);
  g_clear_pointer (&self->dir, g_free);
  g_clear_pointer (&self->images_dir, g_free);

  G_OBJECT_CLASS (squint_history_parent_class)->finalize (object);
}

static void
squint_history_class_init (SquintHistoryClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = squint_history_dispose;
  object_class->finalize = squint_history_finalize;
}

static void
squint_history_init (SquintHistory *self)
{
  self->conversations = g_list_store_new (SQUINT_TYPE_CONVERSATION);
}

SquintHistory *
squint_history_new (const char  *dir,
                    GError     **error)
{
  g_autoptr(SquintHistory) self = NULL;

  g_return_val_if_fail (dir != NULL, NULL);

  self = g_object_new (SQUINT_TYPE_HISTORY, NULL);
  self->dir = g_strdup (dir);
  self->images_dir = g_build_filename (dir, "images", NULL);
  if (!open_db (self, error) || !load_conversations (self, error))
    return NULL;
  return g_steal_pointer (&self);
}

const char *
squint_history_get_dir (SquintHistory *self)
{
  g_return_val_if_fail (SQUINT_IS_HISTORY (self), NULL);

  return self->dir;
}

const char *
squint_history_get_images_dir (SquintHistory *self)
{
  g_return_val_if_fail (SQUINT_IS_HISTORY (self), NULL);

  return self->images_dir;
}

GListModel *
squint_history_get_conversations (SquintHistory *self)
{
  g_return_val_if_fail (SQUINT_IS_HISTORY (self), NULL);

  return G_LIST_MODEL (self->conversations);
}

/* Moves the conversation to the top of the list (inserting it if new). */
static void
move_to_top (SquintHistory      *self,
             SquintConversation *conversation)
{
  guint pos;

  if (g_list_store_find (self->conversations, conversation, &pos))
    {
      if (pos == 0)
        return;
      g_object_ref (conversation);
      g_list_store_remove (self->conversations, pos);
      g_list_store_insert (self->conversations, 0, conversation);
      g_object_unref (conversation);
    }
  else
    g_list_store_insert (self->conversations, 0, conversation);
}

static gboolean
write_conversation (SquintHistory       *self,
                    SquintConversation  *conversation,
                    GError             **error)
{
  gint64 id = squint_conversation_get_id (conversation);
  g_autoptr(sqlite3_stmt) stmt = NULL;

  if (id == 0)
    stmt = prepare (self, "INSERT INTO conversations (title, policy, updated, created) VALUES (?, ?, ?, ?4)", error);
  else
    stmt = prepare (self, "UPDATE conversations SET title = ?, policy = ?, updated = ? WHERE id = ?4", error);
  if (stmt == NULL)
    return FALSE;
  /* NULL until one is chosen: "New Chat" is only a label */
  bind_text (stmt, 1, squint_conversation_get_raw_title (conversation));
  bind_text (stmt, 2, squint_conversation_get_policy (conversation));
  sqlite3_bind_int64 (stmt, 3, squint_conversation_get_updated (conversation));
  sqlite3_bind_int64 (stmt, 4, id != 0 ? id : squint_conversation_get_updated (conversation));
  if (sqlite3_step (stmt) != SQLITE_DONE)
    return db_error (self, error, "saving a conversation");
  if (id == 0)
    squint_conversation_set_id (conversation, sqlite3_last_insert_rowid (self->db));
  return TRUE;
}

gboolean
squint_history_save_conversation (SquintHistory       *self,
                                  SquintConversation  *conversation,
                                  GError             **error)
{
  g_return_val_if_fail (SQUINT_IS_HISTORY (self), FALSE);
  g_return_val_if_fail (SQUINT_IS_CONVERSATION (conversation), FALSE);

  if (!write_conversation (self, conversation, error))
    return FALSE;
  if (!g_list_store_find (self->conversations, conversation, NULL))
    move_to_top (self, conversation);
  return TRUE;
}

static gboolean
write_message (SquintHistory  *self,
               SquintMessage  *m,
               gint64          conversation_id,
               GError        **error)
{
  const SquintMessageStats *st = squint_message_get_stats (m);
  gint64 id = squint_message_get_id (m);
  g_autoptr(sqlite3_stmt) stmt = NULL;
  SquintRole role = squint_message_get_role (m);

  if (id == 0)
    stmt = prepare (self,
                    "INSERT INTO messages (text, think, answer, state, zoom, policy, error, has_stats,"
                    " visual_low, visual_full, visual_used, visual_baseline, tokens_per_second, first_token_ms,"
                    " conversation_id, role, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    error);
  else
    stmt = prepare (self,
                    "UPDATE messages SET text = ?, think = ?, answer = ?, state = ?, zoom = ?, policy = ?,"
                    " error = ?, has_stats = ?, visual_low = ?, visual_full = ?, visual_used = ?,"
                    " visual_baseline = ?, tokens_per_second = ?, first_token_ms = ? WHERE id = ?15",
                    error);
  if (stmt == NULL)
    return FALSE;

  bind_text (stmt, 1, squint_message_get_text (m));
  bind_text (stmt, 2, role == SQUINT_ROLE_ASSISTANT ? squint_message_get_think (m) : NULL);
  bind_text (stmt, 3, role == SQUINT_ROLE_ASSISTANT ? squint_message_get_answer (m) : NULL);
  bind_text (stmt, 4, enum_nick (SQUINT_TYPE_MESSAGE_STATE, squint_message_get_state (m)));
  bind_text (stmt, 5, enum_nick (SQUINT_TYPE_ZOOM_STATE, squint_message_get_zoom_state (m)));
  bind_text (stmt, 6, squint_message_get_policy (m));
  bind_text (stmt, 7, squint_message_get_error (m));
  sqlite3_bind_int (stmt, 8, squint_message_has_stats (m));
  sqlite3_bind_int64 (stmt, 9, st->visual_low);
  sqlite3_bind_int64 (stmt, 10, st->visual_full);
  sqlite3_bind_int64 (stmt, 11, st->visual_used);
  sqlite3_bind_int64 (stmt, 12, st->visual_baseline);
  sqlite3_bind_double (stmt, 13, st->tokens_per_second);
  sqlite3_bind_double (stmt, 14, st->first_token_ms);
  if (id == 0)
    {
      sqlite3_bind_int64 (stmt, 15, conversation_id);
      bind_text (stmt, 16, enum_nick (SQUINT_TYPE_ROLE, role));
      sqlite3_bind_int64 (stmt, 17, squint_message_get_created (m));
    }
  else
    sqlite3_bind_int64 (stmt, 15, id);

  if (sqlite3_step (stmt) != SQLITE_DONE)
    return db_error (self, error, "saving a message");
  if (id != 0)
    return TRUE;

  squint_message_set_id (m, sqlite3_last_insert_rowid (self->db));
  {
    GListModel *images = squint_message_get_images (m);
    g_autoptr(sqlite3_stmt) ins =
      prepare (self, "INSERT INTO images (message_id, position, file, name, width, height) VALUES (?, ?, ?, ?, ?, ?)",
               error);

    if (ins == NULL)
      return FALSE;
    for (guint i = 0; i < g_list_model_get_n_items (images); i++)
      {
        g_autoptr(SquintImage) image = g_list_model_get_item (images, i);
        g_autofree char *file = NULL;

        if (squint_image_get_path (image) == NULL)
          continue;
        file = file_for_path (self, squint_image_get_path (image));
        sqlite3_reset (ins);
        sqlite3_bind_int64 (ins, 1, squint_message_get_id (m));
        sqlite3_bind_int (ins, 2, (int)i);
        bind_text (ins, 3, file);
        bind_text (ins, 4, squint_image_get_name (image));
        sqlite3_bind_int (ins, 5, squint_image_get_width (image));
        sqlite3_bind_int (ins, 6, squint_image_get_height (image));
        if (sqlite3_step (ins) != SQLITE_DONE)
          return db_error (self, error, "saving an image");
      }
  }
  return TRUE;
}

gboolean
squint_history_add_message (SquintHistory       *self,
                            SquintConversation  *conversation,
                            SquintMessage       *message,
                            GError             **error)
{
  g_return_val_if_fail (SQUINT_IS_HISTORY (self), FALSE);
  g_return_val_if_fail (SQUINT_IS_CONVERSATION (conversation), FALSE);
  g_return_val_if_fail (SQUINT_IS_MESSAGE (message), FALSE);
  g_return_val_if_fail (squint_message_get_id (message) == 0, FALSE);

  if (!exec (self, "BEGIN IMMEDIATE", error))
    return FALSE;
  squint_conversation_set_updated (conversation, g_get_real_time () / G_USEC_PER_SEC);
  if (!write_conversation (self, conversation, error) ||
      !write_message (self, message, squint_conversation_get_id (conversation), error) ||
      !exec (self, "COMMIT", error))
    {
      exec (self, "ROLLBACK", NULL);
      return FALSE;
    }
  move_to_top (self, conversation);
  return TRUE;
}

gboolean
squint_history_update_message (SquintHistory  *self,
                               SquintMessage  *message,
                               GError        **error)
{
  g_return_val_if_fail (SQUINT_IS_HISTORY (self), FALSE);
  g_return_val_if_fail (SQUINT_IS_MESSAGE (message), FALSE);

  if (squint_message_get_id (message) == 0)
    return TRUE;
  if (!exec (self, "BEGIN IMMEDIATE", error))
    return FALSE;
  if (!write_message (self, message, 0, error) || !exec (self, "COMMIT", error))
    {
      exec (self, "ROLLBACK", NULL);
      return FALSE;
    }
  return TRUE;
}

gboolean
squint_history_delete_message (SquintHistory  *self,
                               SquintMessage  *message,
                               GError        **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;

  g_return_val_if_fail (SQUINT_IS_HISTORY (self), FALSE);
  g_return_val_if_fail (SQUINT_IS_MESSAGE (message), FALSE);

  if (squint_message_get_id (message) == 0)
    return TRUE;
  if (!(stmt = prepare (self, "DELETE FROM messages WHERE id = ?", error)))
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, squint_message_get_id (message));
  if (sqlite3_step (stmt) != SQLITE_DONE)
    return db_error (self, error, "deleting a message");
  squint_message_set_id (message, 0);
  return TRUE;
}

gboolean
squint_history_delete_conversation (SquintHistory       *self,
                                    SquintConversation  *conversation,
                                    GError             **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  guint pos;

  g_return_val_if_fail (SQUINT_IS_HISTORY (self), FALSE);
  g_return_val_if_fail (SQUINT_IS_CONVERSATION (conversation), FALSE);

  if (squint_conversation_get_id (conversation) != 0)
    {
      if (!(stmt = prepare (self, "DELETE FROM conversations WHERE id = ?", error)))
        return FALSE;
      sqlite3_bind_int64 (stmt, 1, squint_conversation_get_id (conversation));
      if (sqlite3_step (stmt) != SQLITE_DONE)
        return db_error (self, error, "deleting a conversation");
    }
  if (g_list_store_find (self->conversations, conversation, &pos))
    g_list_store_remove (self->conversations, pos);
  squint_history_collect_images (self);
  return TRUE;
}

static void
collect_thread (GTask        *task,
                gpointer      source_object,
                gpointer      task_data,
                GCancellable *cancellable)
{
  GHashTable *keep = task_data;
  const char *images_dir = g_object_get_data (G_OBJECT (task), "images-dir");
  g_autoptr(GDir) dir = g_dir_open (images_dir, 0, NULL);
  const char *name;
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = NULL;
      GStatBuf st;

      if (!g_str_has_suffix (name, ".png") || g_hash_table_contains (keep, name))
        continue;
      path = g_build_filename (images_dir, name, NULL);
      /* files younger than an hour may belong to an attachment not sent yet */
      if (g_stat (path, &st) == 0 && now - (gint64)st.st_mtime > 3600)
        g_unlink (path);
    }
  g_task_return_boolean (task, TRUE);
}

void
squint_history_collect_images (SquintHistory *self)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(GHashTable) keep = NULL;
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (SQUINT_IS_HISTORY (self));

  if (!(stmt = prepare (self, "SELECT DISTINCT file FROM images", NULL)))
    return;
  keep = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  while (sqlite3_step (stmt) == SQLITE_ROW)
    g_hash_table_add (keep, g_strdup ((const char *)sqlite3_column_text (stmt, 0)));

  task = g_task_new (NULL, NULL, NULL, NULL);
  g_task_set_source_tag (task, squint_history_collect_images);
  g_object_set_data_full (G_OBJECT (task), "images-dir", g_strdup (self->images_dir), g_free);
  g_task_set_task_data (task, g_steal_pointer (&keep), (GDestroyNotify)g_hash_table_unref);
  g_task_run_in_thread (task, collect_thread);
}
