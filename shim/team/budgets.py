"""Team-scope budgets: one limit for every call of every member, held in PostgreSQL.

`policies.budgets.<name>: {scope: team, period: ..., limit: {usd: ...}}` counts the calls of
every machine syncing to the team store. The policy engine judges local budgets in SQLite
first (shim/policy/engine.py), then calls `admit` here, which:

1. makes sure the call holds a *local* reservation of its estimate (the one a local budget
   made, else one of its own), so this machine's calls in flight count when the store is
   down, and are settled and released by the engine like any other;
2. in ONE PostgreSQL transaction, under a per-team advisory lock (so admitters on every
   machine queue and each sees the ones before it), with `team.timeout` on every statement:
   turns this machine's reservations whose shim died into settled ones (they keep counting
   their estimate until the row arrives), drops settled reservations whose row has been
   synced, sums each budget's period (synced rows + reservations not yet matched by a row),
   judges the call's estimate, and inserts a team reservation;
3. remembers what the store said per budget (`team_budget_cache` in the local database);
4. when the store cannot be reached: spend = that last known team spend + this machine's
   spend since (ingested rows and local reservations). At the limit, `team.on_unreachable`
   decides: `open` runs the call with a warning, `closed` refuses it.

Imported usage (`llm-shim import`: an IDE's or a daemon's calls) is in the store as rows like
any other, so it counts; the admission first pushes this machine's import rows still queued
(the engine has just imported a slice), so they count at once.

`settle` (after the attempt) gives the team reservation its actual cost; `release` drops it.
Team budgets block or warn (soft); `action: downgrade` is not applied to them.
"""

import os
import time

from shim import errors
from shim.policy import budgets as policy_budgets
from shim.policy import state

SCOPE = "team"
SETTLED_TTL = state.SETTLED_TTL
IN_FLIGHT_TTL = state.IN_FLIGHT_TTL
_shared = {"conn": None, "dsn": None}


def applicable(cfg, decision):
    return [b for b in policy_budgets.applicable(cfg, decision) if b["scope"] == SCOPE]


def _settings(cfg):
    from shim import team

    found = team.settings(cfg)
    if found is None:
        raise errors.ConfigError("config", "a budget has scope team but there is no team: "
                                 "section", "add team: {dsn: ..., name: ...} (docs/team.md)")
    return found


def _connection(settings, fresh=False):
    """This process's connection to the store, kept from admission to settlement."""
    from shim.team import pg

    conn = _shared["conn"]
    if conn is not None and (fresh or conn.closed or _shared["dsn"] != settings["dsn"]):
        conn.close()
        conn = None
    if conn is None:
        conn = pg.connect(settings, honour_down=not fresh)
        _shared.update(conn=conn, dsn=settings["dsn"])
    return conn


def _remote(settings, work):
    """Run `work(conn)` on the store; one retry on a fresh connection when a kept one broke.
    psycopg errors become pg.Unreachable / ShimError."""
    from shim.team import pg

    module = pg.psycopg()
    for retry in (False, True):
        try:
            return work(_connection(settings, fresh=retry))
        except module.OperationalError as exc:
            conn = _shared["conn"]
            if retry or conn is None or not conn.closed:
                raise pg.classify(exc, settings) from None
        except module.Error as exc:
            raise pg.classify(exc, settings) from None


# --- admission -----------------------------------------------------------------------------------

def admit(conn, gate, cfg, dry=False, override=False):
    """Judge the gate's call against the team budgets; reserve its estimate in the store.

    `conn` is the engine's SQLite connection (local reservations, cache). Sets gate
    `team_reservation_id`, appends to `budgets`/`warnings`, or blocks the gate."""
    decision = gate["decision"]
    team_budgets = applicable(cfg, decision)
    if not team_budgets:
        return gate
    settings = _settings(cfg)
    gate["team_settings"] = settings
    if not gate.get("budgets") or not gate.get("estimate"):
        from shim.policy import estimate

        gate["estimate"] = estimate.estimate(decision, cfg, conn)
    est = gate["estimate"]
    at = time.time()
    if not dry and gate.get("reservation_id") is None:
        gate["reservation_id"] = _reserve_locally(conn, gate, cfg, at, override)
    try:
        rows = _remote(settings, lambda pgc: _admit_remote(
            _with_imports(pgc, conn, settings), settings, gate, team_budgets, cfg, at, dry,
            override))
        _remember(conn, settings["name"], rows, at)
        offline = None
    except errors.ShimError as exc:
        from shim.team import pg

        if not isinstance(exc, pg.Unreachable):
            errors.warn("team budget", exc.why, "judging from the last known team spend")
        rows = [_offline_row(conn, settings, b, cfg, at, gate.get("reservation_id"))
                for b in team_budgets]
        offline = exc
        decision.setdefault("reasons", []).append(
            f"team budget: {exc.why}; judged from the last known team spend plus this "
            "machine's since")
    for row in rows:
        row["verdict"] = policy_budgets.judge(row["budget"], row["spent"], row["in_flight"],
                                              est["usd"], downgraded=True)
    gate["budgets"] = list(gate.get("budgets") or ()) + rows
    _verdicts(gate, rows, est["usd"], settings, offline, override, dry, at)
    return gate


