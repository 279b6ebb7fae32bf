"""Usage taps: read tokens, cost and error hints from a one-shot JSON stdout as it passes by.

The runner copies every byte to the user unchanged and also hands each chunk to `tap.feed`.
A tap never raises and never holds more than it needs: lines whose `"type"` it does not want are
dropped as soon as their first bytes show it, and a wanted line that grows past `MAX_LINE` is
kept as head + tail only (Claude's `result` line carries the whole answer before the usage).

What is read (see ../shared/REAL_CLIS.md section 8 for the traps):

* Claude `-p --output-format json|stream-json`: the `result` line. Tokens are the sum over
  `modelUsage[*]` (top-level `usage` can be all zeros after a non-streaming retry), cost is
  `total_cost_usd`, the model is the `modelUsage` key without `[1m]`. `subtype` says "success"
  on errors; `is_error`, `api_error_status` and the `result`/`errors` text are the hints.
* Codex `exec --json`: `turn.completed.usage` summed over turns (`input_tokens` includes the
  cache reads and cache writes: see `codex_part`), `thread.started.thread_id` as session id, `turn.failed`/`error` messages as hints.
  No cost and no model are reported.
* Both: the answer as `text` (Claude's `result`, Codex's last `agent_message`), which only
  `privacy: full` stores.

Hot module: lines are decoded with the C scanner of `_json` (0.4 ms to import) rather than
`json`, which pulls in `re` and `enum` (~12 ms); `json` is only the fallback.
"""

MAX_LINE = 1 << 20        # a wanted line longer than this is kept as head + tail
HEAD_BYTES = 4096
TAIL_BYTES = 256 * 1024
DECIDE_BYTES = 4096       # give up looking for the "type" key after this many bytes
MAX_HINT_CHARS = 500
MAX_HINTS = 4

_UNDECIDED, _KEEP, _SKIP, _OVERSIZE = range(4)


def tap_for(tool, output_format):
    """A tap for `tool`'s (adapter name) one-shot JSON output, or None for everything else."""
    if tool == "claude" and output_format in ("json", "stream-json"):
        return ClaudeTap()
    if tool == "codex" and output_format in ("jsonl", "json"):
        return CodexTap()
    return None


class _LineTap:
    """Splits chunks into lines; subclasses say which lines they want and what to do with them."""

    WANTED = ()

    def __init__(self):
        self._state = _UNDECIDED
        self._buf = bytearray()
        self._tail = bytearray()
        self.broken = False

    def feed(self, chunk):
        if self.broken or not chunk:
            return
        try:
            self._feed(bytes(chunk))
        except Exception:  # a tap bug must never disturb the passthrough
            self.broken = True

    def _feed(self, chunk):
        pos = 0
        size = len(chunk)
        while pos < size:
            nl = chunk.find(b"\n", pos)
            end = size if nl < 0 else nl
            if end > pos:
                self._add(chunk[pos:end])
            if nl < 0:
                return
            self._end_line()
            pos = nl + 1

    def _add(self, piece):
        state = self._state
        if state == _SKIP:
            return
        if state == _OVERSIZE:
            self._tail += piece
            if len(self._tail) > 2 * TAIL_BYTES:
                del self._tail[:-TAIL_BYTES]
            return
        self._buf += piece
        if state == _UNDECIDED:
            verdict = self._wants(self._buf)
            if verdict is False:
                self._state = _SKIP
                self._buf.clear()
                return
            if verdict is True:
                self._state = _KEEP
        if self._state == _KEEP and len(self._buf) > MAX_LINE:
            self._tail = self._buf[-TAIL_BYTES:]
            del self._buf[HEAD_BYTES:]
            self._state = _OVERSIZE

    def _wants(self, buf, final=False):
        """True/False once the line's first "type" value is visible; None while undecided."""
        head = bytes(buf[:DECIDE_BYTES]).replace(b" ", b"")
        start = head.find(b'"type":"')
        if start >= 0:
            stop = head.find(b'"', start + 8)
            if stop >= 0:
                return head[start + 8:stop] in self.WANTED
        if final or len(buf) >= DECIDE_BYTES:
            return False
        return None

    def _end_line(self):
        state, buf, tail = self._state, self._buf, self._tail
        self._state, self._buf, self._tail = _UNDECIDED, bytearray(), bytearray()
        if state == _SKIP or (state == _UNDECIDED and not self._wants(buf, final=True)):
            return
        obj = self._parse(bytes(buf), bytes(tail) if state == _OVERSIZE else None)
        if isinstance(obj, dict):
            self._line(obj)

    def _parse(self, line, tail):
        if tail is None:
            return loads(line)
        return self._parse_oversize(line, tail)

    def _parse_oversize(self, head, tail):
        return None

    def _line(self, obj):
        raise NotImplementedError

    def finish(self):
        """Flush a last line that had no newline."""
        if self._state != _SKIP and (self._buf or self._tail):
            self._end_line()
        self._state, self._buf, self._tail = _UNDECIDED, bytearray(), bytearray()


