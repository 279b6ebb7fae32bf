"""The bodies the stub server sends: Anthropic Messages, OpenAI Responses and Chat Completions.

Only the shapes the real CLIs (and the SDKs inside them) need to complete a prompt and read its
usage; see stub_server.py for the server, modes and logging. `usage` is a dict with the keys of
stub_server.DEFAULT_USAGE; `tag` makes ids traceable to one stub (its port).
"""

import json
import threading
import time

ANTHROPIC_ERROR_TYPES = {
    400: "invalid_request_error", 401: "authentication_error", 403: "permission_error",
    404: "not_found_error", 429: "rate_limit_error", 500: "api_error", 502: "api_error",
    503: "api_error", 529: "overloaded_error",
}
OPENAI_ERROR_CODES = {
    400: "invalid_request_error", 401: "invalid_api_key", 403: "permission_denied",
    404: "model_not_found", 429: "rate_limit_exceeded", 500: "server_error", 502: "server_error",
    503: "server_error", 529: "server_error",
}


def error_body(api, status, message):
    """A provider-shaped error body, so each SDK classifies the failure as the real API's."""
    if api == "anthropic":
        return {"type": "error", "error": {"type": ANTHROPIC_ERROR_TYPES[status], "message": message}}
    code = OPENAI_ERROR_CODES[status]
    return {"error": {"message": message, "type": code, "param": None, "code": code}}


def last_user_text(api, body):
    """The text of the last user turn: what the caller asked, for 'same prompt' assertions."""
    if not isinstance(body, dict):
        return None
    turns = body.get("messages") if api in ("anthropic", "chat") else body.get("input")
    if isinstance(turns, str):
        return turns
    if not isinstance(turns, list):
        return None
    for turn in reversed(turns):
        if isinstance(turn, dict) and turn.get("role") == "user":
            content = turn.get("content")
            if isinstance(content, str):
                return content
            parts = [c.get("text", "") for c in content or [] if isinstance(c, dict)]
            return "\n".join(p for p in parts if p)
    return None


_ID_LOCK = threading.Lock()
_ID_COUNTER = [0]


def ident(prefix, tag):
    with _ID_LOCK:
        _ID_COUNTER[0] += 1
        return f"{prefix}_{tag}_{_ID_COUNTER[0]}"


def not_found(path):
    return {"type": "error", "error": {"type": "not_found_error", "message": f"stub: no route {path}"}}


def models_reply(path, anthropic):
    ids = ["claude-sonnet-5", "claude-opus-4-8", "claude-haiku-4-5-20251001", "gpt-5", "gpt-4o-mini"]
    if anthropic:
        rows = [{"type": "model", "id": i, "display_name": i, "created_at": "2025-01-01T00:00:00Z"}
                for i in ids]
    else:
        rows = [{"id": i, "object": "model", "created": 1735689600, "owned_by": "stub"} for i in ids]
    if path.startswith("/v1/models/"):
        wanted = path[len("/v1/models/"):]
        found = [r for r in rows if r["id"] == wanted]
        return (200, found[0]) if found else (404, not_found(path))
    if anthropic:
        return 200, {"data": rows, "has_more": False, "first_id": ids[0], "last_id": ids[-1]}
    return 200, {"object": "list", "data": rows}


def _pieces(text):
    """Split the reply into a few deltas, as real servers stream it."""
    words = text.split(" ")
    return [w + (" " if i < len(words) - 1 else "") for i, w in enumerate(words)] or [""]


# --- Anthropic Messages --------------------------------------------------------------------
def _anthropic_usage(usage, output):
    return {"input_tokens": usage["input"], "cache_creation_input_tokens": usage["cache_creation"],
            "cache_read_input_tokens": usage["cache_read"], "output_tokens": output,
            "service_tier": "standard"}


def _anthropic_message(model, reply, usage, tag):
    return {"id": ident("msg_stub", tag), "type": "message", "role": "assistant", "model": model,
            "content": [{"type": "text", "text": reply}], "stop_reason": "end_turn",
            "stop_sequence": None, "usage": _anthropic_usage(usage, usage["output"])}


def _anthropic_stream(model, reply, usage, tag, body, failing=False):
    start = _anthropic_message(model, reply, usage, tag)
    start.update(content=[], stop_reason=None, usage=_anthropic_usage(usage, 1))
    yield "message_start", json.dumps({"type": "message_start", "message": start})
    yield "content_block_start", json.dumps(
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}})
    yield "ping", json.dumps({"type": "ping"})
    for piece in _pieces(reply):
        if failing:
            yield "error", json.dumps({"type": "error", "error": {
                "type": "overloaded_error", "message": "stub simulated stream error"}})
            return
        yield "content_block_delta", json.dumps({"type": "content_block_delta", "index": 0,
                                                 "delta": {"type": "text_delta", "text": piece}})
    yield "content_block_stop", json.dumps({"type": "content_block_stop", "index": 0})
    yield "message_delta", json.dumps({
        "type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None},
        "usage": _anthropic_usage(usage, usage["output"])})
    yield "message_stop", json.dumps({"type": "message_stop"})