def _with_imports(pgc, conn, settings):
    """`pgc`, after this machine's queued import rows were pushed through it: imported usage
    (an IDE's calls) counts against team budgets as soon as it is imported, like it does
    against local ones, not only after the next background sync."""
    from shim.team import sync

    sync.push_imports(conn, settings, pgc, settings["timeout"])
    return pgc


def _reserve_locally(conn, gate, cfg, at, override):
    values = policy_budgets.subject(gate["decision"], cfg)
    conn.execute("BEGIN IMMEDIATE")
    try:
        rid = state.reserve(conn, invocation_id=gate["invocation_id"], attempt=gate["attempt"],
                            agent=values["agent"], tool=values["tool"],
                            provider=values["provider"], model=values["model"],
                            cost_usd=gate["estimate"]["usd"], tokens=gate["estimate"]["tokens"],
                            override=override, now=at)
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return rid


def _admit_remote(pgc, settings, gate, team_budgets, cfg, at, dry, override):
    from shim.team import pg

    team = settings["name"]
    machine = pg.machine_id()
    est = gate["estimate"]
    with pgc.transaction():
        pgc.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"llm-shim budget {team}",))
        now = time.time()
        expire(pgc, team, machine, now)
        rows = [measure_remote(pgc, team, b, cfg, now) for b in team_budgets]
        blocked = any(policy_budgets.judge(r["budget"], r["spent"], r["in_flight"], est["usd"],
                                           downgraded=True) == "block" for r in rows)
        if not dry and (override or not blocked):
            values = policy_budgets.subject(gate["decision"], cfg)
            gate["team_reservation_id"] = pgc.execute(
                "INSERT INTO team_reservations (team, budget_names, machine, host, pid, "
                "pid_start, invocation_id, attempt, created_at, expires_at, agent, tool, "
                "provider, model, cost_usd, override) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, "
                "%s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
                (team, ",".join(b["name"] for b in team_budgets), machine, state.host(),
                 os.getpid(), state.process_start(os.getpid()), gate["invocation_id"], gate["attempt"],
                 now, now + IN_FLIGHT_TTL, values["agent"], values["tool"], values["provider"],
                 values["model"], float(est["usd"]), bool(override))).fetchone()[0]
    return rows


def _verdicts(gate, rows, est_usd, settings, offline, override, dry, now):
    first_block = next((r for r in rows if r["verdict"] == "block"), None)
    for row in rows:
        if row["verdict"] == "warn":
            gate["warnings"].append(("budget", policy_budgets.describe(
                row["budget"], row["spent"], row["in_flight"], est_usd, row["label"]),
                f"{policy_budgets.usd(row['budget']['limit_usd'])} is a soft limit: "
                "running it anyway"))
    if first_block is None:
        return
    budget = first_block["budget"]
    why = policy_budgets.describe(budget, first_block["spent"], first_block["in_flight"],
                                  est_usd, first_block["label"])
    if offline is not None:
        why += " (last known team spend plus this machine's since; the team store is " \
               "unreachable)"
        if settings["on_unreachable"] == "open" and not override:
            gate["warnings"].append(("budget", why, "team.on_unreachable is open: running it "
                                                    "anyway"))
            return
    if override:
        gate["budget_override"] = True
        gate["warnings"].append(("budget", why, f"{policy_budgets.OVERRIDE_ENV}=1: running "
                                                "it anyway (recorded)"))
        return
    resets = policy_budgets.resets_text(first_block["reset_at"], now)
    hint = (f"{resets} " if resets else "")
    if offline is not None:
        hint += "(team.on_unreachable is closed; "
    else:
        hint += "("
    hint += f"{policy_budgets.OVERRIDE_ENV}=1 runs it anyway, and that is recorded)"
    error = errors.Blocked("budget", why, hint)
    if not dry:
        from shim.policy import settle

        settle.release(gate)  # the local reservation and rate event: the call will not run
    gate.update(blocked=True, error=error, block_reason=f"{error.what}: {error.why}")


