/* squint-markdown-view.c
 *
 * Each block is one child widget.  On new text the blocks are parsed again
 * and compared with those shown: a block of the same kind is updated in
 * place (so a streaming paragraph keeps its label, and its selection), the
 * rest is rebuilt.
 *
 * SPDX-License-Identifier: MIT
 */
#define G_LOG_DOMAIN "squint-markdown-view"

#include "squint-config.h"

#include <glib/gi18n.h>

#include "squint-markdown.h"
#include "squint-markdown-view.h"

typedef struct
{
  SquintMdKind  kind;
  int           level;
  GtkWidget    *widget;
  GtkLabel     *label;      /* the text */
  GtkLabel     *marker;     /* list items */
  GtkLabel     *lang;       /* code blocks */
} Block;

struct _SquintMarkdownView
{
  GtkWidget  parent_instance;

  char      *text;
  GArray    *blocks;
};

enum {
  PROP_0,
  PROP_TEXT,
  N_PROPS
};

G_DEFINE_FINAL_TYPE (SquintMarkdownView, squint_markdown_view, GTK_TYPE_WIDGET)

static GParamSpec *properties[N_PROPS];

static GtkLabel *
text_label (void)
{
  GtkWidget *label = gtk_label_new (NULL);

  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_label_set_wrap_mode (GTK_LABEL (label), PANGO_WRAP_WORD_CHAR);
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_label_set_selectable (GTK_LABEL (label), TRUE);
  gtk_widget_set_hexpand (label, TRUE);
  return GTK_LABEL (label);
}

static void
on_copy_clicked (GtkButton *button,
                 GtkLabel  *label)
{
  gdk_clipboard_set_text (gtk_widget_get_clipboard (GTK_WIDGET (button)), gtk_label_get_text (label));
  gtk_button_set_icon_name (button, "object-select-symbolic");
  gtk_widget_set_tooltip_text (GTK_WIDGET (button), _("Copied"));
}

static void
set_block_text (Block               *b,
                const SquintMdBlock *md)
{
  if (b->kind == SQUINT_MD_CODE)
    {
      gtk_label_set_text (b->label, md->text ? md->text : "");
      gtk_label_set_text (b->lang, md->lang ? md->lang : "");
      return;
    }
  if (b->kind == SQUINT_MD_RULE)
    return;
  {
    g_autofree char *markup = squint_markdown_inline_to_pango (md->text);

    gtk_label_set_markup (b->label, markup);
  }
  if (b->marker != NULL)
    gtk_label_set_text (b->marker, md->marker);
}

static Block
make_block (const SquintMdBlock *md)
{
  Block b = { md->kind, md->level, NULL, NULL, NULL, NULL };

  switch (md->kind)
    {
    case SQUINT_MD_HEADING:
      b.label = text_label ();
      b.widget = GTK_WIDGET (b.label);
      gtk_widget_add_css_class (b.widget, md->level <= 1 ? "title-3" : md->level == 2 ? "title-4" : "heading");
      gtk_accessible_update_property (GTK_ACCESSIBLE (b.widget), GTK_ACCESSIBLE_PROPERTY_LEVEL, md->level, -1);
      break;

    case SQUINT_MD_LIST_ITEM:
      b.widget = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 8);
      gtk_widget_set_margin_start (b.widget, 4 + 20 * md->level);
      b.marker = GTK_LABEL (gtk_label_new (NULL));
      gtk_label_set_xalign (b.marker, 1);
      gtk_label_set_yalign (b.marker, 0);
      gtk_label_set_width_chars (b.marker, 2);
      gtk_widget_add_css_class (GTK_WIDGET (b.marker), "dim-label");
      b.label = text_label ();
      gtk_box_append (GTK_BOX (b.widget), GTK_WIDGET (b.marker));
      gtk_box_append (GTK_BOX (b.widget), GTK_WIDGET (b.label));
      gtk_widget_add_css_class (b.widget, "md-list-item");
      break;

    case SQUINT_MD_QUOTE:
      b.widget = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 0);
      b.label = text_label ();
      gtk_box_append (GTK_BOX (b.widget), GTK_WIDGET (b.label));
      gtk_widget_add_css_class (b.widget, "md-quote");
      break;

    case SQUINT_MD_CODE:
      {
        GtkWidget *header = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
        GtkWidget *scroller = gtk_scrolled_window_new ();
        GtkWidget *copy = gtk_button_new_from_icon_name ("edit-copy-symbolic");

        b.widget = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
        gtk_widget_add_css_class (b.widget, "md-code");

        b.lang = GTK_LABEL (gtk_label_new (NULL));
        gtk_label_set_xalign (b.lang, 0);
        gtk_widget_set_hexpand (GTK_WIDGET (b.lang), TRUE);
        gtk_widget_add_css_class (GTK_WIDGET (b.lang), "caption");
        gtk_widget_add_css_class (GTK_WIDGET (b.lang), "dim-label");
        gtk_widget_add_css_class (header, "md-code-header");
        gtk_widget_set_tooltip_text (copy, _("Copy Code"));
        gtk_accessible_update_property (GTK_ACCESSIBLE (copy), GTK_ACCESSIBLE_PROPERTY_LABEL, _("Copy Code"), -1);
        gtk_widget_add_css_class (copy, "flat");
        gtk_widget_add_css_class (copy, "circular");
        gtk_box_append (GTK_BOX (header), GTK_WIDGET (b.lang));
        gtk_box_append (GTK_BOX (header), copy);

        b.label = GTK_LABEL (gtk_label_new (NULL));
        gtk_label_set_xalign (b.label, 0);
        gtk_label_set_yalign (b.label, 0);
        gtk_label_set_selectable (b.label, TRUE);
        gtk_widget_add_css_class (GTK_WIDGET (b.label), "monospace");
        gtk_widget_add_css_class (GTK_WIDGET (b.label), "md-code-text");
        gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (scroller), GTK_POLICY_AUTOMATIC, GTK_POLICY_NEVER);
        gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scroller), GTK_WIDGET (b.label));
        gtk_scrolled_window_set_propagate_natural_height (GTK_SCROLLED_WINDOW (scroller), TRUE);

        gtk_box_append (GTK_BOX (b.widget), header);
        gtk_box_append (GTK_BOX (b.widget), scroller);
        g_signal_connect_object (copy, "clicked", G_CALLBACK (on_copy_clicked), b.label, 0);
      }
      break;

    case SQUINT_MD_RULE:
      b.widget = gtk_separator_new (GTK_ORIENTATION_HORIZONTAL);
      break;

    case SQUINT_MD_PARAGRAPH:
    default:
      b.label = text_label ();
      b.widget = GTK_WIDGET (b.label);
      break;
    }
  return b;
}

