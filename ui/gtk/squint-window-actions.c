/* squint-window-actions.c — what the window does: asking, stopping,
 * regenerating, attaching, and managing conversations.
 *
 * SPDX-License-Identifier: MIT
 */
#define G_LOG_DOMAIN "squint-window"

#include "squint-config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "squint-error.h"
#include "squint-export.h"
#include "squint-file-chooser.h"
#include "squint-window-private.h"

#define TITLE_CHARS 60

typedef struct
{
  GWeakRef            window;
  SquintHistory      *history;
  SquintConversation *conversation;
  SquintMessage      *reply;
  GCancellable       *cancellable;
} AskData;

static void
ask_data_free (AskData *d)
{
  g_weak_ref_clear (&d->window);
  g_clear_object (&d->history);
  g_clear_object (&d->conversation);
  g_clear_object (&d->reply);
  g_clear_object (&d->cancellable);
  g_free (d);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AskData, ask_data_free)

static gboolean
is_asking (SquintWindow *self)
{
  return self->ask_cancellable != NULL;
}

static gboolean
can_regenerate (SquintWindow *self)
{
  SquintMessage *last;
  guint n;

  if (self->conversation == NULL || is_asking (self) ||
      squint_engine_get_state (self->engine) != SQUINT_ENGINE_READY)
    return FALSE;
  n = squint_conversation_get_n_messages (self->conversation);
  if (n < 2)
    return FALSE;
  last = g_list_model_get_item (squint_conversation_get_messages (self->conversation), n - 1);
  g_object_unref (last); /* the conversation keeps it */
  return squint_message_get_role (last) == SQUINT_ROLE_ASSISTANT;
}

void
squint_window_update_actions (SquintWindow *self)
{
  gboolean ready = squint_engine_get_state (self->engine) == SQUINT_ENGINE_READY;
  gboolean stored = self->conversation != NULL && squint_conversation_get_id (self->conversation) != 0;
  gboolean asking = is_asking (self);

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.send",
                                 ready && !asking && self->n_loading == 0 && !squint_composer_is_empty (self->composer));
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.stop", asking);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.regenerate", can_regenerate (self));
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.rename", stored);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.export", stored && !asking);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.delete", stored && !asking);
  squint_composer_set_busy (self->composer, asking);
}

static SquintAskOptions
ask_options (SquintWindow *self,
             const char   *policy)
{
  SquintAskOptions opts = {
    .policy = policy,
    .n_predict = g_settings_get_int (self->settings, "max-tokens"),
    .temperature = g_settings_get_double (self->settings, "temperature"),
    .top_p = g_settings_get_double (self->settings, "top-p"),
    .n_ctx = g_settings_get_int (self->settings, "context-size"),
  };

  return opts;
}

static void
ask_done (GObject      *object,
          GAsyncResult *result,
          gpointer      user_data)
{
  g_autoptr(AskData) d = user_data;
  g_autoptr(SquintWindow) self = g_weak_ref_get (&d->window);
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) save_error = NULL;

  if (!squint_engine_ask_finish (SQUINT_ENGINE (object), result, &error))
    {
      SquintMessageState state = squint_message_get_state (d->reply);

      /* refused before it started (no model, no vision…) */
      if (state != SQUINT_MESSAGE_FAILED && state != SQUINT_MESSAGE_STOPPED)
        {
          gboolean cancelled = g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);

          squint_message_set_status (d->reply, NULL);
          if (!cancelled)
            squint_message_set_error (d->reply, error->message);
          squint_message_set_state (d->reply, cancelled ? SQUINT_MESSAGE_STOPPED : SQUINT_MESSAGE_FAILED);
        }
    }

  if (d->history != NULL && !squint_history_update_message (d->history, d->reply, &save_error))
    g_warning ("%s", save_error->message);

  if (self == NULL)
    return;
  if (self->ask_cancellable == d->cancellable)
    g_clear_object (&self->ask_cancellable);
  if (save_error != NULL)
    squint_window_add_toast (self, save_error->message);
  squint_window_update_actions (self);
}

/* Asks `question` about `images` into a new answer appended to the
 * conversation.  Without images, a conversation the engine does not
 * remember (new context, restarted app) gets its latest images again. */