# --- spend in the store --------------------------------------------------------------------------

def expire(pgc, team, machine, now):
    """Housekeeping inside the admission transaction (see the module docstring)."""
    mine = pgc.execute("SELECT id, pid, pid_start FROM team_reservations "
                       "WHERE team = %s AND machine = %s AND NOT settled",
                       (team, machine)).fetchall()
    dead = [rid for rid, pid, started in mine if not state.pid_alive(pid, started)]
    if dead:
        # A shim that died may have spent: its estimate counts until its row arrives.
        pgc.execute("UPDATE team_reservations SET settled = true, pid = NULL "
                    "WHERE id = ANY(%s)", (dead,))
    pgc.execute("DELETE FROM team_reservations WHERE team = %s AND "
                "((NOT settled AND expires_at < %s) OR (settled AND created_at < %s))",
                (team, now, now - SETTLED_TTL))
    pgc.execute("""
        DELETE FROM team_reservations r
         WHERE r.team = %s AND r.settled
           AND EXISTS (SELECT 1 FROM team_spend s WHERE s.team = r.team
                          AND s.invocation_id = r.invocation_id AND s.attempt = r.attempt
                          AND s.cost_usd IS NOT NULL)""", (team,))


def measure_remote(pgc, team, budget, cfg, now):
    """The budget's period in the store, shaped like policy.engine.measure's result."""
    start, reset_at, label = policy_budgets.period_bounds(budget, cfg, now)
    # One statement, so one snapshot: a row synced between two separate reads (READ
    # COMMITTED) would be counted neither as a row nor as the reservation it replaces.
    recorded, pending, pending_n, flight, flight_n = pgc.execute("""
        SELECT (SELECT COALESCE(SUM(cost_usd), 0) FROM team_spend
                 WHERE team = %(team)s AND blocked = 0 AND started_at >= %(start)s),
               COALESCE(SUM(cost_usd) FILTER (WHERE settled), 0),
               COUNT(*) FILTER (WHERE settled),
               COALESCE(SUM(cost_usd) FILTER (WHERE NOT settled), 0),
               COUNT(*) FILTER (WHERE NOT settled)
          FROM team_reservations r
         WHERE r.team = %(team)s AND r.created_at >= %(start)s
           AND NOT EXISTS (SELECT 1 FROM team_spend s WHERE s.team = r.team
                             AND s.invocation_id = r.invocation_id
                             AND s.attempt = r.attempt AND s.cost_usd IS NOT NULL)""",
        {"team": team, "start": start}).fetchone()
    totals = {True: (float(pending), int(pending_n)), False: (float(flight), int(flight_n))}
    if reset_at is None:
        oldest = pgc.execute("SELECT MIN(started_at) FROM team_spend WHERE team = %s "
                             "AND blocked = 0 AND cost_usd > 0 AND started_at >= %s",
                             (team, start)).fetchone()[0]
        reset_at = oldest + budget["window_s"] if oldest is not None else None
    recorded = float(recorded)
    return {"budget": budget, "start": start, "reset_at": reset_at, "label": label,
            "spent": recorded + totals[True][0], "recorded": recorded,
            "pending": totals[True][0], "in_flight": totals[False][0],
            "in_flight_calls": totals[False][1], "source": "team store"}


def measure(conn, budget, cfg, now=None):
    """For `llm-shim budget`: the store's figures, else the offline estimate."""
    now = time.time() if now is None else now
    settings = _settings(cfg)
    try:
        return _remote(settings, lambda pgc: measure_remote(
            _with_imports(pgc, conn, settings), settings["name"], budget, cfg, now))
    except errors.ShimError:
        return _offline_row(conn, settings, budget, cfg, now, None)


# --- offline: the last known team spend plus this machine's since --------------------------------

