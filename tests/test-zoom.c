/* test-zoom.c — the VisionThink loop on the tiny reference model.  The random
 * model never calls the tool by itself, so pass 1's reply is forced through
 * the sq_ask_params.forced_reply hook; everything else runs for real.
 *
 * The expected prompt texts below are written out here from
 * ../shared/docs/visionthink-protocol.md, independently of the engine's own
 * prompt files, so a drift in either shows. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "squint.h"
#include "tap.h"

#define SYSTEM                                                                                          \
    "You are a helpful assistant.\n\n# Tools\n\nYou may call the function tool shown below to assist "  \
    "with the user query.\n\nYou are provided with the function signature within <tools></tools> XML "  \
    "tags:\n<tools>\n{\"type\": \"function\", \"function\": {\"name_for_human\": \"resize_image\", "     \
    "\"name\": \"resize_image\", \"description\": \"Resize the image resolution.\", \"parameters\": "     \
    "{\"properties\": {\"action\": {\"description\": \"The action to perform. The available actions "    \
    "are:\n* `resize`: Double the resolution of the current image. You should only use this tool if "    \
    "you are unable to obtain the critical information needed to answer the question from the current " \
    "resolution.\", \"enum\": [\"resize\"], \"type\": \"string\"}}, \"required\": [\"action\"], "        \
    "\"type\": \"object\"}, \"args_format\": \"Format the arguments as a JSON object.\"}}\n</tools>\n"   \
    "For each function call, return a json object with the function name and the corresponding "       \
    "argument within <tool_call></tool_call> XML tags:\n<tool_call>\n{\"name\": <function-name>, "      \
    "\"arguments\": <args-json-object>}\n</tool_call>"
#define USER                                                                                             \
    "Answer the question based on the image provided. You must conduct reasoning within <think> and "   \
    "</think> first in each of your reasoning steps. You may call ONE function tool per step to help "  \
    "you better solve the problem. Place the function tool within <tool_call> and </tool_call> at the " \
    "end of each step to perform a function call. You should continue your reasoning process based on " \
    "the content returned by the function tool. Once you confirm your final answer, place the final "   \
    "answer inside <answer> and </answer>. For mathematical or multiple-choice problem, wrap the answer " \
    "value or choice with \\boxed{}. Here is the image and question:"
#define TOOL_CALL "<think>The text is too small.</think>\n<tool_call>\n{\"name\": \"resize_image\", \"arguments\": {\"action\": \"resize\"}}\n</tool_call>"
#define TURN2_BEFORE "<|im_start|>user\n<tool_response>\nThe resized image is shown below:\n<|vision_start|>"
#define TURN2_AFTER                                                                                      \
    "<|vision_end|>\n</tool_response>\nPlease carefully analyze the content returned from the image "   \
    "resize tool in combination with the original question and image from the user, continue your "     \
    "reasoning process inside <think> and </think> and then write your final answer inside <answer> "   \
    "and </answer>.<|im_end|>\n<|im_start|>assistant\n"
#define ERROR_AFTER                                                                                      \
    "Please analyze the error information obtained from the function tool and adjust your response. "   \
    "Countinue your reasoning process inside <think> and </think>."

typedef struct {
    sq_event_kind kinds[64];
    int           n;
    int64_t       zoom_low, zoom_full;
    int           zoom_full_w;
} event_log;

static void
on_event(const sq_event *ev, void *data)
{
    event_log *log = data;
    if (ev->kind == SQ_EVENT_PREFILL_PROGRESS)
        return;
    if (log->n < 64)
        log->kinds[log->n++] = ev->kind;
    if (ev->kind == SQ_EVENT_ZOOM_REQUESTED) {
        log->zoom_low = ev->zoom->low_tokens;
        log->zoom_full = ev->zoom->full_tokens;
        log->zoom_full_w = ev->zoom->full_w[0];
    }
}

static sq_model *
load(void)
{
    char tp[1024], mp[1024];
    snprintf(tp, sizeof tp, "%s/tiny/models/qwen25vl-text-f32.gguf", tap_data_dir());
    snprintf(mp, sizeof mp, "%s/tiny/models/mmproj-qwen25vl-f32.gguf", tap_data_dir());
    sq_model_params p = sq_model_default_params();
    p.text_path = tp;
    p.mmproj_path = mp;
    p.n_threads = 2;
    sq_model *m = NULL;
    sq_error err = { 0 };
    if (sq_model_load(&p, &m, &err) != SQ_OK)
        diag("load: %s", err.msg);
    return m;
}

static bool
load_image(const char *name, sq_image *img)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/tiny/images/%s", tap_data_dir(), name);
    sq_error err = { 0 };
    return sq_image_load_file(path, NULL, img, &err) == SQ_OK;
}

/* Appends the ids of `text` (specials parsed) to v. */
static void
append_text(const sq_model *m, sq_tokens *v, const char *text)
{
    sq_error err = { 0 };
    sq_tokenizer_encode(sq_model_tokenizer(m), text, strlen(text), true, v, &err);
}

