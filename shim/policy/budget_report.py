"""What `llm-shim budget` shows, as data: where every budget, rate limit and cooldown stands
(`status.status`), after forgetting the cooldowns when asked. The command only formats it.
"""

from shim.policy import state, status


def budget_report(conn, cfg, now=None, clear_cooldowns=False, team=None):
    """(report, cleared): the status document, and how many cooldowns were forgotten first
    (None when `clear_cooldowns` is False). `team`: the team hooks (shim.team.budget_hooks),
    or None: policy code never imports the team package itself."""
    cleared = None
    if clear_cooldowns:
        conn.execute("BEGIN IMMEDIATE")
        try:
            cleared = state.clear_cooldowns(conn)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
    return status.status(conn, cfg, now, team), cleared
