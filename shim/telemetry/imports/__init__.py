"""`llm-shim import`: usage the shims did not see, from the tools' own logs (docs/telemetry.md
"Import").

Incremental: `import_files` remembers each log file's identity (device, inode, size, mtime)
and the byte offset read so far, so a run parses only what was appended; a file that was
truncated or rewritten (another inode, shorter, or other bytes before the offset) is read again
from the start. When no file's identity changed nothing is parsed at all: that check (one
stat per file) is what `report`, `logs`, `budget` and budget admission pay before answering.

Idempotent: each imported entry is a row of `import_entries` keyed by (tool, key), summed into
an import row of `attempts` (`import:<tool>:<hash>`, attempt 0): one per session, model,
branch and project per UTC quarter hour, so reports and budgets read few rows. An entry seen again adds only what it grew by (a Claude message whose
later lines carry a larger usage), never twice. Entries, rows and the offsets that produced
them are committed in one transaction, so an import killed half way resumes with no duplicate
and no gap.

Counted once: an entry the shim already counted is skipped — its key is in `harvest_claims`
(the call-time harvest's claim), or it belongs to a shim call's session inside that call's
time window. The other way round, `supersede` (called by ingestion) takes out of the import
rows the entries a shim call's harvest or session now accounts for.
"""

import fcntl
import hashlib
import json
import os
import socket
import sys
import time

from shim import __version__, paths
from shim.telemetry import importstamp, prices, store
from shim.telemetry.imports import children, logfile, slices, sources, validate
from shim.telemetry.imports.problems import unreadable_reason

PREFIX = "import:"
SOURCE = "import"
# Test hook: exit abruptly after this many files were committed (an interrupted import).
CRASH_ENV = "LLM_SHIM_IMPORT_CRASH_AFTER"
AUTO_ENV = importstamp.AUTO_ENV  # `off`: no automatic import before report/logs/budget/admission
BATCH_ENTRIES = 50000
PARALLEL_MIN_FILES = 16   # fewer changed files are read in this process
PARALLEL_MAX_WORKERS = 4
BUCKET_SECONDS = 900   # an import row sums one UTC quarter hour (the report's finest bucket)
WINDOW_SLACK_SECONDS = 2.0
LOCK_NAME = "import.lock"
# Budget admission imports at most this much per call (the rest on later calls or reports).
ADMISSION_SECONDS = 0.05
ADMISSION_BYTES = 4 * 1024 * 1024
ADMISSION_LLM_ROWS = 2000
TOKEN_KEYS = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens",
              "reasoning_tokens")
_SUMMED = TOKEN_KEYS + ("cost_usd", "computed_cost_usd", "entry_count")


def run(conn, cfg=None, environ=None, *, since=None, dry_run=False, deadline=None,
        max_bytes=None, found=None):
    """Import every log file that changed since the last run. Returns a summary dict:
    files (seen), changed, read, entries, new (entries stored or grown), counted_by_shim,
    before_since, remaining (changed files left for later: past `deadline` or not readable in
    a slice), tokens {tool: [input, output, cache read, cache write]}, cost_usd, unpriced,
    unreadable [paths].

    `since` (epoch seconds) drops older entries; `dry_run` writes nothing; `deadline`
    (time.monotonic()) and `max_bytes` (per file) bound a slice."""
    environ = os.environ if environ is None else environ
    found = sources.scan(sources.roots(environ)) if found is None else found
    known = _known(conn)
    changed = [(t, p, i) for t, p, i in found if not _same(known.get(p), i)]
    summary = {"files": len(found), "changed": len(changed), "read": 0, "entries": 0,
               "new": 0, "counted_by_shim": 0, "before_since": 0, "remaining": 0,
               "tokens": {}, "cost_usd": 0.0, "unpriced": 0, "unreadable": [],
               "malformed": 0, "unreadable_reasons": {}}
    if not changed:
        return summary
    if cfg is None:
        from shim.telemetry import models

        cfg = models.load_config()
    counted = _Counted(conn)
    writer = _Writer(conn, cfg, prices.load_table(cfg), summary)
    crash_after = int(environ.get(CRASH_ENV) or 0)
    done_files, committed = [], 0
    jobs = [(tool, path, ident, known.get(path), max_bytes) for tool, path, ident in changed]
    parallel = deadline is None and not crash_after and len(jobs) >= PARALLEL_MIN_FILES
    # A slice keeps every file it parsed; the files it did not start wait for the next one.
    parsed = _parsed(jobs, parallel) if deadline is None else slices.parsed(jobs, deadline)
    started = 0
    for path, result in parsed:
        started += 1
        if result is None or isinstance(result, str):
            summary["unreadable"].append(path)
            summary["unreadable_reasons"][path] = result or "unreadable"
            continue
        entries, file_row, more = result
        if file_row is None:  # a compressed file in a bounded slice
            summary["remaining"] += 1
            continue
        if more:  # a slice stopped short of the end: the rest next time
            summary["remaining"] += 1
        summary["read"] += 1
        for entry in entries:
            summary["entries"] += 1
            if not validate.ok(entry):
                summary["malformed"] += 1
            elif since is not None and entry["ts"] < since:
                summary["before_since"] += 1
            elif counted.covers(entry):
                summary["counted_by_shim"] += 1
            else:
                writer.add(entry)
        done_files.append(file_row)
        if not dry_run and (writer.pending >= BATCH_ENTRIES or crash_after):
            writer.commit(done_files)
            committed += len(done_files)
            done_files = []
            if crash_after and committed >= crash_after:
                os._exit(9)
    summary["remaining"] += len(changed) - started
    if dry_run:
        writer.tally_only()
    elif writer.pending or done_files:
        writer.commit(done_files)
    return summary


