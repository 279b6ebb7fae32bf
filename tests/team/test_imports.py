"""Imported usage (`llm-shim import`) in team mode: the store carries the import columns (an
existing store is upgraded in place), keeps each import row as it is now on its machine (grown
by a later import, shrunk or removed when a shim call takes its entries over) without
re-sending everything, counts it against team budgets, and `report --team` filters and groups
it like the local report."""

import time

import pytest

from tests.support.transcripts import claude_line
from tests.team.conftest import DIME_CALL

OPUS = "claude-opus-4-1-20250805"


def transcript_line(msg_id, ts, out=10, inp=5, session="s-1", model="claude-sonnet-4-5-20250929",
                    cwd="/src/app", branch="main"):
    """One assistant message of a Claude Code transcript, as the tool writes it."""
    return claude_line(msg_id, ts, out=out, inp=inp, read=0, write=0, session=session,
                       model=model, cwd=cwd, branch=branch, separators=None)


def entry_key(msg_id):
    return ("claude", f"{msg_id}:req_{msg_id}")


def log_env(member):
    """The member's own tool log directories (never the test runner's)."""
    home = member.user_home
    return {"CLAUDE_CONFIG_DIR": str(home / ".claude"), "CODEX_HOME": str(home / ".codex"),
            "LLM_USER_PATH": str(home / "llm")}


def write_transcript(member, text, name="s-1", append=False):
    folder = member.user_home / ".claude" / "projects" / "-src-app"
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / f"{name}.jsonl", "a" if append else "w") as fh:
        fh.write(text)


def sync(member):
    return member.cli_json("sync", "--json", env=log_env(member))


