"""`llm-shim statusline`: the command Claude Code runs for its `statusLine` setting.

Claude Code writes a JSON document on our stdin after each assistant message (session_id,
model {id, display_name}, workspace {current_dir, project_dir}, cost {total_cost_usd, ...}
and, for plan subscribers in releases that send it, `rate_limits.five_hour|seven_day` with
`used_percentage` and `resets_at`). We print one short line:

    reviewer · Opus 4.6 · session $0.42 · today $3.10 · budget day $3.10/$10 31% · block $1.20 $0.40/h · 5h 42% 7d 12%

and record each rate-limit snapshot (shim.plans.snapshots). It runs after every message, so:

* it is started through `shim.entry` without argparse (`entry.main` dispatches it first);
* the figures read from SQLite (today's spend, the tightest budget, the current 5-hour block,
  the newest snapshots) are kept in a marshal cache keyed by the database, WAL and spool sizes
  and mtimes, for at most CACHE_SECONDS: a warm call imports no sqlite3, json or yaml;
* it never fails loudly: empty or malformed stdin, a broken config, a locked database each
  leave a shorter line, and the exit status is always 0 (a non-zero one blanks Claude's line).

`--chain CMD` runs another status line command first with the same stdin and prints its first
line before ours (how `llm-shim install --statusline` keeps the one you had).
"""

import marshal
import os
import sys
import time

CACHE_NAME = "statusline.marshal"
CACHE_FORMAT = 2
CACHE_SECONDS = 20.0     # time-dependent figures (today, the active block) go stale
CHAIN_TIMEOUT = 2.0
SEP = " · "
USAGE = ("usage: llm-shim statusline [--chain CMD]\n"
         "Reads Claude Code's status line JSON on stdin and prints one line "
         "(docs/plans.md).\n")


def main(argv=None, stdin=None, stdout=None, environ=None, now=None):
    """Print the line; always returns 0."""
    argv = list(sys.argv[2:] if argv is None else argv)
    environ = os.environ if environ is None else environ
    stdout = stdout or sys.stdout
    if argv[:1] in (["-h"], ["--help"]):
        _write(stdout, USAGE)
        return 0
    chain = None
    if argv[:1] == ["--chain"] and len(argv) >= 2:
        chain = argv[1]
    elif argv:
        _write(stdout, "llm-shim: statusline: unknown arguments (see --help)\n")
        return 0
    try:
        raw = _read_stdin(stdin)
        line = render(raw, environ, time.time() if now is None else now)
        if chain:
            theirs = run_chained(chain, raw, environ)
            if theirs:
                line = theirs + SEP + line
    except Exception as exc:  # never loudly: Claude would show nothing at all
        from shim import errors  # only on a failure: the status line stays light

        if errors.debug_enabled(environ):
            import traceback

            traceback.print_exception(type(exc), exc, exc.__traceback__)
        line = f"llm-shim: statusline failed ({type(exc).__name__})"
    _write(stdout, line + "\n")
    return 0


def _write(stdout, text):
    try:
        stdout.write(text)
        stdout.flush()
    except (OSError, ValueError, AttributeError):
        pass


def _read_stdin(stdin):
    if stdin is not None:
        data = stdin.read()
        return data.encode("utf-8", "replace") if isinstance(data, str) else data
    try:
        if os.isatty(0):
            return b""  # run by hand: there is nothing to wait for
    except OSError:
        return b""
    chunks = []
    while True:
        try:
            chunk = os.read(0, 1 << 16)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
        if sum(len(c) for c in chunks) > 4 << 20:  # far beyond any status document
            break
    return b"".join(chunks)


def parse(raw):
    """The status document as a dict, or None when stdin held no JSON object."""
    if not raw or not raw.strip():
        return None
    from shim.telemetry import usage

    value = usage.loads(raw)
    return value if isinstance(value, dict) else None