def _parsed(jobs, parallel):
    """(path, _read's result or None when unreadable) per job, in order: read in
    worker processes (one per core, as the files are independent) when `parallel`, so the
    parsing of the next files overlaps the writing of the last ones."""
    workers = min(os.cpu_count() or 1, PARALLEL_MAX_WORKERS)
    if not parallel or workers < 2:
        for job in jobs:
            yield job[1], read_job(job)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if sys.platform == "linux" and "fork" in methods
                                          else None)
    with ProcessPoolExecutor(max_workers=workers, mp_context=context,
                             **children.pool_options()) as pool:
        for job, result in zip(jobs, pool.map(children.read_job, jobs)):
            yield job[1], result


def read_job(job):
    """_read's result, or the reason (a str) the file could not be read. A large plain log
    is read in pieces (slices.read_bounded, no deadline): bounded memory."""
    try:
        if job[0] != "llm" and not job[1].endswith(".zst") \
                and job[2][2] > slices.LARGE_FILE_BYTES:
            return slices.read_bounded(*job, float("inf"))
        return _read(*job)
    except Exception as exc:  # noqa: BLE001 - hostile input must not stop the other files
        return unreadable_reason(job[1], exc)


def _known(conn):
    out = {}
    for path, dev, inode, size, mtime_ns, offset, tail, state in conn.execute(
            "SELECT path, dev, inode, size, mtime_ns, offset, tail, state FROM import_files"):
        out[path] = {"dev": dev, "inode": inode, "size": size, "mtime_ns": mtime_ns,
                     "offset": offset, "tail": tail, "state": state}
    return out


def _same(known, ident):
    return known is not None and (known["dev"], known["inode"], known["size"],
                                  known["mtime_ns"]) == tuple(ident)


def forget_files(conn):
    """Forget which log files were read (`llm-shim import --reset`): the next run reads each
    again from its start; the import rows stay, and re-reading them replaces, never adds."""
    from shim.telemetry import store

    with store.transaction(conn):
        conn.execute("DELETE FROM import_files")


