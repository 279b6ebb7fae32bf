"""`llm-shim dashboard`: the report as a local web page that keeps itself current.

Served by the standard library (http.server) on 127.0.0.1 only, read-only (GET and HEAD; any
other method is refused), and only to requests whose Host header names the loopback address
it listens on: a web page elsewhere cannot reach it through DNS rebinding. Each request imports
the spool and computes the report afresh (shim/report/api.py), so the page's numbers are the
ones `llm-shim report --json` prints for the same options. The page re-fetches its content
every REFRESH_SECONDS with a few lines of script; without script it is still a complete page
and the controls are a plain GET form.

Routes: `/` the page, `/content` its refreshable part, `/report.json` the report document.
Query: period (hour|day|week|month), by (comma keys), agent, tool, model, since, until.
"""

import http.server
import sqlite3
import sys
import time
import urllib.parse
from html import escape

from shim import errors, paths
from shim.report import api, export, html, periods, render

REFRESH_SECONDS = 5
LATEST_CALLS = 15
LOOPBACK = "127.0.0.1"
SCRIPT = """
(function () {
  var form = document.getElementById('controls');
  form.addEventListener('change', function () { form.submit(); });
  function refresh() {
    fetch('content' + window.location.search, {cache: 'no-store'})
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (text) {
        document.getElementById('content').innerHTML = text;
        document.getElementById('status').textContent =
          'updated ' + new Date().toLocaleTimeString();
      })
      .catch(function (e) {
        document.getElementById('status').textContent = 'cannot refresh: ' + e;
      });
  }
  setInterval(refresh, %d);
})();
""" % (REFRESH_SECONDS * 1000)
EXTRA_STYLE = """
form#controls { display: flex; flex-wrap: wrap; gap: 0.6em 1.2em; align-items: center;
                 padding: 0.6em 0.8em; background: #f6f6f6; border-radius: 6px; }
form#controls label { white-space: nowrap; }
#status { color: #666; font-size: 12px; }
"""


def options(query):
    """Report options from a query string dict ({name: [values]}); raises UsageError."""
    def one(name, default=None):
        values = [v for v in query.get(name, []) if v]
        return values[-1] if values else default

    granularity = one("period", "day")
    if granularity not in periods.GRANULARITIES:
        raise errors.UsageError("dashboard", f"unknown period {granularity!r}",
                                f"use one of {', '.join(periods.GRANULARITIES)}")
    granularity, by = api.hour_view(granularity, one("by", ""))
    return {"granularity": granularity, "group_by": api.parse_keys(by),
            "since": one("since"), "until": one("until"),
            "filters": {k: api.split_values(query.get(k)) for k in api.FILTER_KEYS}}


def gather(conn, opts, cfg=None, now=None):
    """Everything the page shows: (doc, by_model, by_agent, per_period, choices, budget
    status or an error text, latest calls)."""
    from shim.telemetry import ingest, store

    ingest.ingest(conn)
    doc, built, query_filters = api.compute(
        conn, granularity=opts["granularity"], since=opts["since"], until=opts["until"],
        group_by=opts["group_by"], filters=opts["filters"], now=now)
    by_model, per_period = api.models(conn, built, query_filters)
    by_agent = api.breakdown(conn, built, "agent", query_filters)
    choices = {"model": [k[0] for k, _ in by_model if k[0]],
               "agent": [k[0] for k, _ in by_agent if k[0]],
               "tool": [k[0] for k, _ in api.breakdown(conn, built, "tool", {}) if k[0]]}
    budget = _budgets(conn, cfg, now)
    calls = store.recent(conn, LATEST_CALLS, {k: v for k, v in query_filters.items() if v})
    return doc, by_model, by_agent, per_period, choices, budget, calls


def _budgets(conn, cfg, now):
    from shim.policy import status

    try:
        if cfg is None:
            from shim.config import compiled

            cfg = compiled.load()
        from shim import team

        return status.status(conn, cfg, now, team.budget_hooks(cfg))["budgets"]
    except errors.ShimError as exc:
        return f"budgets unavailable: {exc.why}"


