"""`report --by session`: one line per session besides the period rows — the length of its
first prompt, when it began and ended, its models and what each cost.

Sessions are the `session_id` of attempts (a shim call's tool session, or the transcript's for
an imported row), summed from the rows over the report's whole range. The first prompt is the
`prompt_chars` of the session's earliest row that has one (an import row carries the length
of the user prompt before its first message).
"""

from shim.report import query, rollup

TOP = 50  # sessions listed in the table (the JSON has them all)


def collect(conn, periods, filters=None):
    """[{session, tool, project, first_prompt_chars, started_at, ended_at, duration_s, models:
    {model: cost_usd or None}, cost_usd, unknown_cost_rows, input_tokens, output_tokens}],
    most expensive first."""
    if not periods:
        return []
    columns = set(rollup.columns_of(conn, "attempts"))
    if "session_id" not in columns:
        return []
    where, params = query.filter_sql({k: v for k, v in (filters or {}).items() if v})
    clause = " AND ".join(["session_id IS NOT NULL", "started_at >= ?", "started_at < ?"]
                          + where)
    params = [periods[0]["start"], periods[-1]["end"]] + params
    per_model = conn.execute(
        "SELECT session_id, model, MIN(tool), MIN(project), MIN(started_at), "
        "MAX(IFNULL(ended_at, started_at)), SUM(cost_usd), SUM(cost_usd IS NULL), "
        "SUM(IFNULL(input_tokens, 0)), SUM(IFNULL(output_tokens, 0)) "
        f"FROM attempts WHERE {clause} GROUP BY session_id, model", params).fetchall()
    prompts = conn.execute(
        f"SELECT session_id, prompt_chars FROM attempts WHERE {clause} "
        "AND prompt_chars IS NOT NULL ORDER BY started_at DESC", params).fetchall()
    return fold(per_model, prompts)


def fold(per_model, prompts):
    """The sessions list from (session, model, tool, project, first, last, cost, unknown cost
    rows, input, output) sums per session and model, and (session, prompt_chars) rows newest
    first: shared by the local report and the team's (shim/team/report.py)."""
    found = {}
    for (session, model, tool, project, first, last, cost, unknown, fresh, out) in per_model:
        item = found.get(session)
        if item is None:
            item = found[session] = {
                "session": session, "tool": tool, "project": project,
                "first_prompt_chars": None, "started_at": first, "ended_at": last,
                "models": {}, "cost_usd": 0.0, "unknown_cost_rows": 0,
                "input_tokens": 0, "output_tokens": 0}
        item["started_at"] = min(item["started_at"], first)
        item["ended_at"] = max(item["ended_at"], last)
        item["models"][model] = cost
        item["cost_usd"] += cost or 0.0
        item["unknown_cost_rows"] += unknown
        item["input_tokens"] += fresh
        item["output_tokens"] += out
    for session, chars in prompts:
        if session in found:
            found[session]["first_prompt_chars"] = chars  # the earliest one is written last
    out = sorted(found.values(), key=lambda s: -s["cost_usd"])
    for item in out:
        item["duration_s"] = round(item["ended_at"] - item["started_at"], 3)
        item["cost_usd"] = round(item["cost_usd"], 9)
    return out


def table(sessions, top=TOP):
    """The sessions as an aligned text table (the most expensive `top`)."""
    from tabulate import tabulate

    if not sessions:
        return ""
    body = []
    for item in sessions[:top]:
        models = ", ".join(f"{m or '(none)'} {_usd(c)}" for m, c in
                           sorted(item["models"].items(), key=lambda mc: -(mc[1] or 0)))
        body.append([item["session"], item["tool"] or "", _chars(item["first_prompt_chars"]),
                     _duration(item["duration_s"]), _usd(item["cost_usd"]), models])
    text = tabulate(body, headers=["session", "tool", "first prompt", "duration", "cost $",
                                   "models"],
                    tablefmt="simple", disable_numparse=True,
                    colalign=["left", "left", "right", "right", "right", "left"])
    more = len(sessions) - top
    return "\nsessions\n\n" + text + "\n" + (f"... and {more} more (--json lists all)\n"
                                             if more > 0 else "")


def _usd(value):
    return "?" if value is None else f"{value:,.2f}"


def _chars(value):
    return "?" if value is None else f"{value:,} chars"


def _duration(seconds):
    seconds = int(seconds)
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
