"""Calls running now: start lines (`"kind": "start"`, shim/telemetry/starts.py) in the spool
or waiting in `spool/starts.log` with no end record and no row yet.

Read-only: the files are read, never locked or rewritten (starts.log is replaced by rename,
spool.log only appended to), so watching never slows a shim down. A start line whose shim is
gone is shown as `died`: on this host its pid no longer runs (or runs a newer process);
for another host's line, once it is older than starts.OTHER_HOST_AFTER.
"""

import os

from shim import paths
from shim.telemetry import ingest, record, spool, starts


def _read(path):
    try:
        with open(path, "rb") as fh:
            return fh.read()
    except OSError:
        return b""


def spool_records(spool_dir=None):
    """Every parsed line of spool.log, claimed-*.log and starts.log."""
    directory = spool_dir or paths.spool_dir()
    try:
        names = os.listdir(directory)
    except OSError:
        return []
    records = []
    for name in names:
        if name in (spool.SPOOL_NAME, starts.PENDING_NAME) or (
                name.startswith(spool.CLAIM_PREFIX) and name.endswith(spool.CLAIM_SUFFIX)):
            records += ingest.parse(_read(os.path.join(directory, name)))[0]
    return records


def _recorded(conn, keys):
    found = set()
    for table in ("attempts", "counters"):
        for key in keys:
            try:
                if conn.execute(f"SELECT 1 FROM {table} WHERE invocation_id = ? AND attempt = ?",
                                key).fetchone():
                    found.add(key)
            except Exception:  # a table missing in an old database: nothing recorded there
                break
    return found


def running(conn, now, spool_dir=None, host=None):
    """[{"invocation_id", "attempt", "tool", "model", "agent", "mode", "pid", "host",
    "started_at", "seconds", "state": "running"|"died"}], oldest first."""
    records = spool_records(spool_dir)
    plain, lines = starts.split(records)
    ended = {(r.get("invocation_id"), r.get("attempt")) for r in plain}
    open_lines = {}
    for line in lines:
        key = (line.get("invocation_id"), line.get("attempt"))
        if key not in ended:
            open_lines.setdefault(key, line)
    done = _recorded(conn, list(open_lines)) if open_lines else set()
    host = record.host_name() if host is None else host
    out = []
    for key, line in open_lines.items():
        if key in done:
            continue
        rec = line.get("record") if isinstance(line.get("record"), dict) else {}
        started = float(line.get("started_at") or 0.0)
        out.append({"invocation_id": key[0], "attempt": key[1], "tool": rec.get("tool"),
                    "model": rec.get("model"), "agent": rec.get("agent"),
                    "mode": rec.get("mode"), "pid": line.get("pid"), "host": line.get("host"),
                    "started_at": started, "seconds": max(0.0, now - started),
                    "state": "died" if _died(line, now, host) else "running"})
    return sorted(out, key=lambda r: r["started_at"])


def _died(line, now, host):
    """starts.gone without its grace period: a watcher may say at once what ingestion waits
    KILLED_AFTER seconds to act on."""
    started = float(line.get("started_at") or 0.0)
    if line.get("host") != host:
        return now - started >= starts.OTHER_HOST_AFTER
    return not starts.alive_since(line.get("pid"), started)