def render(raw, environ, now):
    """The status line for the bytes Claude Code wrote on stdin."""
    data = parse(raw)
    if data is None:
        return "llm-shim: no status data on stdin" if not (raw or b"").strip() \
            else "llm-shim: status data is not a JSON object"
    from shim.plans import snapshots

    workspace = data.get("workspace") if isinstance(data.get("workspace"), dict) else {}
    cwd = _text(workspace.get("current_dir")) or _text(data.get("cwd"))
    model = data.get("model") if isinstance(data.get("model"), dict) else {}
    model_id = _text(model.get("id"))
    cfg = _config(cwd, environ)
    parts = [_agent(cfg, environ, cwd)]
    parts.append(_text(model.get("display_name")) or model_id or "model ?")
    cost = data.get("cost") if isinstance(data.get("cost"), dict) else {}
    session_usd = cost.get("total_cost_usd")
    if isinstance(session_usd, (int, float)) and not isinstance(session_usd, bool):
        parts.append(f"session {_usd(session_usd)}")
    given = snapshots.from_statusline(data)
    figures = _figures(cfg, environ, now, model_id, parts[0], given,
                       _text(data.get("session_id")))
    parts.extend(_figure_parts(figures, now))
    windows = {s["window"]: s for s in given if s["used_pct"] is not None}
    for window, snap in (figures.get("snapshots") or {}).items():
        windows.setdefault(window, snap)
    shown = [f"{snapshots.window_label(w)} {windows[w]['used_pct']:.0f}%"
             for w in sorted(windows, key=_window_order)
             if windows[w].get("resets_at") is None or windows[w]["resets_at"] > now]
    if shown:
        parts.append(" ".join(shown))
    return SEP.join(p for p in parts if p)


def _window_order(window):
    return ({"five_hour": 0, "seven_day": 1}.get(window, 2), window)


def _text(value):
    return value.strip() if isinstance(value, str) and value.strip() else None


def _usd(value):
    value = float(value)
    return f"${value:.2f}" if value >= 0.01 or value == 0 else f"${value:.4f}"


def _config(cwd, environ):
    try:
        from shim.config import compiled

        return compiled.load(cwd if cwd and os.path.isdir(cwd) else None, environ)
    except Exception:
        return None


def _agent(cfg, environ, cwd):
    named = (environ.get("LLM_SHIM_AGENT") or "").strip()
    if cfg is None:
        return named or "config ?"
    if named:
        return named if named in (cfg.get("agents") or {}) else named + "?"
    if not cfg.get("identify"):  # the common case, without importing the router
        return cfg.get("default_agent") or "default"
    try:
        from shim.routing import agents

        return agents.identify("claude", cfg, environ, cwd)[0]
    except Exception:
        return "agent ?"


def _figure_parts(figures, now):
    parts = []
    if figures.get("error"):
        return [figures["error"]]
    today = figures.get("today_usd")
    if today is not None:
        parts.append(f"today {'>=' if figures.get('today_unpriced') else ''}{_usd(today)}")
    tight = figures.get("budget")
    if tight:
        parts.append(f"budget {tight['name']} {_usd(tight['spent'])}/{_usd(tight['limit'])} "
                     f"{tight['pct']:.0f}%")
    block = figures.get("block")
    if block and block.get("end", 0) > now:
        text = f"block {_usd(block['cost_usd'])}"
        if block.get("burn_usd_per_hour") is not None:
            text += f" {_usd(block['burn_usd_per_hour'])}/h"
        parts.append(text)
    return parts


# --- figures from the store, cached ----------------------------------------------------------

def _figures(cfg, environ, now, model_id, agent, given, session_id):
    """{"today_usd", "budget", "block", "snapshots", "error"}, from the cache when it is fresh;
    records `given` snapshots that differ from the ones recorded last."""
    from shim import paths
    from shim.telemetry import spool

    db = paths.database_file()
    key = (CACHE_FORMAT, _stamp(db), _stamp(db + "-wal"),
           _stamp(spool.spool_file()), agent, model_id)
    cache_path = os.path.join(paths.cache_dir(), CACHE_NAME)
    cached = _read_cache(cache_path)
    recorded = cached.get("recorded") or {}
    fresh = [s for s in given if recorded.get(s["window"]) != (s["used_pct"], s["resets_at"])]
    if (not fresh and cached.get("key") == key
            and 0 <= now - cached.get("at", 0) < CACHE_SECONDS):
        return cached["figures"]
    figures = {}
    try:
        figures = _from_store(cfg, now, model_id, agent, fresh, session_id)
        for s in fresh:
            recorded[s["window"]] = (s["used_pct"], s["resets_at"])
    except Exception as exc:
        from shim import errors  # only on a failure: the status line stays light

        if errors.debug_enabled(environ):
            raise
        figures = {"error": f"store ? ({type(exc).__name__})"}
    key = (CACHE_FORMAT, _stamp(db), _stamp(db + "-wal"),
           _stamp(spool.spool_file()), agent, model_id)
    _write_cache(cache_path, {"key": key, "at": now, "figures": figures, "recorded": recorded})
    return figures