class _ScanContext:
    """What `_json.make_scanner` reads from a JSONDecoder: plain JSON, no hooks."""

    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    parse_constant = float
    memo = None


_scanner = []


def loads(data):
    """A JSON value from bytes, or None if it is not exactly one valid JSON value."""
    try:
        text = data.decode("utf-8").strip()
        if not _scanner:
            try:
                from _json import make_scanner

                _scanner.append(make_scanner(_ScanContext()))
            except (ImportError, AttributeError):
                import json

                _scanner.append(json.JSONDecoder().scan_once)
        value, end = _scanner[0](text, 0)
        return value if end == len(text) else None
    except Exception:  # StopIteration, JSONDecodeError, UnicodeDecodeError, RecursionError
        return None


def _hint(text):
    text = str(text)
    return text if len(text) <= MAX_HINT_CHARS else text[:MAX_HINT_CHARS] + "..."


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):  # OverflowError: Infinity
        return 0


MAX_RATE_EVENTS = 64


class ClaudeTap(_LineTap):
    WANTED = (b"result", b"system", b"rate_limit_event")

    def __init__(self):
        super().__init__()
        self.session_id = None
        self.init_model = None
        self._result = None
        self.rate_limit_events = []  # plan-window status (shim.plans.snapshots), newest last

    def _line(self, obj):
        kind = obj.get("type")
        if kind == "system" and obj.get("subtype") == "init":
            self.session_id = obj.get("session_id") or self.session_id
            self.init_model = obj.get("model") or self.init_model
        elif kind == "result":
            self._result = obj
            self.session_id = obj.get("session_id") or self.session_id
        elif kind == "rate_limit_event" and isinstance(obj.get("rate_limit_info"), dict):
            self.rate_limit_events.append(obj)
            del self.rate_limit_events[:-MAX_RATE_EVENTS]

    def _parse_oversize(self, head, tail):
        """A huge `result` line: the usage keys follow the answer, so parse the tail alone."""
        obj = {}
        idx = tail.rfind(b',"session_id":')
        if idx >= 0:
            obj = loads(b"{" + tail[idx + 1:]) or {}
        flat = head.replace(b" ", b"")
        obj["type"] = "result" if b'"type":"result"' in flat[:64] else obj.get("type")
        obj["is_error"] = b'"is_error":true' in flat
        return obj

    def result(self):
        """The usage dict; `rate_limit_events` (the raw lines) rides along when there were any,
        for the proxy to record as plan snapshots."""
        out = self._usage()
        if self.rate_limit_events:
            out = out if out is not None else _empty(session_id=self.session_id)
            out["rate_limit_events"] = list(self.rate_limit_events)
        return out

    def _usage(self):
        self.finish()
        res = self._result
        if res is None:
            if self.session_id is None:
                return None
            return _empty(session_id=self.session_id, model=_strip_1m(self.init_model))
        parts = []
        for key, mu in (res.get("modelUsage") or {}).items():
            if not isinstance(mu, dict) or key == "<synthetic>":
                continue
            parts.append({
                "model": _strip_1m(key),
                "input_tokens": _int(mu.get("inputTokens")),
                "output_tokens": _int(mu.get("outputTokens")),
                "cache_read_tokens": _int(mu.get("cacheReadInputTokens")),
                "cache_write_tokens": _int(mu.get("cacheCreationInputTokens")),
                "cost_usd": mu.get("costUSD"),
            })
        usage = res.get("usage") if isinstance(res.get("usage"), dict) else None
        if not parts and usage is not None:
            parts.append({
                "model": _strip_1m(self.init_model),
                "input_tokens": _int(usage.get("input_tokens")),
                "output_tokens": _int(usage.get("output_tokens")),
                "cache_read_tokens": _int(usage.get("cache_read_input_tokens")),
                "cache_write_tokens": _int(usage.get("cache_creation_input_tokens")),
                "cost_usd": None,
            })
        out = _empty(session_id=res.get("session_id") or self.session_id)
        if parts:
            for key in ("input_tokens", "output_tokens", "cache_read_tokens",
                        "cache_write_tokens"):
                out[key] = sum(p[key] for p in parts)
            main = max(parts, key=lambda p: ((p["cost_usd"] or 0), p["output_tokens"]))
            out["model"] = main["model"]
            out["parts"] = parts
        else:
            out["model"] = _strip_1m(self.init_model)
        cost = res.get("total_cost_usd")
        out["cost_usd"] = float(cost) if isinstance(cost, (int, float)) else None
        is_error = bool(res.get("is_error"))
        message = None
        if is_error:
            errs = res.get("errors")
            message = res.get("result") if isinstance(res.get("result"), str) else None
            if not message and isinstance(errs, list) and errs:
                message = "; ".join(str(e) for e in errs)
            message = _hint(message) if message else None
        out["error"] = {"is_error": is_error, "api_error_status": res.get("api_error_status"),
                        "subtype": res.get("subtype"), "message": message}
        answer = res.get("result")
        out["text"] = answer if isinstance(answer, str) and not is_error else None
        return out


