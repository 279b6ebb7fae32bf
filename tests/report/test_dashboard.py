"""`llm-shim dashboard`: loopback only, Host header checked, read-only, the same numbers as
`report --json`, and (in headless Chromium) a page that loads and picks up a new call when it
refreshes itself."""

import http.client
import json
import threading
import time
import xml.etree.ElementTree as ET

import pytest

from shim.cli.main import main
from shim.report import dashboard
from shim.telemetry import store as store_mod

from . import chromium
from .conftest import Store

needs_chromium = pytest.mark.skipif(
    chromium.find() is None,
    reason="chromium is not installed (install/test-deps.sh installs Debian's package)")


@pytest.fixture
def db():
    conn = store_mod.connect()
    yield Store(conn, "rollup")
    conn.close()


@pytest.fixture
def served():
    """start(handler hook=None) -> a running server on a free loopback port."""
    servers = []

    def start(after_page=None):
        server = dashboard.make_server(0, cfg={})
        if after_page:
            base = server.RequestHandlerClass

            class Hooked(base):
                def do_GET(self):
                    base.do_GET(self)
                    if self.path.startswith("/?") or self.path == "/":
                        after_page()

            server.RequestHandlerClass = Hooked
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def _fill(db, now):
    db.add(now - 3600, agent="alice", model="claude-sonnet-5", cost_usd=1.25,
           input_tokens=100, cache_read_tokens=2000, cache_write_tokens=300, output_tokens=50)
    db.add(now - 7200, agent="bob", tool="codex", tool_requested="codex", model="gpt-5.5",
           provider="openai", cost_usd=0.0042, input_tokens=60, cache_read_tokens=40,
           output_tokens=10)
    db.add(now - 7300, agent="bob", model="claude-opus-5-5", cost_usd=None,
           cost_source="unknown")


def _get(server, path, host=None, method="GET"):
    port = server.server_address[1]
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.putrequest(method, path, skip_host=True)
    conn.putheader("Host", host if host is not None else f"127.0.0.1:{port}")
    conn.endheaders()
    response = conn.getresponse()
    body = response.read().decode("utf-8")
    conn.close()
    return response.status, body


def test_binds_to_loopback_only(served):
    server = served()
    assert server.server_address[0] == "127.0.0.1"
    assert server.server_address[1] > 0  # a free port was chosen


def test_refuses_other_hosts_and_writes(served, db):
    server = served()
    port = server.server_address[1]
    for host in ("evil.example", f"evil.example:{port}", "127.0.0.1:1", ""):
        status, body = _get(server, "/", host)
        assert status == 403 and "refused" in body, host
    assert _get(server, "/", f"localhost:{port}")[0] == 200
    for method in ("POST", "PUT", "DELETE"):
        assert _get(server, "/", method=method)[0] == 405
    status, body = _get(server, "/?period=fortnight")
    assert status == 400 and "unknown period" in body


def test_report_json_equals_the_command(served, db, capsys):
    now = time.time()
    _fill(db, now)
    server = served()
    status, body = _get(server, "/report.json?period=day&by=model&agent=bob")
    assert status == 200
    served_doc = json.loads(body)
    main(["report", "--json", "--by", "model", "--agent", "bob"])
    cli_doc = json.loads(capsys.readouterr().out)
    for doc in (served_doc, cli_doc):
        doc.pop("generated_at")
    assert served_doc == cli_doc
    assert served_doc["totals"]["unpriced_attempts"] == 1


def _dom(text):
    """Chromium serialises HTML, not XML: parse the parts the tests read with a tolerant pass."""
    import html.parser

    class Collect(html.parser.HTMLParser):
        def __init__(self):
            super().__init__()
            self.cells = {}
            self.invocations = []
            self.ids = set()
            self._total = False

        def handle_starttag(self, tag, attrs):
            attrs = dict(attrs)
            if attrs.get("id"):
                self.ids.add(attrs["id"])
            if tag == "tr":
                self._total = attrs.get("class") == "total"
                if attrs.get("data-invocation"):
                    self.invocations.append(attrs["data-invocation"])
            if tag == "td" and self._total and attrs.get("data-field"):
                self.cells.setdefault(attrs["data-field"], attrs.get("data-value"))

    parser = Collect()
    parser.feed(text)
    return parser


@needs_chromium
def test_page_in_chromium_shows_the_report_numbers_and_refreshes(served, db, capsys):
    now = time.time()
    _fill(db, now)
    late = {"invocation_id": "feedfacefeedfacefeedfacefeedface"}

    def a_call_arrives():
        if not late.get("done"):
            late["done"] = True
            conn = store_mod.connect()
            Store(conn, "rows").add(time.time() - 5, agent="carol", model="claude-sonnet-5",
                                    cost_usd=0.5, invocation_id=late["invocation_id"])
            conn.close()

    server = served(after_page=a_call_arrives)
    url = dashboard.url_for(server, period="day", by="agent")
    first = _get(served(), "/?period=day&by=agent")[1]  # a second server: no hook
    assert late["invocation_id"] not in first

    dom = chromium.dump_dom(url, virtual_ms=(dashboard.REFRESH_SECONDS + 2) * 1000)
    page = _dom(dom)
    assert {"controls", "content", "report-table", "spend-over-time", "latest-calls",
            "model-breakdown"} <= page.ids
    # the new call was recorded after the page was served: only the refresh can show it
    assert late["invocation_id"] in page.invocations
    main(["report", "--json", "--by", "agent"])
    totals = json.loads(capsys.readouterr().out)["totals"]
    assert float(page.cells["cost_usd"]) == pytest.approx(totals["cost_usd"])
    assert totals["cost_usd"] == pytest.approx(1.25 + 0.0042 + 0.5)
    for field in ("invocations", "input_tokens", "cache_read_tokens", "cache_write_tokens",
                  "output_tokens", "unpriced_attempts"):
        assert int(page.cells[field]) == totals[field], field


@needs_chromium
def test_html_report_renders_in_chromium(db, capsys, tmp_path):
    now = time.time()
    _fill(db, now)
    page = tmp_path / "report.html"
    main(["report", "--by", "model", "--html", str(page), "--output", str(tmp_path / "t")])
    assert f"wrote the HTML report to {page}" in capsys.readouterr().err
    ET.fromstring(page.read_text(encoding="utf-8"))  # well-formed
    dom = _dom(chromium.dump_dom(page.as_uri()))
    assert {"report-table", "spend-over-time", "legend", "model-breakdown"} <= dom.ids
    shot = chromium.screenshot(page.as_uri(), str(tmp_path / "r.png"), 1280, 900)
    with open(shot, "rb") as fh:
        assert fh.read(8) == b"\x89PNG\r\n\x1a\n"


def test_the_command_prints_its_loopback_address_and_serves_it(db):
    import os
    import re
    import subprocess
    import sys
    import urllib.request

    proc = subprocess.Popen([sys.executable, "-m", "shim", "dashboard"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=dict(os.environ))
    try:
        line = proc.stdout.readline()
        match = re.match(r"llm-shim dashboard: (http://127\.0\.0\.1:(\d+)/) ", line)
        assert match, line
        with urllib.request.urlopen(match.group(1) + "report.json", timeout=30) as response:
            assert json.loads(response.read())["schema_version"] == 1
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_port_out_of_range_is_a_usage_error(capsys):
    assert main(["dashboard", "--port", "70000"]) == 2
    assert "llm-shim: dashboard: port 70000 is out of range" in capsys.readouterr().err
