/* openai-request.c — see openai-request.h.
 *
 * SPDX-License-Identifier: MIT
 */
#include "openai-request.h"

#include <json-glib/json-glib.h>

G_DEFINE_QUARK (squint-api-error-quark, squint_api_error)

static const struct
{
  guint       status;
  const char *type;
  const char *code;
} error_kinds[] = {
  [SQUINT_API_ERROR_INVALID] = { 400, "invalid_request_error", NULL },
  [SQUINT_API_ERROR_UNAUTHORIZED] = { 401, "authentication_error", "invalid_api_key" },
  [SQUINT_API_ERROR_NOT_FOUND] = { 404, "not_found_error", "model_not_found" },
  [SQUINT_API_ERROR_METHOD] = { 405, "invalid_request_error", "method_not_allowed" },
  [SQUINT_API_ERROR_TOO_LARGE] = { 413, "invalid_request_error", "request_too_large" },
  [SQUINT_API_ERROR_LENGTH] = { 411, "invalid_request_error", "length_required" },
  [SQUINT_API_ERROR_BUSY] = { 429, "rate_limit_error", "server_busy" },
  [SQUINT_API_ERROR_INTERNAL] = { 500, "server_error", NULL },
  [SQUINT_API_ERROR_UNAVAILABLE] = { 503, "server_error", "unavailable" },
};

static guint
kind_of (const GError *error)
{
  if (error->domain == SQUINT_API_ERROR && error->code >= 0 && (gsize)error->code < G_N_ELEMENTS (error_kinds))
    return error->code;
  return SQUINT_API_ERROR_INTERNAL;
}

guint
squint_api_error_http_status (const GError *error)
{
  return error_kinds[kind_of (error)].status;
}

const char *
squint_api_error_type (const GError *error)
{
  return error_kinds[kind_of (error)].type;
}

char *
squint_api_error_json (const GError *error,
                       const char   *param)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;
  const char *code = error_kinds[kind_of (error)].code;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "error");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "message");
  json_builder_add_string_value (b, error->message);
  json_builder_set_member_name (b, "type");
  json_builder_add_string_value (b, squint_api_error_type (error));
  json_builder_set_member_name (b, "param");
  if (param != NULL)
    json_builder_add_string_value (b, param);
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "code");
  if (code != NULL)
    json_builder_add_string_value (b, code);
  else
    json_builder_add_null_value (b);
  json_builder_end_object (b);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  return json_to_string (root, FALSE);
}

/* ---- parsing ---- */

static void
chat_part_free (gpointer data)
{
  SquintChatPart *p = data;

  g_free (p->text);
  g_free (p);
}

static void
add_part (SquintChatMessage *m,
          const char        *text,
          int                image)
{
  SquintChatPart *p = g_new0 (SquintChatPart, 1);

  p->text = g_strdup (text);
  p->image = image;
  g_ptr_array_add (m->parts, p);
}

static void
chat_message_free (gpointer data)
{
  SquintChatMessage *m = data;

  g_free (m->role);
  g_free (m->text);
  g_ptr_array_unref (m->image_urls);
  g_ptr_array_unref (m->parts);
  g_free (m);
}

void
squint_chat_request_free (SquintChatRequest *self)
{
  if (self == NULL)
    return;
  g_free (self->model);
  g_ptr_array_unref (self->messages);
  g_strfreev (self->stop);
  g_free (self->policy);
  g_free (self);
}

static gboolean
invalid (char       **param,
         const char  *name,
         GError     **error,
         const char  *fmt,
         ...) G_GNUC_PRINTF (4, 5);

static gboolean
invalid (char       **param,
         const char  *name,
         GError     **error,
         const char  *fmt,
         ...)
{
  va_list ap;
  g_autofree char *msg = NULL;

  va_start (ap, fmt);
  msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_set_error_literal (error, SQUINT_API_ERROR, SQUINT_API_ERROR_INVALID, msg);
  if (param != NULL)
    *param = g_strdup (name);
  return FALSE;
}

static gboolean
is_number (JsonNode *n)
{
  GType t = JSON_NODE_HOLDS_VALUE (n) ? json_node_get_value_type (n) : G_TYPE_INVALID;

  return t == G_TYPE_INT64 || t == G_TYPE_DOUBLE;
}

static gboolean
is_string (JsonNode *n)
{
  return JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_STRING;
}

static gboolean
is_bool (JsonNode *n)
{
  return JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_BOOLEAN;
}

