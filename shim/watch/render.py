"""A frame (shim/watch/frame.py) as text: `plain` for pipes, scripts and terminals without
rich, `rich_view` for a terminal with rich (imported only here, only when called)."""

import time

from shim.policy.budgets import duration, usd

BAR_WIDTH = 24
UNKNOWN = "unknown"


def clock(epoch):
    return time.strftime("%H:%M:%S", time.localtime(epoch))


def hour(epoch):
    return time.strftime("%H:%M", time.localtime(epoch))


def bar(fraction, width=BAR_WIDTH):
    """`[########----------------]`: a budget's use, full at 100 % and beyond."""
    filled = max(0, min(width, int(round(fraction * width))))
    return "[" + "#" * filled + "-" * (width - filled) + "]"


def money(cost, unknown, calls=None):
    """A cost with its unpriced calls said, never hidden: `$1.20`, `$1.20 + 2 unpriced`, or
    `unknown` when no call of it had a price."""
    if unknown and not cost and (calls is None or unknown >= calls):
        return "unknown"
    return usd(cost) + (f" + {unknown} unpriced" if unknown else "")


def count(n, word):
    return f"{n:,} {word}" + ("" if n == 1 else "s")


def headroom(row):
    """What is left of a budget: its limit less spend and reservations in flight."""
    return row["limit_usd"] - row["spent_usd"] - row["in_flight_usd"]


def sections(frame):
    """[(title, [line, ...])] shared by both renderings."""
    out = []
    now = frame["now"]
    calls = frame["running"]
    if calls is None:
        out.append(("Running now", [UNKNOWN]))
    else:
        lines = []
        for c in calls:
            who = f"agent {c['agent']}" if c["agent"] else "no agent"
            state = (f"died (pid {c['pid']} gone)" if c["state"] == "died"
                     else f"running {duration(c['seconds'])}")
            lines.append(f"{c['tool'] or '?'}  {c['model'] or '(tool default)'}  {who}  "
                         f"{c['mode'] or ''}  {state}  pid {c['pid']}".replace("    ", "  "))
        out.append((f"Running now ({len(calls)})", lines or ["nothing running"]))
    current = frame["blocks"]
    if current is None:
        out.append(("5-hour blocks", [UNKNOWN]))
    else:
        lines = []
        official = {w["tool"]: w["used_pct"] for w in frame.get("plan_windows") or ()
                    if w["window"] == "five_hour" and not w["stale"]}
        for tool, b in sorted(current.items()):
            used = f"  5h used {official[tool]:.0f}%" if tool in official else ""
            lines.append(f"{tool}  {hour(b['start'])}-{hour(b['end'])}  "
                         f"{duration(b['end'] - now)} left  {count(b['calls'], 'call')}  "
                         f"{count(b['tokens'], 'token')}  "
                         f"{money(b['cost_usd'], b['unknown_cost'], b['calls'])}  "
                         f"{usd(b['burn_per_hour'])}/h  ~{usd(b['projected_usd'])} at end"
                         f"{used}")
        out.append(("5-hour blocks", lines or ["no active block"]))
    out.append(plan_window_section(frame.get("plan_windows"), now))
    if frame.get("quotas") is None or frame["quotas"]:
        out.append(quota_section(frame.get("quotas")))
    day = frame["today"]
    if day is None:
        out.append(("Today", [UNKNOWN]))
    else:
        lines = []
        for r in day["rows"]:
            lines.append(f"{r['agent'] or '(no agent)'}  {r['model'] or '(unknown model)'}  "
                         f"{count(r['calls'], 'call')}  "
                         f"{money(r['cost_usd'], r['unknown_cost'], r['calls'])}")
        total_calls = sum(r["calls"] for r in day["rows"])
        out.append((f"Today ({day['label']}): "
                    f"{money(day['total_usd'], day['unknown_cost'], total_calls)}",
                    lines or ["no calls today"]))
    rows = frame["budgets"]
    if rows is None:
        out.append(("Budgets", [UNKNOWN]))
    else:
        lines = []
        for r in rows:
            limit = r["limit_usd"]
            used = r["spent_usd"] + r["in_flight_usd"]
            resets = f"  resets in {duration(r['resets_in_seconds'])}" \
                if r["resets_in_seconds"] is not None else ""
            lines.append(f"{r['name']}  {bar(used / limit if limit else 1.0)}  "
                         f"{r['percent']:.0f}%  {usd(used)} of {usd(limit)} {r['label']}  "
                         f"headroom {usd(max(0.0, headroom(r)))}  {r['state']}{resets}")
        out.append(("Budgets", lines or ["no budgets configured"]))
    events = frame["events"]
    if events is None:
        out.append(("Recent fallbacks and blocks", [UNKNOWN]))
    else:
        lines = [f"{clock(e['at'])}  {e['kind']}  {e['tool'] or '?'}  {e['model'] or ''}  "
                 f"{e['why'] or ''}".rstrip() for e in events]
        out.append(("Recent fallbacks and blocks", lines or ["none in the last 24 hours"]))
    if frame["problems"]:
        out.append(("Problems", frame["problems"]))
    return out


