/* protocol.c — the protocol texts of engine/prompts/, for API users. */
#include "squint.h"

#include "prompts.h"

const char *
sq_protocol_text(sq_protocol_text_id id)
{
    switch (id) {
    case SQ_TEXT_VISIONTHINK_SYSTEM: return sq_text_visionthink_system;
    case SQ_TEXT_VISIONTHINK_USER: return sq_text_visionthink_user;
    case SQ_TEXT_TOOL_RESPONSE_INTRO: return sq_text_visionthink_tool_response_intro;
    case SQ_TEXT_TOOL_RESPONSE_AFTER: return sq_text_visionthink_tool_response_after;
    case SQ_TEXT_TOOL_ERROR_AFTER: return sq_text_visionthink_tool_error_after;
    case SQ_TEXT_PLAIN_SYSTEM: return sq_text_plain_system;
    }
    return "";
}
