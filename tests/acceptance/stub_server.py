"""A loopback stand-in for the Anthropic and OpenAI APIs that the real CLIs accept.

The real `claude`, `codex` and `llm` CLIs only prove the shim works if they can complete a
prompt; this server lets them do that offline, with usage numbers we know in advance, and fails
on demand so fallbacks and error mapping can be tested. Standard library only.

Endpoints (an optional `/mode/<spec>` path prefix selects a failure mode, see below):
  POST /v1/messages[?beta=true]      Anthropic Messages: SSE when "stream": true, else JSON
  POST /v1/messages/count_tokens     {"input_tokens": <usage input>}
  POST /v1/responses                 OpenAI Responses: SSE when "stream": true, else JSON
  POST /v1/chat/completions          Chat Completions: SSE (usage chunk when
                                     stream_options.include_usage) or JSON
  GET  /v1/models[/<id>]             Anthropic-shaped when anthropic-version is sent, else OpenAI
  HEAD <any path>                    200 (Claude Code warms its connection up with HEAD /)
  GET  /_stub/requests               the request log; POST /_stub/reset; POST /_stub/control
                                     {"mode": spec, "api": ..., "reply": ..., "usage": {...}}
  anything else                      404 JSON

Reply text defaults to "Hello from stub."; "{model}" and "{api}" in it are substituted. Usage
defaults (see DEFAULT_USAGE) are distinct numbers so they can be traced through every layer.

Mode of a model request (POST to the API endpoints above), first match wins:
  1. path prefix /mode/<spec>/...  (put it in the base URL)
  2. ?stub_mode=<spec>             3. header x-stub-mode: <spec>
  4. set_mode(spec, api=...) / control endpoint, for that api ("anthropic", "responses", "chat")
  5. set_mode(spec) / control endpoint for every api
  6. the server's default mode (constructor, --mode, $STUB_MODE)
Specs: ok | 429[:retry_after_s] | 400 401 403 404 500 502 503 529 | overloaded (529 Anthropic,
503 OpenAI) | slow:S (delay before headers) | slowstream:S (delay between SSE events) |
hang:S (wait S, then reset) | drop (TCP reset, no response) | dropmid (200 + first events, then
a TCP reset) | truncate (200 + first events, then a clean close: the stream just ends early) |
streamerror (Anthropic `event: error`, OpenAI response.failed / error chunk) |
N*KIND (the first N requests with this exact spec fail with KIND, then ok; counters per spec
string, cleared by reset()). Stream-only kinds (slowstream, dropmid, truncate, streamerror) answer
non-streaming requests normally, so a client's non-stream fallback succeeds.

In-process:  stub = StubServer().start(); stub.url; stub.requests(); stub.set_mode("429")
Manual:      python stub_server.py --port 0 --log requests.jsonl   (prints the URL)
"""

import argparse
import json
import os
import socket
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import stub_replies as replies

DEFAULT_REPLY = "Hello from stub."
DEFAULT_USAGE = {
    "input": 11, "output": 7,             # every API
    "cache_creation": 5, "cache_read": 3,  # Anthropic
    "cached": 4, "reasoning": 2,           # OpenAI input/output token details
    # OpenAI Responses `input_tokens_details.cache_write_tokens` (a part of input, like
    # cached_tokens); sent only when non-zero, as codex >= 0.145 meets it
    "cache_write": 0,
}
API_PATHS = {
    "/v1/messages": "anthropic",
    "/v1/messages/count_tokens": "anthropic",
    "/v1/responses": "responses",
    "/v1/chat/completions": "chat",
}
ERROR_STATUSES = {400, 401, 403, 404, 500, 502, 503, 529}
STREAM_ONLY_KINDS = {"slowstream", "dropmid", "truncate", "streamerror"}
# Headers worth keeping in the log; credentials are redacted.
LOGGED_HEADERS = (
    "user-agent", "content-type", "anthropic-version", "anthropic-beta", "x-app",
    "x-claude-code-session-id", "originator", "session-id", "x-stub-mode", "x-api-key",
    "authorization", "x-stainless-retry-count", "x-stainless-timeout", "upgrade",
)
SECRET_HEADERS = ("x-api-key", "authorization")
_REASONS = {529: "Overloaded"}


class StubError(ValueError):
    """A mode spec that this stub does not understand."""


