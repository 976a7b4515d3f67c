/* squint-savings-chart.h — a small bar chart: per answer, the visual tokens
 * used beside the always-full-resolution baseline; zoomed answers marked.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <gtk/gtk.h>

#include "squint-conversation.h"

G_BEGIN_DECLS

#define SQUINT_TYPE_SAVINGS_CHART (squint_savings_chart_get_type ())

G_DECLARE_FINAL_TYPE (SquintSavingsChart, squint_savings_chart, SQUINT, SAVINGS_CHART, GtkWidget)

GtkWidget          *squint_savings_chart_new              (void);
SquintConversation *squint_savings_chart_get_conversation (SquintSavingsChart *self);
void                squint_savings_chart_set_conversation (SquintSavingsChart *self,
                                                           SquintConversation *conversation);
/* The bars drawn: used and baseline per answer (for tests). */
guint               squint_savings_chart_get_n_bars       (SquintSavingsChart *self);

G_END_DECLS
