"""Start lines: how a call whose shim was killed outright (SIGKILL) still gets its row.

Just before a tool starts, the shim appends a start line (`"kind": "start"`, record.make_start)
to the spool; the end record follows when the tool is done. Ingestion pairs them:

* a start line whose end record is in the same batch, or already in the database, is dropped;
* one whose shim is gone (same host: its pid is not running, or runs a process that started
  after the call; another host: older than `OTHER_HOST_AFTER`) and that is older than
  `KILLED_AFTER` becomes its attempt record with `failure_class: killed`, `exit_code` NULL
  (unknown) and `ended_at` = when that was noticed; usage is then harvested from the tool's
  own logs like any call that printed none (the record carries the harvest hint);
* the rest (the call is still running) wait in `spool/starts.log` for the next ingestion.

`KILLED_AFTER` leaves time for another ingester that holds the end record to commit it; if a
real end record still arrives after its call was recorded as killed, it replaces that row
(shim.telemetry.ingest). An exclusive flock on the spool directory serialises ingesters over
`starts.log` (writers never take it: they lock their own descriptor of spool.log).

Not on the hot path (only ingestion imports it).
"""

import ast
import fcntl
import os
import time

from shim import paths, safefs
from shim.telemetry import record

PENDING_NAME = "starts.log"
KILLED_AFTER = 60.0            # seconds after its start before a call can be called killed
OTHER_HOST_AFTER = 24 * 3600   # another host's pid cannot be checked: the reservation TTL


def split(records):
    """(attempt/counter records, start lines) of a parsed batch."""
    plain, starts = [], []
    for rec in records:
        (starts if rec.get("kind") == "start" else plain).append(rec)
    return plain, starts


class Pending:
    """The start lines still waiting (spool/starts.log), held under a lock on the spool
    directory from `open` until `close`, so two ingesters never lose each other's lines."""

    def __init__(self, spool_dir=None):
        self.directory = spool_dir or paths.spool_dir()
        self.path = os.path.join(self.directory, PENDING_NAME)
        self.lock_fd = None
        self.lines = []

    def open(self):
        safefs.private_dir(self.directory)  # ours, never through a link (docs/security.md)
        fd = safefs.open_file(self.directory, os.O_RDONLY | os.O_DIRECTORY)
        fcntl.flock(fd, fcntl.LOCK_EX)
        self.lock_fd = fd
        data = b""
        try:
            pending = safefs.open_file(self.path, os.O_RDONLY)
        except FileNotFoundError:
            pending = None
        if pending is not None:
            try:
                while True:
                    chunk = os.read(pending, 1 << 20)
                    if not chunk:
                        break
                    data += chunk
            finally:
                os.close(pending)
        for raw in data.splitlines():
            try:
                rec = ast.literal_eval(raw.decode("utf-8"))
            except (ValueError, SyntaxError, UnicodeDecodeError, MemoryError, RecursionError):
                continue
            if isinstance(rec, dict) and rec.get("kind") == "start":
                self.lines.append(rec)
        return self

    def save(self, lines):
        """Replace starts.log with `lines` (atomically: private temp file, then rename)."""
        if lines:
            safefs.write_atomic(self.path, b"".join(
                (repr(r) + "\n").encode("utf-8", "backslashreplace") for r in lines))
        else:
            try:
                os.unlink(self.path)
            except FileNotFoundError:
                pass

    def close(self):
        if self.lock_fd is not None:
            os.close(self.lock_fd)
            self.lock_fd = None


def resolve(starts, ended_keys, recorded, now=None, host=None):
    """(killed records, start lines still pending) from `starts` (this batch's and the
    pending ones). `ended_keys`: (invocation_id, attempt) of the batch's end records;
    `recorded(keys)`: the keys that already have a row in the database (None: unknown)."""
    now = time.time() if now is None else now
    host = record.host_name() if host is None else host
    unique = {}
    for line in starts:
        key = (line.get("invocation_id"), line.get("attempt"))
        if key not in ended_keys and isinstance(line.get("record"), dict):
            unique.setdefault(key, line)
    have = recorded(list(unique)) if unique else set()
    if have is None:  # the database cannot tell which have rows: all of them wait
        return [], list(unique.values())
    killed, pending = [], []
    for key, line in unique.items():
        if key in have:
            continue
        if gone(line, now, host):
            killed.append(killed_record(line, now))
        else:
            pending.append(line)
    return killed, pending


def gone(line, now, host):
    """True when the start line's shim can no longer write its end record."""
    started = float(line.get("started_at") or 0.0)
    if now - started < KILLED_AFTER:
        return False
    if line.get("host") != host:
        return now - started >= OTHER_HOST_AFTER
    return not alive_since(line.get("pid"), started)


def killed_record(line, now):
    """The start line's attempt record, as a killed attempt noticed at `now`."""
    rec = dict(line["record"])
    rec["failure_class"] = "killed"
    rec["exit_code"] = None
    rec["ended_at"] = now
    if rec.get("kind") != "counter":
        rec["duration_ms"] = None  # unknown: the shim died some time before `now`
        rec["reasons"] = list(rec.get("reasons") or ()) + [
            f"killed: the shim (pid {line.get('pid')}) ended without recording this attempt; "
            "recorded from its start line"]
    return rec


def alive_since(pid, started):
    """True when `pid` runs a process that started no later than `started` (epoch)."""
    from shim import procs

    if not procs.pid_alive(pid):
        return False
    began = _start_epoch(pid)
    return began is None or began <= started + 1.0


def _start_epoch(pid):
    """When `pid` started, in epoch seconds (Linux /proc), or None."""
    from shim import procs

    ticks = procs.process_start(pid)
    if ticks is None:
        return None
    try:
        with open("/proc/stat", "rb") as fh:
            for line in fh:
                if line.startswith(b"btime "):
                    return int(line.split()[1]) + ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError):
        pass
    return None


