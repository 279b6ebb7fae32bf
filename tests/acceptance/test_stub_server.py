"""The stub server on its own (plain loopback, no real CLIs): modes, logging and control work as
documented, so a failing acceptance test points at the shim, not at the stub."""

import http.client
import json
import subprocess
import sys

import pytest

from stub_server import DEFAULT_REPLY, StubError, StubServer, parse_spec


@pytest.fixture
def server(tmp_path):
    with StubServer(log_path=tmp_path / "requests.jsonl") as stub:
        yield stub


def call(stub, path, body=None, method="POST", headers=None):
    """One request -> (status, headers dict, body text)."""
    conn = http.client.HTTPConnection("127.0.0.1", stub.port, timeout=10)
    data = json.dumps(body).encode() if body is not None else None
    conn.request(method, path, body=data, headers=dict({"content-type": "application/json"},
                                                        **(headers or {})))
    response = conn.getresponse()
    text = response.read().decode()
    conn.close()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, text


def sse_data(text):
    return [line[len("data: "):] for line in text.splitlines() if line.startswith("data: ")]


def test_parse_spec_accepts_the_documented_kinds_and_rejects_others():
    """Given mode specs, when parsed, then counts, kinds and arguments come out; typos fail."""
    assert parse_spec("3*429:2") == {"count": 3, "kind": "429", "arg": 2.0}
    assert parse_spec("slow:1.5") == {"count": None, "kind": "slow", "arg": 1.5}
    assert parse_spec(None)["kind"] == "ok"
    for bad in ("418", "x*500", "slow:fast", "nope"):
        with pytest.raises(StubError):
            parse_spec(bad)


def test_anthropic_json_reply_carries_the_known_usage(server):
    """Given no mode, when a non-streaming Messages call arrives, then the reply and the usage
    are the documented defaults, and the call is logged with its model and prompt."""
    status, _, text = call(server, "/v1/messages", {"model": "m1", "messages": [
        {"role": "user", "content": [{"type": "text", "text": "hello there"}]}]})
    body = json.loads(text)
    assert status == 200 and body["content"][0]["text"] == DEFAULT_REPLY
    assert body["usage"]["input_tokens"] == 11 and body["usage"]["cache_read_input_tokens"] == 3
    [entry] = server.requests()
    assert (entry["model"], entry["prompt"], entry["status"]) == ("m1", "hello there", 200)


def test_responses_usage_carries_cache_writes_only_when_set(server):
    """Given the Responses API, when no cache writes are set, then input_tokens_details has only
    cached_tokens (as before codex 0.145 met the field); when set_usage(cache_write=30), then
    the JSON and the streamed response.completed both carry cache_write_tokens 30."""
    body = {"model": "gpt-5-mini", "input": "x"}
    _, _, plain = call(server, "/v1/responses", body)
    assert json.loads(plain)["usage"]["input_tokens_details"] == {"cached_tokens": 4}
    server.set_usage(input=100, cached=40, cache_write=30, output=10)
    _, _, text = call(server, "/v1/responses", body)
    assert json.loads(text)["usage"]["input_tokens_details"] == {
        "cached_tokens": 40, "cache_write_tokens": 30}
    _, _, stream = call(server, "/v1/responses", dict(body, stream=True))
    completed = [json.loads(d) for d in sse_data(stream)
                 if json.loads(d).get("type") == "response.completed"]
    assert completed[0]["response"]["usage"]["input_tokens_details"]["cache_write_tokens"] == 30


def test_chat_stream_sends_a_usage_chunk_only_when_asked(server):
    """Given a streaming Chat Completions call, when include_usage is set, then a usage chunk
    precedes [DONE]; without it there is none."""
    base = {"model": "gpt-4o-mini", "stream": True, "messages": [{"role": "user", "content": "x"}]}
    _, _, with_usage = call(server, "/v1/chat/completions",
                            dict(base, stream_options={"include_usage": True}))
    _, _, without = call(server, "/v1/chat/completions", base)
    chunks = sse_data(with_usage)
    assert chunks[-1] == "[DONE]"
    assert json.loads(chunks[-2])["usage"]["prompt_tokens_details"] == {"cached_tokens": 4}
    assert not any("usage" in json.loads(c) for c in sse_data(without)[:-1])
    text = "".join(json.loads(c)["choices"][0]["delta"].get("content", "")
                   for c in sse_data(without)[:-1])
    assert text == DEFAULT_REPLY


