"""`llm-shim prices update` from a local file and from a loopback HTTP server, and what
`llm-shim prices show` says about the price data in use. No traffic leaves 127.0.0.1."""

import http.server
import json
import os
import threading

import pytest

from shim.telemetry import ingest, prices
from tests.telemetry.conftest import data_path
from tests.support.cli import run


def litellm_small():
    with open(data_path("litellm-small.json"), "rb") as fh:
        return fh.read()


@pytest.fixture
def serve():
    """serve({path: (status, body)}) -> base URL of a loopback server answering those."""
    servers = []

    def start(routes):
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                status, body = routes.get(self.path, (404, b"not found"))
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                         daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def shown(capsys):
    code, out, _ = run(capsys, "prices", "show", "--json")
    assert code == 0
    return json.loads(out)


def test_update_from_a_loopback_url(capsys, serve):
    base = serve({"/prices.json": (200, litellm_small())})
    code, out, err = run(capsys, "prices", "update", "--from", base + "/prices.json")
    assert code == 0 and err == "" and "updated" in out and base in out
    doc = shown(capsys)
    assert doc["sources"]["imported"]["source"] == base + "/prices.json"
    assert doc["version"].startswith("imported-")
    models = {m["model"]: m for m in doc["models"]}
    assert models["claude-sonnet-5"]["input"] == 2.0
    assert models["claude-sonnet-5"]["source"] == "imported"
    assert os.stat(prices.imported_file()).st_mode & 0o777 == 0o600


def test_update_from_a_file(capsys):
    code, out, _ = run(capsys, "prices", "update", "--from", data_path("litellm-small.json"))
    assert code == 0
    imported = shown(capsys)["sources"]["imported"]
    assert imported["source"] == data_path("litellm-small.json")
    assert imported["source_date"]  # the day it was fetched, when the file has no date


@pytest.mark.parametrize("status,body,why", [
    (200, b"<html>rate limited</html>", "is not JSON"),
    (200, b'{"x": {"mode": "chat"}}', "no usable price rows"),
    (200, b"[1, 2]", "expected a JSON object"),
    (404, b"gone", "HTTP 404"),
])
def test_a_bad_download_never_replaces_the_prices_in_use(capsys, serve, status, body, why):
    good = serve({"/ok.json": (200, litellm_small())})
    assert run(capsys, "prices", "update", "--from", good + "/ok.json")[0] == 0
    with open(prices.imported_file(), "rb") as fh:
        before = fh.read()
    bad = serve({"/p.json": (status, body)})
    code, _, err = run(capsys, "prices", "update", "--from", bad + "/p.json")
    assert code == 1 and err.startswith("llm-shim: prices update: ") and why in err
    assert err.count("\n") == 1  # one line, no traceback
    with open(prices.imported_file(), "rb") as fh:
        assert fh.read() == before
    assert not [n for n in os.listdir(os.path.dirname(prices.imported_file()))
                if n.endswith(".tmp")]


def test_unreachable_url_says_so(capsys):
    # port 9 (discard) on loopback: nothing listens there
    code, _, err = run(capsys, "prices", "update", "--from", "http://127.0.0.1:9/x.json")
    assert code == 1 and "cannot fetch" in err and "--from" in err


def test_the_default_url_is_litellms_published_file():
    assert prices.LITELLM_PRICES_URL == ("https://raw.githubusercontent.com/BerriAI/litellm/"
                                         "main/model_prices_and_context_window.json")


def test_show_names_the_shipped_snapshot_and_its_date(capsys):
    doc = shown(capsys)
    assert doc["sources"]["imported"] is None
    assert doc["sources"]["snapshot"]["taken"] == "2026-12-06"
    code, out, _ = run(capsys, "prices", "show")
    assert "shipped LiteLLM snapshot: taken 2026-12-06 (litellm 1.110.2)" in out
    assert "imported prices: none" in out


# --- the shipped snapshot -------------------------------------------------------------------

def test_the_shipped_snapshot_prices_what_the_current_clis_default_to():
    table = prices.load_table(ingest.embedded_config())
    # claude 2.1.332 asks for claude-opus-5-5; codex 0.171.0 defaults to gpt-6.1-sol
    opus55 = prices.lookup(table, "claude-opus-5-5")
    assert opus55["source"] == "snapshot"
    assert opus55["base"] == {"input": 4.0, "output": 20.0, "cache_read": 0.2, "cache_write": 5.0}
    assert prices.lookup(table, "claude-opus-5-5[1m]") is opus55
    sol = prices.lookup(table, "gpt-6.1-sol")
    assert sol["source"] == "snapshot"  # a published price beats the config's estimate
    assert sol["base"]["cache_write"] == 2.5
    # the config's own prices still win over the snapshot
    assert prices.lookup(table, "claude-sonnet-5")["source"] == "config"
    assert prices.lookup(table, "claude-haiku-4-5")["source"] == "config"  # an alias


def test_an_opus_5_5_text_mode_call_is_priced(cfg):
    rec = prices.price_record({"model": "claude-opus-5-5", "input_tokens": 11,
                               "output_tokens": 7, "cache_read_tokens": 3,
                               "cache_write_tokens": 5}, None, prices.load_table(cfg))
    assert rec["cost_source"] == "computed"
    assert rec["cost_usd"] == pytest.approx((11 * 4 + 7 * 20 + 3 * 0.2 + 5 * 5) / 1e6)