def _stamp(path):
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_size, st.st_mtime_ns)


def _read_cache(path):
    try:
        with open(path, "rb") as fh:
            value = marshal.loads(fh.read())
    except (OSError, EOFError, ValueError, TypeError):
        return {}
    return value if isinstance(value, dict) else {}


def _write_cache(path, value):
    try:
        from shim import safefs

        safefs.write_atomic(path, marshal.dumps(value))
    except Exception:
        pass  # a cache we cannot write costs speed, never the line


def _from_store(cfg, now, model_id, agent, fresh, session_id):
    from shim.telemetry import store

    conn = store.connect()
    try:
        return _read_store(conn, cfg, now, model_id, agent, fresh, session_id)
    finally:
        conn.close()  # checkpoints the WAL now, so the cache key below sees the settled files


def _read_store(conn, cfg, now, model_id, agent, fresh, session_id):
    from shim.plans import blocks, snapshots

    if fresh:
        snapshots.record(conn, fresh, "statusline", session_id, now)
    _ingest_if_stale(now)
    start = _midnight(cfg or {}, now)
    row = conn.execute("SELECT TOTAL(cost_usd), TOTAL(cost_usd IS NULL AND (input_tokens > 0 "
                       "OR output_tokens > 0)) FROM spend WHERE blocked = 0 AND started_at >= ?",
                       (start,)).fetchone()
    # Unknown is not zero: calls with tokens but no price make the figure a lower bound.
    figures = {"today_usd": float(row[0] or 0.0), "today_unpriced": int(row[1] or 0)}
    rows = blocks.load_rows(conn, now - 2 * blocks.BLOCK_SECONDS, ["claude"])
    block = blocks.current(rows, now, "claude")
    if block:
        figures["block"] = {k: block[k] for k in ("start", "end", "cost_usd",
                                                  "burn_usd_per_hour", "calls")}
    figures["budget"] = _tightest(conn, cfg or {}, now, agent, model_id)
    found = {}
    for window in ("five_hour", "seven_day"):
        snap = snapshots.latest(conn, "claude", window, now)
        if snap:
            found[window] = {"used_pct": snap["used_pct"], "resets_at": snap["resets_at"]}
    figures["snapshots"] = found
    return figures


def _midnight(cfg, now):
    from shim.policy import budgets

    return budgets.period_bounds({"period": "day"}, cfg, now)[0]


def _tightest(conn, cfg, now, agent, model_id):
    """The applicable budget with the least headroom: {name, spent, limit, pct}, or None."""
    from shim.policy import budgets, engine

    decision = {"agent": agent, "tool": "claude", "model": model_id, "provider": None}
    best = None
    for budget in budgets.applicable(cfg, decision):
        if budget["scope"] == "team" or not budget.get("limit_usd"):
            continue
        row = engine.measure(conn, budget, cfg, now)
        spent = row["spent"] + row["in_flight"]
        pct = 100.0 * spent / budget["limit_usd"]
        if best is None or pct > best["pct"]:
            best = {"name": budget["name"], "spent": spent, "limit": budget["limit_usd"],
                    "pct": pct}
    return best


def _ingest_if_stale(now):
    """Calls still in the spool are not in the figures: import them in the background, so the
    next line has them (this one must not wait ~40 ms for it)."""
    from shim.telemetry import spool

    if spool.is_stale(spool.STALE_AFTER, now):
        from shim import detach

        detach.spawn("shim.telemetry.ingest")


def run_chained(command, raw, environ):
    """First line of another status line command fed the same stdin, or None."""
    import subprocess

    try:
        done = subprocess.run(command, shell=True, input=raw, stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, timeout=CHAIN_TIMEOUT,
                              env=dict(environ))
    except (OSError, subprocess.SubprocessError):
        return None
    text = done.stdout.decode("utf-8", "replace").strip().splitlines()
    return text[0] if text else None
