"""Team mode: a shared PostgreSQL store for every member's telemetry and for team budgets.

Every machine keeps writing its local SQLite store first (the hot path never waits for the
network); `sync` pushes new local rows to PostgreSQL through an outbox, `report` reads the team
report from there, and `budgets` reserves team-scope budget spend in PostgreSQL transactions.
psycopg 3 (the `llm-shim[team]` extra) is imported only by `pg`, and only when `team:` is set.
See docs/team.md.
"""

DEFAULT_NAME = "default"
DEFAULT_TIMEOUT = 2.0
ON_UNREACHABLE = ("open", "closed")


def budget_hooks(cfg):
    """shim.team.budgets (admit, measure, settle, release) when a budget has scope team, else
    None: what the policy engine, which never imports team code, is handed to judge them."""
    from shim.policy import budgets

    if not budgets.team_scoped(cfg):
        return None
    from shim.team import budgets as team_budgets

    return team_budgets


def configured(cfg):
    """True when the config has a `team:` section with a dsn (cheap: a dict lookup)."""
    team = (cfg or {}).get("team")
    return bool(team and team.get("dsn"))


def settings(cfg):
    """The normalised `team:` section: {dsn, name, on_unreachable, timeout}, or None."""
    team = (cfg or {}).get("team")
    if not (team and team.get("dsn")):
        return None
    on_unreachable = team.get("on_unreachable") or "open"
    if on_unreachable not in ON_UNREACHABLE:
        on_unreachable = "open"
    try:
        timeout = float(team.get("timeout") or DEFAULT_TIMEOUT)
    except (TypeError, ValueError):
        timeout = DEFAULT_TIMEOUT
    return {"dsn": str(team["dsn"]), "name": str(team.get("name") or DEFAULT_NAME),
            "on_unreachable": on_unreachable, "timeout": max(0.1, timeout)}


def require_settings(command, cfg=None):
    """(settings, cfg) for a command that only makes sense in team mode (`sync`,
    `report --team`); a usage error naming what to add when there is no `team:` section."""
    if cfg is None:
        from shim.config import compiled

        cfg = compiled.load()
    found = settings(cfg)
    if found is None:
        from shim import errors

        raise errors.UsageError(command, "no team store is configured",
                                "add team: {dsn: postgresql://..., name: <team>} to the config "
                                "(docs/team.md)")
    return found, cfg