static void
ask (SquintWindow *self,
     const char   *question,
     GPtrArray    *images)
{
  g_autoptr(SquintMessage) reply = squint_message_new (SQUINT_ROLE_ASSISTANT, NULL);
  g_autoptr(GPtrArray) carried = NULL;
  g_autoptr(GError) error = NULL;
  const char *policy = squint_conversation_get_policy (self->conversation);
  SquintAskOptions opts = ask_options (self, policy);
  AskData *d;

  if (images == NULL || images->len == 0)
    {
      carried = squint_conversation_dup_last_images (self->conversation);
      if (carried->len > 0)
        {
          squint_message_set_subject (reply, g_ptr_array_index (carried, 0));
          if (squint_engine_remembers (self->engine, self->conversation))
            g_clear_pointer (&carried, g_ptr_array_unref);  /* already in its context */
        }
      images = carried;
    }
  else
    squint_message_set_subject (reply, g_ptr_array_index (images, 0));

  squint_message_set_policy (reply, policy);
  squint_message_set_state (reply, SQUINT_MESSAGE_WAITING);
  squint_conversation_append (self->conversation, reply);
  if (self->history != NULL && !squint_history_add_message (self->history, self->conversation, reply, &error))
    squint_window_add_toast (self, error->message);

  g_clear_object (&self->ask_cancellable);
  self->ask_cancellable = g_cancellable_new ();
  d = g_new0 (AskData, 1);
  g_weak_ref_init (&d->window, self);
  d->history = self->history ? g_object_ref (self->history) : NULL;
  d->conversation = g_object_ref (self->conversation);
  d->reply = g_object_ref (reply);
  d->cancellable = g_object_ref (self->ask_cancellable);

  squint_window_scroll_to_bottom (self);
  squint_engine_ask_async (self->engine, self->conversation, question, images, reply, &opts,
                           self->ask_cancellable, ask_done, d);
  squint_window_update_actions (self);
}

static char *
make_title (const char *question)
{
  g_autofree char *line = g_strdup (question);
  char *nl = strchr (line, '\n');
  glong len;

  if (nl != NULL)
    *nl = '\0';
  g_strstrip (line);
  len = g_utf8_strlen (line, -1);
  if (len <= TITLE_CHARS)
    return g_steal_pointer (&line);
  {
    g_autofree char *head = g_utf8_substring (line, 0, TITLE_CHARS - 1);

    return g_strconcat (head, "…", NULL);
  }
}

static void
send_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *param)
{
  SquintWindow *self = SQUINT_WINDOW (widget);
  GListModel *attachments = squint_composer_get_attachments (self->composer);
  g_autoptr(GPtrArray) images = g_ptr_array_new_with_free_func (g_object_unref);
  g_autofree char *text = squint_composer_dup_text (self->composer);
  g_autoptr(SquintMessage) question = NULL;
  g_autoptr(GError) error = NULL;
  const char *asked;

  if (squint_engine_get_state (self->engine) != SQUINT_ENGINE_READY || is_asking (self) || self->n_loading > 0)
    return;

  for (guint i = 0; i < g_list_model_get_n_items (attachments); i++)
    g_ptr_array_add (images, g_list_model_get_item (attachments, i));
  if (text[0] == '\0' && images->len == 0)
    return;
  asked = text[0] != '\0' ? text : _("Describe this image.");

  question = squint_message_new (SQUINT_ROLE_USER, asked);
  for (guint i = 0; i < images->len; i++)
    squint_message_add_image (question, g_ptr_array_index (images, i));

  if (squint_conversation_get_raw_title (self->conversation) == NULL)
    {
      g_autofree char *title = make_title (asked);

      squint_conversation_set_title (self->conversation, title);
    }
  squint_conversation_append (self->conversation, question);
  if (self->history != NULL && !squint_history_add_message (self->history, self->conversation, question, &error))
    squint_window_add_toast (self, error->message);

  squint_composer_clear (self->composer);
  ask (self, asked, images);
}

static void
stop_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *param)
{
  SquintWindow *self = SQUINT_WINDOW (widget);

  if (self->ask_cancellable != NULL)
    g_cancellable_cancel (self->ask_cancellable);
}

static void
regenerate_action (GtkWidget  *widget,
                   const char *action_name,
                   GVariant   *param)
{
  SquintWindow *self = SQUINT_WINDOW (widget);
  SquintMessage *last_answer;
  SquintMessage *last_question;
  g_autoptr(GPtrArray) images = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GError) error = NULL;
  GListModel *qimages;

  if (!can_regenerate (self))
    return;
  last_answer = squint_conversation_get_last_message (self->conversation, SQUINT_ROLE_ASSISTANT);
  last_question = squint_conversation_get_last_message (self->conversation, SQUINT_ROLE_USER);
  if (last_answer == NULL || last_question == NULL)
    return;

  /* the context holds the old answer: start a fresh one */
  squint_engine_forget (self->engine, self->conversation);
  if (self->history != NULL && !squint_history_delete_message (self->history, last_answer, &error))
    squint_window_add_toast (self, error->message);
  squint_conversation_remove (self->conversation, last_answer);

  qimages = squint_message_get_images (last_question);
  for (guint i = 0; i < g_list_model_get_n_items (qimages); i++)
    g_ptr_array_add (images, g_list_model_get_item (qimages, i));
  ask (self, squint_message_get_text (last_question), images);
}

