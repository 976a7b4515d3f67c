/* squint-savings-chart.c
 *
 * SPDX-License-Identifier: MIT
 */
#define G_LOG_DOMAIN "squint-savings-chart"

#include "squint-config.h"

#include <adwaita.h>
#include <glib/gi18n.h>

#include "squint-savings-chart.h"

#define BAR_WIDTH     10
#define BAR_GAP       2
#define GROUP_GAP     12
#define CHART_HEIGHT  120
#define LABEL_HEIGHT  18
#define MARK_SIZE     6
#define MIN_WIDTH     220

typedef struct
{
  gint64   used;
  gint64   baseline;
  gboolean zoomed;
} Bar;

struct _SquintSavingsChart
{
  GtkWidget           parent_instance;

  SquintConversation *conversation;
  GArray             *bars;
};

enum {
  PROP_0,
  PROP_CONVERSATION,
  N_PROPS
};

G_DEFINE_FINAL_TYPE (SquintSavingsChart, squint_savings_chart, GTK_TYPE_WIDGET)

static GParamSpec *properties[N_PROPS];

static void
collect_bars (SquintSavingsChart *self)
{
  GListModel *messages;
  g_autoptr(GString) summary = g_string_new (NULL);

  g_array_set_size (self->bars, 0);
  if (self->conversation != NULL)
    {
      messages = squint_conversation_get_messages (self->conversation);
      for (guint i = 0; i < g_list_model_get_n_items (messages); i++)
        {
          g_autoptr(SquintMessage) m = g_list_model_get_item (messages, i);
          const SquintMessageStats *st;
          Bar bar;

          if (!squint_message_has_stats (m))
            continue;
          st = squint_message_get_stats (m);
          bar.used = st->visual_used;
          bar.baseline = st->visual_baseline;
          bar.zoomed = squint_message_get_zoom_state (m) == SQUINT_ZOOM_ZOOMED;
          g_array_append_val (self->bars, bar);
          {
            g_autofree char *used = squint_format_tokens (bar.used);
            g_autofree char *base = squint_format_tokens (bar.baseline);

            if (summary->len > 0)
              g_string_append_c (summary, ' ');
            if (bar.zoomed)
              /* Translators: one bar of the chart, read by screen readers */
              g_string_append_printf (summary, _("Answer %u: %s of %s tokens, zoomed in."), self->bars->len, used, base);
            else
              /* Translators: one bar of the chart, read by screen readers */
              g_string_append_printf (summary, _("Answer %u: %s of %s tokens."), self->bars->len, used, base);
          }
        }
    }
  gtk_accessible_update_property (GTK_ACCESSIBLE (self),
                                  GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, summary->str,
                                  -1);
  gtk_widget_queue_resize (GTK_WIDGET (self));
}

static void
on_changed (SquintSavingsChart *self)
{
  collect_bars (self);
}

static void
fill_rect (GtkSnapshot   *snapshot,
           const GdkRGBA *color,
           float          x,
           float          y,
           float          w,
           float          h,
           float          radius)
{
  graphene_rect_t r = GRAPHENE_RECT_INIT (x, y, w, h);
  GskRoundedRect rr;

  if (h <= 0 || w <= 0)
    return;
  gsk_rounded_rect_init_from_rect (&rr, &r, MIN (radius, MIN (w, h) / 2));
  gtk_snapshot_push_rounded_clip (snapshot, &rr);
  gtk_snapshot_append_color (snapshot, color, &r);
  gtk_snapshot_pop (snapshot);
}

static void
foreground (GtkWidget *widget,
            GdkRGBA   *color)
{
#if GTK_CHECK_VERSION (4, 10, 0)
  gtk_widget_get_color (widget, color);
#else
  gtk_style_context_get_color (gtk_widget_get_style_context (widget), color);
#endif
}

static void
squint_savings_chart_snapshot (GtkWidget   *widget,
                               GtkSnapshot *snapshot)
{
  SquintSavingsChart *self = SQUINT_SAVINGS_CHART (widget);
  gboolean dark = adw_style_manager_get_dark (adw_style_manager_get_default ());
  GdkRGBA fg, base, used, zoomed, grid;
  gint64 max = 1;
  float h = CHART_HEIGHT;
  float x = 0;

  foreground (widget, &fg);
  base = fg;
  base.alpha = 0.18f;
  grid = fg;
  grid.alpha = 0.08f;
  gdk_rgba_parse (&used, dark ? "#78aeed" : "#3584e4");
  gdk_rgba_parse (&zoomed, dark ? "#ffa348" : "#e66100");

  for (guint i = 0; i < self->bars->len; i++)
    {
      Bar *b = &g_array_index (self->bars, Bar, i);

      max = MAX (max, MAX (b->used, b->baseline));
    }

  /* the baseline and half of it */
  gtk_snapshot_append_color (snapshot, &grid, &GRAPHENE_RECT_INIT (0, MARK_SIZE * 2, gtk_widget_get_width (widget), 1));
  gtk_snapshot_append_color (snapshot, &grid,
                             &GRAPHENE_RECT_INIT (0, MARK_SIZE * 2 + (h - MARK_SIZE * 2) / 2,
                                                  gtk_widget_get_width (widget), 1));

  for (guint i = 0; i < self->bars->len; i++)
    {
      Bar *b = &g_array_index (self->bars, Bar, i);
      float top = MARK_SIZE * 2;
      float span = h - top;
      float bh = span * (float)b->baseline / (float)max;
      float uh = span * (float)b->used / (float)max;
      g_autofree char *label = g_strdup_printf ("%u", i + 1);
      PangoLayout *layout = gtk_widget_create_pango_layout (widget, label);
      int lw, lh;

      fill_rect (snapshot, &base, x, h - bh, BAR_WIDTH, bh, 3);
      fill_rect (snapshot, b->zoomed ? &zoomed : &used, x + BAR_WIDTH + BAR_GAP, h - uh, BAR_WIDTH, uh, 3);
      if (b->zoomed)
        fill_rect (snapshot, &zoomed, x + BAR_WIDTH + BAR_GAP + (BAR_WIDTH - MARK_SIZE) / 2.0f,
                   h - uh - MARK_SIZE - 3, MARK_SIZE, MARK_SIZE, MARK_SIZE / 2.0f);

      pango_layout_get_pixel_size (layout, &lw, &lh);
      gtk_snapshot_save (snapshot);
      gtk_snapshot_translate (snapshot, &GRAPHENE_POINT_INIT (x + BAR_WIDTH + BAR_GAP / 2.0f - lw / 2.0f, h + 2));
      gtk_snapshot_append_layout (snapshot, layout, &fg);
      gtk_snapshot_restore (snapshot);
      g_object_unref (layout);

      x += 2 * BAR_WIDTH + BAR_GAP + GROUP_GAP;
    }
}

