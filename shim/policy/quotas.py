"""Quota-aware routing: act on a subscription's 5-hour or weekly window before a call starts.

`policies.quotas.<name>: {tool, window, at, action, to, estimate}` (docs/plans.md). The used
share of `tool`'s `window` comes from the newest plan snapshot (shim.plans.snapshots: Claude's
status line JSON or its stream-json `rate_limit_event`); a snapshot whose window has reset
since says nothing, so it counts as unknown. Unknown, a quota with `estimate: {tokens: N}`
uses the tokens recorded in the window instead (fresh input + cache writes + output: the
current 5-hour block, or the last 7 days), and every line that shows it says "estimate".
Unknown without an estimate is said in the decision's reasons and the quota does nothing.

From `at` on, the most severe triggered action applies: block (exit 75; the budget override
lets it through, recorded) > redirect (one-shot calls, through the router's claude<->codex
translation; an interactive call runs where it was asked, with a warning) > downgrade (one
tier cheaper, as a budget downgrade) > warn. A redirected call meets the target tool's own
quotas, which may warn, downgrade or block it but not redirect it again.
"""

import time

from shim import errors

ACTIONS = ("warn", "downgrade", "redirect", "block")
SEVERITY = {"warn": 0, "downgrade": 1, "redirect": 2, "block": 3}
ESTIMATE_SPAN = {"five_hour": 5 * 3600, "seven_day": 7 * 86400}


def configured(cfg):
    """Every quota, normalised: [{name, tool, window, at, action, to, estimate_tokens}]."""
    out = []
    for name, spec in sorted((((cfg or {}).get("policies") or {}).get("quotas") or {}).items()):
        if not isinstance(spec, dict) or not spec.get("tool") or not spec.get("window"):
            continue
        to = spec.get("to") if isinstance(spec.get("to"), dict) else None
        out.append({"name": name, "tool": spec["tool"], "window": spec["window"],
                    "at": float(spec.get("at") or 1.0),
                    "action": spec.get("action") if spec.get("action") in ACTIONS else "warn",
                    "to": to, "estimate_tokens": (spec.get("estimate") or {}).get("tokens")})
    return out


def applicable(cfg, decision):
    from shim.policy import budgets

    if budgets.costs_nothing(decision):
        return []
    return [q for q in configured(cfg) if q["tool"] == decision.get("tool")]


def measure(conn, quota, now):
    """{"used": fraction or None, "source": "snapshot"|"estimate"|None, "detail": text}."""
    from shim.plans import snapshots

    snap = snapshots.latest(conn, quota["tool"], quota["window"], now)
    if snap is not None:
        return {"used": snap["used_pct"] / 100.0, "source": "snapshot",
                "resets_at": snap["resets_at"],
                "detail": f"{snap['used_pct']:.0f}% (as {quota['tool']} reported it "
                          f"{_ago(now - snap['seen_at'])})"}
    if quota["estimate_tokens"]:
        tokens = window_tokens(conn, quota["tool"], quota["window"], now)
        used = tokens / float(quota["estimate_tokens"])
        return {"used": used, "source": "estimate", "resets_at": None,
                "detail": f"{100 * used:.0f}% (estimate: {tokens:,} of "
                          f"{quota['estimate_tokens']:,} tokens recorded in the window)"}
    return {"used": None, "source": None, "resets_at": None,
            "detail": "unknown (no current snapshot, no estimate)"}


def window_tokens(conn, tool, window, now):
    """Fresh input + cache writes + output recorded in the window: the tool's current 5-hour
    block, or the last 7 days."""
    from shim.plans import blocks

    if window == "five_hour":
        rows = blocks.load_rows(conn, now - 2 * blocks.BLOCK_SECONDS, [tool])
        block = blocks.current(rows, now, tool)
        if block is None:
            return 0
        return block["input_tokens"] + block["cache_write_tokens"] + block["output_tokens"]
    since = now - ESTIMATE_SPAN.get(window, 7 * 86400)
    row = conn.execute(
        "SELECT TOTAL(input_tokens) + TOTAL(cache_write_tokens) + TOTAL(output_tokens) "
        "FROM spend WHERE blocked = 0 AND tool = ? AND started_at >= ?", (tool, since)).fetchone()
    return int(row[0] or 0)


def _ago(seconds):
    from shim.policy import budgets

    return f"{budgets.duration(seconds)} ago"


def judge(conn, decision, request, cfg, now=None, override=False):
    """Apply the quotas of the call's tool. Returns {"decision", "warnings": [(what, why,
    hint)], "error": errors.Blocked or None, "quotas": [rows], "overridden": a block let
    through by the budget override}; the decision's reasons say
    what each quota found, estimates labelled as such."""
    now = time.time() if now is None else now
    result = {"decision": decision, "warnings": [], "error": None, "quotas": [],
              "overridden": False}
    _judge_tool(conn, result, request, cfg, now, override, may_redirect=True)
    return result


