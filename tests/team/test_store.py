"""The team store's schema and connection: created and migrated by llm-shim, short timeouts,
one-line errors, and the `team:` config section."""

import subprocess
import sys
import textwrap

import pytest

from shim import team
from shim.config import build


def settings(dsn, **kw):
    return team.settings({"team": dict({"dsn": dsn, "name": "core"}, **kw)})


def test_machines_connecting_at_once_migrate_exactly_once(pg_db, pg):
    from shim.team import schema

    code = textwrap.dedent(f"""
        from shim import team
        from shim.team import pg
        conn = pg.connect(team.settings({{"team": {{"dsn": {pg_db!r}, "timeout": 10}}}}))
        print(conn.execute("SELECT COUNT(*) FROM team_attempts").fetchone()[0])
    """)
    procs = [subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE) for _ in range(4)]
    for proc in procs:
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        assert out.strip() == b"0"
    assert schema.version(pg) == schema.LATEST
    assert pg.execute(f"SELECT version, name FROM {schema.SCHEMA_TABLE} "
                      "ORDER BY version").fetchall() == [
        (1, "m001_team_store"), (2, "m002_import_columns")]
    tables = {r[0] for r in pg.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")}
    assert {"team_attempts", "team_counters", "team_spend", "team_reservations",
            "team_machines", schema.SCHEMA_TABLE} <= tables


def test_a_store_newer_than_this_code_is_left_alone(pg_db, pg):
    from shim.team import pg as pgmod, schema

    pgmod.connect(settings(pg_db)).close()
    pg.execute(f"COMMENT ON TABLE {schema.SCHEMA_TABLE} IS '{schema.LATEST + 1}'")
    conn = pgmod.connect(settings(pg_db))
    assert schema.migrate(conn) == schema.LATEST + 1
    conn.close()


def test_an_unreachable_store_fails_fast_and_is_remembered(pg_server):
    from shim.team import pg as pgmod

    dead = settings(f"postgresql://postgres@127.0.0.1:{pg_server.port + 1}/x", timeout=1)
    with pytest.raises(pgmod.Unreachable) as caught:
        pgmod.connect(dead)
    assert caught.value.exit_code == 75
    assert caught.value.lines()[0].startswith(
        f"llm-shim: team: team store 'core' at 127.0.0.1:{pg_server.port + 1}/x is unreachable")
    assert pgmod.recently_down()
    with pytest.raises(pgmod.Unreachable, match="unreachable moments ago"):
        pgmod.connect(dead, honour_down=True)
    live = settings(pg_server.dsn())
    pgmod.connect(live).close()  # a working connection clears the marker
    assert not pgmod.recently_down()


def test_the_password_never_appears_in_messages():
    from shim.team import pg as pgmod

    text = pgmod.describe(settings("postgresql://bob:hunter2@db.example:6543/llm"))
    assert text == "team store 'core' at db.example:6543/llm"


def test_machine_id_is_stable_per_data_directory(tmp_path, monkeypatch):
    from shim.team import pg as pgmod

    first = pgmod.machine_id()
    assert len(first) == 16 and pgmod.machine_id() == first
    monkeypatch.setenv("LLM_SHIM_HOME", str(tmp_path / "other"))
    assert pgmod.machine_id() != first


def test_settings_defaults():
    assert team.settings({}) is None
    assert team.settings({"team": None}) is None
    assert settings("postgresql://h/db") == {"dsn": "postgresql://h/db", "name": "core",
                                             "on_unreachable": "open", "timeout": 2.0}


@pytest.mark.parametrize("text, fragment", [
    ("team: {dsn: 'postgresql://h/db', on_unreachable: spool}",
     "team.on_unreachable: must be one of open, closed"),
    ("policies: {budgets: {t: {scope: team, period: day, limit: {usd: 1}}}}",
     "policies.budgets.t.scope: scope team needs a team: section"),
    ("team: {dsn: 'postgresql://h/db'}\n"
     "policies: {budgets: {t: {scope: team, match: x, period: day, limit: {usd: 1}}}}",
     "policies.budgets.t.match: scope team counts every call; remove match"),
])
def test_config_problems(tmp_path, text, fragment):
    path = tmp_path / "config.yaml"
    path.write_text(text + "\n")
    problems = build.validate_file(str(path))
    assert any(fragment in p for p in problems), problems


def test_a_valid_team_config(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text("team: {dsn: 'postgresql://h/db', name: platform, on_unreachable: closed, "
                    "timeout: 5}\npolicies: {budgets: {t: {scope: team, period: month, "
                    "limit: {usd: 200}}}}\n")
    assert build.validate_file(str(path)) == []
