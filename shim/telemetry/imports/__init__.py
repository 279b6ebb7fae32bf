"""`llm-shim import`: usage the shims did not see, from the tools' own logs (docs/telemetry.md
"Import").

Incremental: `import_files` remembers each log file's identity (device, inode, size, mtime)
and the byte offset read so far, so a run parses only what was appended; a file that was
truncated or rewritten (another inode, shorter, or other bytes before the offset) is read again
from the start. When no file's identity changed nothing is parsed at all: that check (one
stat per file) is what `report`, `logs`, `budget` and budget admission pay before answering.

Idempotent: each imported entry is kept once, keyed by (tool, key) (`import_entries` maps it
to its import row, whose `entries` hold its values: m016), summed into an import row of
`attempts` (`import:<tool>:<hash>`, attempt 0): one per session, model,
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
import json
import os
import struct
import sys
import time
from functools import reduce
from operator import add

from shim import __version__, paths
from shim.telemetry import importstamp, prices, store
from shim.telemetry.imports import children, logfile, slices, sources, validate
from shim.telemetry.imports.problems import unreadable_reason
from shim.telemetry.migrations import hash64

PREFIX = "import:"
SOURCE = "import"
# Test hook: exit abruptly after this many files were committed (an interrupted import).
CRASH_ENV = "LLM_SHIM_IMPORT_CRASH_AFTER"
BATCH_ENTRIES = 50000
CHECKPOINT_AT = 0.6   # a large import copies its WAL into the database once past this share
ENTRY_ROWS = 200   # import_entries rows per INSERT statement (2 values each: SQLite allows
#                    32,766 since 3.32, 999 before)
PARALLEL_MIN_FILES = 16   # fewer changed files are read in this process
PARALLEL_MAX_WORKERS = 4
BUCKET_SECONDS = 900   # an import row sums one UTC quarter hour (the report's finest bucket)
WINDOW_SLACK_SECONDS = 2.0
LOCK_NAME = "import.lock"
# Budget admission imports at most this much per call (the rest on later calls or reports).
ADMISSION_SECONDS = 0.05
ADMISSION_BYTES = 4 * 1024 * 1024
ADMISSION_LLM_ROWS = 2000
TOKEN_KEYS = validate.TOKEN_FIELDS  # record.TOKEN_KEYS
_SUMMED = TOKEN_KEYS + ("cost_usd", "computed_cost_usd", "entry_count")


ENTRY = validate.ENTRY  # what the parsers give per entry (a tuple in this order)
# A stored entry, as import_entries holds it (m013): hash64 of tool and key, hash64 of the
# import row's invocation_id, the first time seen, the five token counts, the cost.
_VALUES = slice(3, 9)    # the five token counts and the cost of a stored entry
_CACHE_PAGES_KIB = 65536  # the import connection's page cache (SQLite's default is 2 MB)
_WAL_AUTOCHECKPOINT = 1000  # pages: SQLite's default, restored after an import
_SIGNED64 = struct.Struct(">q")


def run(conn, cfg=None, environ=None, *, since=None, dry_run=False, deadline=None,
        max_bytes=None, found=None, early=None):
    """Import every log file that changed since the last run. Returns a summary dict:
    files (seen), changed, read, entries, new (entries stored or grown), counted_by_shim,
    before_since, remaining (changed files left for later: past `deadline` or not readable in
    a slice), tokens {tool: [input, output, cache read, cache write]}, cost_usd, unpriced,
    unreadable [paths].

    `since` (epoch seconds) drops older entries; `dry_run` writes nothing but counts what a
    real run would store; `deadline` (time.monotonic()) and `max_bytes` (per file) bound a
    slice. `early`: what start_early started, used when the store still knows no file
    (else its workers are stopped and the files read here)."""
    environ = os.environ if environ is None else environ
    known = _known(conn)
    if early is not None and (known or dry_run or deadline is not None or max_bytes
                              or environ.get(CRASH_ENV)):
        early.close()  # another import filled the store meanwhile: read what is left here
    if early is not None and not early.closed:
        found, cfg = early.found, early.cfg
    else:
        early = None
    found = sources.scan(sources.roots(environ)) if found is None else found
    changed = [(t, p, i) for t, p, i in found if not _same(known.get(p), i)]
    summary = {"files": len(found), "changed": len(changed), "read": 0, "entries": 0,
               "new": 0, "counted_by_shim": 0, "before_since": 0, "remaining": 0,
               "tokens": {}, "cost_usd": 0.0, "unpriced": 0, "unreadable": [],
               "malformed": 0, "unreadable_reasons": {}}
    if not changed:
        if early is not None:
            early.close()
        return summary
    if cfg is None:
        from shim.telemetry import models

        cfg = models.load_config()
    import gc

    collecting = gc.isenabled() or (early is not None and early.collecting)
    gc.disable()  # hundreds of thousands of tuples and no cycles: the collector only costs
    try:
        _run(conn, cfg, environ, changed, known, summary, since, dry_run, deadline, max_bytes,
             early)
    finally:
        if early is not None:
            early.close()
        if collecting:
            gc.enable()
    return summary


class _Early:
    """A first import's worker pool, started before the store it writes to is made."""

    def __init__(self, found, cfg, table, jobs, collecting):
        self.found, self.cfg, self.table, self.jobs = found, cfg, table, jobs
        self.collecting = collecting
        self.closed = False
        self.pool, self.results = _start_pool(jobs, table)

    def parsed(self):
        yield from _collect(self.pool, self.jobs, self.results)

    def close(self):
        """Stop the workers (those busy finish their file first); idempotent."""
        if self.closed:
            return
        self.closed = True
        self.pool.shutdown(wait=True, cancel_futures=True)
        if self.collecting:
            import gc

            gc.enable()