static void
append_pads(const sq_model *m, sq_tokens *v, int n)
{
    int32_t pad = sq_tokenizer_find(sq_model_tokenizer(m), "<|image_pad|>");
    for (int i = 0; i < n; i++)
        sq_tokens_push(v, pad, NULL);
}

static sq_ask_params
ask_params(sq_policy policy, const char *forced)
{
    sq_ask_params p = sq_ask_default_params();
    p.policy = policy;
    p.forced_reply = forced;
    p.gen.n_predict = 6;
    return p;
}

static void
test_zoom(sq_model *m, const sq_image *img)
{
    sq_session *s = NULL;
    sq_error err = { 0 };
    sq_session_new(m, NULL, &s, &err);
    event_log log = { 0 };
    sq_callbacks cb = { on_event, NULL, &log };
    sq_session_set_callbacks(s, &cb);
    sq_ask_params p = ask_params(SQ_POLICY_ADAPTIVE, TOOL_CALL);
    sq_answer a;
    const sq_image *imgs[1] = { img };
    ok(sq_session_ask(s, "What does the small text say?", imgs, 1, &p, &a, &err) == SQ_OK, "adaptive ask with a forced tool call (%s)", err.msg);
    ok(a.zoom_requested && a.zoomed && !a.tool_call_error, "the resize request zooms");
    /* 448×336 → half 224×168: 8×6 = 48 tokens; full 16×12 = 192 */
    ok(a.visual_low == 48 && a.visual_full == 192 && a.visual_used == 240 && a.visual_baseline == 192 &&
           a.visual_saved == -48,
       "ledger: low %lld, full %lld, used %lld, baseline %lld, saved %lld", (long long)a.visual_low,
       (long long)a.visual_full, (long long)a.visual_used, (long long)a.visual_baseline, (long long)a.visual_saved);
    ok(log.zoom_low == 48 && log.zoom_full == 192 && log.zoom_full_w == 448, "ZOOM_REQUESTED carries sizes and token counts");

    /* events in order */
    sq_event_kind want[] = { SQ_EVENT_ENCODING_IMAGE, SQ_EVENT_IMAGE_ENCODED, SQ_EVENT_TURN_STARTED,
                             SQ_EVENT_ZOOM_REQUESTED, SQ_EVENT_ENCODING_IMAGE, SQ_EVENT_IMAGE_ENCODED,
                             SQ_EVENT_ZOOM_DONE, SQ_EVENT_TURN_STARTED };
    bool same = log.n == (int)(sizeof want / sizeof want[0]);
    for (int i = 0; same && i < log.n; i++)
        same = log.kinds[i] == want[i];
    ok(same, "events: encode, turn 1, zoom requested, encode, zoom done, turn 2 (%d events)", log.n);

    /* the whole sequence, token for token, against the protocol text */
    sq_tokens want_ids;
    sq_tokens_init(&want_ids);
    append_text(m, &want_ids, "<|im_start|>system\n" SYSTEM "<|im_end|>\n<|im_start|>user\n" USER "\n<|vision_start|>");
    append_pads(m, &want_ids, 48);
    append_text(m, &want_ids, "<|vision_end|>\nWhat does the small text say?<|im_end|>\n<|im_start|>assistant\n");
    append_text(m, &want_ids, TOOL_CALL "<|im_end|>");
    size_t turn2_start = want_ids.n;
    append_text(m, &want_ids, TURN2_BEFORE);
    append_pads(m, &want_ids, 192);
    append_text(m, &want_ids, TURN2_AFTER);
    size_t n_seq = 0;
    const int32_t *seq = sq_session_sequence(s, &n_seq);
    bool prefix = n_seq >= want_ids.n && memcmp(seq, want_ids.ids, want_ids.n * sizeof *seq) == 0;
    size_t first_diff = 0;
    while (first_diff < want_ids.n && first_diff < n_seq && seq[first_diff] == want_ids.ids[first_diff])
        first_diff++;
    ok(prefix, "sequence through turn 2 is the protocol's, id for id (%zu ids, first difference at %zu)",
       want_ids.n, first_diff);
    /* pass 2 prefilled exactly the turn-2 rows: nothing before was recomputed */
    int64_t turn2_rows = (int64_t)(want_ids.n - turn2_start);
    ok(a.prefill_tokens[1] == turn2_rows, "pass 2 prefilled %lld rows = the %lld rows of the tool response",
       (long long)a.prefill_tokens[1], (long long)turn2_rows);
    sq_stats st = sq_session_stats(s);
    ok(st.n_kv + 1 == (int64_t)n_seq || st.n_kv == (int64_t)n_seq, "KV cache holds the whole conversation (%lld of %zu)",
       (long long)st.n_kv, n_seq);
    ok(a.generated[1] > 0 && a.generated[1] <= 6, "pass 2 generated %lld tokens", (long long)a.generated[1]);
    ok(st.visual_used == 240 && st.visual_baseline == 192 && st.n_zooms == 1 && st.n_questions == 1,
       "conversation ledger");
    ok(a.think && strcmp(a.think, "The text is too small.") == 0, "think text kept apart: '%s'", a.think ? a.think : "");
    sq_tokens_free(&want_ids);
    sq_answer_free(&a);
    sq_session_free(s);
}