def budgets_html(budget):
    if isinstance(budget, str):
        return f"<p>{escape(budget)}</p>"
    if not budget:
        return ("<p>No budgets configured; <code>llm-shim budget</code> prints a starter "
                "example.</p>")
    head = ["budget", "scope", "period", "spent", "limit", "headroom", "used", "state",
            "resets in"]
    out = ['<div class="scroll"><table id="budgets"><thead><tr>'
           + "".join(f"<th>{h}</th>" for h in head) + "</tr></thead><tbody>"]
    for b in budget:
        scope = b["scope"] if b["scope"] == "global" else f"{b['scope']} {b['match']}"
        period = b["period"] if b["period"] != "rolling" else f"rolling {b['window']}"
        headroom = b["limit_usd"] - b["spent_usd"] - b["in_flight_usd"]
        resets = "-" if b["resets_in_seconds"] is None else _duration(b["resets_in_seconds"])
        cells = [b["name"], scope, period, html.usd(b["spent_usd"]), html.usd(b["limit_usd"]),
                 html.usd(headroom), f"{b['percent']:.0f}%", b["state"], resets]
        out.append("<tr>" + "".join(f"<td>{escape(str(c))}</td>" for c in cells) + "</tr>")
    out.append("</tbody></table></div>")
    return "\n".join(out)


def _duration(seconds):
    from shim.policy import budgets

    return budgets.duration(seconds)


def calls_html(calls):
    from shim.cli.commands import logs

    if not calls:
        return "<p>No calls recorded yet.</p>"
    head = ["time", "id", "agent", "tool", "model", "result", "input", "cache rd", "cache wr",
            "output", "cost"]
    out = ['<div class="scroll"><table id="latest-calls"><thead><tr>'
           + "".join(f"<th>{h}</th>" for h in head) + "</tr></thead><tbody>"]
    for r in calls:
        cells = [time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(r["started_at"])),
                 logs.attempt_id(r), r["agent"] or "", r["tool"] or "", r["model"] or "?",
                 logs.outcome(r), *logs.token_cells(r), logs.cost_text(r)]
        out.append(f'<tr data-invocation="{escape(r["invocation_id"])}">'
                   + "".join(f"<td>{escape(str(c))}</td>" for c in cells) + "</tr>")
    out.append("</tbody></table></div>")
    return "\n".join(out)


def content(gathered):
    doc, by_model, by_agent, per_period, _, budget, calls = gathered
    body = [f'<p class="meta" id="title">{escape(render.title(doc))}</p>']
    live = ["<h2>Budgets</h2>", budgets_html(budget), "<h2>Latest calls</h2>",
            calls_html(calls)]
    if doc["rows"]:
        body += html.sections(doc, by_model, by_agent, per_period, after_spend=live)
    else:
        body += [f"<p>{escape(render.empty_message(doc, False))}</p>", *live]
    return "\n".join(body)


def _select(name, label, values, chosen, blank=None):
    items = ([f'<option value="">{escape(blank)}</option>'] if blank is not None else [])
    for value, text in values:
        mark = ' selected="selected"' if value == chosen else ""
        items.append(f'<option value="{escape(value)}"{mark}>{escape(text)}</option>')
    return (f'<label>{escape(label)} <select name="{name}" id="ctl-{name}">'
            + "".join(items) + "</select></label>")


def controls(opts, choices):
    period = opts["granularity"]
    by = ",".join(opts["group_by"])
    groupings = [("", "nothing")] + [(k, k) for k in ("agent", "model", "tool", "provider",
                                                       "project")]
    if by and by not in dict(groupings):
        groupings.append((by, by))
    parts = [_select("period", "period", [(g, render.NOUN[g]) for g in periods.GRANULARITIES],
                     period),
             _select("by", "group by", groupings, by)]
    for key in ("agent", "tool", "model"):
        chosen = (opts["filters"].get(key) or [""])[0]
        values = sorted(set(choices.get(key, [])) | ({chosen} if chosen else set()))
        parts.append(_select(key, key, [(v, v) for v in values], chosen, blank="all"))
    parts.append('<noscript><button type="submit">show</button></noscript>')
    parts.append('<span id="status">updated now</span>')
    return '<form id="controls" method="get" action="/">' + "".join(parts) + "</form>"