def _cache_table(conn):
    conn.execute("""CREATE TABLE IF NOT EXISTS team_budget_cache (
                        team TEXT NOT NULL, budget TEXT NOT NULL, period_start REAL NOT NULL,
                        spent REAL NOT NULL, measured_at REAL NOT NULL,
                        PRIMARY KEY (team, budget))""")


def _remember(conn, team, rows, at):
    """Keep what the store said (excluding this call) for when it cannot be reached."""
    import sqlite3

    try:
        _cache_table(conn)
        conn.executemany("""
            INSERT INTO team_budget_cache (team, budget, period_start, spent, measured_at)
            VALUES (?, ?, ?, ?, ?)
            ON CONFLICT (team, budget) DO UPDATE SET
                period_start = excluded.period_start, spent = excluded.spent,
                measured_at = excluded.measured_at
             WHERE excluded.measured_at >= team_budget_cache.measured_at""",
                         [(team, r["budget"]["name"], r["start"], r["spent"] + r["in_flight"],
                           at) for r in rows])
    except sqlite3.Error:
        pass  # only the offline estimate gets staler


def _cached(conn, team, budget, start, now):
    """(base USD, since): the last known team spend of this period and when it was read."""
    import sqlite3

    try:
        row = conn.execute("SELECT period_start, spent, measured_at FROM team_budget_cache "
                           "WHERE team = ? AND budget = ?", (team, budget["name"])).fetchone()
    except sqlite3.OperationalError:
        row = None
    if row is None:
        return 0.0, start
    period_start, spent, measured_at = row
    if budget["period"] == "rolling":
        if now - measured_at < budget["window_s"]:
            return float(spent), measured_at
        return 0.0, start
    if abs(period_start - start) < 1e-6:
        return float(spent), measured_at
    return 0.0, start


def _offline_row(conn, settings, budget, cfg, now, own_reservation):
    start, reset_at, label = policy_budgets.period_bounds(budget, cfg, now)
    base, since = _cached(conn, settings["name"], budget, start, now)
    recorded = state.recorded_spend(conn, None, [], since)
    settled, in_flight, count = state.reserved_spend(conn, None, [], since,
                                                     exclude=own_reservation)
    return {"budget": budget, "start": start, "reset_at": reset_at, "label": label,
            "spent": base + recorded + settled, "recorded": base + recorded,
            "pending": settled, "in_flight": in_flight, "in_flight_calls": count,
            "source": "offline estimate"}


# --- after the attempt ---------------------------------------------------------------------------

def settle(gate, decision, outcome, cfg, diagnosis=None, attempt=None):
    """Give the team reservation the attempt's actual cost. Never raises: when the store is
    gone, the reservation stays in flight and this machine settles it at its estimate the
    next time it admits a call (its shim is gone by then)."""
    rid = (gate or {}).get("team_reservation_id")
    if not rid:
        return
    from shim.policy import estimate, settle

    try:
        settings = _settings(cfg)
        cls = (diagnosis or {}).get("class")
        cost, known = estimate.actual_cost((outcome or {}).get("usage"), decision, cfg)
        if not known:
            cost = 0.0 if cls in settle.NOTHING_SPENT else \
                (gate.get("estimate") or {}).get("usd", 0.0)
        number = int(attempt if attempt is not None else gate.get("attempt") or 1)
        _remote(settings, lambda pgc: pgc.execute(
            "UPDATE team_reservations SET settled = true, pid = NULL, cost_usd = %s, "
            "attempt = %s WHERE id = %s", (float(cost), number, rid)))
        gate["team_reservation_id"] = None
    except Exception as exc:
        _warn(exc)


def release(gate):
    """The admitted attempt never started: drop its team reservation."""
    rid = (gate or {}).get("team_reservation_id")
    if not rid:
        return
    try:
        settings = gate.get("team_settings")
        if settings is None:
            from shim.config import compiled

            settings = _settings(compiled.load())
        _remote(settings, lambda pgc: pgc.execute(
            "DELETE FROM team_reservations WHERE id = %s", (rid,)))
        gate["team_reservation_id"] = None
    except Exception as exc:
        _warn(exc)


def _warn(exc):
    if errors.debug_enabled():
        import sys
        import traceback

        traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)
    why = exc.why if isinstance(exc, errors.ShimError) else f"{type(exc).__name__}: {exc}"
    errors.warn("team budget", why, "the call itself is unaffected; its team reservation is "
                                    "settled at its estimate later")