def _read(tool, path, ident, known, max_bytes):
    """(entries, import_files row, more) of what is new in one file: `more` when a slice
    (`max_bytes`) left some for later; the row is None when the file must wait."""
    if tool == "llm":
        from shim.telemetry.imports import llm

        same_db = known is not None and (known["dev"], known["inode"]) == tuple(ident[:2])
        state = json.loads(known["state"]) if same_db and known["state"] else {}
        limit = ADMISSION_LLM_ROWS if max_bytes else None
        entries, state = llm.read(path, state, limit)
        more = bool(limit and len(entries) >= limit)
        stored = ident if not more else (*ident[:2], -1, ident[3])
        return entries, file_row(path, tool, stored, 0, None, state), more
    if max_bytes and path.endswith(".zst"):
        return [], None, True
    if logfile.still_appended(path, known, ident):
        offset, state = known["offset"], json.loads(known["state"] or "{}")
    else:
        offset, state = 0, {}
    data, new_offset, tail = logfile.read_span(path, offset, max_bytes)
    if tool == "claude":
        from shim.telemetry.imports import claude

        entries, state = claude.parse(data, state)
    else:
        from shim.telemetry.imports import codex

        entries, state = codex.parse(data, state, path)
    stored = ident
    if not path.endswith(".zst") and new_offset < ident[2]:
        stored = (*ident[:2], new_offset, ident[3])  # a partial line or a slice: look again
    more = bool(max_bytes) and ident[2] - offset > max_bytes
    return entries, file_row(path, tool, stored, new_offset, tail, state), more


def file_row(path, tool, ident, offset, tail, state):
    return (path, tool, ident[0], ident[1], ident[2], ident[3], offset, tail,
            json.dumps(state), time.time())


class _Counted:
    """What the shim already counted: harvest claims, and shim calls' session windows."""

    def __init__(self, conn):
        self.conn = conn
        self._claims = None
        self._windows = None

    def covers(self, entry):
        if self._claims is None:  # kept a week (store.CLAIMS_TTL): a bounded set
            self._claims = set(self.conn.execute(
                "SELECT tool, key FROM harvest_claims WHERE invocation_id NOT LIKE 'import:%'"))
            self._windows = {}
        if (entry["tool"], entry["key"]) in self._claims:
            return True
        session = entry.get("session_id")
        if not session:
            return False
        windows = self._windows.get(session)
        if windows is None:  # the shim calls of this session (index attempts_session)
            windows = self._windows[session] = self.conn.execute(
                "SELECT started_at, IFNULL(ended_at, started_at) FROM attempts "
                "WHERE session_id = ? AND source IS NULL", (session,)).fetchall()
        ts = entry["ts"]
        for start, end in windows:
            if start - WINDOW_SLACK_SECONDS <= ts <= end + WINDOW_SLACK_SECONDS:
                return True
        return False


