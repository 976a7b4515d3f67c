/* squint-window.c — the window's structure: the sidebar of conversations,
 * the current conversation's messages, the view state (no model, loading,
 * empty, chat) and the header's counter and menus.  Actions live in
 * squint-window-actions.c, drag and drop in squint-window-dnd.c.
 *
 * SPDX-License-Identifier: MIT
 */
#define G_LOG_DOMAIN "squint-window"

#include "squint-config.h"

#include <glib/gi18n.h>

#include "squint-conversation-row.h"
#include "squint-message-row.h"
#include "squint-savings-chart.h"
#include "squint-window-private.h"

G_DEFINE_FINAL_TYPE (SquintWindow, squint_window, ADW_TYPE_APPLICATION_WINDOW)

enum {
  PROP_0,
  PROP_CONVERSATION,
  PROP_POLICY,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* ---- helpers ---- */

static const char *
policy_label (const char *policy)
{
  if (g_strcmp0 (policy, "low") == 0)
    return _("Half Size");
  if (g_strcmp0 (policy, "full") == 0)
    return _("Full Resolution");
  return _("Adaptive");
}

void
squint_window_update_view (SquintWindow *self)
{
  SquintEngineState state = squint_engine_get_state (self->engine);
  gboolean has_messages = self->conversation != NULL &&
                          squint_conversation_get_n_messages (self->conversation) > 0;
  const char *page;

  if (has_messages)
    page = "chat";
  else if (state == SQUINT_ENGINE_EMPTY)
    page = "no-model";
  else if (state == SQUINT_ENGINE_LOADING)
    page = "loading";
  else if (state == SQUINT_ENGINE_FAILED)
    page = "failed";
  else
    page = "empty";
  gtk_stack_set_visible_child_name (self->main_stack, page);
  gtk_widget_set_visible (GTK_WIDGET (self->inline_progress), has_messages && state == SQUINT_ENGINE_LOADING);
  adw_status_page_set_description (self->failed_page, squint_engine_get_error (self->engine));
  /* OpenCL compiles its programs (and CLBlast's GEMM kernels) while the
   * model loads: the first start on a device takes a while, later ones
   * reuse the cached binaries */
  adw_status_page_set_description (self->loading_page,
                                   state == SQUINT_ENGINE_LOADING &&
                                   g_strcmp0 (squint_engine_get_backend (self->engine), "cpu") != 0
                                   ? _("Preparing the GPU… The first start on a device compiles its programs; "
                                       "later starts reuse them.")
                                   : NULL);
  squint_window_update_actions (self);
}

static void
update_model_button (SquintWindow *self)
{
  const char *name = squint_engine_get_model_name (self->engine);
  SquintEngineState state = squint_engine_get_state (self->engine);

  if (state == SQUINT_ENGINE_LOADING)
    gtk_menu_button_set_label (self->model_button, _("Loading…"));
  else
    gtk_menu_button_set_label (self->model_button, name ? name : _("No Model"));
}

static void
on_engine_state (SquintWindow *self)
{
  update_model_button (self);
  squint_window_update_view (self);
}

static void
on_engine_progress (SquintWindow *self)
{
  double progress = squint_engine_get_progress (self->engine);

  gtk_progress_bar_set_fraction (self->loading_progress, progress);
  gtk_progress_bar_set_fraction (self->inline_progress, progress);
}

static void
update_savings (SquintWindow *self)
{
  gint64 saved = self->conversation ? squint_conversation_get_visual_saved (self->conversation) : 0;
  gint64 baseline = self->conversation ? squint_conversation_get_visual_baseline (self->conversation) : 0;
  g_autofree char *label = squint_format_savings (saved, baseline);
  g_autofree char *total = NULL;
  g_autofree char *detail = NULL;
  g_autofree char *used = NULL;
  g_autofree char *base = NULL;
  g_autofree char *tokens = NULL;

  gtk_widget_set_visible (GTK_WIDGET (self->savings_button), label != NULL);
  if (label == NULL)
    return;

  gtk_label_set_label (self->savings_button_label, label);
  tokens = squint_format_tokens (saved);
  /* Translators: the big number in the savings popover */
  total = g_strdup_printf (_("%s tokens saved"), tokens);
  used = squint_format_tokens (baseline - saved);
  base = squint_format_tokens (baseline);
  /* Translators: visual tokens fed, and what always-full-resolution would have fed */
  detail = g_strdup_printf (_("%s used where full resolution takes %s"), used, base);
  gtk_label_set_label (self->savings_total_label, total);
  gtk_label_set_label (self->savings_detail_label, detail);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->savings_button),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, total,
                                  GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, detail,
                                  -1);
}

