"""Deliver one claimed alert (a row of `alerts`) and record how it went: `sent`, or `failed`
with why. Runs detached from the call (`python -c ... shim.alerts.deliver <id>` via
shim/detach.py) or in the foreground for `llm-shim alerts test`.

The command runs without a shell, its placeholders replaced, the JSON document on stdin; the
webhook gets the document as a POST. Each has `timeout` seconds; either failing marks the row
failed with the reason of each channel in `detail`.
"""

import json
import subprocess
import sys
import time

PLACEHOLDERS = ("message", "budget", "threshold", "percent")
STDERR_KEPT = 200
PENDING_STALE = 120.0  # a delivery with no result after this long: its process died


def expand(argv, doc):
    """The command with {message}, {budget}, {threshold}, {percent} replaced (plain text
    replacement, no format language: an argument is never evaluated)."""
    values = {"message": doc.get("message") or "", "budget": doc.get("name") or "",
              "threshold": f"{100 * float(doc.get('threshold') or 0):.0f}%",
              "percent": (f"{100 * doc['fraction']:.0f}%"
                          if doc.get("fraction") is not None else "unknown")}
    out = []
    for arg in argv:
        for name in PLACEHOLDERS:
            arg = arg.replace("{" + name + "}", values[name])
        out.append(arg)
    return out


def run_command(argv, doc, body, timeout):
    """(ok, detail) of running the command."""
    argv = expand(argv, doc)
    try:
        proc = subprocess.run(argv, input=body, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, timeout=timeout, start_new_session=True)
    except FileNotFoundError:
        return False, f"command: {argv[0]}: not found"
    except PermissionError:
        return False, f"command: {argv[0]}: permission denied"
    except subprocess.TimeoutExpired:
        return False, f"command: timed out after {timeout:g}s"
    except OSError as exc:
        return False, f"command: {exc.strerror or exc}"
    if proc.returncode == 0:
        return True, "command: exit 0"
    tail = proc.stderr.decode("utf-8", "replace").strip()[-STDERR_KEPT:]
    return False, f"command: exit {proc.returncode}" + (f": {tail}" if tail else "")


def post(url, body, timeout):
    """(ok, detail) of POSTing the document. Proxies from the environment apply, except for
    loopback addresses."""
    import socket
    import urllib.error
    import urllib.parse
    import urllib.request

    from shim import __version__

    handlers = []
    if urllib.parse.urlsplit(url).hostname in ("127.0.0.1", "localhost", "::1"):
        handlers.append(urllib.request.ProxyHandler({}))
    opener = urllib.request.build_opener(*handlers)
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "application/json", "User-Agent": f"llm-shim/{__version__}"})
    try:
        with opener.open(request, timeout=timeout) as response:
            return True, f"webhook: HTTP {response.status}"
    except urllib.error.HTTPError as exc:
        return False, f"webhook: HTTP {exc.code} {exc.reason}"
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, (socket.timeout, TimeoutError)):
            return False, f"webhook: timed out after {timeout:g}s"
        return False, f"webhook: {getattr(reason, 'strerror', None) or reason}"
    except (socket.timeout, TimeoutError):
        return False, f"webhook: timed out after {timeout:g}s"
    except (OSError, ValueError) as exc:
        return False, f"webhook: {exc}"


def deliver(conn, alert_id):
    """Send row `alert_id` and record the result. Returns (status, detail)."""
    row = conn.execute("SELECT payload, channels, status FROM alerts WHERE id = ?",
                       (alert_id,)).fetchone()
    if row is None:
        return "failed", f"no alert {alert_id}"
    body = row[0].encode("utf-8")
    doc = json.loads(row[0])
    channels = json.loads(row[1])
    timeout = float(channels.get("timeout") or 5.0)
    results = []
    if channels.get("command"):
        results.append(run_command(channels["command"], doc, body, timeout))
    if channels.get("webhook"):
        results.append(post(channels["webhook"], body, timeout))
    if not results:
        results.append((False, "no command or webhook"))
    status = "sent" if all(ok for ok, _ in results) else "failed"
    detail = "; ".join(d for _, d in results)
    conn.execute("UPDATE alerts SET status = ?, detail = ?, delivered_at = ? WHERE id = ?",
                 (status, detail, time.time(), alert_id))
    return status, detail


def main():
    """Entry of the detached delivery: `<id>`. Silent (stdio is /dev/null); the row says."""
    try:
        alert_id = int(sys.argv[1])
    except (IndexError, ValueError):
        return 2
    from shim.telemetry import store

    conn = store.connect()
    try:
        deliver(conn, alert_id)
    except Exception as exc:  # recorded, so `llm-shim alerts` shows why
        try:
            conn.execute("UPDATE alerts SET status = 'failed', detail = ?, delivered_at = ? "
                         "WHERE id = ?", (f"delivery: {type(exc).__name__}: {exc}",
                                          time.time(), alert_id))
        except Exception:
            pass
        return 1
    finally:
        conn.close()
    return 0


def recent(conn, limit):
    """The `limit` latest deliveries, newest first (`llm-shim alerts`): a pending one older
    than PENDING_STALE is shown failed, its delivering process having died."""
    cur = conn.execute(
        "SELECT id, alert, threshold, period_start, created_at, subject_kind, subject, "
        "fraction, spent_usd, limit_usd, status, detail, delivered_at FROM alerts "
        "ORDER BY created_at DESC, id DESC LIMIT ?", (max(1, limit),))
    names = [d[0] for d in cur.description]
    rows = [dict(zip(names, r)) for r in cur]
    now = time.time()
    for row in rows:
        row["alert"] = row["alert"].split(":", 1)[0]
        if row["status"] == "pending" and now - row["created_at"] > PENDING_STALE:
            row["status"] = "failed"
            row["detail"] = "no result: the delivering process ended without recording one"
    return rows
