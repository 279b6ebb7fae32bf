"""Fake claude, codex and llm that answer, or fail the way the real CLIs do.

Each fake records its argv (one JSON line per call) and then, per `FAKE_<TOOL>_MODE`:

* `ok`: a successful answer in the requested output format; claude's JSON reports
  `total_cost_usd` = `FAKE_<TOOL>_COST` (default 0.10) and its usage;
* an error kind (`429`, `401`, `403`, `500`, `503`, `529`, `drop`, `down`, `timeout`,
  `missing_key`, `context`, `quota`, `idle`): exit 1 with the exact text the real CLI prints
  for it (../shared/REAL_CLIS.md sections 4-6), on stdout (claude) or stderr (codex, llm);
* `N*KIND`: the first N calls (counted per tool in a file) fail with KIND, then `ok`.

claude honours `--max-budget-usd X` like the real one: 0 is a usage error (exit 1); a call
that would cost more than X stops with `subtype: error_max_budget_usd`, reports X as its
`total_cost_usd` and exits 1. `FAKE_CLAUDE_NO_MODEL=1` answers with an empty `modelUsage`
(no model named), as real claude does for some answers.

`FAKE_<TOOL>_SLEEP` delays the answer (for parallel tests); `FAKE_READ_STDIN=1` reads stdin
to EOF and records it.
"""

import sys

# Error texts by tool and kind, verbatim from the real CLIs where they were seen.
CLAUDE_ERRORS = {
    "429": (429, "API Error: Request rejected (429) · stub simulated 429 rate_limit_error"),
    "401": (401, "Failed to authenticate. API Error: 401 {\"type\":\"error\",\"error\":"
                 "{\"type\":\"authentication_error\",\"message\":\"stub simulated 401\"}}"),
    "403": (403, "Failed to authenticate. API Error: 403 {\"type\":\"error\",\"error\":"
                 "{\"type\":\"permission_error\",\"message\":\"stub simulated 403\"}}"),
    "529": (529, "API Error: 529 {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\","
                 "\"message\":\"Overloaded\"}} This is a server-side issue, usually temporary "
                 "— try again in a moment. If it persists, check your inference gateway "
                 "(127.0.0.1:41234)."),
    "500": (500, "API Error: 500 {\"type\":\"error\",\"error\":{\"type\":\"api_error\","
                 "\"message\":\"stub simulated 500\"}} This is a server-side issue, usually "
                 "temporary — try again in a moment. If it persists, check your inference "
                 "gateway (127.0.0.1:41234)."),
    "drop": (None, "API Error: Unable to connect to API (ECONNRESET)"),
    "down": (None, "API Error: Unable to connect to API (ConnectionRefused)"),
    "timeout": (None, "Request timed out"),
    "missing_key": (None, "Not logged in · Please run /login"),
    "context": (400, "API Error: 400 {\"type\":\"error\",\"error\":{\"type\":"
                     "\"invalid_request_error\",\"message\":\"prompt is too long: 220383 tokens "
                     "> 200000 maximum\"}}"),
    "quota": (400, "API Error: 400 {\"type\":\"error\",\"error\":{\"type\":"
                   "\"invalid_request_error\",\"message\":\"Your credit balance is too low to "
                   "access the Anthropic API. Please go to Plans & Billing to upgrade or "
                   "purchase credits.\"}}"),
}
CODEX_ERRORS = {
    "429": "exceeded retry limit, last status: 429 Too Many Requests, request id: req_stub_7",
    "401": "unexpected status 401 Unauthorized: stub simulated 401, url: "
           "http://127.0.0.1:41234/mode/401/v1/responses, request id: req_stub_8",
    "403": "unexpected status 403 Forbidden: stub simulated 403, url: "
           "http://127.0.0.1:41234/mode/403/v1/responses, request id: req_stub_9",
    "500": "We’re currently experiencing high demand, which may cause temporary errors.",
    "503": "unexpected status 503 Service Unavailable: stub simulated 503, url: "
           "http://127.0.0.1:41234/mode/503/v1/responses, request id: req_stub_10",
    "529": "unexpected status 529 <unknown status code>: stub simulated 529, url: "
           "http://127.0.0.1:41234/mode/529/v1/responses, request id: req_stub_11",
    "drop": "stream disconnected before completion: error sending request",
    "dropmid": "stream disconnected before completion: stream closed before "
               "response.completed",
    "down": "Connection failed: error sending request",
    "missing_key": "Missing environment variable: `STUB_API_KEY`.",
    "idle": "stream disconnected before completion: idle timeout waiting for SSE",
    "context": "Your input exceeds the context window of this model. Please adjust your "
               "input and try again.",
    "quota": "You exceeded your current quota, please check your plan and billing details. "
             "(code: insufficient_quota)",
}
LLM_ERRORS = {
    "429": "Error: Error code: 429 - stub simulated 429. Please try again in 1s.",
    "401": "Error: Error code: 401 - {'error': {'message': 'stub simulated 401', "
           "'type': 'invalid_request_error'}}",
    "500": "Error: Error code: 500 - {'error': {'message': 'stub simulated 500'}}",
    "529": "Error: Error code: 529 - {'error': {'message': 'stub simulated 529'}}",
    "drop": "Error: Connection error.",
    "down": "Error: Connection error.",
    "context": "Error: Error code: 400 - {'error': {'message': \"This model's maximum context "
               "length is 128000 tokens. However, your messages resulted in 210000 tokens.\", "
               "'code': 'context_length_exceeded'}}",
}