def start_early(db_path, environ=None):
    """The worker pool of a first import, started (and fed every file) before the store
    `db_path` is created: a store that does not exist yet knows no file, so every scanned file
    is read, and the workers parse while this process makes the store (its migrations),
    ingests and takes the lock. None when the store exists or the import is not parallel.
    Hand the result to run(early=...), or close() it."""
    environ = os.environ if environ is None else environ
    if os.path.exists(db_path) or environ.get(CRASH_ENV) or _workers() < 2:
        return None
    found = sources.scan(sources.roots(environ))
    if len(found) < PARALLEL_MIN_FILES:
        return None
    from shim.telemetry import models

    import gc

    cfg = models.load_config()
    jobs = [(tool, path, ident, None, None) for tool, path, ident in found]
    collecting = gc.isenabled()
    gc.disable()  # see run(): the results arrive from now on
    try:
        return _Early(found, cfg, prices.load_table(cfg), jobs, collecting)
    except BaseException:
        if collecting:
            gc.enable()
        raise


def _run(conn, cfg, environ, changed, known, summary, since, dry_run, deadline, max_bytes,
         early=None):
    table = prices.load_table(cfg) if early is None else early.table
    counted = _Counted(conn)
    writer = _Writer(conn, cfg, table, summary)
    crash_after = int(environ.get(CRASH_ENV) or 0)
    done_files, committed = [], 0
    jobs = [(tool, path, ident, known.get(path), max_bytes) for tool, path, ident in changed]
    parallel = deadline is None and not crash_after and len(jobs) >= PARALLEL_MIN_FILES
    tools = {job[1]: job[0] for job in jobs}
    pricer = None  # for files read in this process (a slice, a few files)
    # A large import does not checkpoint after each batch (each checkpoint copies every page
    # its batch touched, and the batches touch most of import_entries, whose keys are
    # hashes): the WAL is copied into the database once while the workers still parse
    # (after the first commit past CHECKPOINT_AT of the bytes), and the rest at the end.
    deferred = halfway = parallel and not dry_run
    sizes = {job[1]: job[2][2] for job in jobs}
    left = sum(sizes.values()) * CHECKPOINT_AT  # bytes to hand over before that checkpoint
    if not dry_run:
        conn.execute(f"PRAGMA cache_size = -{_CACHE_PAGES_KIB:d}")
    if deferred:
        conn.execute("PRAGMA wal_autocheckpoint = 0")
    try:
        # A slice keeps every file it parsed; the files it did not start wait for the next.
        files = (early.parsed() if early is not None
                 else _parsed(jobs, parallel, table) if deadline is None
                 else slices.parsed(jobs, deadline))
        started = 0
        for path, result in files:
            started += 1
            left -= sizes[path]
            if result is None or isinstance(result, str):
                summary["unreadable"].append(path)
                summary["unreadable_reasons"][path] = result or "unreadable"
                continue
            parsed, file_row_, more = result
            if file_row_ is None:  # a compressed file in a bounded slice
                summary["remaining"] += 1
                continue
            if more:  # a slice stopped short of the end: the rest next time
                summary["remaining"] += 1
            summary["read"] += 1
            if not isinstance(parsed, _Parsed):
                pricer = pricer or _Pricer(table)
                parsed = _Parsed(tools[path], parsed, pricer)
            writer.add(parsed, counted, since)
            done_files.append(file_row_)
            if not dry_run and (writer.batched >= BATCH_ENTRIES or crash_after):
                writer.commit(done_files)
                committed += len(done_files)
                done_files = []
                if halfway and left <= 0:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                    halfway = False
                if crash_after and committed >= crash_after:
                    os._exit(9)
        summary["remaining"] += len(changed) - started
        if dry_run:
            summary["new"] += writer.batched
        elif writer.batched or done_files or writer.rows:
            writer.commit(done_files)
    finally:
        if not dry_run:
            conn.execute("PRAGMA cache_size = -2000")  # SQLite's default again
        if deferred:
            conn.execute(f"PRAGMA wal_autocheckpoint = {_WAL_AUTOCHECKPOINT:d}")
    if deferred:
        conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()


def _parsed(jobs, parallel, table):
    """(path, _read's result or None when unreadable) per job, in order: read in
    worker processes (one per core, as the files are independent) when `parallel`, so the
    parsing of the next files overlaps the writing of the last ones."""
    if not parallel or _workers() < 2:
        for job in jobs:
            yield job[1], read_job(job)
        return
    pool, results = _start_pool(jobs, table)
    yield from _collect(pool, jobs, results)


def _workers():
    return min(os.cpu_count() or 1, PARALLEL_MAX_WORKERS)