static void
squint_savings_chart_measure (GtkWidget      *widget,
                              GtkOrientation  orientation,
                              int             for_size,
                              int            *minimum,
                              int            *natural,
                              int            *minimum_baseline,
                              int            *natural_baseline)
{
  SquintSavingsChart *self = SQUINT_SAVINGS_CHART (widget);

  if (orientation == GTK_ORIENTATION_HORIZONTAL)
    *minimum = *natural = MAX (MIN_WIDTH, (int)self->bars->len * (2 * BAR_WIDTH + BAR_GAP + GROUP_GAP));
  else
    *minimum = *natural = CHART_HEIGHT + LABEL_HEIGHT;
}

static void
squint_savings_chart_dispose (GObject *object)
{
  SquintSavingsChart *self = (SquintSavingsChart *)object;

  squint_savings_chart_set_conversation (self, NULL);

  G_OBJECT_CLASS (squint_savings_chart_parent_class)->dispose (object);
}

static void
squint_savings_chart_finalize (GObject *object)
{
  SquintSavingsChart *self = (SquintSavingsChart *)object;

  g_clear_pointer (&self->bars, g_array_unref);

  G_OBJECT_CLASS (squint_savings_chart_parent_class)->finalize (object);
}

static void
squint_savings_chart_get_property (GObject    *object,
                                   guint       prop_id,
                                   GValue     *value,
                                   GParamSpec *pspec)
{
  SquintSavingsChart *self = SQUINT_SAVINGS_CHART (object);

  switch (prop_id)
    {
    case PROP_CONVERSATION:
      g_value_set_object (value, self->conversation);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
squint_savings_chart_set_property (GObject      *object,
                                   guint         prop_id,
                                   const GValue *value,
                                   GParamSpec   *pspec)
{
  SquintSavingsChart *self = SQUINT_SAVINGS_CHART (object);

  switch (prop_id)
    {
    case PROP_CONVERSATION:
      squint_savings_chart_set_conversation (self, g_value_get_object (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
squint_savings_chart_class_init (SquintSavingsChartClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = squint_savings_chart_dispose;
  object_class->finalize = squint_savings_chart_finalize;
  object_class->get_property = squint_savings_chart_get_property;
  object_class->set_property = squint_savings_chart_set_property;

  widget_class->snapshot = squint_savings_chart_snapshot;
  widget_class->measure = squint_savings_chart_measure;

  properties[PROP_CONVERSATION] =
    g_param_spec_object ("conversation", NULL, NULL, SQUINT_TYPE_CONVERSATION,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_css_name (widget_class, "savingschart");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
squint_savings_chart_init (SquintSavingsChart *self)
{
  self->bars = g_array_new (FALSE, FALSE, sizeof (Bar));
  gtk_accessible_update_property (GTK_ACCESSIBLE (self),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("Visual tokens per answer"),
                                  -1);
}

GtkWidget *
squint_savings_chart_new (void)
{
  return g_object_new (SQUINT_TYPE_SAVINGS_CHART, NULL);
}

SquintConversation *
squint_savings_chart_get_conversation (SquintSavingsChart *self)
{
  g_return_val_if_fail (SQUINT_IS_SAVINGS_CHART (self), NULL);

  return self->conversation;
}

void
squint_savings_chart_set_conversation (SquintSavingsChart *self,
                                       SquintConversation *conversation)
{
  g_return_if_fail (SQUINT_IS_SAVINGS_CHART (self));
  g_return_if_fail (!conversation || SQUINT_IS_CONVERSATION (conversation));

  if (self->conversation == conversation)
    return;
  if (self->conversation != NULL)
    g_signal_handlers_disconnect_by_func (self->conversation, on_changed, self);
  g_set_object (&self->conversation, conversation);
  if (conversation != NULL)
    {
      g_signal_connect_swapped (conversation, "stats-changed", G_CALLBACK (on_changed), self);
    }
  if (self->bars != NULL)
    collect_bars (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CONVERSATION]);
}

guint
squint_savings_chart_get_n_bars (SquintSavingsChart *self)
{
  g_return_val_if_fail (SQUINT_IS_SAVINGS_CHART (self), 0);

  return self->bars->len;
}