def quarter_start(ago_quarters=4):
    """The start of a UTC quarter hour some while ago: entries inside it share one row."""
    return (int(time.time()) // 900 - ago_quarters) * 900


def local_import_rows(member):
    conn = member.db()
    try:
        return sorted(conn.execute(
            "SELECT invocation_id, output_tokens, entry_count, cost_usd, git_branch "
            "FROM attempts WHERE source = 'import'").fetchall())
    finally:
        conn.close()


def team_import_rows(pg):
    return sorted(pg.execute(
        "SELECT invocation_id, output_tokens, entry_count, cost_usd, git_branch "
        "FROM team_attempts WHERE invocation_id LIKE 'import:%' ORDER BY 1").fetchall())


def same_rows(local, remote):
    assert len(local) == len(remote)
    for a, b in zip(local, remote):
        assert a[:3] == b[:3] and a[4] == b[4]
        assert a[3] == pytest.approx(b[3])


def test_an_existing_team_store_is_upgraded_in_place_and_filled(team, pg, monkeypatch):
    """A store made by the first team schema (no import columns) that already holds this
    machine's rows: the next sync migrates it (ALTER, the rows stay) and sends the rows again
    so the new columns are filled."""
    from shim import team as team_mode
    from shim.team import pg as pgmod
    from shim.team import schema, sync as sync_mod
    from shim.telemetry import store

    (alice,) = team(1)
    start = quarter_start()
    write_transcript(alice, transcript_line("m1", start + 5, out=30, branch="feat/x"))
    alice.use(monkeypatch)
    for key, value in log_env(alice).items():
        monkeypatch.setenv(key, value)
    settings = team_mode.settings(alice.cfg)
    # The store as the first team schema made it, and a push of that version's shape.
    old = pgmod.connect(settings, migrate=False)
    try:
        assert schema.migrate(old, target=1) == 1
        conn = store.connect()
        try:
            from shim.telemetry import imports

            imports.run(conn)
            stats = sync_mod.push(conn, settings, pg_conn=old)
        finally:
            conn.close()
    finally:
        old.close()
    assert stats["attempts"] == 1
    assert "git_branch" not in schema.columns(pg, "team_attempts")
    first_synced = pg.execute("SELECT synced_at FROM team_attempts").fetchone()[0]

    second = sync(alice)
    assert schema.version(pg) == schema.LATEST >= 2
    columns = schema.columns(pg, "team_attempts")
    for column in ("route_score", "source", "git_branch", "git_head", "entry_count"):
        assert column in columns
    # the same row, now with what the old shape could not carry
    assert second["attempts"] == 0 and second["updated"] == 1
    assert pg.execute("SELECT source, git_branch, entry_count, output_tokens, "
                      "synced_at > %s FROM team_attempts", (first_synced,)).fetchall() == [
        ("import", "feat/x", 1, 30, True)]
    # and after that nothing is sent again
    third = sync(alice)
    assert (third["sent"], third["updated"]) == (0, 0)


def test_an_import_row_that_grows_after_the_first_sync_is_updated_in_the_store(team, pg):
    (alice,) = team(1)
    start = quarter_start()
    write_transcript(alice, transcript_line("m1", start + 5, out=10))
    first = sync(alice)
    assert first["attempts"] == 1
    same_rows(local_import_rows(alice), team_import_rows(pg))
    # The IDE goes on in the same session and quarter hour: the same import row grows.
    write_transcript(alice, transcript_line("m2", start + 60, out=90), append=True)
    second = sync(alice)
    assert (second["attempts"], second["updated"], second["sent"]) == (0, 1, 1)
    rows = team_import_rows(pg)
    assert [r[1:3] for r in rows] == [(100, 2)]
    same_rows(local_import_rows(alice), rows)
    # A message whose later lines carry a larger usage grows it again.
    write_transcript(alice, transcript_line("m2", start + 61, out=140), append=True)
    assert sync(alice)["updated"] == 1
    assert [r[1:3] for r in team_import_rows(pg)] == [(150, 2)]
    # Nothing changed: nothing is sent (not every row again).
    again = sync(alice)
    assert (again["sent"], again["updated"], again["attempts"]) == (0, 0, 0)


def test_entries_a_shim_call_takes_over_leave_the_team_store(team, pg, monkeypatch):
    """`supersede` (run by ingestion when a shim call accounts for imported entries) shrinks
    an import row, or deletes it when nothing is left: the store follows, so the team does
    not count those entries twice (once in the shim call's row, once in the import row)."""
    from shim.telemetry import imports, store

    (alice,) = team(1)
    start = quarter_start()
    write_transcript(alice, transcript_line("a1", start + 5, out=40, session="s-a")
                     + transcript_line("a2", start + 50, out=7, session="s-a"), name="s-a")
    write_transcript(alice, transcript_line("b1", start + 9, out=500, session="s-b"),
                     name="s-b")
    sync(alice)
    assert sorted(r[1] for r in team_import_rows(pg)) == [47, 500]

    alice.use(monkeypatch)
    conn = store.connect()
    try:
        with store.transaction(conn):  # as ingestion does, in its own transaction
            imports.supersede(conn, [], {entry_key("a1"): ("c" * 32, 1),
                                         entry_key("b1"): ("d" * 32, 1)})
    finally:
        conn.close()
    stats = sync(alice)
    assert (stats["updated"], stats["deleted"]) == (1, 1)
    rows = team_import_rows(pg)
    assert [r[1:3] for r in rows] == [(7, 1)]
    same_rows(local_import_rows(alice), rows)
    # a machine never deletes or overwrites another machine's import row
    pg.execute("UPDATE team_attempts SET machine = 'someone-else'")
    conn = store.connect()
    try:
        with store.transaction(conn):
            imports.supersede(conn, [], {entry_key("a2"): ("e" * 32, 1)})
    finally:
        conn.close()
    sync(alice)
    assert [r[1] for r in team_import_rows(pg)] == [7]


def test_team_budgets_count_imported_spend_at_once(team, pg):
    """Bob used Claude from his IDE (outside the shim) today: a hard $1 team budget refuses
    his next shim call as soon as that usage is imported, before any sync pushed it; then
    the spend is in the store for every member."""
    extra = {"policies": {"budgets": {"team-dollar": {
        "scope": "team", "period": "day", "limit": {"usd": 1.0, "type": "hard"}}}}}
    alice, bob = team(2, extra=extra)
    for member in (alice, bob):
        member.cfg["team"]["timeout"] = 10
        member.write_config()
    sync(bob)  # bob is a synced member already: his outbox exists, the store is empty
    assert pg.execute("SELECT COUNT(*) FROM team_attempts").fetchone() == (0,)
    write_transcript(bob, transcript_line("ide", time.time() - 30, out=100000, inp=10,
                                          model=OPUS))
    proc = bob.run(DIME_CALL, env=log_env(bob))
    err = proc.stderr.decode()
    assert proc.returncode == 75, err
    assert "team budget 'team-dollar' (every member's calls) has spent" in err
    spent = pg.execute("SELECT SUM(cost_usd) FROM team_attempts WHERE invocation_id LIKE "
                       "'import:%'").fetchone()[0]
    assert spent > 1.0
    # alice has no log of her own: the imported spend is the team's, so she is refused too
    proc = alice.run(DIME_CALL, env=log_env(alice))
    assert proc.returncode == 75, proc.stderr.decode()


def _report(member, *args, team_store):
    argv = ["report", "--json", "--since", "7d", *args] + (["--team"] if team_store else [])
    return member.cli_json(*argv, env=log_env(member))


@pytest.mark.parametrize("options", [
    ("--source", "import"), ("--source", "shim"), ("--source", "all"),
    ("--by", "source"), ("--by", "branch"), ("--by", "session"),
    ("--by", "branch,source", "--source", "import"),
])
def test_report_team_has_the_local_reports_source_and_row_keys(team, monkeypatch, options):
    (alice,) = team(1)
    start = quarter_start()
    write_transcript(alice, transcript_line("m1", start + 5, out=30, branch="feat/x")
                     + transcript_line("m2", start + 1000, out=12, branch="main",
                                       session="s-2"))
    # imported first: a local report skips its import while the after-call sync's runs
    alice.cli("import", env=log_env(alice))
    assert alice.run(DIME_CALL, env=log_env(alice)).returncode == 0
    # An explicit sync waits for the after-call one (the lock) and pushes what is left, so
    # the store holds the call's row before the two reports are compared.
    alice.cli("sync", env=log_env(alice))
    local = _report(alice, *options, team_store=False)
    remote = _report(alice, *options, team_store=True)
    assert local["totals"]["attempts"] > 0
    for key in ("totals", "rows"):
        assert remote[key] == local[key]
    if "session" in options:
        assert [s["session"] for s in remote["sessions"]] == \
            [s["session"] for s in local["sessions"]]
        for a, b in zip(remote["sessions"], local["sessions"]):
            assert a["cost_usd"] == pytest.approx(b["cost_usd"])
            assert (a["input_tokens"], a["output_tokens"], a["first_prompt_chars"]) == \
                (b["input_tokens"], b["output_tokens"], b["first_prompt_chars"])