def test_counted_failures_then_success_and_reset_restarts_the_count(server):
    """Given mode 2*503 for every api, when three calls arrive, then two fail and the third
    succeeds; after reset() the count starts again."""
    server.set_mode("2*503")
    statuses = [call(server, "/v1/responses", {"model": "m"})[0] for _ in range(3)]
    assert statuses == [503, 503, 200]
    server.reset()
    server.set_mode("2*503")
    assert call(server, "/v1/responses", {"model": "m"})[0] == 503


def test_mode_precedence_prefix_then_header_then_per_api_then_global(server):
    """Given modes set at several levels, when calls arrive, then the path prefix wins over the
    header, the header over a per-api mode, and that over the global mode."""
    server.set_mode("500")
    server.set_mode("403", api="anthropic")
    assert call(server, "/v1/chat/completions", {"model": "m"})[0] == 500
    assert call(server, "/v1/messages", {"model": "m"})[0] == 403
    assert call(server, "/v1/messages", {"model": "m"}, headers={"x-stub-mode": "401"})[0] == 401
    assert call(server, "/mode/ok/v1/messages", {"model": "m"}, headers={"x-stub-mode": "401"})[0] == 200


def test_429_has_retry_after_and_provider_shaped_bodies(server):
    """Given 429:3, when Anthropic and OpenAI calls arrive, then both carry retry-after 3 and
    each body is shaped like its provider's."""
    status, headers, text = call(server, "/mode/429:3/v1/messages", {"model": "m"})
    assert (status, headers["retry-after"], headers["retry-after-ms"]) == (429, "3", "3000")
    assert json.loads(text)["error"]["type"] == "rate_limit_error"
    _, _, text = call(server, "/mode/429:3/v1/responses", {"model": "m"})
    assert json.loads(text)["error"]["message"].endswith("Please try again in 3s.")


def test_drop_resets_the_connection(server):
    """Given mode drop, when a call arrives, then the client sees the connection reset and no
    response, and the log records the call without a status."""
    with pytest.raises((ConnectionResetError, http.client.RemoteDisconnected)):
        call(server, "/mode/drop/v1/messages", {"model": "m"})
    assert [(e["mode"], e["status"]) for e in server.requests()] == [("drop", None)]


def test_control_endpoint_sets_mode_reply_and_usage(server, tmp_path):
    """Given the HTTP control endpoint, when mode, reply and usage are set through it, then
    later calls follow them, and the --log file holds every finished call with its status."""
    assert call(server, "/_stub/control", {"mode": "ok", "reply": "Hi {model} via {api}",
                                           "usage": {"input": 100}})[0] == 200
    _, _, text = call(server, "/v1/responses", {"model": "gpt-5"})
    body = json.loads(text)
    assert body["output"][0]["content"][0]["text"] == "Hi gpt-5 via responses"
    assert body["usage"]["input_tokens"] == 100
    _, _, listed = call(server, "/_stub/requests", method="GET")
    assert [e["route"] for e in json.loads(listed)] == ["/v1/responses"]
    assert "body" not in json.loads(listed)[0]
    logged = [json.loads(line) for line in (tmp_path / "requests.jsonl").read_text().splitlines()]
    assert [(e["route"], e["status"]) for e in logged] == [("/v1/responses", 200)]
    assert call(server, "/_stub/control", {"mode": "teapot"})[0] == 400


def test_runs_as_a_script_and_prints_its_url(tmp_path):
    """Given `python stub_server.py --port 0`, when started, then it prints a loopback URL."""
    import stub_server
    proc = subprocess.Popen([sys.executable, stub_server.__file__, "--port", "0"],
                            stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)
    try:
        line = proc.stdout.readline().strip()
    finally:
        proc.terminate()
        proc.wait(10)
    assert line.startswith("http://127.0.0.1:") and int(line.rsplit(":", 1)[1]) > 0


@pytest.mark.parametrize("mode, expect", [
    ("streamerror", "event: error"),
    ("slowstream:0.05", "event: message_stop"),
])
def test_stream_modes_change_the_event_stream(server, mode, expect):
    """Given a stream-only mode, when a streaming Messages call arrives, then the stream shows
    it; a non-streaming call under the same mode is answered normally."""
    _, _, text = call(server, f"/mode/{mode}/v1/messages", {"model": "m", "stream": True})
    assert expect in text
    status, _, text = call(server, f"/mode/{mode}/v1/messages", {"model": "m"})
    assert status == 200 and json.loads(text)["content"][0]["text"] == DEFAULT_REPLY


def test_truncate_ends_the_stream_early_without_a_reset(server):
    """Given mode truncate, when a streaming call arrives, then the body ends before the chunked
    terminator (a clean close, not a reset)."""
    with pytest.raises(http.client.IncompleteRead):
        call(server, "/mode/truncate/v1/messages", {"model": "m", "stream": True})
