/* test-api-units.c — the HTTP face's pure pieces: the reply splitter, the
 * request parser and its error shape, data: URLs. */
#include <json-glib/json-glib.h>
#include <string.h>

#include "image-source.h"
#include "openai-request.h"
#include "reply-stream.h"

/* Feeds `reply` cut into pieces of `step` bytes; returns content|reasoning. */
static char *
split (const char *reply,
       gsize       step)
{
  g_autoptr(SquintReplyStream) rs = squint_reply_stream_new ();
  g_autoptr(GString) content = g_string_new (NULL);
  g_autoptr(GString) reasoning = g_string_new (NULL);
  gsize n = strlen (reply);

  for (gsize i = 0; i < n; i += step)
    squint_reply_stream_feed (rs, reply + i, MIN (step, n - i), content, reasoning);
  squint_reply_stream_end (rs, content, reasoning);
  return g_strdup_printf ("%s|%s", content->str, reasoning->str);
}

static void
check_split (const char *reply,
             const char *want)
{
  for (gsize step = 1; step <= strlen (reply) + 1; step++)
    {
      g_autofree char *got = split (reply, step);

      if (g_strcmp0 (got, want) != 0)
        g_error ("step %" G_GSIZE_FORMAT ": '%s' gave '%s', want '%s'", step, reply, got, want);
    }
}

static void
test_reply_stream (void)
{
  check_split ("<think>small text</think><answer>159</answer>", "159|small text");
  check_split ("<think>too small</think>\n<tool_call>\n{\"name\": \"resize_image\"}\n</tool_call>", "|too small");
  check_split ("Just text, no tags.", "Just text, no tags.|");
  check_split ("a < b and <b>bold</b> <thinking", "a < b and <b>bold</b> <thinking|");
  check_split ("<answer>\nx < y</answer>\n", "x < y\n|");
  check_split ("</answer>stray", "</answer>stray|");
  check_split ("<think>a<answer>b</think>", "|a<answer>b");
  check_split ("<tool_call><answer>no</answer></tool_call>after", "after|");
}

static void
test_reply_stream_passes (void)
{
  g_autoptr(SquintReplyStream) rs = squint_reply_stream_new ();
  g_autoptr(GString) content = g_string_new (NULL);
  g_autoptr(GString) reasoning = g_string_new (NULL);
  const char *p1 = "<think>need zoom</think>\n<tool_call>\n{}\n</tool_call>";
  const char *p2 = "<think>now</think><answer>42</answer>";

  squint_reply_stream_feed (rs, p1, strlen (p1), content, reasoning);
  squint_reply_stream_new_pass (rs);
  squint_reply_stream_feed (rs, p2, strlen (p2), content, reasoning);
  squint_reply_stream_end (rs, content, reasoning);
  g_assert_cmpstr (content->str, ==, "42");
  g_assert_cmpstr (reasoning->str, ==, "need zoomnow");
}

static SquintChatRequest *
parse (const char  *json,
       char       **param,
       GError     **error)
{
  return squint_chat_request_parse (json, strlen (json), param, error);
}

static void
test_request_ok (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *param = NULL;
  g_autoptr(SquintChatRequest) r = parse (
    "{\"model\": \"m\", \"stream\": true, \"temperature\": 0.5, \"top_p\": 0.9, \"max_tokens\": 12, \"seed\": 7,"
    " \"stop\": [\"END\"], \"squint_policy\": \"low\", \"stream_options\": {\"include_usage\": true},"
    " \"messages\": [{\"role\": \"developer\", \"content\": \"Be brief.\"},"
    "  {\"role\": \"user\", \"content\": [{\"type\": \"text\", \"text\": \"What is it?\"},"
    "   {\"type\": \"image_url\", \"image_url\": {\"url\": \"data:image/png;base64,AAAA\"}},"
    "   {\"type\": \"image_url\", \"image_url\": \"https://example.com/x.png\"}]},"
    "  {\"role\": \"assistant\", \"content\": \"A cat.\"},"
    "  {\"role\": \"user\", \"content\": \"Its colour?\"}]}",
    &param, &error);
  SquintChatMessage *m;

  g_assert_no_error (error);
  g_assert_nonnull (r);
  g_assert_cmpstr (r->model, ==, "m");
  g_assert_true (r->stream && r->include_usage);
  g_assert_cmpfloat (r->temperature, ==, 0.5);
  g_assert_cmpint (r->max_tokens, ==, 12);
  g_assert_cmpint (r->seed, ==, 7);
  g_assert_cmpstr (r->stop[0], ==, "END");
  g_assert_cmpstr (r->policy, ==, "low");
  g_assert_cmpuint (r->messages->len, ==, 4);
  m = g_ptr_array_index (r->messages, 0);
  g_assert_cmpstr (m->role, ==, "system");
  m = g_ptr_array_index (r->messages, 1);
  g_assert_cmpstr (m->text, ==, "What is it?");
  g_assert_cmpuint (m->image_urls->len, ==, 2);
}