/* Positions: the second image starts where the text left off, and the text
 * after it resumes at start + max(gw, gh). */
static void
test_positions(sq_model *m, const sq_image *img)
{
    sq_session *s = NULL;
    sq_error err = { 0 };
    sq_session_new(m, NULL, &s, &err);
    const sq_image *imgs[1] = { img };
    sq_session_eval_prompt(s, "<|im_start|>user\n", NULL, 0, &err);
    sq_stats before = sq_session_stats(s);
    sq_session_eval_prompt(s, "<image>", imgs, 1, &err);
    sq_stats after = sq_session_stats(s);
    /* vision_start (1) + 16 positions for a 16×12 grid + vision_end (1) */
    ok(after.n_pos - before.n_pos == 18 && after.n_kv - before.n_kv == 194,
       "image of 16×12 tokens: +%lld positions, +%lld rows", (long long)(after.n_pos - before.n_pos),
       (long long)(after.n_kv - before.n_kv));
    sq_session_free(s);
}

static void
test_malformed(sq_model *m, const sq_image *img)
{
    sq_session *s = NULL;
    sq_error err = { 0 };
    sq_session_new(m, NULL, &s, &err);
    const sq_image *imgs[1] = { img };
    sq_ask_params p = ask_params(SQ_POLICY_ADAPTIVE,
                                 "<tool_call>\n{\"name\": \"resize_image\", \"arguments\": {\"action\": \"crop\"}}\n</tool_call>");
    sq_answer a;
    ok(sq_session_ask(s, "Q?", imgs, 1, &p, &a, &err) == SQ_OK, "malformed tool call: ask succeeds");
    ok(!a.zoomed && a.tool_call_error && a.visual_full == 0 && a.visual_used == 48, "no zoom, error turn, 48 tokens used");
    sq_tokens want;
    sq_tokens_init(&want);
    append_text(m, &want, "<|im_end|><|im_start|>user\nUnknown Tool Type: crop. Available function tools are: `resize`"
                          ERROR_AFTER "<|im_end|>\n<|im_start|>assistant\n");
    size_t n_seq = 0;
    const int32_t *seq = sq_session_sequence(s, &n_seq);
    bool found = false;
    for (size_t i = 0; !found && i + want.n <= n_seq; i++)
        found = memcmp(seq + i, want.ids, want.n * sizeof *seq) == 0;
    ok(found, "the error turn follows the reply");
    sq_tokens_free(&want);
    sq_answer_free(&a);

    /* unclosed JSON */
    sq_ask_params p2 = ask_params(SQ_POLICY_ADAPTIVE, "<tool_call>\n{\"name\": \"resize_image\", \"arguments\": {\"action\": }}\n</tool_call>");
    ok(sq_session_ask(s, "Again?", NULL, 0, &p2, &a, &err) == SQ_OK && a.tool_call_error && !a.zoomed,
       "invalid JSON gets the error turn");
    sq_answer_free(&a);
    sq_session_free(s);
}