def _start_pool(jobs, table):
    """(pool, its results in the order of `jobs`): the workers start, every job handed over."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    methods = multiprocessing.get_all_start_methods()
    forked = sys.platform == "linux" and "fork" in methods
    context = multiprocessing.get_context("fork" if forked else None)
    if forked:  # what every worker imports, imported once here (~25 ms): forks share it
        children.preload("hashlib", "shim.telemetry.imports.claude",
                         "shim.telemetry.imports.codex")
    pool = ProcessPoolExecutor(max_workers=_workers(), mp_context=context,
                               initializer=_worker_init,
                               initargs=(table, children.init_args()))
    try:
        return pool, pool.map(children.read_job, jobs)
    except BaseException:
        pool.shutdown(wait=True, cancel_futures=True)
        raise


def _collect(pool, jobs, results):
    with pool:
        for job, result in zip(jobs, results):
            yield job[1], result


_worker_pricer = None   # set in each worker process: its files are priced and summed there


def _worker_init(table, child_args):
    import gc

    global _worker_pricer
    children.init(*child_args)
    gc.disable()  # see run()
    _worker_pricer = _Pricer(table)


def read_job(job):
    """_read's result, or the reason (a str) the file could not be read. A large plain log
    is read in pieces (slices.read_bounded, no deadline): bounded memory. In a worker process
    the entries come back as a _Parsed (hashed, priced and summed there)."""
    try:
        if job[0] != "llm" and not job[1].endswith(".zst") \
                and job[2][2] > slices.LARGE_FILE_BYTES:
            result = slices.read_bounded(*job, float("inf"))
        else:
            result = _read(*job)
        if _worker_pricer is not None and isinstance(result[0], list):
            result = (handover(_Parsed(job[0], result[0], _worker_pricer)), *result[1:])
        return result
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
        found, state = llm.read(path, state, limit)
        more = bool(limit and len(found) >= limit)
        entries = [tuple(entry.get(k) for k in ENTRY) for entry in found]
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


def entry_key(tool, key):
    """The integer an entry is stored under (import_entries.key): hash64 of tool and key."""
    return hash64(f"{tool}\0{key}")


def row_name(tool, session_id, ts, model, git_branch, cwd):
    """`import:<tool>:<hash>` of the session, quarter hour, model, branch and cwd: the same
    for every entry of one row, in every run."""
    group = (tool, session_id or "", int(ts // BUCKET_SECONDS), model or "", git_branch or "",
             cwd or "")
    import hashlib  # here, not at the top: a report that finds nothing new never needs it

    digest = hashlib.blake2b(repr(group).encode("utf-8", "surrogatepass"),
                             digest_size=10).hexdigest()
    return f"{PREFIX}{tool}:{digest}"


class _Parsed:
    """One file's entries, ready to store, and their sums per import row — worked out where
    the file was parsed (a worker process), so the writing process mostly hands them on.

    `entries`: import_entries tuples (key, row, ts, 5 token counts, cost); `prompts`: each
    entry's prompt_chars; `groups`: row -> [name, tool, session_id, model, git_branch, cwd,
    first prompt_chars, first ts, last ts, 5 token sums, cost, count, unpriced, keys];
    `sessions`: the session ids; `first_ts`: the earliest entry time."""

    def __init__(self, tool, found, pricer):
        self.entries, self.prompts, self.groups = [], [], {}
        self.malformed = 0  # entries validate.entry_ok refused (hostile or broken input)
        entry_ok = validate.entry_ok
        max_ts, max_text, max_tokens = validate.MAX_TS, validate.MAX_TEXT, validate.MAX_TOKENS
        members = {}   # row -> its entries
        names = {}
        cost = pricer.cost
        flat = {}      # model -> its rates when they do not depend on the prompt's size
        # entry_key(tool, key), inline: the 8-byte BLAKE2b goes on from the tool's prefix, its
        # digest read as a signed big-endian integer (int.from_bytes(..., signed=True))
        import hashlib

        hashed = hashlib.blake2b((tool + "\0").encode(), digest_size=8).copy
        signed = _SIGNED64.unpack
        add_entry, add_prompt = self.entries.append, self.prompts.append
        for entry in found:
            # validate.entry_ok, at a fraction of the cost: an entry in the usual shape
            # whose text fields equal those of an entry accepted before (its bucket is in
            # `names`; only a str equals a str, only None equals None) is checked here,
            # anything else by entry_ok itself, so exactly what entry_ok refuses is skipped.
            row = None
            if type(entry) is tuple and len(entry) == 12:
                key, ts, session, model, cwd, branch, prompt, fresh, out, read, write, more \
                    = entry
                if type(ts) is float and 0 <= ts <= max_ts \
                        and type(key) is str and 0 < len(key) <= max_text and key.isascii() \
                        and type(fresh) is int and type(out) is int and type(read) is int \
                        and type(write) is int and 0 <= fresh <= max_tokens \
                        and 0 <= out <= max_tokens and 0 <= read <= max_tokens \
                        and 0 <= write <= max_tokens \
                        and (prompt is None
                             or (type(prompt) is int and 0 <= prompt <= max_tokens)) \
                        and (more is None or (type(more) is int and 0 <= more <= max_tokens)):
                    try:
                        bucket = (session, ts // BUCKET_SECONDS, model, branch, cwd)
                        row = names.get(bucket)
                    except TypeError:  # unhashable: a list or an object where a text belongs
                        pass
            if row is None:
                if not entry_ok(tool, entry):
                    self.malformed += 1
                    continue
                key, ts, session, model, cwd, branch, prompt, fresh, out, read, write, more \
                    = entry
                bucket = (session, ts // BUCKET_SECONDS, model, branch, cwd)
                row = names.get(bucket)
            if row is None:
                name = row_name(tool, session, ts, model, branch, cwd)
                row = names[bucket] = hash64(name)
                if row not in self.groups:
                    self.groups[row] = [name, tool, session, model, branch, cwd, prompt]
                    members[row] = []
            rates = flat.get(model)
            if rates is None:
                rates = flat[model] = pricer.flat_rates(model)
            if rates:  # _Pricer.cost's arithmetic, inline: one call less per entry
                try:
                    price = (0.0 + fresh * rates[0] / 1_000_000 + out * rates[1] / 1_000_000
                             + read * rates[2] / 1_000_000 + write * rates[3] / 1_000_000)
                except TypeError:  # a count is None
                    price = cost(model, (fresh, out, read, write))
            else:  # unpriced, or long-context tiers
                price = cost(model, (fresh, out, read, write))
            digest = hashed()
            digest.update(key.encode())  # valid UTF-8: validate.entry_ok checked it
            entry = (signed(digest.digest())[0], row, ts, fresh, out, read, write, more, price)
            add_entry(entry)
            add_prompt(prompt)
            members[row].append(entry)
        for row, entries in members.items():
            columns = list(zip(*entries))
            group = self.groups[row]
            group += [min(columns[2]), max(columns[2])]
            for column in columns[3:8]:
                if None not in column:
                    group.append(sum(column))
                else:
                    values = [v for v in column if v is not None]
                    group.append(sum(values) if values else None)
            costs = columns[8]
            if None not in costs:  # one by one, in order: the same float as ever
                total = reduce(add, costs)
            else:
                total = None
                for value in costs:
                    if value is not None:
                        total = value if total is None else total + value
            group += [total, len(entries), costs.count(None), list(columns[0])]
        # the earliest of the rows' earliest times (each row has an entry)
        self.first_ts = min(g[7] for g in self.groups.values()) if self.groups else None
        self.sessions = {g[2] for g in self.groups.values()}


def _add(sums, at, values):
    """Add `values` into sums[at:], NULL-aware: None + None stays None, None counts as 0
    beside a number (the SQL upsert does the same)."""
    for i, value in enumerate(values, at):
        if value is not None:
            sums[i] = value if sums[i] is None else sums[i] + value


class _Pricer:
    """prices.part_cost of an entry's tokens, with the model's rates looked up once (per
    model and long-context tier) instead of per entry: the same arithmetic, the same result."""

    def __init__(self, table):
        self.table = table
        self._models = {}   # model -> (rates without a tier, tier thresholds, row) or None
        self._rates = {}

    def cost(self, model, tokens):
        try:
            spec = self._models[model]
        except KeyError:
            spec = self._models[model] = self._spec(model)
        if spec is None:
            return None
        fresh, out, read, write = tokens[0], tokens[1], tokens[2], tokens[3]
        if not (type(fresh) is int and type(out) is int and type(read) is int
                and type(write) is int):
            try:
                fresh, out, read, write = (int(t or 0) for t in tokens[:4])
            except (TypeError, ValueError):
                return None
        rates, thresholds, row = spec
        if thresholds:
            prompt = fresh + read + write
            tier = tuple(prompt > threshold for threshold in thresholds)
            rates = self._rates.get((model, tier))
            if rates is None:
                try:
                    rates = self._rates[(model, tier)] = prices.rates(row, prompt)
                except (TypeError, ValueError, KeyError):
                    return None
        total = 0.0
        total += fresh * rates[0] / 1_000_000
        total += out * rates[1] / 1_000_000
        total += read * rates[2] / 1_000_000
        total += write * rates[3] / 1_000_000
        return total

    def flat_rates(self, model):
        """The model's four rates when its cost is one linear function of the tokens (it has
        no long-context tier), else 0 (unpriced or tiered: `cost` decides per entry). 0, not
        None: false, and cached all the same."""
        try:
            spec = self._models[model]
        except KeyError:
            spec = self._models[model] = self._spec(model)
        if spec is None or spec[1]:
            return 0
        return spec[0]

    def _spec(self, model):
        row = prices.lookup(self.table, model) if model else None
        if row is None:
            return None
        try:
            return prices.rates(row, 0), [t for t, _ in row["tiers"]], row
        except (TypeError, ValueError, KeyError):
            return None


# --- hand-over: what a worker sends the importing process ---------------------------------

# One stored entry's values as import_rows.entries holds them (m016), in its row's key order:
# the time, the five token counts (-1: NULL) and the cost (NaN: NULL; SQLite stores a NaN
# REAL as NULL too), little-endian.
_ENTRY_VALUES = struct.Struct("<d5qd")
_NAN = float("nan")


def handover(parsed):
    """Turn a _Parsed's entries into what the writer stores, per import row: the keys
    (int64), the packed values (_ENTRY_VALUES) and the prompts (int64, -1: none), in file
    order, plus each entry's row in file order (`parsed.order`). Bytes pickle and cross the
    process pool as one object each, where 200,000 tuples cost the importing process most of
    a second to rebuild; a first import then stores the rows' bytes as they come."""
    by_row = {}
    pack = _ENTRY_VALUES.pack
    nan = _NAN
    for (_key, row, ts, a, b, c, d, e, cost), prompt in zip(parsed.entries, parsed.prompts):
        found = by_row.get(row)
        if found is None:
            found = by_row[row] = ([], [])
        found[0].append(pack(ts, -1 if a is None else a, -1 if b is None else b,
                             -1 if c is None else c, -1 if d is None else d,
                             -1 if e is None else e, nan if cost is None else cost))
        found[1].append(-1 if prompt is None else prompt)
    for row, group in parsed.groups.items():
        values, prompts = by_row.get(row, ([], []))
        group[17] = _pack(group[17])
        group.append(b"".join(values))
        group.append(_pack(prompts))
    parsed.order = _pack([e[1] for e in parsed.entries])
    parsed.entries = parsed.prompts = None
    return parsed


