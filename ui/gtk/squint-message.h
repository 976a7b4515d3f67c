/* squint-message.h — one message of a conversation: the user's question
 * with its images, or the assistant's answer with its visual-token ledger.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <gio/gio.h>

#include "squint-image.h"

G_BEGIN_DECLS

typedef enum
{
  SQUINT_ROLE_USER,
  SQUINT_ROLE_ASSISTANT,
} SquintRole;

typedef enum
{
  SQUINT_MESSAGE_DONE,
  SQUINT_MESSAGE_WAITING,      /* queued: the model or the images are not ready */
  SQUINT_MESSAGE_GENERATING,
  SQUINT_MESSAGE_STOPPED,      /* the user stopped it; the text so far is kept */
  SQUINT_MESSAGE_FAILED,
} SquintMessageState;

typedef enum
{
  SQUINT_ZOOM_NONE,            /* no image involved */
  SQUINT_ZOOM_LOW,             /* the model looks at half width and height */
  SQUINT_ZOOM_ZOOMING,         /* it asked for the full image, which is being fed */
  SQUINT_ZOOM_ZOOMED,          /* it looked closer */
  SQUINT_ZOOM_FULL,            /* policy "full": full resolution from the start */
} SquintZoomState;

/* The visual-token ledger of one answer and its speed. */
typedef struct
{
  gint64  visual_low;
  gint64  visual_full;
  gint64  visual_used;
  gint64  visual_baseline;
  double  tokens_per_second;
  double  first_token_ms;
} SquintMessageStats;

#define SQUINT_TYPE_ROLE          (squint_role_get_type ())
#define SQUINT_TYPE_MESSAGE_STATE (squint_message_state_get_type ())
#define SQUINT_TYPE_ZOOM_STATE    (squint_zoom_state_get_type ())
#define SQUINT_TYPE_MESSAGE       (squint_message_get_type ())

GType squint_role_get_type          (void) G_GNUC_CONST;
GType squint_message_state_get_type (void) G_GNUC_CONST;
GType squint_zoom_state_get_type    (void) G_GNUC_CONST;

G_DECLARE_FINAL_TYPE (SquintMessage, squint_message, SQUINT, MESSAGE, GObject)

SquintMessage      *squint_message_new                (SquintRole                role,
                                                       const char               *text);
gint64              squint_message_get_id             (SquintMessage            *self);
void                squint_message_set_id             (SquintMessage            *self,
                                                       gint64                    id);
SquintRole          squint_message_get_role           (SquintMessage            *self);
const char         *squint_message_get_text           (SquintMessage            *self);
void                squint_message_set_text           (SquintMessage            *self,
                                                       const char               *text);
void                squint_message_append_text        (SquintMessage            *self,
                                                       const char               *text);
const char         *squint_message_get_think          (SquintMessage            *self);
const char         *squint_message_get_answer         (SquintMessage            *self);
gboolean            squint_message_get_thinking       (SquintMessage            *self);
/* Replaces the parts split from the text by the engine's own split. */
void                squint_message_set_parts          (SquintMessage            *self,
                                                       const char               *think,
                                                       const char               *answer);
SquintMessageState  squint_message_get_state          (SquintMessage            *self);
void                squint_message_set_state          (SquintMessage            *self,
                                                       SquintMessageState        state);
SquintZoomState     squint_message_get_zoom_state     (SquintMessage            *self);
void                squint_message_set_zoom_state     (SquintMessage            *self,
                                                       SquintZoomState           state);
const char         *squint_message_get_status         (SquintMessage            *self);
void                squint_message_set_status         (SquintMessage            *self,
                                                       const char               *status);
const char         *squint_message_get_error          (SquintMessage            *self);
void                squint_message_set_error          (SquintMessage            *self,
                                                       const char               *error);
const char         *squint_message_get_policy         (SquintMessage            *self);
void                squint_message_set_policy         (SquintMessage            *self,
                                                       const char               *policy);
gint64              squint_message_get_created        (SquintMessage            *self);
void                squint_message_set_created        (SquintMessage            *self,
                                                       gint64                    created);
const SquintMessageStats *
                    squint_message_get_stats          (SquintMessage            *self);
void                squint_message_set_stats          (SquintMessage            *self,
                                                       const SquintMessageStats *stats);
gboolean            squint_message_has_stats          (SquintMessage            *self);
GListModel         *squint_message_get_images         (SquintMessage            *self);
void                squint_message_add_image          (SquintMessage            *self,
                                                       SquintImage              *image);
/* The image an answer looks at (the question's first, or an earlier one). */
SquintImage        *squint_message_get_subject        (SquintMessage            *self);
void                squint_message_set_subject        (SquintMessage            *self,
                                                       SquintImage              *image);

G_END_DECLS