static void
test_policies(sq_model *m, const sq_image *img)
{
    const sq_image *imgs[1] = { img };
    sq_error err = { 0 };
    sq_answer a;
    sq_session *s = NULL;
    sq_session_new(m, NULL, &s, &err);
    sq_ask_params p = ask_params(SQ_POLICY_LOW, TOOL_CALL);
    ok(sq_session_ask(s, "Q?", imgs, 1, &p, &a, &err) == SQ_OK && a.zoom_requested && !a.zoomed &&
           a.visual_used == 48 && a.visual_saved == 144,
       "policy low: the request is not granted, 48 of 192 tokens used");
    sq_answer_free(&a);
    /* a follow-up without an image may still zoom into the one seen at half size */
    p = ask_params(SQ_POLICY_ADAPTIVE, TOOL_CALL);
    ok(sq_session_ask(s, "And now?", NULL, 0, &p, &a, &err) == SQ_OK && a.zoomed && a.visual_full == 192 &&
           a.visual_baseline == 0,
       "follow-up zooms into the remembered original (%s)", err.msg);
    sq_answer_free(&a);
    sq_session_free(s);

    sq_session_new(m, NULL, &s, &err);
    p = ask_params(SQ_POLICY_FULL, NULL);
    ok(sq_session_ask(s, "Describe this image.", imgs, 1, &p, &a, &err) == SQ_OK && !a.zoomed && a.visual_full == 192 &&
           a.visual_saved == 0 && a.generated[0] > 0,
       "policy full: one pass, 192 tokens, nothing saved");
    size_t n_seq = 0;
    const int32_t *seq = sq_session_sequence(s, &n_seq);
    sq_tokens want;
    sq_tokens_init(&want);
    append_text(m, &want, "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n<|vision_start|>");
    append_pads(m, &want, 192);
    append_text(m, &want, "<|vision_end|>Describe this image.<|im_end|>\n<|im_start|>assistant\n");
    ok(n_seq >= want.n && memcmp(seq, want.ids, want.n * sizeof *seq) == 0, "policy full uses the plain chat template");
    sq_tokens_free(&want);
    sq_answer_free(&a);
    sq_session_free(s);
}

static void
test_reply_parsing(sq_model *m, const sq_image *img)
{
    const sq_image *imgs[1] = { img };
    sq_error err = { 0 };
    sq_answer a;
    sq_session *s = NULL;
    sq_session_new(m, NULL, &s, &err);
    sq_ask_params p = ask_params(SQ_POLICY_ADAPTIVE, "<think>A red circle.</think><answer>The answer is \\boxed{B}.</answer>");
    ok(sq_session_ask(s, "Which?", imgs, 1, &p, &a, &err) == SQ_OK && !a.zoom_requested && !a.zoomed &&
           a.visual_used == 48 && a.visual_saved == 144,
       "a direct answer costs a quarter");
    ok(a.answer && strcmp(a.answer, "The answer is \\boxed{B}.") == 0 && a.boxed && strcmp(a.boxed, "B") == 0,
       "answer and boxed value extracted");
    sq_answer_free(&a);
    sq_session_free(s);
}

int
main(void)
{
    sq_model *m = load();
    sq_image img = { 0 };
    if (!ok(m && load_image("img_448x336.png", &img), "tiny model and image load"))
        return tap_done();
    test_zoom(m, &img);
    test_positions(m, &img);
    test_malformed(m, &img);
    test_policies(m, &img);
    test_reply_parsing(m, &img);
    sq_image_free(&img);
    sq_model_free(m);
    return tap_done();
}
