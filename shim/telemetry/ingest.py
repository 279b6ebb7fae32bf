"""Ingestion: spool -> harvest -> prices -> SQLite, exactly once.

1. `spool.claim()` renames the spool away and locks it (plus leftovers of failed runs);
2. each line is parsed with `ast.literal_eval`; unparseable lines go to `spool/rejected.log`
   (a line glued to a torn fragment is recovered from its `{'v': ` start); start lines are
   paired with their end records, and those of shims killed outright become `killed`
   attempts (shim.telemetry.starts);
3. records with a `harvest` hint get their usage from the tool's own logs, then costs are
   computed (`prices.price_record`) and free text is scrubbed of secrets;
4. every row is inserted in ONE transaction, ignoring only primary-key conflicts
   (`ON CONFLICT (invocation_id, attempt) DO NOTHING`), so a re-ingested file never duplicates;
5. only after COMMIT are the claimed files deleted. If the database is locked past the timeout,
   read-only or corrupt, the files stay as `claimed-*.log` for the next run and one warning
   line is printed: nothing is lost.

Run `python -m shim.telemetry.ingest` to ingest in a background process.
"""

import os
import sqlite3
import sys
import time

from shim import errors, paths
from shim.telemetry import harvest, imports, models, prices, spool, starts, store
from shim.telemetry.models import embedded_config, load_config  # noqa: F401 (callers use ingest.*)
from shim.telemetry.record import TOKEN_KEYS

_RECORD_START = b"{'v': "


def ingest(conn=None, *, cfg=None, spool_dir=None, db_path=None,
           timeout=store.DEFAULT_TIMEOUT):
    """Import every spooled record; returns the number of new rows (attempts + counters).

    `conn` (from `store.connect()`) is used as is and left open; without it a connection is
    opened and closed here. Never raises for database trouble: warns and keeps the spool.
    """
    claimed = spool.claim(spool_dir)
    pending = starts.Pending(spool_dir)
    if not claimed and not os.path.exists(pending.path):
        return 0
    try:
        pending.open()
    except OSError as exc:  # start lines then wait in the claimed files for the next run
        errors.warn("telemetry", f"cannot read {pending.path}: {exc.strerror or exc}",
                    "calls killed outright are recorded by a later ingestion")
        for item in claimed:
            item.keep()
        return 0
    try:
        return _ingest_claimed(conn, claimed, pending, cfg, spool_dir, db_path, timeout)
    finally:
        pending.close()


def _ingest_claimed(conn, claimed, pending, cfg, spool_dir, db_path, timeout):
    lookup = _ClaimLookup(conn, db_path, timeout)
    claims = harvest.Claims(lookup)
    try:
        records, rejected = [], []
        for item in claimed:
            got, bad = parse(item.read())
            records.extend(got)
            rejected.extend(bad)
        records, start_lines = starts.split(records)
        killed, still_running = starts.resolve(
            start_lines + pending.lines,
            {(r.get("invocation_id"), r.get("attempt")) for r in records}, lookup.recorded)
        records.extend(killed)
        cfg = cfg if cfg is not None else load_config()
        table = prices.load_table(cfg)
        attempts, counters = [], []
        for rec in records:
            claims.owner = (rec.get("invocation_id"), rec.get("attempt"))
            kind, row = _prepare_safely(rec, cfg, table, claims)
            (counters if kind == "counter" else attempts).append(row)
    except BaseException:
        lookup.close()
        for item in claimed:
            item.keep()
        raise
    try:  # on the connection a harvest lookup opened, if one did: one open per ingestion
        inserted = _commit(conn or lookup.own, attempts, counters, db_path, timeout, claims.new)
    finally:
        lookup.close()
    if inserted is None:
        for item in claimed:
            item.keep()
        return 0
    try:
        pending.save(still_running)
    except OSError as exc:
        errors.warn("telemetry", f"cannot write {pending.path}: {exc.strerror or exc}",
                    "calls running now are not recorded if their shim is killed outright")
    spool.reject(rejected, spool_dir)
    for item in claimed:
        item.done()
    return inserted


class _ClaimLookup:
    """Reads harvest_claims for Claims, on the caller's connection or one of its own (opened
    only if a harvest needs it, then used for the commit too). Best effort: a database that
    cannot be read means no stored claims, never a lost row."""

    def __init__(self, conn, db_path, timeout):
        self.conn, self.db_path, self.timeout = conn, db_path, timeout
        self.own = None
        self.failed = False

    def _connection(self):
        """The caller's connection, else one of our own, opened on first use."""
        if self.conn is not None:
            return self.conn
        if self.own is None:
            self.own = store.connect(self.db_path, timeout=self.timeout)
        return self.own

    def __call__(self, tool, keys):
        if self.failed:
            return set()
        try:
            return store.claimed_keys(self._connection(), tool, keys)
        except (sqlite3.Error, OSError, errors.TelemetryError):
            self.failed = True
            return set()

    def recorded(self, keys):
        """The (invocation_id, attempt) of `keys` that already have a row (attempts or
        counters), or None when the database cannot be read (their start lines then wait)."""
        found = set()
        try:
            conn = self._connection()
            for table in ("attempts", "counters"):
                for inv, attempt in keys:
                    if conn.execute(f"SELECT 1 FROM {table} WHERE invocation_id = ? AND "
                                    "attempt = ?", (inv, attempt)).fetchone():
                        found.add((inv, attempt))
        except (sqlite3.Error, OSError):
            return None
        return found

    def close(self):
        if self.own is not None:
            self.own.close()
            self.own = None