class _Writer:
    """Prices entries, sums them into import rows and writes both (`import_entries` and the
    `attempts` rows, or `counters` rows under `privacy: off`).

    An entry seen before (another file holding the same message, a file read again) adds
    only what it grew by; one that did not grow adds nothing."""

    def __init__(self, conn, cfg, table, summary):
        from shim.telemetry import models, record

        self.conn, self.cfg, self.table, self.summary = conn, cfg, table, summary
        self.counters = record.privacy_mode(cfg, None) == "off"
        self._facts = models.model_facts
        self._project = record.recorded_project
        self._git = record.private_git  # policies.project applies to the branch too
        self._projects, self._models, self._price_rows, self._row_ids = {}, {}, {}, {}
        self.batch = {}        # (tool, key) -> entry, the largest of this batch
        self.seen = {}         # (tool, key) -> stored values, this run
        self.stored_empty = conn.execute(
            "SELECT 1 FROM import_entries LIMIT 1").fetchone() is None
        try:
            self.host = socket.gethostname()
        except OSError:
            self.host = None

    @property
    def pending(self):
        return len(self.batch)

    def add(self, entry):
        ident = (entry["tool"], entry["key"])
        old = self.batch.get(ident)
        if old is None or _larger(entry, old):
            self.batch[ident] = entry

    def tally_only(self):
        for entry in self.batch.values():
            self._tally(entry, self._price(entry))

    def commit(self, files):
        entries, self.batch = self.batch, {}
        previous = self._stored(entries)
        rows, stored = {}, []
        for ident, entry in entries.items():
            old = previous.get(ident)
            if old is not None and not _larger(entry, old):
                continue
            cost = self._price(entry)
            self._tally(entry, cost, old)
            values = [entry.get(k) for k in TOKEN_KEYS] + [cost]
            if old is None:
                row_id = self._row_id(entry)
                delta = values + [1]
                ts = entry["ts"]
            else:
                row_id, ts = old["row_id"], old["ts"]
                delta = [_minus(a, b) for a, b in zip(values, old["values"])] + [0]
            self.seen[ident] = {"row_id": row_id, "ts": ts, "values": values}
            stored.append((*ident, row_id, ts, entry.get("session_id"), *values))
            self._sum_into(rows, row_id, entry, ts, delta)
        stored.sort()  # in key order: the B-tree is appended to, not scattered over
        with store.transaction(self.conn):
            self.conn.executemany(
                "INSERT INTO import_entries (tool, key, row_id, ts, session_id, input_tokens, "
                "output_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens, "
                "cost_usd) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (tool, key) "
                "DO UPDATE SET input_tokens = excluded.input_tokens, output_tokens = "
                "excluded.output_tokens, cache_read_tokens = excluded.cache_read_tokens, "
                "cache_write_tokens = excluded.cache_write_tokens, reasoning_tokens = "
                "excluded.reasoning_tokens, cost_usd = excluded.cost_usd", stored)
            for row in rows.values():
                sums = row.pop("sums")
                row.update(zip(_SUMMED, sums[:6] + [sums[5], sums[6]]))
            _upsert_rows(self.conn, list(rows.values()), self.counters)
            self.conn.executemany(
                "INSERT INTO import_files (path, tool, dev, inode, size, mtime_ns, offset, "
                "tail, state, imported_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (path) DO UPDATE SET tool = excluded.tool, dev = excluded.dev, "
                "inode = excluded.inode, size = excluded.size, mtime_ns = excluded.mtime_ns, "
                "offset = excluded.offset, tail = excluded.tail, state = excluded.state, "
                "imported_at = excluded.imported_at", files)
        self.stored_empty = False
        self.summary["new"] += len(stored)

    def _stored(self, entries):
        """{ident: {"row_id", "ts", "values"}} of the batch's entries stored before."""
        found = {i: self.seen[i] for i in entries if i in self.seen}
        if self.stored_empty:
            return found
        rest = [i for i in entries if i not in found]
        for i in range(0, len(rest), 400):
            chunk = rest[i:i + 400]
            where = " OR ".join(["(tool = ? AND key = ?)"] * len(chunk))
            for row in self.conn.execute(
                    "SELECT tool, key, row_id, ts, input_tokens, output_tokens, "
                    "cache_read_tokens, cache_write_tokens, reasoning_tokens, cost_usd "
                    f"FROM import_entries WHERE {where}", [v for c in chunk for v in c]):
                found[(row[0], row[1])] = {"row_id": row[2], "ts": row[3],
                                           "values": list(row[4:])}
        return found

    def _price(self, entry):
        model = entry.get("model")
        try:
            row = self._price_rows[model]
        except KeyError:
            row = self._price_rows[model] = prices.lookup(self.table, model) if model else None
        if row is None:
            return None
        try:
            return prices.part_cost(entry, row)
        except (TypeError, ValueError, KeyError):
            return None

    def _tally(self, entry, cost, old=None):
        cell = self.summary["tokens"].get(entry["tool"])
        if cell is None:
            cell = self.summary["tokens"][entry["tool"]] = [0, 0, 0, 0]
        cell[0] += entry["input_tokens"] or 0
        cell[1] += entry["output_tokens"] or 0
        cell[2] += entry["cache_read_tokens"] or 0
        cell[3] += entry["cache_write_tokens"] or 0
        if old is not None:
            before = old["values"]
            for i in range(4):
                cell[i] -= before[i] or 0
        if cost is None:
            self.summary["unpriced"] += 1
        else:
            self.summary["cost_usd"] += cost - ((old["values"][5] or 0) if old else 0)

    def _row_id(self, entry):
        """`import:<tool>:<hash>` of the session, quarter hour, model, branch and cwd: the
        same for every entry of one row, in every run."""
        group = (entry["tool"], entry.get("session_id") or "", int(entry["ts"] // BUCKET_SECONDS),
                 entry.get("model") or "", entry.get("git_branch") or "", entry.get("cwd") or "")
        row_id = self._row_ids.get(group)
        if row_id is None:
            digest = hashlib.blake2b(repr(group).encode("utf-8", "surrogatepass"),
                                     digest_size=10).hexdigest()
            row_id = self._row_ids[group] = f"{PREFIX}{entry['tool']}:{digest}"
        return row_id

    def _sum_into(self, rows, row_id, entry, ts, delta):
        """`delta`: the 5 token counts, the cost and the entry count to add to the row."""
        row = rows.get(row_id)
        if row is None:
            row = rows[row_id] = self._new_row(row_id, entry, ts)
            row["sums"] = list(delta)
            return
        if ts < row["started_at"]:
            row["started_at"] = ts
        elif ts > row["ended_at"]:
            row["ended_at"] = ts
        sums = row["sums"]
        for i, value in enumerate(delta):
            if value is not None:
                sums[i] = value if sums[i] is None else sums[i] + value

    def _new_row(self, row_id, entry, ts):
        model = entry.get("model")
        facts = self._models.get((entry["tool"], model))
        if facts is None:
            facts = {"model": model, "provider": None, "tier": None}
            self._facts(facts, self.cfg)
            if facts["provider"] is None:  # a model the config does not list (a dated id):
                # the tool's provider when it has one, so provider budgets count it
                providers = ((self.cfg.get("tools") or {}).get(entry["tool"]) or {}).get(
                    "providers") or ()
                facts["provider"] = providers[0] if len(providers) == 1 else None
            row = prices.lookup(self.table, model) if model else None
            facts["cost_source"] = ("unknown" if row is None else
                                    "estimated" if row.get("source") == "estimate" else
                                    "computed")
            self._models[(entry["tool"], model)] = facts
        row = {"invocation_id": row_id, "attempt": 0, "started_at": ts, "ended_at": ts,
               "tool": entry["tool"], "model": model, "provider": facts["provider"],
               "tier": facts["tier"], "cost_source": facts["cost_source"],
               "price_version": self.table.get("version"), "blocked": 0}
        if self.counters:
            return row
        cwd = entry.get("cwd")
        if cwd not in self._projects:
            self._projects[cwd] = self._project(self.cfg, cwd)
        row.update(host=self.host, agent=None, session_id=entry.get("session_id"),
                   project=self._projects[cwd], prompt_chars=entry.get("prompt_chars"),
                   usage_source=SOURCE, source=SOURCE,
                   git_branch=self._git(self.cfg, entry.get("git_branch")),
                   shim_version=__version__)
        return row


def _larger(entry, old):
    """True when `entry` carries more usage than `old` (an entry or stored values)."""
    values = old["values"] if "values" in old else [old.get(k) for k in TOKEN_KEYS]
    out, was_out = entry.get("output_tokens") or 0, values[1] or 0
    if out != was_out:
        return out > was_out
    size = sum(entry.get(k) or 0 for k in ("input_tokens", "cache_read_tokens",
                                           "cache_write_tokens"))
    return size > (values[0] or 0) + (values[2] or 0) + (values[3] or 0)


def _minus(a, b):
    return None if a is None and b is None else (a or 0) - (b or 0)


def _plus(a, b):
    return None if a is None and b is None else (a or 0) + (b or 0)


def _upsert_rows(conn, rows, counters):
    """Insert import rows, or add to the ones there (the rollup triggers follow)."""
    if not rows:
        return
    from shim.telemetry.migrations import ATTEMPT_COLUMNS, COUNTER_COLUMNS, IMPORT_COLUMNS

    table, columns = (("counters", COUNTER_COLUMNS) if counters
                      else ("attempts", ATTEMPT_COLUMNS + IMPORT_COLUMNS))
    summed = [c for c in _SUMMED if c in columns]
    sets = ["started_at = MIN(started_at, excluded.started_at)",
            "ended_at = MAX(ended_at, excluded.ended_at)"]
    sets += [f"{c} = CASE WHEN {c} IS NULL AND excluded.{c} IS NULL THEN NULL "
             f"ELSE IFNULL({c}, 0) + IFNULL(excluded.{c}, 0) END" for c in summed]
    sql = (f"INSERT INTO {table} ({', '.join(columns)}) "
           f"VALUES ({', '.join('?' * len(columns))}) "
           f"ON CONFLICT (invocation_id, attempt) DO UPDATE SET {', '.join(sets)}")
    conn.executemany(sql, [tuple(row.get(c) if c not in ("blocked", "budget_override") else 0
                                 for c in columns) for row in rows])


def supersede(conn, attempts, claims):
    """Take out of the import rows what shim attempts being ingested now account for: the
    entries their harvest claimed, and their sessions' entries inside their time windows.
    Call it in ingestion's transaction, after the inserts."""
    victims = {}
    columns = ("tool, key, row_id, input_tokens, output_tokens, cache_read_tokens, "
               "cache_write_tokens, reasoning_tokens, cost_usd")
    for (tool, key), owner in (claims or {}).items():
        if owner is not None:
            for row in conn.execute(f"SELECT {columns} FROM import_entries WHERE tool = ? "
                                    "AND key = ?", (tool, key)):
                victims[row[:2]] = row
    for attempt in attempts:
        if attempt.get("session_id") and attempt.get("started_at") is not None:
            end = attempt.get("ended_at") or attempt["started_at"]
            for row in conn.execute(
                    f"SELECT {columns} FROM import_entries WHERE session_id = ? AND ts >= ? "
                    "AND ts <= ?", (attempt["session_id"],
                                    attempt["started_at"] - WINDOW_SLACK_SECONDS,
                                    end + WINDOW_SLACK_SECONDS)):
                victims[row[:2]] = row
    if not victims:
        return
    for table in ("attempts", "counters"):
        has_count = table == "attempts"
        conn.executemany(
            f"UPDATE {table} SET input_tokens = input_tokens - IFNULL(?, 0), "
            "output_tokens = output_tokens - IFNULL(?, 0), "
            "cache_read_tokens = cache_read_tokens - IFNULL(?, 0), "
            "cache_write_tokens = cache_write_tokens - IFNULL(?, 0), "
            "reasoning_tokens = reasoning_tokens - IFNULL(?, 0), "
            "cost_usd = cost_usd - IFNULL(?, 0)"
            + (", computed_cost_usd = computed_cost_usd - IFNULL(?, 0), "
               "entry_count = entry_count - 1" if has_count else "")
            + " WHERE invocation_id = ? AND attempt = 0",
            [(*v[3:9], *((v[8],) if has_count else ()), v[2]) for v in victims.values()])
    conn.executemany("DELETE FROM import_entries WHERE tool = ? AND key = ?", list(victims))
    conn.executemany("DELETE FROM attempts WHERE invocation_id = ? AND attempt = 0 AND "
                     "entry_count <= 0", [(v[2],) for v in victims.values()])


# --- automatic refresh ---------------------------------------------------------------------

def refresh(conn, cfg=None, environ=None, *, bounded=False, what="report", quiet=False):
    """Bring the store up to date before `what` answers, when automatic import is on.

    Unbounded (report, logs, budget): imports every changed file. Bounded (budget admission,
    each `watch` frame): at most ADMISSION_SECONDS and ADMISSION_BYTES per file. Never raises
    (imports/auto.py). Returns the summary, or None when off, busy (another import runs) or
    failed."""
    from shim.telemetry.imports import auto

    return auto.refresh(conn, cfg, environ, bounded=bounded, what=what, quiet=quiet)


def write_stamp(conn, before, visited, found):
    """Leave the stamp that lets admission skip this package (shim.telemetry.importstamp) when
    the store now holds every scanned file as scanned; drop it otherwise."""
    known = _known(conn)
    if all(_same(known.get(path), ident) for _tool, path, ident in found):
        main = [row for row in conn.execute("PRAGMA database_list") if row[1] == "main"]
        importstamp.write(before, visited, found, main[0][2] if main else None, len(known))
    else:
        importstamp.forget()


class _lock:
    """An exclusive lock on data_dir()/import.lock: one import at a time per store."""

    def __init__(self, blocking=True):
        self.blocking = blocking
        self.fd = None

    def __enter__(self):
        directory = paths.data_dir()
        paths.ensure_dir(directory)
        self.fd = os.open(os.path.join(directory, LOCK_NAME),
                          os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        children.lock_fds.add(self.fd)  # closed in forked workers (imports/children.py)
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | (0 if self.blocking else fcntl.LOCK_NB))
        except BlockingIOError:
            return False
        return True

    def __exit__(self, *exc):
        children.lock_fds.discard(self.fd)
        os.close(self.fd)
        return False


lock = _lock