static void
new_chat_action (GtkWidget  *widget,
                 const char *action_name,
                 GVariant   *param)
{
  SquintWindow *self = SQUINT_WINDOW (widget);

  squint_window_set_conversation (self, NULL);
  adw_leaflet_navigate (self->leaflet, ADW_NAVIGATION_DIRECTION_FORWARD);
  squint_composer_focus (self->composer);
}

static void
attach_chosen (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(SquintWindow) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GListModel) files = squint_file_chooser_finish (result, &error);

  if (files == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        squint_window_add_toast (self, error->message);
      return;
    }
  squint_window_attach_files (self, files);
}

static void
attach_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *param)
{
  SquintWindow *self = SQUINT_WINDOW (widget);
  g_autoptr(GListStore) filters = g_list_store_new (GTK_TYPE_FILE_FILTER);
  g_autoptr(GtkFileFilter) supported = gtk_file_filter_new ();
  g_autoptr(GtkFileFilter) all = gtk_file_filter_new ();

  gtk_file_filter_set_name (supported, _("Images and PDFs"));
  gtk_file_filter_add_pixbuf_formats (supported);
  gtk_file_filter_add_mime_type (supported, "image/png");
  gtk_file_filter_add_mime_type (supported, "image/jpeg");
  gtk_file_filter_add_mime_type (supported, "image/bmp");
  gtk_file_filter_add_mime_type (supported, "image/gif");
  gtk_file_filter_add_mime_type (supported, "image/x-portable-anymap");
  gtk_file_filter_add_mime_type (supported, "application/pdf");
  gtk_file_filter_set_name (all, _("All Files"));
  gtk_file_filter_add_pattern (all, "*");
  g_list_store_append (filters, supported);
  g_list_store_append (filters, all);

  squint_file_chooser_run (GTK_WINDOW (self), _("Attach Images or PDFs"), SQUINT_CHOOSE_FILES,
                           G_LIST_MODEL (filters), self->cancellable, attach_chosen, g_object_ref (self));
}

static void
paste_action (GtkWidget  *widget,
              const char *action_name,
              GVariant   *param)
{
  squint_window_paste (SQUINT_WINDOW (widget));
}

static void
show_toast_action (GtkWidget  *widget,
                   const char *action_name,
                   GVariant   *param)
{
  squint_window_add_toast (SQUINT_WINDOW (widget), g_variant_get_string (param, NULL));
}

/* ---- managing conversations ---- */

static void
on_rename_response (AdwMessageDialog *dialog,
                    const char       *response,
                    SquintWindow     *self)
{
  GtkEditable *entry = GTK_EDITABLE (adw_message_dialog_get_extra_child (dialog));
  g_autofree char *title = g_strstrip (g_strdup (gtk_editable_get_text (entry)));
  g_autoptr(GError) error = NULL;

  if (g_strcmp0 (response, "rename") != 0 || title[0] == '\0' || self->conversation == NULL)
    return;
  squint_conversation_set_title (self->conversation, title);
  if (self->history != NULL && !squint_history_save_conversation (self->history, self->conversation, &error))
    squint_window_add_toast (self, error->message);
}

static void
rename_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *param)
{
  SquintWindow *self = SQUINT_WINDOW (widget);
  GtkWidget *dialog = adw_message_dialog_new (GTK_WINDOW (self), _("Rename Conversation"), NULL);
  GtkWidget *entry = gtk_entry_new ();

  gtk_editable_set_text (GTK_EDITABLE (entry), squint_conversation_get_title (self->conversation));
  gtk_entry_set_activates_default (GTK_ENTRY (entry), TRUE);
  gtk_accessible_update_property (GTK_ACCESSIBLE (entry), GTK_ACCESSIBLE_PROPERTY_LABEL, _("Title"), -1);
  adw_message_dialog_set_extra_child (ADW_MESSAGE_DIALOG (dialog), entry);
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog),
                                    "cancel", _("_Cancel"),
                                    "rename", _("_Rename"),
                                    NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "rename", ADW_RESPONSE_SUGGESTED);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "rename");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  g_signal_connect_object (dialog, "response", G_CALLBACK (on_rename_response), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
  gtk_widget_grab_focus (entry);
}