static void
update_title (SquintWindow *self)
{
  const char *title = self->conversation ? squint_conversation_get_title (self->conversation) : _("New Chat");

  adw_window_title_set_title (self->window_title, title);
}

static void
update_policy (SquintWindow *self)
{
  const char *policy = self->conversation ? squint_conversation_get_policy (self->conversation) : "adaptive";

  gtk_menu_button_set_label (self->policy_button, policy_label (policy));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_POLICY]);
}

static void
set_policy (SquintWindow *self,
            const char   *policy)
{
  g_autoptr(GError) error = NULL;

  if (self->conversation == NULL || policy == NULL ||
      g_strcmp0 (policy, squint_conversation_get_policy (self->conversation)) == 0)
    return;
  squint_conversation_set_policy (self->conversation, policy);
  if (self->history != NULL && squint_conversation_get_id (self->conversation) != 0 &&
      !squint_history_save_conversation (self->history, self->conversation, &error))
    squint_window_add_toast (self, error->message);
}

/* Only the last answer offers "regenerate". */
static void
update_last_row (SquintWindow *self)
{
  GtkWidget *child;
  gboolean seen_last = FALSE;

  for (child = gtk_widget_get_last_child (GTK_WIDGET (self->message_list));
       child != NULL;
       child = gtk_widget_get_prev_sibling (child))
    {
      GtkWidget *row;

      if (!GTK_IS_LIST_BOX_ROW (child))
        continue;
      row = gtk_list_box_row_get_child (GTK_LIST_BOX_ROW (child));
      if (!SQUINT_IS_MESSAGE_ROW (row))
        continue;
      if (squint_message_get_role (squint_message_row_get_message (SQUINT_MESSAGE_ROW (row))) != SQUINT_ROLE_ASSISTANT)
        {
          seen_last = TRUE;
          continue;
        }
      squint_message_row_set_show_regenerate (SQUINT_MESSAGE_ROW (row), !seen_last);
      seen_last = TRUE;
    }
}

static void
on_messages_changed (SquintWindow *self)
{
  update_last_row (self);
  squint_window_update_view (self);
}

static GtkWidget *
create_message_row (gpointer item,
                    gpointer user_data)
{
  GtkWidget *row = gtk_list_box_row_new ();

  gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (row), squint_message_row_new (item));
  gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), FALSE);
  gtk_widget_set_focusable (row, FALSE);
  return row;
}

static GtkWidget *
create_conversation_row (gpointer item,
                         gpointer user_data)
{
  return squint_conversation_row_new (item);
}

static void
select_current (SquintWindow *self)
{
  GListModel *list;
  guint n;

  if (self->history == NULL)
    return;
  list = squint_history_get_conversations (self->history);
  n = g_list_model_get_n_items (list);
  self->selecting = TRUE;
  gtk_list_box_unselect_all (self->conversation_list);
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(SquintConversation) c = g_list_model_get_item (list, i);

      if (c == self->conversation)
        {
          gtk_list_box_select_row (self->conversation_list, gtk_list_box_get_row_at_index (self->conversation_list, i));
          break;
        }
    }
  self->selecting = FALSE;
}

static void
on_conversations_changed (SquintWindow *self)
{
  select_current (self);
}

/* Keeps the newest message in view while the user has not scrolled up. */
static void
on_vadjustment_value (SquintWindow  *self,
                      GtkAdjustment *adj)
{
  double bottom = gtk_adjustment_get_upper (adj) - gtk_adjustment_get_page_size (adj);

  self->stick_to_bottom = gtk_adjustment_get_value (adj) >= bottom - 32;
}

static void
on_vadjustment_upper (SquintWindow  *self,
                      GParamSpec    *pspec,
                      GtkAdjustment *adj)
{
  if (self->stick_to_bottom)
    gtk_adjustment_set_value (adj, gtk_adjustment_get_upper (adj) - gtk_adjustment_get_page_size (adj));
}