SCRIPT = r'''#!{python} -S
import json, os, sys, time
NAME = {name!r}
ERRORS = {errors!r}
UP = NAME.upper()
record = os.environ.get("FAKE_" + UP + "_RECORD") or {record!r}
entry = {{"argv": sys.argv[1:], "pid": os.getpid(), "t": time.time()}}
if os.environ.get("FAKE_STARTED"):  # a marker before anything is read, for timing tests
    open(os.environ["FAKE_STARTED"] + "." + NAME, "a").close()
if os.environ.get("FAKE_READ_STDIN") == "1":
    entry["stdin"] = sys.stdin.buffer.read().decode("utf-8", "replace")
with open(record, "a") as fh:
    fh.write(json.dumps(entry) + "\n")
mode = os.environ.get("FAKE_" + UP + "_MODE", "ok")
if "*" in mode:
    count_file = record + ".count"
    fd = os.open(count_file, os.O_RDWR | os.O_CREAT, 0o600)
    import fcntl
    fcntl.flock(fd, fcntl.LOCK_EX)
    seen = int(os.read(fd, 32) or b"0")
    os.lseek(fd, 0, 0)
    os.write(fd, str(seen + 1).encode())
    os.close(fd)
    times, kind = mode.split("*", 1)
    mode = kind if seen < int(times) else "ok"
sleep = float(os.environ.get("FAKE_" + UP + "_SLEEP") or 0)
if sleep:
    time.sleep(sleep)
cost = float(os.environ.get("FAKE_" + UP + "_COST") or 0.10)
args = sys.argv[1:]
model = None
for i, a in enumerate(args):
    if a in ("--model", "-m") and i + 1 < len(args):
        model = args[i + 1]
answer = "answer from " + NAME + (" " + model if model else "")
if NAME == "claude":
    fmt = "text"
    if "--output-format" in args:
        fmt = args[args.index("--output-format") + 1]
    used = model or "claude-opus-4-8"
    cap = None
    for i, a in enumerate(args):
        if a == "--max-budget-usd" and i + 1 < len(args):
            cap = args[i + 1]
        elif a.startswith("--max-budget-usd="):
            cap = a.split("=", 1)[1]
    if cap is not None:  # like claude: 0 is a usage error; past the cap it stops itself
        if float(cap) <= 0:
            sys.stderr.write("Error: --max-budget-usd must be a positive number\n")
            sys.exit(1)
        if mode == "ok" and cost > float(cap):
            result = {{"type": "result", "subtype": "error_max_budget_usd", "is_error": True,
                      "session_id": "sess-" + str(os.getpid()), "total_cost_usd": float(cap),
                      "usage": {{"input_tokens": 11, "output_tokens": 0}},
                      "modelUsage": {{}},
                      "errors": ["Reached maximum budget ($" + cap + ")"]}}
            sys.stdout.write(json.dumps(result) + "\n" if fmt != "text"
                             else "Error: Reached maximum budget ($" + cap + ")\n")
            sys.exit(1)
    if mode == "ok":
        result = {{"type": "result", "subtype": "success", "is_error": False,
                  "api_error_status": None, "result": answer,
                  "session_id": "sess-" + str(os.getpid()),
                  "total_cost_usd": cost,
                  "usage": {{"input_tokens": 11, "output_tokens": 7,
                            "cache_read_input_tokens": 0, "cache_creation_input_tokens": 0}},
                  "modelUsage": {{}} if os.environ.get("FAKE_CLAUDE_NO_MODEL") == "1" else
                                {{used: {{"inputTokens": 11, "outputTokens": 7,
                                         "cacheReadInputTokens": 0,
                                         "cacheCreationInputTokens": 0, "costUSD": cost}}}}}}
        sys.stdout.write(json.dumps(result) + "\n" if fmt != "text" else answer + "\n")
        sys.exit(0)
    status, text = ERRORS[mode]
    if fmt == "text":
        sys.stdout.write(text + "\n")
    else:
        sys.stdout.write(json.dumps({{"type": "result", "subtype": "success", "is_error": True,
                                     "api_error_status": status, "result": text,
                                     "session_id": "sess-err", "total_cost_usd": 0,
                                     "usage": {{"input_tokens": 0, "output_tokens": 0}},
                                     "modelUsage": {{}}}}) + "\n")
    sys.exit(1)
if NAME == "codex":
    as_json = "--json" in args
    sys.stderr.write("Reading additional input from stdin...\n")
    if mode == "ok":
        if as_json:
            for line in ({{"type": "thread.started", "thread_id": "thr-1"}},
                         {{"type": "turn.started"}},
                         {{"type": "item.completed", "item": {{"id": "item_1",
                           "type": "agent_message", "text": answer}}}},
                         {{"type": "turn.completed", "usage": {{"input_tokens": 11,
                           "cached_input_tokens": 4, "output_tokens": 7,
                           "reasoning_output_tokens": 2}}}}):
                sys.stdout.write(json.dumps(line) + "\n")
        else:
            sys.stdout.write(answer + "\n")
            sys.stderr.write("tokens used\n14\n")
        sys.exit(0)
    text = ERRORS[mode]
    if as_json:
        sys.stdout.write(json.dumps({{"type": "thread.started", "thread_id": "thr-1"}}) + "\n")
        sys.stdout.write(json.dumps({{"type": "turn.failed", "error": {{"message": text}}}}) + "\n")
    else:
        sys.stderr.write("ERROR: " + text + "\n")
    sys.exit(1)
if mode == "ok":
    sys.stdout.write(answer + "\n")
    sys.exit(0)
sys.stderr.write(ERRORS[mode] + "\n")
sys.exit(1)
'''


def script(name, record):
    errors = {"claude": CLAUDE_ERRORS, "codex": CODEX_ERRORS, "llm": LLM_ERRORS}[name]
    return SCRIPT.format(python=sys.executable, name=name, errors=errors, record=str(record))