def page(opts, gathered):
    body = ["<h1>llm-shim dashboard</h1>", controls(opts, gathered[4]),
            f'<div id="content">{content(gathered)}</div>', f"<script>{SCRIPT}</script>"]
    return html.document("llm-shim dashboard", "\n".join(body),
                         f"<style>{EXTRA_STYLE}</style>\n")


class Handler(http.server.BaseHTTPRequestHandler):
    """GET only, loopback Host only; every answer is computed from the store."""

    server_version = "llm-shim-dashboard"
    db_path = None
    cfg = None

    def log_message(self, *args):  # quiet: the terminal shows the address, not every request
        pass

    def _send(self, status, body, kind="text/html; charset=utf-8"):
        data = body.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Content-Security-Policy",
                         "default-src 'none'; connect-src 'self'; style-src 'unsafe-inline'; "
                         "script-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _host_allowed(self):
        port = self.server.server_address[1]
        host = (self.headers.get("Host") or "").strip().lower()
        return host in {f"{LOOPBACK}:{port}", f"localhost:{port}"}

    def do_GET(self):
        if not self._host_allowed():
            self._send(403, "llm-shim dashboard: refused: the Host header must be "
                            f"{LOOPBACK}:{self.server.server_address[1]}\n", "text/plain")
            return
        url = urllib.parse.urlsplit(self.path)
        if url.path not in ("/", "/content", "/report.json"):
            self._send(404, "not found\n", "text/plain")
            return
        try:
            opts = options(urllib.parse.parse_qs(url.query))
            conn = _connect(self.db_path)
            try:
                gathered = gather(conn, opts, self.cfg)
            finally:
                conn.close()
        except errors.ShimError as exc:
            self._send(400, f"llm-shim: dashboard: bad request: {exc.why}; {exc.hint}\n",
                       "text/plain")
            return
        except sqlite3.Error as exc:
            self._send(503, f"llm-shim: dashboard: telemetry database: {exc}; run llm-shim "
                            "doctor, and llm-shim logs repair if it is damaged\n", "text/plain")
            return
        if url.path == "/report.json":
            self._send(200, export.to_json(gathered[0]), "application/json")
        elif url.path == "/content":
            self._send(200, content(gathered))
        else:
            self._send(200, page(opts, gathered))

    do_HEAD = do_GET

    def _refuse(self):
        self._send(405, "llm-shim dashboard is read-only\n", "text/plain")

    do_POST = do_PUT = do_DELETE = do_PATCH = _refuse


def _connect(db_path):
    from shim.telemetry import store

    return store.connect(db_path or paths.database_file())


def make_server(port=0, db_path=None, cfg=None):
    """A server bound to 127.0.0.1:`port` (0: a free port); not yet serving."""
    handler = type("BoundHandler", (Handler,), {"db_path": db_path, "cfg": cfg})
    try:
        return http.server.ThreadingHTTPServer((LOOPBACK, port), handler)
    except OSError as exc:
        raise errors.UsageError("dashboard", f"cannot listen on {LOOPBACK}:{port}: "
                                f"{exc.strerror or exc}",
                                "choose another --port, or leave it out for a free one") from None


def serve(port=0, stream=None):
    """Serve until interrupted; prints the address first."""
    stream = stream or sys.stdout
    server = make_server(port)
    url = f"http://{LOOPBACK}:{server.server_address[1]}/"
    stream.write(f"llm-shim dashboard: {url} (read-only, this machine only; Ctrl-C stops it)\n")
    stream.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


def url_for(server, **query):
    return (f"http://{LOOPBACK}:{server.server_address[1]}/?"
            + urllib.parse.urlencode({k: v for k, v in query.items() if v}))