def _judge_tool(conn, result, request, cfg, now, override, may_redirect):
    decision = result["decision"]
    triggered = []
    for quota in applicable(cfg, decision):
        row = dict(measure(conn, quota, now), quota=quota)
        result["quotas"].append(row)
        reason = f"quota '{quota['name']}': {quota['tool']} {quota['window']} window at " \
                 f"{row['detail']}"
        if row["used"] is None:
            decision.setdefault("reasons", []).append(reason + ": not applied")
            continue
        if not reached(quota, row):
            decision.setdefault("reasons", []).append(reason + f", under {quota['at']:.0%}")
            continue
        row["reason"] = describe(quota, row)
        triggered.append(row)
    if not triggered:
        return
    triggered.sort(key=lambda r: -SEVERITY[r["quota"]["action"]])
    for row in triggered[1:]:
        decision.setdefault("reasons", []).append(row["reason"] + " (a stricter quota applies)")
    top = triggered[0]
    action = top["quota"]["action"]
    if action == "redirect" and not may_redirect:
        action = "warn"
    why = describe(top["quota"], top)
    if action == "block":
        if not override:
            decision.setdefault("reasons", []).insert(0, why + ": blocked")
            hint = _resets(top, now) + "LLM_SHIM_BUDGET_OVERRIDE=1 runs it anyway (recorded)"
            result["error"] = errors.Blocked("quota", why, hint)
            return
        decision.setdefault("reasons", []).insert(0, why + ": block overridden")
        result["overridden"] = True
        result["warnings"].append(("quota", why, "LLM_SHIM_BUDGET_OVERRIDE=1: running it anyway"))
        return
    if action == "warn":
        decision.setdefault("reasons", []).insert(0, why + ": warning only")
        result["warnings"].append(("quota", why, "running it anyway (action: warn)"))
        return
    if action == "downgrade":
        cheaper = _redecide(decision, request, cfg, {"downgrade": True, "to_tier": "cheap",
                                                     "reason": f"quota '{top['quota']['name']}'"})
        cheaper["reasons"].insert(0, why + ": downgrade")
        result["decision"] = cheaper
        if cheaper.get("model") != decision.get("model"):
            result["warnings"].append(("quota", why, f"running {cheaper.get('model')} instead"))
        else:
            result["warnings"].append(("quota", why, "nothing cheaper to run: running it as "
                                                      "asked"))
        return
    target = top["quota"]["to"] or {}
    if decision.get("mode") != "oneshot":
        decision.setdefault("reasons", []).insert(
            0, why + f": not redirected to {target.get('tool')} ({decision.get('mode')} call; "
                  "one-shot calls only)")
        result["warnings"].append(("quota", why, f"an {decision.get('mode')} call is not "
                                                  f"redirected: running {decision.get('tool')}"))
        return
    moved = _redecide(decision, request, cfg, {"redirect": target,
                                                "reason": f"quota '{top['quota']['name']}'"})
    if moved.get("tool") != target.get("tool"):
        decision.setdefault("reasons", []).insert(0, why + ": not redirected")
        decision["reasons"].extend(r for r in moved.get("reasons") or () if r.startswith(
            ("cannot", "model ", "agent ")) and r not in decision["reasons"])
        result["warnings"].append(("quota", why, f"cannot redirect to {target.get('tool')}: "
                                                  f"running {decision.get('tool')}"))
        return
    moved["reasons"].insert(0, why + f": redirect to {target.get('tool')}")
    moved["quota_redirect"] = dict(target, reason=f"quota '{top['quota']['name']}'")
    result["decision"] = moved
    result["warnings"].append(("quota", why, f"running {target.get('tool')} instead"))
    _judge_tool(conn, result, request, cfg, now, override, may_redirect=False)


def reached(quota, row):
    """True when a measured quota (`measure`) is at or over its `at`; unknown is not."""
    return row["used"] is not None and row["used"] + 1e-9 >= quota["at"]


def states(conn, cfg, now):
    """Every quota with its measurement and state, for `llm-shim watch`: [{"quota", "used",
    "source", "detail", "resets_at", "state": "reached"|"under"|"unknown"}]."""
    out = []
    for quota in configured(cfg):
        row = dict(measure(conn, quota, now), quota=quota)
        row["state"] = ("unknown" if row["used"] is None
                        else "reached" if reached(quota, row) else "under")
        out.append(row)
    return out


def describe(quota, row):
    """`quota 'claude-5h': claude five_hour window at 87% (as claude reported it 2m ago), at or
    over 85%`: what a triggered quota says, in its warning, its block and the reasons."""
    label = " (estimate)" if row.get("source") == "estimate" else ""
    return (f"quota '{quota['name']}'{label}: {quota['tool']} {quota['window']} window at "
            f"{row['detail']}, at or over {quota['at']:.0%}")


def _resets(row, now):
    if row.get("resets_at"):
        from shim.policy import budgets

        return f"the window resets in {budgets.duration(row['resets_at'] - now)}; "
    return ""


def _redecide(decision, request, cfg, budget_state):
    from shim.routing import decide

    again = decide(request, cfg, decision.get("agent"), budget_state=budget_state,
                   agent_reason=decision.get("agent_reason"))
    again["reasons"] = list(again.get("reasons") or [])
    return again