void
squint_window_scroll_to_bottom (SquintWindow *self)
{
  GtkAdjustment *adj = gtk_scrolled_window_get_vadjustment (self->message_scroller);

  self->stick_to_bottom = TRUE;
  gtk_adjustment_set_value (adj, gtk_adjustment_get_upper (adj) - gtk_adjustment_get_page_size (adj));
}

/* ---- template callbacks ---- */

static void
on_conversation_selected (SquintWindow  *self,
                          GtkListBoxRow *row)
{
  GtkWidget *child;

  if (self->selecting || row == NULL)
    return;
  child = gtk_list_box_row_get_child (row);
  squint_window_set_conversation (self, squint_conversation_row_get_conversation (SQUINT_CONVERSATION_ROW (child)));
}

static void
on_conversation_activated (SquintWindow  *self,
                           GtkListBoxRow *row)
{
  adw_leaflet_navigate (self->leaflet, ADW_NAVIGATION_DIRECTION_FORWARD);
  squint_composer_focus (self->composer);
}

static void
on_back_clicked (SquintWindow *self)
{
  adw_leaflet_navigate (self->leaflet, ADW_NAVIGATION_DIRECTION_BACK);
}

/* ---- the class ---- */

/* Connects the window to its application's engine, history and settings
 * (the application is set after construction, so not in constructed()). */