static void
clear_from (SquintMarkdownView *self,
            guint               index)
{
  while (self->blocks->len > index)
    {
      Block *b = &g_array_index (self->blocks, Block, self->blocks->len - 1);

      gtk_widget_unparent (b->widget);
      g_array_set_size (self->blocks, self->blocks->len - 1);
    }
}

static void
squint_markdown_view_dispose (GObject *object)
{
  SquintMarkdownView *self = (SquintMarkdownView *)object;

  if (self->blocks != NULL)
    clear_from (self, 0);

  G_OBJECT_CLASS (squint_markdown_view_parent_class)->dispose (object);
}

static void
squint_markdown_view_finalize (GObject *object)
{
  SquintMarkdownView *self = (SquintMarkdownView *)object;

  g_clear_pointer (&self->text, g_free);
  g_clear_pointer (&self->blocks, g_array_unref);

  G_OBJECT_CLASS (squint_markdown_view_parent_class)->finalize (object);
}

static void
squint_markdown_view_get_property (GObject    *object,
                                   guint       prop_id,
                                   GValue     *value,
                                   GParamSpec *pspec)
{
  SquintMarkdownView *self = SQUINT_MARKDOWN_VIEW (object);

  switch (prop_id)
    {
    case PROP_TEXT:
      g_value_set_string (value, self->text);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
squint_markdown_view_set_property (GObject      *object,
                                   guint         prop_id,
                                   const GValue *value,
                                   GParamSpec   *pspec)
{
  SquintMarkdownView *self = SQUINT_MARKDOWN_VIEW (object);

  switch (prop_id)
    {
    case PROP_TEXT:
      squint_markdown_view_set_text (self, g_value_get_string (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
squint_markdown_view_class_init (SquintMarkdownViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = squint_markdown_view_dispose;
  object_class->finalize = squint_markdown_view_finalize;
  object_class->get_property = squint_markdown_view_get_property;
  object_class->set_property = squint_markdown_view_set_property;

  properties[PROP_TEXT] =
    g_param_spec_string ("text", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BOX_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "markdown");
}

static void
squint_markdown_view_init (SquintMarkdownView *self)
{
  GtkLayoutManager *layout = gtk_widget_get_layout_manager (GTK_WIDGET (self));

  gtk_orientable_set_orientation (GTK_ORIENTABLE (layout), GTK_ORIENTATION_VERTICAL);
  gtk_box_layout_set_spacing (GTK_BOX_LAYOUT (layout), 10);
  self->blocks = g_array_new (FALSE, TRUE, sizeof (Block));
}

GtkWidget *
squint_markdown_view_new (void)
{
  return g_object_new (SQUINT_TYPE_MARKDOWN_VIEW, NULL);
}

const char *
squint_markdown_view_get_text (SquintMarkdownView *self)
{
  g_return_val_if_fail (SQUINT_IS_MARKDOWN_VIEW (self), NULL);

  return self->text;
}

void
squint_markdown_view_set_text (SquintMarkdownView *self,
                               const char         *text)
{
  g_autoptr(GPtrArray) parsed = NULL;
  guint i;

  g_return_if_fail (SQUINT_IS_MARKDOWN_VIEW (self));

  if (g_strcmp0 (self->text, text) == 0)
    return;
  g_free (self->text);
  self->text = g_strdup (text);

  parsed = squint_markdown_parse (text);
  for (i = 0; i < parsed->len; i++)
    {
      const SquintMdBlock *md = g_ptr_array_index (parsed, i);
      Block *b;

      if (i < self->blocks->len)
        {
          b = &g_array_index (self->blocks, Block, i);
          if (b->kind != md->kind || b->level != md->level)
            clear_from (self, i);
        }
      if (i >= self->blocks->len)
        {
          Block nb = make_block (md);

          gtk_widget_insert_before (nb.widget, GTK_WIDGET (self), NULL);
          g_array_append_val (self->blocks, nb);
        }
      set_block_text (&g_array_index (self->blocks, Block, i), md);
    }
  clear_from (self, i);

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TEXT]);
}

guint
squint_markdown_view_get_n_blocks (SquintMarkdownView *self)
{
  g_return_val_if_fail (SQUINT_IS_MARKDOWN_VIEW (self), 0);

  return self->blocks->len;
}
