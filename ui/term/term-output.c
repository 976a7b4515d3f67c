/* term-output.c — formatting answers for the terminal and for JSON. */
#include "term-output.h"

#include <inttypes.h>

static double
tokens_per_s(const sq_answer *a)
{
    double ms = a->decode_ms[0] + a->decode_ms[1];
    return ms > 0 ? (double)(a->generated[0] + a->generated[1]) * 1e3 / ms : 0.0;
}

void
term_print_ledger(FILE *out, const sq_answer *a)
{
    double pct = a->visual_baseline > 0 ? 100.0 * (double)a->visual_saved / (double)a->visual_baseline : 0.0;
    fprintf(out, "visual tokens: %" PRId64 " used / %" PRId64 " full-resolution (saved %" PRId64 ", %.1f%%)",
            a->visual_used, a->visual_baseline, a->visual_saved, pct);
    if (a->zoomed)
        fprintf(out, " · zoomed in");
    else if (a->zoom_requested)
        fprintf(out, " · zoom declined (policy)");
    fprintf(out, " · %.1f tok/s · first token %.0f ms\n", tokens_per_s(a), a->first_token_ms);
}

void
term_print_session_stats(FILE *out, const sq_session *s)
{
    sq_stats st = sq_session_stats(s);
    int64_t saved = st.visual_baseline - st.visual_used;
    double pct = st.visual_baseline > 0 ? 100.0 * (double)saved / (double)st.visual_baseline : 0.0;
    fprintf(out,
            "questions %" PRId64 ", zoomed %" PRId64 " · visual tokens %" PRId64 " used / %" PRId64
            " full-resolution (saved %.1f%%) · context %" PRId64 "/%" PRId64 " · prefill %.0f ms, decode %.0f ms\n",
            st.n_questions, st.n_zooms, st.visual_used, st.visual_baseline, pct, st.n_kv, st.n_ctx, st.prefill_ms,
            st.decode_ms);
}

void
term_print_event(FILE *out, const sq_event *ev)
{
    if (ev->kind == SQ_EVENT_ZOOM_REQUESTED && ev->zoom) {
        const sq_zoom_info *z = ev->zoom;
        fprintf(out, "\n\xf0\x9f\x94\x8d zooming in… the model asked for the full image");
        if (z->n_images == 1)
            fprintf(out, " (%d×%d → %d×%d)", z->low_w[0], z->low_h[0], z->full_w[0], z->full_h[0]);
        fprintf(out, ": %" PRId64 " → +%" PRId64 " visual tokens\n", z->low_tokens, z->full_tokens);
        fflush(out);
    }
}

void
term_json_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        switch (*p) {
        case '"':  fputs("\\\"", out); break;
        case '\\': fputs("\\\\", out); break;
        case '\n': fputs("\\n", out); break;
        case '\r': fputs("\\r", out); break;
        case '\t': fputs("\\t", out); break;
        default:
            if (*p < 0x20)
                fprintf(out, "\\u%04x", *p);
            else
                fputc(*p, out);
        }
    }
    fputc('"', out);
}

void
term_print_answer_json(FILE *out, const sq_session *s, sq_policy policy, const sq_answer *a, const int32_t *ids,
                       size_t n_ids)
{
    sq_stats st = sq_session_stats(s);
    size_t n_images = 0;
    const sq_image_info *infos = sq_session_images(s, &n_images);
    fprintf(out, "{\"policy\": \"%s\", \"zoom_requested\": %s, \"zoomed\": %s, \"tool_call_error\": %s, ",
            sq_policy_name(policy), a->zoom_requested ? "true" : "false", a->zoomed ? "true" : "false",
            a->tool_call_error ? "true" : "false");
    fprintf(out, "\"prompt_tokens\": %" PRId64 ", \"image_tokens\": [", st.n_prompt_tokens);
    for (size_t i = 0; i < n_images; i++)
        fprintf(out, "%s%d", i ? ", " : "", infos[i].n_tokens);
    fprintf(out, "], \"visual_tokens\": {\"low\": %" PRId64 ", \"full\": %" PRId64 ", \"used\": %" PRId64
                 ", \"baseline\": %" PRId64 ", \"saved\": %" PRId64 "}, ",
            a->visual_low, a->visual_full, a->visual_used, a->visual_baseline, a->visual_saved);
    fprintf(out, "\"generated_ids\": [");
    for (size_t i = 0; i < n_ids; i++)
        fprintf(out, "%s%d", i ? ", " : "", ids[i]);
    fprintf(out, "], \"n_generated\": %" PRId64 ", \"timings\": {", a->generated[0] + a->generated[1]);
    for (int p = 0; p < 2; p++)
        fprintf(out, "%s\"pass%d\": {\"encode_ms\": %.3f, \"prefill_ms\": %.3f, \"prefill_tokens\": %" PRId64
                     ", \"decode_ms\": %.3f, \"generated\": %" PRId64 "}",
                p ? ", " : "", p + 1, a->encode_ms[p], a->prefill_ms[p], a->prefill_tokens[p], a->decode_ms[p],
                a->generated[p]);
    fprintf(out, ", \"first_token_ms\": %.3f, \"decode_tokens_per_s\": %.3f}, \"answer\": ", a->first_token_ms,
            tokens_per_s(a));
    term_json_string(out, a->answer);
    fprintf(out, ", \"boxed\": ");
    if (a->boxed)
        term_json_string(out, a->boxed);
    else
        fprintf(out, "null");
    fprintf(out, "}\n");
}