# --- OpenAI Responses ----------------------------------------------------------------------
def _responses_usage(usage):
    details = {"cached_tokens": usage["cached"]}
    if usage.get("cache_write"):
        details["cache_write_tokens"] = usage["cache_write"]
    return {"input_tokens": usage["input"], "input_tokens_details": details,
            "output_tokens": usage["output"],
            "output_tokens_details": {"reasoning_tokens": usage["reasoning"]},
            "total_tokens": usage["input"] + usage["output"]}


def _response_object(model, rid, status, output, usage):
    return {"id": rid, "object": "response", "created_at": int(time.time()), "status": status,
            "model": model, "output": output, "usage": usage, "error": None,
            "incomplete_details": None, "instructions": None, "metadata": {},
            "parallel_tool_calls": True, "temperature": 1.0, "top_p": 1.0, "tool_choice": "auto",
            "tools": [], "text": {"format": {"type": "text"}}}


def _output_message(item_id, reply, status="completed"):
    return {"id": item_id, "type": "message", "status": status, "role": "assistant",
            "content": [{"type": "output_text", "text": reply, "annotations": []}]}


def _responses_full(model, reply, usage, tag):
    return _response_object(model, ident("resp_stub", tag), "completed",
                            [_output_message(ident("msg_stub", tag), reply)], _responses_usage(usage))


def _responses_stream(model, reply, usage, tag, body, failing=False):
    rid, item_id = ident("resp_stub", tag), ident("msg_stub", tag)
    seq = iter(range(1000))

    def event(kind, **fields):
        return kind, json.dumps({"type": kind, "sequence_number": next(seq), **fields})

    yield event("response.created", response=_response_object(model, rid, "in_progress", [], None))
    yield event("response.in_progress", response=_response_object(model, rid, "in_progress", [], None))
    empty = dict(_output_message(item_id, "", "in_progress"), content=[])
    yield event("response.output_item.added", output_index=0, item=empty)
    yield event("response.content_part.added", item_id=item_id, output_index=0, content_index=0,
                part={"type": "output_text", "text": "", "annotations": []})
    for piece in _pieces(reply):
        if failing:
            failed = _response_object(model, rid, "failed", [], None)
            failed["error"] = {"code": "server_error", "message": "stub simulated response.failed"}
            yield event("response.failed", response=failed)
            return
        yield event("response.output_text.delta", item_id=item_id, output_index=0, content_index=0,
                    delta=piece)
    yield event("response.output_text.done", item_id=item_id, output_index=0, content_index=0,
                text=reply)
    yield event("response.content_part.done", item_id=item_id, output_index=0, content_index=0,
                part={"type": "output_text", "text": reply, "annotations": []})
    done = _output_message(item_id, reply)
    yield event("response.output_item.done", output_index=0, item=done)
    yield event("response.completed",
                response=_response_object(model, rid, "completed", [done], _responses_usage(usage)))


# --- OpenAI Chat Completions ---------------------------------------------------------------
def _chat_usage(usage):
    return {"prompt_tokens": usage["input"], "completion_tokens": usage["output"],
            "total_tokens": usage["input"] + usage["output"],
            "prompt_tokens_details": {"cached_tokens": usage["cached"]},
            "completion_tokens_details": {"reasoning_tokens": usage["reasoning"]}}


def _chat_full(model, reply, usage, tag):
    return {"id": ident("chatcmpl_stub", tag), "object": "chat.completion",
            "created": int(time.time()), "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": reply},
                         "finish_reason": "stop", "logprobs": None}],
            "usage": _chat_usage(usage)}


def _chat_stream(model, reply, usage, tag, body, failing=False):
    cid, created = ident("chatcmpl_stub", tag), int(time.time())

    def chunk(choices, **extra):
        return None, json.dumps({"id": cid, "object": "chat.completion.chunk", "created": created,
                                 "model": model, "choices": choices, **extra})

    def choice(delta, finish=None):
        return [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}]

    yield chunk(choice({"role": "assistant", "content": ""}))
    for piece in _pieces(reply):
        if failing:
            yield None, json.dumps({"error": {"message": "stub simulated stream error",
                                              "type": "server_error", "code": "server_error"}})
            return
        yield chunk(choice({"content": piece}))
    yield chunk(choice({}, "stop"))
    if (body.get("stream_options") or {}).get("include_usage"):
        yield chunk([], usage=_chat_usage(usage))
    yield None, "[DONE]"


FULL_REPLIES = {"anthropic": _anthropic_message, "responses": _responses_full, "chat": _chat_full}
STREAMS = {"anthropic": _anthropic_stream, "responses": _responses_stream, "chat": _chat_stream}