def _commit(conn, attempts, counters, db_path, timeout, claims=None):
    own = conn is None
    try:
        if own:
            conn = store.connect(db_path, timeout=timeout)
        with store.transaction(conn):
            # A call recorded as killed (shim.telemetry.starts) whose real record turns up
            # after all: the real record replaces it.
            conn.executemany(
                "DELETE FROM attempts WHERE invocation_id = ? AND attempt = ? "
                "AND failure_class = 'killed'",
                [(r["invocation_id"], r["attempt"]) for r in attempts
                 if r.get("failure_class") != "killed"])
            if claims:
                store.insert_claims(conn, claims, time.time())
            inserted = store.insert_attempts(conn, attempts) + store.insert_counters(conn,
                                                                                    counters)
            # rows `llm-shim import` took earlier that these calls account for go
            imports.supersede(conn, attempts, claims)
            return inserted
    except sqlite3.Error as exc:
        _rollback(conn)
        if errors.debug_enabled() and store.classify(exc) == "other":
            raise
        store.warn_db_error(exc, db_path, "telemetry")
        return None
    except OSError as exc:
        errors.warn("telemetry", f"{db_path or paths.database_file()}: {exc.strerror or exc}",
                    "the rows stay in the spool and are imported by the next `llm-shim logs`")
        return None
    except errors.TelemetryError as exc:  # a refused (symlinked) database: the spool keeps them
        errors.warn("telemetry", f"{exc.why}; the rows stay in the spool", exc.hint)
        return None
    finally:
        if own and conn is not None:
            conn.close()


def _rollback(conn):
    try:
        if conn is not None and conn.in_transaction:
            conn.execute("ROLLBACK")
    except sqlite3.Error:
        pass


def _prepare_safely(rec, cfg, table, claims=None):
    """`prepare`, but a record that trips a bug is still stored (cost unknown), not lost."""
    try:
        return prepare(rec, cfg, table, claims)
    except Exception:
        if errors.debug_enabled():
            raise
        row = {k: v for k, v in rec.items() if k not in ("v", "kind", "harvest", "usage_parts")}
        row.setdefault("cost_source", "unknown")
        return rec.get("kind") or "attempt", row


def parse(data):
    """(records, rejected raw lines) from a spool file's bytes."""
    records, rejected = [], []
    for raw in data.split(b"\n"):
        if not raw.strip():
            continue
        rec = _literal(raw)
        if rec is not None:
            records.append(rec)
            continue
        # A torn write (disk full, crash) glued to the next record: recover the record.
        start = raw.find(_RECORD_START, 1)
        while start > 0:
            rec = _literal(raw[start:])
            if rec is not None:
                records.append(rec)
                rejected.append(raw[:start])
                break
            start = raw.find(_RECORD_START, start + 1)
        else:
            rejected.append(raw)
    return records, rejected


def _literal(raw):
    import ast  # here: most ingestions (every report's) find the spool empty

    try:
        value = ast.literal_eval(raw.decode("utf-8"))
    except (ValueError, SyntaxError, UnicodeDecodeError, MemoryError, RecursionError):
        return None
    if not isinstance(value, dict):
        return None
    if not isinstance(value.get("invocation_id"), str) or not isinstance(value.get("attempt"), int):
        return None
    if not isinstance(value.get("started_at"), (int, float)):
        return None
    return value


def prepare(rec, cfg, table, claims=None):
    """Harvest, price and scrub one parsed record. Returns ("attempt"|"counter", row dict).
    `claims` (harvest.Claims): log entries other attempts already counted."""
    rec = dict(rec)
    rec.pop("v", None)
    kind = rec.pop("kind", None) or "attempt"
    hint = rec.pop("harvest", None)
    parts = rec.pop("usage_parts", None)
    known = any(rec.get(k) is not None for k in TOKEN_KEYS[:4])
    if hint and (not known or not rec.get("model")):
        got = harvest.collect(hint, rec["started_at"], rec.get("ended_at") or rec["started_at"],
                              claims)
        if got:
            if not known:
                for key in TOKEN_KEYS:
                    rec[key] = got.get(key)
                parts = got.get("parts")
                if kind == "attempt":
                    rec["usage_source"] = "harvest"
            _take_logged_model(rec, got.get("model"), table)
            if kind == "attempt" and not rec.get("session_id"):
                rec["session_id"] = got.get("session_id")
    models.model_facts(rec, cfg)
    try:
        prices.price_record(rec, parts, table)
    except (TypeError, ValueError, KeyError):
        rec["cost_usd"], rec["cost_source"] = rec.get("reported_cost_usd"), (
            "reported" if rec.get("reported_cost_usd") is not None else "unknown")
    if kind == "attempt":
        from shim.telemetry import privacy  # here: its patterns compile on import

        privacy.scrub_record(rec)
    return kind, rec


def _take_logged_model(rec, logged, table):
    """The model the tool's own log says answered wins over the one the decision asked for
    (REAL_CLIS.md section 8: a CLI may run another model than requested); provider and tier
    then follow the model that ran."""
    if not logged:
        return
    current = rec.get("model")
    if current and (current == logged
                    or prices.lookup(table, current) is prices.lookup(table, logged) is not None):
        return
    rec["model"] = logged
    if current:
        rec["provider"] = rec["tier"] = None


def main():
    return errors.run_detached("telemetry: ingestion failed", ingest)


if __name__ == "__main__":
    sys.exit(main())
