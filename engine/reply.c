/* reply.c — parsing model replies (tool calls, think, answer, boxed). */
#include "reply.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *
dup_range(const char *a, const char *b)
{
    return strndup(a, (size_t)(b - a));
}

/* Checks one JSON object of a tool call; returns false with an error text
 * like the reference client's exception messages, which it sends verbatim
 * with the protocol's error prompt appended directly (no separator). */
static bool
check_call(const char *json, size_t len, char *error, size_t size)
{
    char *text = strndup(json, len);
    cJSON *obj = text ? cJSON_Parse(text) : NULL;
    free(text);
    if (!obj) {
        snprintf(error, size, "Invalid JSON in the function call: %.*s", (int)(len < 120 ? len : 120), json);
        return false;
    }
    const cJSON *args = cJSON_GetObjectItemCaseSensitive(obj, "arguments");
    const cJSON *action = cJSON_IsObject(args) ? cJSON_GetObjectItemCaseSensitive(args, "action") : NULL;
    bool ok = cJSON_IsString(action) && strcmp(action->valuestring, "resize") == 0;
    if (!ok)
        snprintf(error, size, "Unknown Tool Type: %s. Available function tools are: `resize`",
                 cJSON_IsString(action) ? action->valuestring : "(none)");
    cJSON_Delete(obj);
    return ok;
}

sq_tool_call
sq_reply_tool_call(const char *reply)
{
    static const char open[] = "<tool_call>", close[] = "</tool_call>";
    sq_tool_call tc = { SQ_TOOL_NONE, "" };
    int n_calls = 0, n_objects = 0;
    bool all_ok = true;
    for (const char *p = strstr(reply, open); p; p = strstr(p, open)) {
        const char *body = p + sizeof open - 1, *end = strstr(body, close);
        if (!end)
            break;
        n_calls++;
        /* JSON objects as the client's regex \{.*?\}\} finds them */
        for (const char *q = body; q < end;) {
            const char *lb = memchr(q, '{', (size_t)(end - q));
            if (!lb)
                break;
            const char *rb = strstr(lb, "}}");
            if (!rb || rb + 2 > end)
                break;
            n_objects++;
            if (all_ok && !check_call(lb, (size_t)(rb + 2 - lb), tc.error, sizeof tc.error))
                all_ok = false;
            q = rb + 2;
        }
        p = end + sizeof close - 1;
    }
    if (n_calls == 0)
        return tc;
    if (all_ok && n_objects != 1)
        snprintf(tc.error, sizeof tc.error, "You should only call function `resize` once per function call.");
    tc.kind = all_ok && n_objects == 1 ? SQ_TOOL_RESIZE : SQ_TOOL_ERROR;
    return tc;
}

/* The last occurrence of needle in hay, or NULL. */
static const char *
last_of(const char *hay, const char *needle)
{
    const char *last = NULL;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
        last = p;
    return last;
}

char *
sq_reply_answer(const char *reply)
{
    const char *a = last_of(reply, "<answer>");
    if (!a)
        return NULL;
    a += strlen("<answer>");
    const char *b = strstr(a, "</answer>");
    return b ? dup_range(a, b) : NULL;
}

char *
sq_reply_think(const char *reply)
{
    size_t cap = strlen(reply) + 1, n = 0;
    char *out = malloc(cap);
    if (!out)
        return NULL;
    for (const char *p = strstr(reply, "<think>"); p; p = strstr(p, "<think>")) {
        p += strlen("<think>");
        const char *e = strstr(p, "</think>");
        const char *stop = e ? e : p + strlen(p);
        if (n > 0) {
            memcpy(out + n, "\n\n", 2);
            n += 2;
        }
        memcpy(out + n, p, (size_t)(stop - p));
        n += (size_t)(stop - p);
        if (!e)
            break;
        p = e;
    }
    if (n == 0) {
        free(out);
        return NULL;
    }
    out[n] = '\0';
    return out;
}

/* Removes every open…close span (an unclosed one runs to the end). */
static void
strip_spans(char *s, const char *open, const char *close)
{
    char *p;
    while ((p = strstr(s, open)) != NULL) {
        char *e = strstr(p, close);
        if (!e) {
            *p = '\0';
            return;
        }
        e += strlen(close);
        memmove(p, e, strlen(e) + 1);
    }
}

/* Removes every occurrence of tag itself. */
static void
strip_tag(char *s, const char *tag)
{
    size_t n = strlen(tag);
    char *p;
    while ((p = strstr(s, tag)) != NULL)
        memmove(p, p + n, strlen(p + n) + 1);
}

char *
sq_reply_visible(const char *reply)
{
    char *s = strdup(reply);
    if (!s)
        return NULL;
    strip_spans(s, "<think>", "</think>");
    strip_spans(s, "<tool_call>", "</tool_call>");
    strip_tag(s, "<answer>");
    strip_tag(s, "</answer>");
    char *a = s;
    while (isspace((unsigned char)*a))
        a++;
    size_t n = strlen(a);
    while (n > 0 && isspace((unsigned char)a[n - 1]))
        n--;
    memmove(s, a, n);
    s[n] = '\0';
    return s;
}

char *
sq_reply_boxed(const char *text)
{
    const char *b = last_of(text, "\\boxed{");
    if (!b)
        return NULL;
    const char *p = b + strlen("\\boxed{");
    int depth = 1;
    for (const char *q = p; *q; q++) {
        if (*q == '{')
            depth++;
        else if (*q == '}' && --depth == 0)
            return dup_range(p, q);
    }
    return NULL;
}