def _entries_of(row, keys, values):
    """The stored tuples (key, row, ts, 5 token counts, cost) of packed keys and values."""
    out = []
    add = out.append
    for key, (ts, a, b, c, d, e, cost) in zip(_unpack(keys), _ENTRY_VALUES.iter_unpack(values)):
        add((key, row, ts, None if a < 0 else a, None if b < 0 else b, None if c < 0 else c,
             None if d < 0 else d, None if e < 0 else e, None if cost != cost else cost))
    return out


def _pack_entry(entry):
    ts, *tokens, cost = entry[2:9]
    return _ENTRY_VALUES.pack(ts, *(-1 if t is None else t for t in tokens),
                              _NAN if cost is None else cost)


class _Counted:
    """What the shim already counted: harvest claims, and shim calls' session windows."""

    def __init__(self, conn):
        self.conn = conn
        self._claims = None
        self._windows = {}

    def _load(self):
        if self._claims is None:  # kept a week (store.CLAIMS_TTL): a bounded set
            self._claims = {entry_key(tool, key) for tool, key in self.conn.execute(
                "SELECT tool, key FROM harvest_claims WHERE invocation_id NOT LIKE 'import:%'")}

    def none_of(self, parsed, keys):
        """True when the shim counted none of the file's entries (`keys`; the common case)."""
        self._load()
        if self._claims and not self._claims.isdisjoint(keys):
            return False
        return not any(self._session_windows(s) for s in parsed.sessions if s)

    def covers(self, key, session, ts):
        if self._claims is None:
            self._load()
        if key in self._claims:
            return True
        if not session:
            return False
        windows = self._windows.get(session)
        for start, end in self._session_windows(session) if windows is None else windows:
            if start - WINDOW_SLACK_SECONDS <= ts <= end + WINDOW_SLACK_SECONDS:
                return True
        return False

    def _session_windows(self, session):
        windows = self._windows.get(session)
        if windows is None:  # the shim calls of this session (index attempts_session)
            windows = self._windows[session] = self.conn.execute(
                "SELECT started_at, IFNULL(ended_at, started_at) FROM attempts "
                "WHERE session_id = ? AND source IS NULL", (session,)).fetchall()
        return windows