def parse_spec(spec):
    """'3*429:2' -> {'count': 3, 'kind': '429', 'arg': 2.0}; count None means 'always'."""
    text = (spec or "ok").strip()
    count = None
    if "*" in text:
        head, text = text.split("*", 1)
        if not head.isdigit():
            raise StubError(f"bad repeat count in mode {spec!r}")
        count = int(head)
    kind, _, arg = text.partition(":")
    known = {"ok", "overloaded", "slow", "slowstream", "hang", "drop", "dropmid", "truncate",
             "streamerror"}
    if kind not in known and not (kind.isdigit() and (int(kind) in ERROR_STATUSES or kind == "429")):
        raise StubError(f"unknown mode {spec!r}")
    try:
        value = float(arg) if arg else None
    except ValueError:
        raise StubError(f"bad argument in mode {spec!r}") from None
    return {"count": count, "kind": kind, "arg": value}


class StubServer:
    """The stub, run in-process on 127.0.0.1 (start()/stop()) or as a script (main())."""

    def __init__(self, host="127.0.0.1", port=0, mode=None, reply=DEFAULT_REPLY, usage=None,
                 log_path=None, quiet=True):
        self.host, self.port = host, port
        self.default_mode = mode or "ok"
        parse_spec(self.default_mode)
        self.default_reply, self.default_usage = reply, dict(DEFAULT_USAGE, **(usage or {}))
        self.log_path = log_path
        self.quiet = quiet
        self._lock = threading.Lock()
        self._httpd = None
        self._thread = None
        self._clear()

    # --- lifecycle -------------------------------------------------------------------------
    def start(self):
        """Bind (in the calling thread's network namespace) and serve in a daemon thread."""
        handler = type("BoundHandler", (_Handler,), {"stub": self})
        self._httpd = _Server((self.host, self.port), handler)
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="stub-server",
                                        kwargs={"poll_interval": 0.1}, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._thread.join(timeout=5)
            self._httpd = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def url(self):
        """Base URL without /v1, e.g. http://127.0.0.1:40123 (Anthropic style)."""
        return f"http://{self.host}:{self.port}"

    # --- control ---------------------------------------------------------------------------
    def _clear(self):
        self._log = []
        self._counters = {}
        self._modes = {}          # api or None -> spec
        self.reply = self.default_reply
        self.usage = dict(self.default_usage)

    def reset(self):
        """Forget the request log, the N*KIND counters and every runtime setting."""
        with self._lock:
            self._clear()

    def set_mode(self, spec, api=None):
        """Fail (or not) every model call, or those of one api, from now on; None clears."""
        if api not in (None, "anthropic", "responses", "chat"):
            raise StubError(f"unknown api {api!r}")
        parse_spec(spec)
        with self._lock:
            if spec is None:
                self._modes.pop(api, None)
            else:
                self._modes[api] = spec

    def set_reply(self, text):
        self.reply = text

    def set_usage(self, **numbers):
        """Override some of DEFAULT_USAGE's keys: input, output, cache_creation, ..."""
        unknown = set(numbers) - set(DEFAULT_USAGE)
        if unknown:
            raise StubError(f"unknown usage keys {sorted(unknown)}")
        self.usage.update({k: int(v) for k, v in numbers.items()})

    def requests(self, api=None, model_calls=False):
        """Copies of the logged requests, oldest first; filter by api or to model calls only."""
        with self._lock:
            entries = [dict(e) for e in self._log]
        if api is not None:
            entries = [e for e in entries if e["api"] == api]
        if model_calls:
            entries = [e for e in entries if e["method"] == "POST" and e["api"]]
        return entries

    # --- used by the handler -----------------------------------------------------------------
    def _choose_mode(self, api, prefix_mode, query_mode, header_mode):
        with self._lock:
            spec = (prefix_mode or query_mode or header_mode or self._modes.get(api)
                    or self._modes.get(None) or self.default_mode)
            parsed = parse_spec(spec)
            if parsed["count"] is not None:
                seen = self._counters.get(spec, 0)
                self._counters[spec] = seen + 1
                if seen >= parsed["count"]:
                    parsed = {"count": None, "kind": "ok", "arg": None}
        return spec, parsed

    def _record(self, entry):
        """Log a request as soon as it arrives, so tests see calls that are still in flight."""
        with self._lock:
            entry["seq"] = len(self._log) + 1
            self._log.append(entry)
        return entry

    def _persist(self, entry):
        """Append the finished entry (with its status) to the --log file, if any."""
        if self.log_path:
            line = {k: v for k, v in entry.items() if k != "body"}
            with self._lock, open(self.log_path, "a") as fh:
                fh.write(json.dumps(line) + "\n")


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        """Clients hanging up mid-reply is normal here; anything else is a stub bug: show it."""
        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    """One HTTP/1.1 connection; `stub` is set on a per-server subclass."""

    protocol_version = "HTTP/1.1"
    server_version = "llm-shim-stub/1"
    stub = None
    live_entry = None  # the log entry of the model call being answered

    def _note_status(self, status):
        """Log the status before any byte goes out: a client may read the log right after."""
        if self.live_entry is not None:
            self.live_entry["status"] = status

    def log_message(self, fmt, *args):
        if not self.stub.quiet:
            super().log_message(fmt, *args)

    # --- request plumbing ------------------------------------------------------------------
    def _parse_path(self):
        parts = urlsplit(self.path)
        path, prefix_mode = parts.path, None
        if path.startswith("/mode/"):
            rest = path[len("/mode/"):]
            prefix_mode, _, tail = rest.partition("/")
            path = "/" + tail
        query = parse_qs(parts.query)
        return path.rstrip("/") or "/", prefix_mode, (query.get("stub_mode") or [None])[0]

    def _read_body(self):
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            return raw, json.loads(raw) if raw else None
        except ValueError:
            return raw, None

    def _entry(self, path, api, body, raw, mode):
        headers = {}
        for name in LOGGED_HEADERS:
            value = self.headers.get(name)
            if value is not None:
                headers[name] = "<redacted>" if name in SECRET_HEADERS else value
        body = body if isinstance(body, dict) else {}
        return {
            "time": time.time(), "method": self.command, "path": self.path, "route": path,
            "api": api, "model": body.get("model"), "stream": bool(body.get("stream")),
            "mode": mode, "status": None, "headers": headers, "body_size": len(raw),
            "prompt": replies.last_user_text(api, body), "body": body,
        }

    def _send(self, status, payload, headers=()):
        data = json.dumps(payload).encode()
        self._note_status(status)
        self.send_response(status, _REASONS.get(status))
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _reset_connection(self):
        """Abort with a TCP RST (SO_LINGER 0), the way a crashed proxy or server would."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            os.close(self.connection.detach())
        except OSError:
            pass

    # --- verbs -----------------------------------------------------------------------------
    def do_HEAD(self):
        path, _, _ = self._parse_path()
        self.stub._persist(self.stub._record(self._entry(path, None, None, b"", None) | {"status": 200}))
        self.send_response(200)
        self.send_header("content-length", "0")
        self.end_headers()

    def do_GET(self):
        path, _, _ = self._parse_path()
        entry = self._entry(path, None, None, b"", None)
        if path == "/_stub/requests":
            status, payload = 200, [
                {k: v for k, v in e.items() if k != "body"} for e in self.stub.requests()]
        elif path == "/v1/models" or path.startswith("/v1/models/"):
            status, payload = replies.models_reply(path, anthropic="anthropic-version" in self.headers)
        else:
            status, payload = 404, replies.not_found(path)
        if not path.startswith("/_stub/"):
            self.stub._persist(self.stub._record(entry | {"status": status}))
        self._send(status, payload)

    def do_POST(self):
        path, prefix_mode, query_mode = self._parse_path()
        raw, body = self._read_body()
        if path.startswith("/_stub/"):
            return self._control(path, body)
        api = API_PATHS.get(path)
        if api is None:
            self.stub._persist(self.stub._record(self._entry(path, None, body, raw, None) | {"status": 404}))
            return self._send(404, replies.not_found(path))
        try:
            spec, mode = self.stub._choose_mode(api, prefix_mode, query_mode,
                                                self.headers.get("x-stub-mode"))
        except StubError as exc:
            return self._send(400, {"error": {"type": "stub_error", "message": str(exc)}})
        self.live_entry = entry = self.stub._record(self._entry(path, api, body, raw, spec))
        try:
            self._answer(path, api, body if isinstance(body, dict) else {}, mode)
        finally:
            self.live_entry = None
            self.stub._persist(entry)

    def _control(self, path, body):
        body = body if isinstance(body, dict) else {}
        try:
            if path == "/_stub/reset":
                self.stub.reset()
            elif path == "/_stub/control":
                if "mode" in body:
                    self.stub.set_mode(body["mode"], body.get("api"))
                if "reply" in body:
                    self.stub.set_reply(body["reply"])
                if "usage" in body:
                    self.stub.set_usage(**body["usage"])
            else:
                return self._send(404, replies.not_found(path))
        except (StubError, TypeError, ValueError) as exc:
            return self._send(400, {"error": {"type": "stub_error", "message": str(exc)}})
        self._send(200, {"ok": True})

    # --- answering model calls -------------------------------------------------------------
    def _answer(self, path, api, body, mode):
        """Reply to a model call as `mode` says (the status is logged by _send/_stream)."""
        kind, arg = mode["kind"], mode["arg"]
        stream = bool(body.get("stream"))
        if kind in STREAM_ONLY_KINDS and not stream:
            kind = "ok"
        if kind == "hang":
            time.sleep(arg if arg is not None else 30)
        if kind in ("hang", "drop"):
            return self._reset_connection()
        if kind == "overloaded":
            return self._error(api, 529 if api == "anthropic" else 503)
        if kind.isdigit():
            return self._error(api, int(kind), retry_after=arg)
        if kind == "slow":
            time.sleep(arg or 0)
        model = body.get("model") or "stub-model"
        reply = self.stub.reply.replace("{model}", str(model)).replace("{api}", api)
        usage = dict(self.stub.usage)
        if path.endswith("/count_tokens"):
            return self._send(200, {"input_tokens": usage["input"]})
        if not stream:
            return self._send(200, replies.FULL_REPLIES[api](model, reply, usage, self.stub.port))
        events = replies.STREAMS[api](model, reply, usage, self.stub.port, body,
                                      failing=kind == "streamerror")
        cut = {"dropmid": "reset", "truncate": "close"}.get(kind)
        self._stream(events, gap=arg if kind == "slowstream" else 0, cut=cut)

    def _error(self, api, status, retry_after=None):
        headers = []
        message = f"stub simulated {status}"
        if status == 429:
            wait = 1 if retry_after is None else retry_after
            headers = [("retry-after", f"{wait:g}"), ("retry-after-ms", str(int(wait * 1000)))]
            message += " rate_limit_error" if api == "anthropic" else f". Please try again in {wait:g}s."
        payload = replies.error_body(api, status, message)
        headers.append(("request-id", replies.ident("req_stub", self.stub.port)))
        self._send(status, payload, headers)

    def _stream(self, events, gap=0.0, cut=None):
        """Send SSE events, chunked; cut="reset"/"close" aborts after the first two events."""
        self._note_status(200)
        self.send_response(200)
        self.send_header("content-type", "text/event-stream; charset=utf-8")
        self.send_header("cache-control", "no-cache")
        self.send_header("transfer-encoding", "chunked")
        self.send_header("request-id", replies.ident("req_stub", self.stub.port))
        self.end_headers()
        try:
            for index, (name, data) in enumerate(events):
                if cut and index == 2:
                    self.close_connection = True
                    return self._reset_connection() if cut == "reset" else None
                if gap and index:
                    time.sleep(gap)
                text = (f"event: {name}\n" if name else "") + f"data: {data}\n\n"
                chunk = text.encode()
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            self.wfile.write(b"0\r\n\r\n")
        except OSError:
            self.close_connection = True


def main(argv=None):
    parser = argparse.ArgumentParser(description="Loopback stub of the Anthropic/OpenAI APIs.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port (default)")
    parser.add_argument("--log", help="append every request as one JSON line to this file")
    parser.add_argument("--mode", default=os.environ.get("STUB_MODE") or "ok",
                        help="default failure mode spec (default: $STUB_MODE or ok)")
    parser.add_argument("--reply", default=DEFAULT_REPLY)
    parser.add_argument("--verbose", action="store_true", help="print one line per request")
    args = parser.parse_args(argv)
    stub = StubServer(args.host, args.port, mode=args.mode, reply=args.reply, log_path=args.log,
                      quiet=not args.verbose).start()
    print(stub.url, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        stub.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