/* One content part: {"type": "text", "text"} or {"type": "image_url", "image_url": {"url"} | "url"}. */
static gboolean
parse_part (JsonNode          *node,
            const char        *where,
            SquintChatMessage *m,
            GString           *text,
            char             **param,
            GError           **error)
{
  JsonObject *part;
  const char *type;

  if (!JSON_NODE_HOLDS_OBJECT (node))
    return invalid (param, where, error, "%s must be an object", where);
  part = json_node_get_object (node);
  if (!json_object_has_member (part, "type") || !is_string (json_object_get_member (part, "type")))
    return invalid (param, where, error, "%s needs a string \"type\"", where);
  type = json_object_get_string_member (part, "type");
  if (g_str_equal (type, "text"))
    {
      JsonNode *t = json_object_get_member (part, "text");

      if (t == NULL || !is_string (t))
        return invalid (param, where, error, "%s: a text part needs a string \"text\"", where);
      if (text->len > 0)
        g_string_append_c (text, '\n');
      g_string_append (text, json_node_get_string (t));
      add_part (m, json_node_get_string (t), -1);
      return TRUE;
    }
  if (g_str_equal (type, "image_url"))
    {
      JsonNode *iu = json_object_get_member (part, "image_url");
      const char *url = NULL;

      if (iu != NULL && is_string (iu))
        url = json_node_get_string (iu);
      else if (iu != NULL && JSON_NODE_HOLDS_OBJECT (iu))
        {
          JsonNode *u = json_object_get_member (json_node_get_object (iu), "url");

          if (u != NULL && is_string (u))
            url = json_node_get_string (u);
        }
      if (url == NULL)
        return invalid (param, where, error, "%s: an image_url part needs \"image_url\": {\"url\": …}", where);
      if (!g_str_has_prefix (url, "data:") && !g_str_has_prefix (url, "http://") &&
          !g_str_has_prefix (url, "https://"))
        return invalid (param, where, error, "%s: image URLs must be data:, http: or https: URLs", where);
      add_part (m, NULL, m->image_urls->len);
      g_ptr_array_add (m->image_urls, g_strdup (url));
      return TRUE;
    }
  return invalid (param, where, error, "%s: unsupported content part type \"%s\" (text and image_url are)", where,
                  type);
}

static gboolean
parse_message (JsonNode          *node,
               guint              index,
               GPtrArray         *out,
               char             **param,
               GError           **error)
{
  g_autofree char *where = g_strdup_printf ("messages[%u]", index);
  JsonObject *o;
  JsonNode *role, *content;
  SquintChatMessage *m;
  g_autoptr(GString) text = g_string_new (NULL);
  const char *r;

  if (!JSON_NODE_HOLDS_OBJECT (node))
    return invalid (param, where, error, "%s must be an object", where);
  o = json_node_get_object (node);
  role = json_object_get_member (o, "role");
  if (role == NULL || !is_string (role))
    return invalid (param, where, error, "%s needs a string \"role\"", where);
  r = json_node_get_string (role);
  if (g_str_equal (r, "developer"))
    r = "system";
  if (!g_str_equal (r, "system") && !g_str_equal (r, "user") && !g_str_equal (r, "assistant"))
    return invalid (param, where, error, "%s: unsupported role \"%s\" (system, user and assistant are)", where, r);

  m = g_new0 (SquintChatMessage, 1);
  m->role = g_strdup (r);
  m->image_urls = g_ptr_array_new_with_free_func (g_free);
  m->parts = g_ptr_array_new_with_free_func (chat_part_free);
  g_ptr_array_add (out, m);

  content = json_object_get_member (o, "content");
  if (content == NULL || JSON_NODE_HOLDS_NULL (content))
    {
      if (!g_str_equal (r, "assistant"))
        return invalid (param, where, error, "%s needs \"content\"", where);
    }
  else if (is_string (content))
    {
      g_string_append (text, json_node_get_string (content));
      add_part (m, json_node_get_string (content), -1);
    }
  else if (JSON_NODE_HOLDS_ARRAY (content))
    {
      JsonArray *parts = json_node_get_array (content);

      for (guint i = 0; i < json_array_get_length (parts); i++)
        {
          g_autofree char *pw = g_strdup_printf ("%s.content[%u]", where, i);

          if (!parse_part (json_array_get_element (parts, i), pw, m, text, param, error))
            return FALSE;
        }
    }
  else
    return invalid (param, where, error, "%s: \"content\" must be a string or an array of parts", where);
  if (m->image_urls->len > 0 && !g_str_equal (r, "user"))
    return invalid (param, where, error, "%s: only user messages may hold images", where);
  m->text = g_string_free (g_steal_pointer (&text), FALSE);
  return TRUE;
}

static gboolean
parse_number (JsonObject  *o,
              const char  *name,
              double       lo,
              double       hi,
              double      *out,
              char       **param,
              GError     **error)
{
  JsonNode *n = json_object_get_member (o, name);

  if (n == NULL || JSON_NODE_HOLDS_NULL (n))
    return TRUE;
  if (!is_number (n))
    return invalid (param, name, error, "\"%s\" must be a number", name);
  *out = json_node_get_double (n);
  if (!(*out >= lo && *out <= hi))
    return invalid (param, name, error, "\"%s\" must be between %g and %g", name, lo, hi);
  return TRUE;
}