class _Writer:
    """Sums entries into import rows and writes both (`import_entries`, `import_rows` and the
    `attempts` rows, or `counters` rows under `privacy: off`), with the offsets read, in one
    transaction per batch.

    An entry seen before (another file holding the same message, a file read again) adds
    only what it grew by; one that did not grow adds nothing. A file whose entries are all
    new, none counted by the shim and none before `since` — every file of a first import —
    takes its row sums and packed entries as the worker made them (handover); the others go
    entry by entry."""

    def __init__(self, conn, cfg, table, summary):
        from shim.telemetry import models, record

        self.conn, self.cfg, self.table, self.summary = conn, cfg, table, summary
        self.counters = record.privacy_mode(cfg, None) == "off"
        self._facts = models.model_facts
        self._project = record.recorded_project
        self._git = record.private_git  # policies.project applies to the branch too
        self._projects, self._models = {}, {}
        self.known = set()   # the key of every entry stored or batched this run
        self.pending = {}    # entry key -> stored tuple, of entries taken one by one this batch
        self._handed = None  # entry key -> row, of entries handed over whole this batch (built
        #                      when an entry taken one by one needs it)
        self.grown = {}      # entry key -> stored tuple, of entries stored before that grew
        self.batched = 0     # entries this batch writes (new or grown)
        self.rows = {}       # row -> [name, tool, session, model, branch, cwd, prompt, first,
        #                       last, 5 token sums, cost, count, unpriced, new keys (packed),
        #                       their values (packed)] to add
        self.names = {}      # row -> invocation_id, every row of this run
        self.had_entries = conn.execute(
            "SELECT 1 FROM import_entries LIMIT 1").fetchone() is not None
        try:
            import socket  # here: a report that finds nothing new never needs it

            self.host = socket.gethostname()
        except OSError:
            self.host = None

    def add(self, parsed, counted, since):
        """Take one file's entries."""
        if parsed.entries is not None:  # read in this process
            handover(parsed)
        count = len(parsed.order) // 8
        self.summary["entries"] += count + parsed.malformed
        self.summary["malformed"] += parsed.malformed
        if not count:
            return
        groups = parsed.groups
        keys = _unpack(b"".join(g[17] for g in groups.values()))
        stored = self._stored(keys)
        if (not stored and (since is None or parsed.first_ts >= since)
                and self.known.isdisjoint(keys) and counted.none_of(parsed, keys)):
            known = len(self.known)
            self.known.update(keys)
            if len(self.known) - known == count:  # no key twice (the parsers keep one per key)
                for row, group in groups.items():
                    self._take_group(row, group)
                self.batched += count
                return
            self.known.difference_update(keys)
        entries = {row: iter(zip(_entries_of(row, g[17], g[18]), _unpack(g[19])))
                   for row, g in groups.items()}
        for row in _unpack(parsed.order):  # file order: sums add up as they always did
            entry, prompt = next(entries[row])
            self._add_entry(parsed, entry, None if prompt < 0 else prompt, stored, counted,
                            since)

    def _take_group(self, row, group):
        self.names[row] = group[0]
        if self._handed is not None:
            from itertools import repeat

            self._handed.update(zip(_unpack(group[17]), repeat(row)))
        acc = self.rows.get(row)
        if acc is None:
            self.rows[row] = [*group[:17], bytearray(group[17]), bytearray(group[18])]
        else:
            if group[7] < acc[7]:
                acc[7] = group[7]
            if group[8] > acc[8]:
                acc[8] = group[8]
            _add(acc, 9, group[9:17])
            acc[17] += group[17]
            acc[18] += group[18]
        self._tally(group[1], group[9:15], group[16])

    def _add_entry(self, parsed, entry, prompt, stored, counted, since):
        key, row, ts = entry[:3]
        group = parsed.groups[row]
        if since is not None and ts < since:
            self.summary["before_since"] += 1
            return
        if counted.covers(key, group[2], ts):
            self.summary["counted_by_shim"] += 1
            return
        seen = key in self.known
        old, batched = self._taken(key) if seen else (stored.get(key), False)
        if old is None and seen:  # taken this run, and gone since (supersede)
            return
        if old is None:
            delta, count, new = entry[_VALUES], 1, entry
        elif _larger(entry, old):
            new = (key, old[1], old[2], *entry[_VALUES])
            delta, count = [_minus(a, b) for a, b in zip(entry[_VALUES], old[_VALUES])], 0
            row, ts = old[1], old[2]
        else:
            return
        if not batched:
            self.batched += 1  # else it is in this batch already
        self.pending[key] = new
        self.known.add(key)
        if count == 0:
            self.grown[key] = new
        acc = self.rows.get(row)
        if acc is None:
            name = self.names.get(row) or group[0] if row == entry[1] else self._name(row)
            self.names[row] = name
            acc = self.rows[row] = [name, *group[1:6], prompt, ts, ts,
                                    None, None, None, None, None, None, 0, 0,
                                    bytearray(), bytearray()]
        elif ts < acc[7]:
            acc[7] = ts
        elif ts > acc[8]:
            acc[8] = ts
        if count:
            acc[17] += _pack([key])
            acc[18] += _pack_entry(new)
        unpriced = 1 if count and new[8] is None else 0  # a grown entry was counted already
        _add(acc, 9, (*delta, count, unpriced))
        self._tally(group[1], delta, unpriced)

    def _taken(self, key):
        """(stored tuple, in this batch) of an entry this run already took."""
        found = self.pending.get(key)
        if found is not None:
            return found, True
        if self._handed is None:
            from itertools import repeat

            self._handed = {}
            for row, acc in self.rows.items():
                self._handed.update(zip(_unpack(bytes(acc[17])), repeat(row)))
        row = self._handed.get(key)
        if row is not None:  # handed over whole in this batch
            acc = self.rows[row]
            for entry in _entries_of(row, bytes(acc[17]), bytes(acc[18])):
                if entry[0] == key:
                    return entry, True
        return self._stored([key], known=False).get(key), False

    def _tally(self, tool, delta, unpriced):
        cell = self.summary["tokens"].get(tool)
        if cell is None:
            cell = self.summary["tokens"][tool] = [0, 0, 0, 0]
        for i in range(4):
            cell[i] += delta[i] or 0
        self.summary["unpriced"] += unpriced
        self.summary["cost_usd"] += delta[5] or 0

    def _name(self, row):
        name = self.names.get(row)
        if name is None:
            found = self.conn.execute("SELECT invocation_id FROM import_rows WHERE id = ?",
                                      (row,)).fetchone()
            name = found[0] if found else None
        return name

    def _stored(self, keys, known=True):
        """{key: stored tuple} of the entries stored before this batch (before this run
        began, unless `known` is false: then also the ones this run committed)."""
        if not self.had_entries and known:
            return {}
        rest = [k for k in keys if k not in self.known] if known else list(keys)
        return stored_entries(self.conn, rest)

    def commit(self, files):
        rows, self.rows = self.rows, {}
        grown, self.grown = self.grown, {}
        self.summary["new"] += self.batched
        self.pending, self.batched, self._handed = {}, 0, None
        rows = {row: acc for row, acc in rows.items() if acc[0] is not None}
        from itertools import repeat

        new = {}  # key -> row of every new entry, written in key order: the B-tree appends
        for row, acc in rows.items():
            new.update(zip(_unpack(bytes(acc[17])), repeat(row)))
        order = sorted(new)
        records = [self._record(acc) for acc in rows.values()]
        with store.transaction(self.conn):
            _insert_entries(self.conn, order, list(map(new.__getitem__, order)))
            self._store_rows(rows, grown)
            _upsert_rows(self.conn, records, self.counters)
            self.conn.executemany(
                "INSERT INTO import_files (path, tool, dev, inode, size, mtime_ns, offset, "
                "tail, state, imported_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (path) DO UPDATE SET tool = excluded.tool, dev = excluded.dev, "
                "inode = excluded.inode, size = excluded.size, mtime_ns = excluded.mtime_ns, "
                "offset = excluded.offset, tail = excluded.tail, state = excluded.state, "
                "imported_at = excluded.imported_at", files)

    def _store_rows(self, rows, grown):
        """import_rows: each row's span, and the keys and values of its entries with the new
        ones added and the grown ones' values replaced."""
        before = {row: (first, last, keys, values) for row, first, last, keys, values
                  in store.select_in(self.conn, "SELECT id, first, last, keys, entries "
                                     "FROM import_rows WHERE id IN ({marks})", rows)}
        changed, sessions = {}, {}
        for key, entry in grown.items():
            changed.setdefault(entry[1], {})[key] = entry
        out = []
        for row, acc in rows.items():
            name, session, first, last = acc[0], acc[2], acc[7], acc[8]
            keys, values = bytes(acc[17]), bytes(acc[18])
            if row in before:
                was_first, was_last, was_keys, was_values = before[row]
                first, last = min(first, was_first), max(last, was_last)
                keys, values = was_keys + keys, was_values + values
            if row in changed:
                keys, values = _replaced(keys, values, changed[row])
            if session not in sessions:
                sessions[session] = None if session is None else hash64(session)
            out.append((row, name, sessions[session], first, last, keys, values))
        self.conn.executemany(
            "INSERT INTO import_rows (id, invocation_id, session, first, last, keys, entries) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET first = "
            "excluded.first, last = excluded.last, keys = excluded.keys, "
            "entries = excluded.entries", out)

    def _record(self, acc):
        """The attempts (or counters) row of one accumulated import row."""
        name, tool, session, model, branch, cwd, prompt, first, last = acc[:9]
        facts = self._models.get((tool, model))
        if facts is None:
            facts = {"model": model, "provider": None, "tier": None}
            self._facts(facts, self.cfg)
            if facts["provider"] is None:  # a model the config does not list (a dated id):
                # the tool's provider when it has one, so provider budgets count it
                providers = ((self.cfg.get("tools") or {}).get(tool) or {}).get(
                    "providers") or ()
                facts["provider"] = providers[0] if len(providers) == 1 else None
            row = prices.lookup(self.table, model) if model else None
            facts["cost_source"] = ("unknown" if row is None else
                                    "estimated" if row.get("source") == "estimate" else
                                    "computed")
            self._models[(tool, model)] = facts
        record = {"invocation_id": name, "attempt": 0, "started_at": first, "ended_at": last,
                  "tool": tool, "model": model, "provider": facts["provider"],
                  "tier": facts["tier"], "cost_source": facts["cost_source"],
                  "price_version": self.table.get("version"), "blocked": 0}
        record.update(zip(_SUMMED, (*acc[9:15], acc[14], acc[15])))
        if self.counters:
            return record
        if cwd not in self._projects:
            self._projects[cwd] = self._project(self.cfg, cwd)
        record.update(host=self.host, agent=None, session_id=session,
                      project=self._projects[cwd], prompt_chars=prompt,
                      usage_source=SOURCE, source=SOURCE, git_branch=self._git(self.cfg, branch),
                      shim_version=__version__)
        return record