static void
squint_window_setup (SquintWindow *self)
{
  GtkAdjustment *adj;
  const char *history_error;

  self->app = SQUINT_APPLICATION (gtk_window_get_application (GTK_WINDOW (self)));
  self->engine = squint_application_get_engine (self->app);
  self->history = squint_application_get_history (self->app);
  self->settings = g_object_ref (squint_application_get_settings (self->app));

  g_settings_bind (self->settings, "window-width", self, "default-width", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "window-height", self, "default-height", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "window-maximized", self, "maximized", G_SETTINGS_BIND_DEFAULT);

  gtk_menu_button_set_menu_model (self->model_button, squint_application_get_model_menu (self->app));
  g_signal_connect_object (self->engine, "notify::state", G_CALLBACK (on_engine_state), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->engine, "notify::model-name", G_CALLBACK (update_model_button), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->engine, "notify::progress", G_CALLBACK (on_engine_progress), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->engine, "notify::busy", G_CALLBACK (squint_window_update_actions), self, G_CONNECT_SWAPPED);

  if (self->history != NULL)
    {
      GListModel *conversations = squint_history_get_conversations (self->history);

      gtk_list_box_bind_model (self->conversation_list, conversations, create_conversation_row, NULL, NULL);
      g_signal_connect_object (conversations, "items-changed", G_CALLBACK (on_conversations_changed),
                               self, G_CONNECT_SWAPPED | G_CONNECT_AFTER);
    }

  adj = gtk_scrolled_window_get_vadjustment (self->message_scroller);
  g_signal_connect_object (adj, "value-changed", G_CALLBACK (on_vadjustment_value), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (adj, "notify::upper", G_CALLBACK (on_vadjustment_upper), self, G_CONNECT_SWAPPED);

  squint_window_init_dnd (self);
  squint_window_set_conversation (self, NULL);
  update_model_button (self);
  on_engine_progress (self);
  squint_window_update_view (self);

  history_error = squint_application_get_history_error (self->app);
  if (history_error != NULL)
    squint_window_add_toast (self, history_error);
}

static void
squint_window_dispose (GObject *object)
{
  SquintWindow *self = (SquintWindow *)object;

  if (self->ask_cancellable != NULL)
    g_cancellable_cancel (self->ask_cancellable);
  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  if (self->history != NULL)
    g_signal_handlers_disconnect_by_data (squint_history_get_conversations (self->history), self);
  if (self->conversation != NULL)
    g_signal_handlers_disconnect_by_data (self->conversation, self);
  if (self->conversation != NULL)
    g_signal_handlers_disconnect_by_data (squint_conversation_get_messages (self->conversation), self);

  gtk_widget_dispose_template (GTK_WIDGET (self), SQUINT_TYPE_WINDOW);

  g_clear_object (&self->conversation);
  g_clear_object (&self->drop_target);
  g_clear_object (&self->settings);
  self->app = NULL;
  self->engine = NULL;
  self->history = NULL;

  G_OBJECT_CLASS (squint_window_parent_class)->dispose (object);
}

static void
squint_window_finalize (GObject *object)
{
  SquintWindow *self = (SquintWindow *)object;

  g_clear_object (&self->ask_cancellable);
  g_clear_object (&self->cancellable);

  G_OBJECT_CLASS (squint_window_parent_class)->finalize (object);
}

static void
squint_window_get_property (GObject    *object,
                            guint       prop_id,
                            GValue     *value,
                            GParamSpec *pspec)
{
  SquintWindow *self = SQUINT_WINDOW (object);

  switch (prop_id)
    {
    case PROP_CONVERSATION:
      g_value_set_object (value, self->conversation);
      break;
    case PROP_POLICY:
      g_value_set_string (value, self->conversation ? squint_conversation_get_policy (self->conversation) : "adaptive");
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
squint_window_set_property (GObject      *object,
                            guint         prop_id,
                            const GValue *value,
                            GParamSpec   *pspec)
{
  SquintWindow *self = SQUINT_WINDOW (object);

  switch (prop_id)
    {
    case PROP_CONVERSATION:
      squint_window_set_conversation (self, g_value_get_object (value));
      break;
    case PROP_POLICY:
      set_policy (self, g_value_get_string (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
squint_window_class_init (SquintWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = squint_window_dispose;
  object_class->finalize = squint_window_finalize;
  object_class->get_property = squint_window_get_property;
  object_class->set_property = squint_window_set_property;

  properties[PROP_CONVERSATION] =
    g_param_spec_object ("conversation", NULL, NULL, SQUINT_TYPE_CONVERSATION,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  /* the resolution policy of the conversation shown: "adaptive", "low", "full" */
  properties[PROP_POLICY] =
    g_param_spec_string ("policy", NULL, NULL, "adaptive",
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  g_type_ensure (SQUINT_TYPE_COMPOSER);
  g_type_ensure (SQUINT_TYPE_SAVINGS_CHART);

  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/squint/Squint/squint-window.ui");
  gtk_widget_class_bind_template_child (widget_class, SquintWindow, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, SquintWindow, leaflet);
  gtk_widget_class_bind_template_child (widget_class, SquintWindow, conversation_list);
  gtk_widget_class_bind_template_child (widget_class, SquintWindow, primary_menu_button);
  gtk_widget_class_bind_template_child (widget_class, SquintWindow, back_button);
  gtk_widget_class_bind_template_child (widget_class, SquintWindow, model_button);
  gtk_widget_class_bind_template_child (widget_class, SquintWindow, window_title);
  gtk_widget_class_bind_template_child (widget_class, SquintWindow, policy_button);
  gtk_widget_class_bind_template_child (widget_class, SquintWindow, conversation_menu_button);
  gtk_widget_class_bind_template_child (widget_class, SquintWindow, savings_button);
  gtk_widget_class_bind_template_child (widget_class, SquintWindow, savings_button_label);
  gtk_widget_class_bind_template_child (widget_class, SquintWindow, savings_total_label);
  gtk_widget_class_bind_template_child (widget_class, SquintWindow, savings_detail_label);
  gtk_widget_class_bind_template_child (widget_class, SquintWindow, savings_chart);
  gtk_widget_class_bind_template_child (widget_class, SquintWindow, main_stack);
  gtk_widget_class_bind_template_child (widget_class, SquintWindow, failed_page);
  gtk_widget_class_bind_template_child (widget_class, SquintWindow, loading_progress);
  gtk_widget_class_bind_template_child (widget_class, SquintWindow, loading_page);
  gtk_widget_class_bind_template_child (widget_class, SquintWindow, inline_progress);
  gtk_widget_class_bind_template_child (widget_class, SquintWindow, message_scroller);
  gtk_widget_class_bind_template_child (widget_class, SquintWindow, message_list);
  gtk_widget_class_bind_template_child (widget_class, SquintWindow, composer);
  gtk_widget_class_bind_template_child (widget_class, SquintWindow, drop_overlay);
  gtk_widget_class_bind_template_callback (widget_class, on_conversation_selected);
  gtk_widget_class_bind_template_callback (widget_class, on_conversation_activated);
  gtk_widget_class_bind_template_callback (widget_class, on_back_clicked);

  squint_window_class_init_actions (widget_class);
}

static void
squint_window_init (SquintWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->cancellable = g_cancellable_new ();
  self->stick_to_bottom = TRUE;
}

SquintWindow *
squint_window_new (SquintApplication *app)
{
  SquintWindow *self;

  g_return_val_if_fail (SQUINT_IS_APPLICATION (app), NULL);

  self = g_object_new (SQUINT_TYPE_WINDOW,
                       "application", app,
                       NULL);
  squint_window_setup (self);
  return self;
}

SquintConversation *
squint_window_get_conversation (SquintWindow *self)
{
  g_return_val_if_fail (SQUINT_IS_WINDOW (self), NULL);

  return self->conversation;
}

/* Shows a conversation; NULL starts a new one (stored with its first message). */
void
squint_window_set_conversation (SquintWindow       *self,
                                SquintConversation *conversation)
{
  g_autoptr(SquintConversation) fresh = NULL;

  g_return_if_fail (SQUINT_IS_WINDOW (self));
  g_return_if_fail (!conversation || SQUINT_IS_CONVERSATION (conversation));

  if (conversation == NULL)
    {
      g_autofree char *policy = g_settings_get_string (self->settings, "default-policy");

      conversation = fresh = squint_conversation_new (policy);
    }
  if (self->conversation == conversation)
    return;

  if (self->conversation != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->conversation, self);
      g_signal_handlers_disconnect_by_data (squint_conversation_get_messages (self->conversation), self);
    }
  g_set_object (&self->conversation, conversation);

  g_signal_connect_object (conversation, "notify::display-title", G_CALLBACK (update_title), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (conversation, "notify::policy", G_CALLBACK (update_policy), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (conversation, "stats-changed", G_CALLBACK (update_savings), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (squint_conversation_get_messages (conversation), "items-changed",
                           G_CALLBACK (on_messages_changed), self, G_CONNECT_SWAPPED | G_CONNECT_AFTER);
  gtk_list_box_bind_model (self->message_list, squint_conversation_get_messages (conversation),
                           create_message_row, NULL, NULL);
  squint_savings_chart_set_conversation (SQUINT_SAVINGS_CHART (self->savings_chart), conversation);

  update_title (self);
  update_policy (self);
  update_savings (self);
  update_last_row (self);
  select_current (self);
  squint_window_update_view (self);
  squint_window_scroll_to_bottom (self);

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CONVERSATION]);
}

SquintComposer *
squint_window_get_composer (SquintWindow *self)
{
  g_return_val_if_fail (SQUINT_IS_WINDOW (self), NULL);

  return self->composer;
}

void
squint_window_add_toast (SquintWindow *self,
                         const char   *message)
{
  g_return_if_fail (SQUINT_IS_WINDOW (self));

  adw_toast_overlay_add_toast (self->toast_overlay, adw_toast_new (message));
}

GtkDropTarget *
squint_window_get_drop_target (SquintWindow *self)
{
  g_return_val_if_fail (SQUINT_IS_WINDOW (self), NULL);

  return self->drop_target;
}

GtkWidget *
squint_window_get_message_list (SquintWindow *self)
{
  g_return_val_if_fail (SQUINT_IS_WINDOW (self), NULL);

  return GTK_WIDGET (self->message_list);
}

const char *
squint_window_get_savings_label (SquintWindow *self)
{
  g_return_val_if_fail (SQUINT_IS_WINDOW (self), NULL);

  return gtk_widget_get_visible (GTK_WIDGET (self->savings_button))
         ? gtk_label_get_label (self->savings_button_label) : NULL;
}

const char *
squint_window_get_visible_page (SquintWindow *self)
{
  g_return_val_if_fail (SQUINT_IS_WINDOW (self), NULL);

  return gtk_stack_get_visible_child_name (self->main_stack);
}

guint
squint_window_get_n_loading (SquintWindow *self)
{
  g_return_val_if_fail (SQUINT_IS_WINDOW (self), 0);

  return self->n_loading;
}

GtkWidget *
squint_window_get_savings_chart (SquintWindow *self)
{
  g_return_val_if_fail (SQUINT_IS_WINDOW (self), NULL);

  return self->savings_chart;
}