static gboolean
parse_stop (JsonObject         *o,
            SquintChatRequest  *req,
            char              **param,
            GError            **error)
{
  JsonNode *n = json_object_get_member (o, "stop");
  g_autoptr(GStrvBuilder) b = g_strv_builder_new ();

  if (n == NULL || JSON_NODE_HOLDS_NULL (n))
    return TRUE;
  if (is_string (n))
    g_strv_builder_add (b, json_node_get_string (n));
  else if (JSON_NODE_HOLDS_ARRAY (n) && json_array_get_length (json_node_get_array (n)) <= 4)
    {
      JsonArray *a = json_node_get_array (n);

      for (guint i = 0; i < json_array_get_length (a); i++)
        {
          JsonNode *s = json_array_get_element (a, i);

          if (!is_string (s) || json_node_get_string (s)[0] == '\0')
            return invalid (param, "stop", error, "\"stop\" must hold non-empty strings");
          g_strv_builder_add (b, json_node_get_string (s));
        }
    }
  else
    return invalid (param, "stop", error, "\"stop\" must be a string or an array of up to 4 strings");
  req->stop = g_strv_builder_end (b);
  return TRUE;
}

static gboolean
parse_options (JsonObject         *o,
               SquintChatRequest  *req,
               char              **param,
               GError            **error)
{
  JsonNode *n;
  double v = -1;

  if ((n = json_object_get_member (o, "model")) != NULL && !JSON_NODE_HOLDS_NULL (n))
    {
      if (!is_string (n))
        return invalid (param, "model", error, "\"model\" must be a string");
      req->model = g_strdup (json_node_get_string (n));
    }
  if ((n = json_object_get_member (o, "stream")) != NULL && !JSON_NODE_HOLDS_NULL (n))
    {
      if (!is_bool (n))
        return invalid (param, "stream", error, "\"stream\" must be true or false");
      req->stream = json_node_get_boolean (n);
    }
  if ((n = json_object_get_member (o, "stream_options")) != NULL && JSON_NODE_HOLDS_OBJECT (n))
    {
      JsonNode *u = json_object_get_member (json_node_get_object (n), "include_usage");

      req->include_usage = u != NULL && is_bool (u) && json_node_get_boolean (u);
    }
  if (!parse_number (o, "temperature", 0, 2, &req->temperature, param, error) ||
      !parse_number (o, "top_p", 0, 1, &req->top_p, param, error))
    return FALSE;
  if (!parse_number (o, "max_tokens", 1, G_MAXINT32, &v, param, error))
    return FALSE;
  if (v < 0 && !parse_number (o, "max_completion_tokens", 1, G_MAXINT32, &v, param, error))
    return FALSE;
  req->max_tokens = v > 0 ? (int)v : 0;
  v = -1;
  if (!parse_number (o, "seed", 0, (double)G_MAXINT64, &v, param, error))
    return FALSE;
  req->seed = v >= 0 ? (gint64)v : -1;
  if ((n = json_object_get_member (o, "n")) != NULL && !JSON_NODE_HOLDS_NULL (n) &&
      (!is_number (n) || json_node_get_double (n) != 1))
    return invalid (param, "n", error, "only \"n\": 1 is supported");
  if ((n = json_object_get_member (o, "squint_policy")) != NULL && !JSON_NODE_HOLDS_NULL (n))
    {
      const char *p = is_string (n) ? json_node_get_string (n) : "";

      if (!g_str_equal (p, "adaptive") && !g_str_equal (p, "low") && !g_str_equal (p, "full"))
        return invalid (param, "squint_policy", error, "\"squint_policy\" must be adaptive, low or full");
      req->policy = g_strdup (p);
    }
  return parse_stop (o, req, param, error);
}

SquintChatRequest *
squint_chat_request_parse (const char  *body,
                           gsize        len,
                           char       **param,
                           GError     **error)
{
  g_autoptr(JsonParser) parser = json_parser_new_immutable ();
  g_autoptr(SquintChatRequest) req = g_new0 (SquintChatRequest, 1);
  g_autoptr(GError) local = NULL;
  JsonNode *root, *msgs;
  JsonObject *o;
  JsonArray *a;

  req->messages = g_ptr_array_new_with_free_func (chat_message_free);
  req->temperature = req->top_p = -1;
  req->seed = -1;
  if (len > G_MAXSSIZE || !json_parser_load_from_data (parser, body, (gssize)len, &local))
    {
      invalid (param, NULL, error, "The body is not valid JSON: %s", local ? local->message : "too large");
      return NULL;
    }
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      invalid (param, NULL, error, "The body must be a JSON object");
      return NULL;
    }
  o = json_node_get_object (root);
  msgs = json_object_get_member (o, "messages");
  if (msgs == NULL || !JSON_NODE_HOLDS_ARRAY (msgs) || json_array_get_length (json_node_get_array (msgs)) == 0)
    {
      invalid (param, "messages", error, "\"messages\" must be a non-empty array");
      return NULL;
    }
  a = json_node_get_array (msgs);
  for (guint i = 0; i < json_array_get_length (a); i++)
    if (!parse_message (json_array_get_element (a, i), i, req->messages, param, error))
      return NULL;
  if (!g_str_equal (((SquintChatMessage *)g_ptr_array_index (req->messages, req->messages->len - 1))->role, "user"))
    {
      invalid (param, "messages", error, "The last message must be from the user");
      return NULL;
    }
  if (!parse_options (o, req, param, error))
    return NULL;
  return g_steal_pointer (&req);
}