def _insert_entries(conn, keys, rows):
    """INSERT the import_entries (key, row) of `keys` and `rows` (in that order), ENTRY_ROWS
    to a statement: SQLite then runs one statement per ENTRY_ROWS rows, not one per row
    (a first import's 200,000 rows: 0.15 s of CPU instead of 0.30 s)."""
    flat = [None] * (2 * len(keys))
    flat[0::2], flat[1::2] = keys, rows
    full = len(keys) - len(keys) % ENTRY_ROWS
    step = 2 * ENTRY_ROWS
    if full:
        conn.executemany("INSERT INTO import_entries (key, row) VALUES "
                         + ", ".join(["(?, ?)"] * ENTRY_ROWS),
                         [flat[i:i + step] for i in range(0, 2 * full, step)])
    if full < len(keys):
        conn.executemany("INSERT INTO import_entries (key, row) VALUES (?, ?)",
                         zip(keys[full:], rows[full:]))


def stored_entries(conn, keys):
    """{key: stored tuple (key, row, ts, 5 token counts, cost)} of the `keys` in
    import_entries, their values read from their import rows."""
    wanted = set(keys)
    rows = {row for (row,) in store.select_in(
        conn, "SELECT DISTINCT row FROM import_entries WHERE key IN ({marks})", wanted)}
    out = {}
    for row, packed_keys, values in store.select_in(
            conn, "SELECT id, keys, entries FROM import_rows WHERE id IN ({marks})", rows):
        for entry in _entries_of(row, packed_keys, values):  # a row holds exactly the
            if entry[0] in wanted:                             # entries mapped to it
                out[entry[0]] = entry
    return out


