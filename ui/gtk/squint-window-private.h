/* squint-window-private.h — the state the window's files share.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include "squint-window.h"

G_BEGIN_DECLS

struct _SquintWindow
{
  AdwApplicationWindow  parent_instance;

  /* template widgets */
  AdwToastOverlay      *toast_overlay;
  AdwLeaflet           *leaflet;
  GtkListBox           *conversation_list;
  GtkMenuButton        *primary_menu_button;
  GtkButton            *back_button;
  GtkMenuButton        *model_button;
  AdwWindowTitle       *window_title;
  GtkMenuButton        *policy_button;
  GtkMenuButton        *conversation_menu_button;
  GtkMenuButton        *savings_button;
  GtkLabel             *savings_button_label;
  GtkLabel             *savings_total_label;
  GtkLabel             *savings_detail_label;
  GtkWidget            *savings_chart;
  GtkStack             *main_stack;
  AdwStatusPage        *failed_page;
  AdwStatusPage        *loading_page;
  GtkProgressBar       *loading_progress;
  GtkProgressBar       *inline_progress;
  GtkScrolledWindow    *message_scroller;
  GtkListBox           *message_list;
  SquintComposer       *composer;
  GtkWidget            *drop_overlay;

  /* borrowed */
  SquintApplication    *app;
  SquintEngine         *engine;
  SquintHistory        *history;

  /* owned */
  GSettings            *settings;
  SquintConversation   *conversation;
  GCancellable         *ask_cancellable;
  GCancellable         *cancellable;          /* attachments, choosers, export; cancelled on dispose */
  GtkDropTarget        *drop_target;
  guint                 n_loading;
  gboolean              stick_to_bottom;
  gboolean              selecting;
};

/* squint-window-actions.c */
void squint_window_class_init_actions (GtkWidgetClass *widget_class);
void squint_window_update_actions     (SquintWindow   *self);
void squint_window_paste              (SquintWindow   *self);

/* squint-window-dnd.c */
void squint_window_init_dnd           (SquintWindow   *self);
void squint_window_attach_texture     (SquintWindow   *self,
                                       GdkTexture     *texture,
                                       const char     *name);

/* squint-window.c */
void squint_window_update_view        (SquintWindow   *self);
void squint_window_scroll_to_bottom   (SquintWindow   *self);

G_END_DECLS