static void
on_delete_response (AdwMessageDialog *dialog,
                    const char       *response,
                    SquintWindow     *self)
{
  g_autoptr(SquintConversation) conversation = NULL;
  g_autoptr(GError) error = NULL;

  if (g_strcmp0 (response, "delete") != 0 || self->conversation == NULL)
    return;
  conversation = g_object_ref (self->conversation);
  squint_engine_forget (self->engine, conversation);
  if (self->history != NULL && !squint_history_delete_conversation (self->history, conversation, &error))
    {
      squint_window_add_toast (self, error->message);
      return;
    }
  squint_window_set_conversation (self, NULL);
  squint_window_add_toast (self, _("Conversation deleted"));
}

static void
delete_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *param)
{
  SquintWindow *self = SQUINT_WINDOW (widget);
  g_autofree char *body = NULL;
  GtkWidget *dialog;

  /* Translators: %s is a conversation's title */
  body = g_strdup_printf (_("“%s” and its images will be deleted permanently."),
                          squint_conversation_get_title (self->conversation));
  dialog = adw_message_dialog_new (GTK_WINDOW (self), _("Delete Conversation?"), body);
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog),
                                    "cancel", _("_Cancel"),
                                    "delete", _("_Delete"),
                                    NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "delete", ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  g_signal_connect_object (dialog, "response", G_CALLBACK (on_delete_response), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
exported (GObject      *object,
          GAsyncResult *result,
          gpointer      user_data)
{
  g_autoptr(SquintWindow) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GFile) file = squint_export_conversation_finish (result, &error);
  g_autofree char *name = NULL;
  g_autofree char *message = NULL;

  if (file == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        squint_window_add_toast (self, error->message);
      return;
    }
  name = g_file_get_basename (file);
  /* Translators: %s is a file name */
  message = g_strdup_printf (_("Exported “%s”"), name);
  squint_window_add_toast (self, message);
}

static void
export_folder_chosen (GObject      *object,
                      GAsyncResult *result,
                      gpointer      user_data)
{
  g_autoptr(SquintWindow) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GListModel) files = squint_file_chooser_finish (result, &error);
  g_autoptr(GFile) folder = NULL;

  if (files == NULL || g_list_model_get_n_items (files) == 0 || self->conversation == NULL)
    return;
  folder = g_list_model_get_item (files, 0);
  squint_export_conversation_async (self->conversation, folder, self->cancellable, exported, g_object_ref (self));
}

static void
export_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *param)
{
  SquintWindow *self = SQUINT_WINDOW (widget);

  squint_file_chooser_run (GTK_WINDOW (self), _("Export to Folder"), SQUINT_CHOOSE_FOLDER, NULL,
                           self->cancellable, export_folder_chosen, g_object_ref (self));
}

void
squint_window_class_init_actions (GtkWidgetClass *widget_class)
{
  gtk_widget_class_install_action (widget_class, "win.new-chat", NULL, new_chat_action);
  gtk_widget_class_install_action (widget_class, "win.send", NULL, send_action);
  gtk_widget_class_install_action (widget_class, "win.stop", NULL, stop_action);
  gtk_widget_class_install_action (widget_class, "win.regenerate", NULL, regenerate_action);
  gtk_widget_class_install_action (widget_class, "win.attach", NULL, attach_action);
  gtk_widget_class_install_action (widget_class, "win.paste", NULL, paste_action);
  gtk_widget_class_install_action (widget_class, "win.rename", NULL, rename_action);
  gtk_widget_class_install_action (widget_class, "win.export", NULL, export_action);
  gtk_widget_class_install_action (widget_class, "win.delete", NULL, delete_action);
  gtk_widget_class_install_action (widget_class, "win.show-toast", "s", show_toast_action);
  gtk_widget_class_install_property_action (widget_class, "win.policy", "policy");

  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_n, GDK_CONTROL_MASK, "win.new-chat", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_o, GDK_CONTROL_MASK, "win.attach", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_v, GDK_CONTROL_MASK, "win.paste", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Return, GDK_CONTROL_MASK, "win.send", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_KP_Enter, GDK_CONTROL_MASK, "win.send", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "win.stop", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_F2, 0, "win.rename", NULL);
}