class CodexTap(_LineTap):
    WANTED = (b"thread.started", b"turn.completed", b"turn.failed", b"error", b"item.completed")

    def __init__(self):
        super().__init__()
        self.session_id = None
        self._answer = None
        self._turns = []
        self._failed = None
        self._errors = []

    def _line(self, obj):
        kind = obj.get("type")
        if kind == "thread.started":
            self.session_id = obj.get("thread_id") or self.session_id
        elif kind == "turn.completed":
            usage = obj.get("usage")
            if isinstance(usage, dict):
                self._turns.append(usage)
        elif kind == "item.completed":
            item = obj.get("item")
            if isinstance(item, dict) and item.get("type") == "agent_message" \
                    and isinstance(item.get("text"), str):
                self._answer = item["text"]  # the last message is the answer
        elif kind == "turn.failed":
            err = obj.get("error")
            msg = err.get("message") if isinstance(err, dict) else err
            self._failed = _hint(msg) if msg else "turn failed"
        elif kind == "error":
            if obj.get("message"):
                self._errors = (self._errors + [_hint(obj["message"])])[-MAX_HINTS:]

    def result(self):
        self.finish()
        if not (self._turns or self._failed or self._errors or self.session_id):
            return None
        out = _empty(session_id=self.session_id)
        parts = []
        for usage in self._turns:
            parts.append(codex_part(usage))
        if parts:
            for key in ("input_tokens", "output_tokens", "cache_read_tokens",
                        "cache_write_tokens", "reasoning_tokens"):
                out[key] = sum(p[key] for p in parts)
            out["parts"] = parts
        out["error"] = {"is_error": self._failed is not None, "api_error_status": None,
                        "subtype": "turn.failed" if self._failed else None,
                        "message": self._failed or (self._errors[-1] if self._errors else None),
                        "messages": list(self._errors)}
        out["text"] = self._answer
        return out


def codex_part(usage, model=None):
    """One request's tokens from Codex usage (`exec --json` or a rollout's token count).

    `input_tokens` includes both `cached_input_tokens` (cache reads) and, from codex 0.145,
    `cache_write_input_tokens` (cache writes): fresh input is what is left. Older logs
    without the write field count 0 writes."""
    total_in = _int(usage.get("input_tokens"))
    cached = _int(usage.get("cached_input_tokens"))
    written = _int(usage.get("cache_write_input_tokens"))
    return {
        "model": model,
        "input_tokens": codex_fresh(total_in, cached, written),
        "output_tokens": _int(usage.get("output_tokens")),
        "cache_read_tokens": cached,
        "cache_write_tokens": written,
        "reasoning_tokens": _int(usage.get("reasoning_output_tokens")),
    }


def codex_fresh(total_in, cached, written):
    """The fresh input of a Codex usage: its input less cache reads and writes (see
    codex_part; integers, as codex_part makes them)."""
    return max(total_in - cached - written, 0)


def _empty(session_id=None, model=None):
    return {"input_tokens": None, "output_tokens": None, "cache_read_tokens": None,
            "cache_write_tokens": None, "reasoning_tokens": None, "cost_usd": None,
            "model": model, "session_id": session_id, "parts": None, "error": None,
            "text": None}


def _strip_1m(model):
    if isinstance(model, str) and model.endswith("[1m]"):
        return model[:-4]
    return model