def _replaced(keys, values, changes):
    """Packed keys and values with the values of the entries in `changes` (key -> stored
    tuple) replaced."""
    values = bytearray(values)
    size = _ENTRY_VALUES.size
    for i, key in enumerate(_unpack(keys)):
        entry = changes.get(key)
        if entry is not None:
            values[i * size:(i + 1) * size] = _pack_entry(entry)
    return keys, bytes(values)


def _larger(entry, old):
    """True when stored tuple `entry` carries more usage than `old`."""
    out, was_out = entry[4] or 0, old[4] or 0
    if out != was_out:
        return out > was_out
    return ((entry[3] or 0) + (entry[5] or 0) + (entry[6] or 0)
            > (old[3] or 0) + (old[5] or 0) + (old[6] or 0))


def _pack(keys):
    """Entry keys as import_rows.keys holds them: int64, little-endian."""
    import array

    packed = array.array("q", keys)
    if sys.byteorder == "big":
        packed.byteswap()
    return packed.tobytes()


def _unpack(blob):
    import array

    keys = array.array("q")
    keys.frombytes(blob or b"")
    if sys.byteorder == "big":
        keys.byteswap()
    return keys


def _minus(a, b):
    return None if a is None and b is None else (a or 0) - (b or 0)


def _upsert_rows(conn, rows, counters):
    """Insert import rows, or add to the ones there (the rollup triggers follow). The new rows
    go in with the rollup summed once (imports/bulk.py); only the columns an import row sets
    are bound (the others stay NULL, or their default)."""
    if not rows:
        return
    from shim.telemetry.imports import bulk
    from shim.telemetry.migrations import ATTEMPT_COLUMNS, COUNTER_COLUMNS, IMPORT_COLUMNS

    table, known = (("counters", COUNTER_COLUMNS) if counters
                    else ("attempts", ATTEMPT_COLUMNS + IMPORT_COLUMNS))
    columns = [c for c in known if c in rows[0]]
    from operator import itemgetter

    values = list(map(itemgetter(*columns), rows))
    there = {name for (name,) in store.select_in(
        conn, f"SELECT invocation_id FROM {table} WHERE invocation_id IN ({{marks}}) "
        "AND attempt = 0", [row["invocation_id"] for row in rows])}
    if there:
        summed = [c for c in _SUMMED if c in columns]
        sets = ["started_at = MIN(started_at, excluded.started_at)",
                "ended_at = MAX(ended_at, excluded.ended_at)"]
        sets += [f"{c} = CASE WHEN {c} IS NULL AND excluded.{c} IS NULL THEN NULL "
                 f"ELSE IFNULL({c}, 0) + IFNULL(excluded.{c}, 0) END" for c in summed]
        conn.executemany(
            f"INSERT INTO {table} ({', '.join(columns)}) "
            f"VALUES ({', '.join('?' * len(columns))}) "
            f"ON CONFLICT (invocation_id, attempt) DO UPDATE SET {', '.join(sets)}",
            [v for v, row in zip(values, rows) if row["invocation_id"] in there])
        values = [v for v, row in zip(values, rows) if row["invocation_id"] not in there]
    bulk.insert(conn, table, columns, values)