static void
expect_invalid (const char *json,
                const char *want_param,
                const char *want_in_message)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *param = NULL;
  g_autoptr(SquintChatRequest) r = parse (json, &param, &error);
  g_autofree char *shape = NULL;
  g_autoptr(JsonParser) p = json_parser_new ();
  JsonObject *e;

  g_assert_null (r);
  g_assert_error (error, SQUINT_API_ERROR, SQUINT_API_ERROR_INVALID);
  g_assert_cmpstr (param, ==, want_param);
  if (strstr (error->message, want_in_message) == NULL)
    g_error ("'%s': message '%s' lacks '%s'", json, error->message, want_in_message);
  g_assert_cmpuint (squint_api_error_http_status (error), ==, 400);
  shape = squint_api_error_json (error, param);
  g_assert_true (json_parser_load_from_data (p, shape, -1, NULL));
  e = json_object_get_object_member (json_node_get_object (json_parser_get_root (p)), "error");
  g_assert_cmpstr (json_object_get_string_member (e, "type"), ==, "invalid_request_error");
  g_assert_cmpstr (json_object_get_string_member (e, "message"), ==, error->message);
}

static void
test_request_errors (void)
{
  expect_invalid ("{\"messages\": [", NULL, "not valid JSON");
  expect_invalid ("[1, 2]", NULL, "JSON object");
  expect_invalid ("{}", "messages", "non-empty array");
  expect_invalid ("{\"messages\": []}", "messages", "non-empty array");
  expect_invalid ("{\"messages\": [42]}", "messages[0]", "must be an object");
  expect_invalid ("{\"messages\": [{\"role\": \"robot\", \"content\": \"x\"}]}", "messages[0]", "unsupported role");
  expect_invalid ("{\"messages\": [{\"role\": \"user\", \"content\": 5}]}", "messages[0]", "string or an array");
  expect_invalid ("{\"messages\": [{\"role\": \"user\", \"content\": [{\"type\": \"audio\"}]}]}",
                  "messages[0].content[0]", "unsupported content part");
  expect_invalid ("{\"messages\": [{\"role\": \"user\", \"content\": [{\"type\": \"image_url\"}]}]}",
                  "messages[0].content[0]", "needs \"image_url\"");
  expect_invalid ("{\"messages\": [{\"role\": \"user\", \"content\": [{\"type\": \"image_url\","
                  " \"image_url\": {\"url\": \"file:///etc/passwd\"}}]}]}",
                  "messages[0].content[0]", "data:, http: or https:");
  expect_invalid ("{\"messages\": [{\"role\": \"assistant\", \"content\": \"x\"}]}", "messages", "from the user");
  expect_invalid ("{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"temperature\": \"hot\"}",
                  "temperature", "must be a number");
  expect_invalid ("{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"temperature\": 9}", "temperature",
                  "between");
  expect_invalid ("{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"max_tokens\": 0}", "max_tokens",
                  "between");
  expect_invalid ("{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"stream\": \"yes\"}", "stream",
                  "true or false");
  expect_invalid ("{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"n\": 3}", "n", "n");
  expect_invalid ("{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"stop\": [1]}", "stop", "stop");
  expect_invalid ("{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"squint_policy\": \"max\"}",
                  "squint_policy", "adaptive, low or full");
  expect_invalid ("{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"model\": 3}", "model", "string");
}

static void
test_data_url (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) b = squint_data_url_decode ("data:image/png;base64,aGVsbG8=", 100, &error);
  g_autoptr(GBytes) plain = NULL;
  GBytes *bad;

  g_assert_no_error (error);
  g_assert_cmpmem (g_bytes_get_data (b, NULL), g_bytes_get_size (b), "hello", 5);
  plain = squint_data_url_decode ("data:,a%20b", 100, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (g_bytes_get_data (plain, NULL), g_bytes_get_size (plain), "a b", 3);

  bad = squint_data_url_decode ("data:text/html;base64,aGVsbG8=", 100, &error);
  g_assert_null (bad);
  g_assert_error (error, SQUINT_API_ERROR, SQUINT_API_ERROR_INVALID);
  g_clear_error (&error);
  bad = squint_data_url_decode ("data:image/png;base64,a$$b", 100, &error);
  g_assert_error (error, SQUINT_API_ERROR, SQUINT_API_ERROR_INVALID);
  g_clear_error (&error);
  bad = squint_data_url_decode ("data:image/png;base64", 100, &error);
  g_assert_error (error, SQUINT_API_ERROR, SQUINT_API_ERROR_INVALID);
  g_clear_error (&error);
  bad = squint_data_url_decode ("data:image/png;base64,aGVsbG8gd29ybGQgYWdhaW4=", 8, &error);
  g_assert_null (bad);
  g_assert_error (error, SQUINT_API_ERROR, SQUINT_API_ERROR_TOO_LARGE);
  g_assert_cmpuint (squint_api_error_http_status (error), ==, 413);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/api/reply-stream/split", test_reply_stream);
  g_test_add_func ("/api/reply-stream/passes", test_reply_stream_passes);
  g_test_add_func ("/api/request/ok", test_request_ok);
  g_test_add_func ("/api/request/errors", test_request_errors);
  g_test_add_func ("/api/data-url", test_data_url);
  return g_test_run ();
}