def plan_window_section(windows, now):
    """The plan windows' used %, as the tools last reported it: `claude  5h  37% used  resets
    in 2h10m  seen 3m ago`; one whose window has reset since is marked stale."""
    if windows is None:
        return ("Plan windows", [UNKNOWN])
    from shim.plans.snapshots import window_label

    lines = []
    for w in windows:
        if w["stale"]:
            when = (f"stale: reset {duration(now - w['resets_at'])} ago"
                    if w["resets_at"] is not None else "stale: older than its window")
        else:
            when = (f"resets in {duration(w['resets_at'] - now)}"
                    if w["resets_at"] is not None else "reset time unknown")
        lines.append(f"{w['tool']}  {window_label(w['window'])}  {w['used_pct']:.0f}% used  "
                     f"{when}  seen {duration(max(0.0, now - w['seen_at']))} ago")
    return ("Plan windows", lines or ["no snapshot recorded (docs/plans.md: the status line "
                                      "or claude's stream-json records them)"])


QUOTA_STATES = {"reached": "reached", "under": "under",
                "unknown": "unknown: not applied"}


def quota_section(rows):
    """Every quota as the shim judges it before a call: `claude-5h  claude 5h  87% (as claude
    reported it 2m ago)  redirect to codex from 85%  reached`."""
    if rows is None:
        return ("Quotas", [UNKNOWN])
    from shim.plans.snapshots import window_label

    lines = []
    for row in rows:
        quota = row["quota"]
        label = " (estimate)" if row.get("source") == "estimate" else ""
        action = quota["action"]
        if action == "redirect" and quota.get("to"):
            action += f" to {quota['to'].get('tool')}"
        lines.append(f"{quota['name']}{label}  {quota['tool']} {window_label(quota['window'])}"
                     f"  {row['detail']}  {action} from {quota['at']:.0%}  "
                     f"{QUOTA_STATES[row['state']]}")
    return ("Quotas", lines)


def title(frame, live):
    text = f"llm-shim watch  {time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(frame['now']))}"
    return text + ("  (q quits)" if live else "")


def plain(frame, live=False):
    parts = [title(frame, live), ""]
    for head, lines in sections(frame):
        parts.append(head)
        parts += [f"  {line}" for line in lines]
        parts.append("")
    return "\n".join(parts)


def rich_view(frame, live=False):
    """The same sections as rich renderables: budget bars drawn, sections in panels."""
    from rich.console import Group
    from rich.panel import Panel
    from rich.progress_bar import ProgressBar
    from rich.table import Table
    from rich.text import Text

    parts = [Text(title(frame, live), style="bold")]
    budget_rows = frame["budgets"]
    for head, lines in sections(frame):
        if head == "Budgets" and budget_rows:
            table = Table.grid(padding=(0, 1))
            for r in budget_rows:
                limit = r["limit_usd"]
                used = r["spent_usd"] + r["in_flight_usd"]
                style = "red" if used >= limit else ("yellow" if used >= 0.8 * limit
                                                     else "green")
                table.add_row(r["name"], ProgressBar(total=limit or 1.0, completed=min(
                    used, limit or 1.0), width=BAR_WIDTH, complete_style=style),
                    f"{r['percent']:.0f}%", f"{usd(used)} of {usd(limit)} {r['label']}",
                    f"headroom {usd(max(0.0, headroom(r)))}", r["state"])
            parts.append(Panel(table, title=head, title_align="left"))
        else:
            parts.append(Panel(Text("\n".join(lines)), title=head, title_align="left"))
    return Group(*parts)