def supersede(conn, attempts, claims):
    """Take out of the import rows what shim attempts being ingested now account for: the
    entries their harvest claimed, and their sessions' entries inside their time windows
    (found through import_rows: the session's rows whose span meets the window, then their
    entries' times). Call it in ingestion's transaction, after the inserts."""
    victims = {}   # entry key -> its row
    claimed = [entry_key(tool, key) for (tool, key), owner in (claims or {}).items()
               if owner is not None]
    victims.update(store.select_in(
        conn, "SELECT key, row FROM import_entries WHERE key IN ({marks})", claimed))
    for attempt in attempts:
        if attempt.get("session_id") and attempt.get("started_at") is not None:
            low = attempt["started_at"] - WINDOW_SLACK_SECONDS
            high = (attempt.get("ended_at") or attempt["started_at"]) + WINDOW_SLACK_SECONDS
            for row, keys, values in conn.execute(
                    "SELECT id, keys, entries FROM import_rows WHERE session = ? AND "
                    "first <= ? AND last >= ?", (hash64(attempt["session_id"]), high, low)):
                for entry in _entries_of(row, keys, values):
                    if low <= entry[2] <= high:
                        victims[entry[0]] = row
    if not victims:
        return
    by_row = {}
    for key, row in victims.items():
        by_row.setdefault(row, set()).add(key)
    taken, kept = [], []
    for row, name, keys, values in store.select_in(
            conn, "SELECT id, invocation_id, keys, entries FROM import_rows "
            "WHERE id IN ({marks})", by_row):
        gone = by_row[row]
        entries = _entries_of(row, keys, values)
        taken += [(*e[3:9], name) for e in entries if e[0] in gone]
        rest = [e for e in entries if e[0] not in gone]
        kept.append((_pack([e[0] for e in rest]), b"".join(map(_pack_entry, rest)), row))
    conn.executemany("UPDATE import_rows SET keys = ?, entries = ? WHERE id = ?", kept)
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
            [(*t[:6], *((t[5],) if has_count else ()), t[6]) for t in taken])
    conn.executemany("DELETE FROM import_entries WHERE key = ?", [(k,) for k in victims])
    conn.executemany("DELETE FROM attempts WHERE invocation_id = ? AND attempt = 0 AND "
                     "entry_count <= 0", [(t[6],) for t in taken])


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
