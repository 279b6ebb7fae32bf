"""`llm-shim report --team`: three machines calling at once; the team report is their sum."""

import csv
import io
import os

import pytest

from tests.team.conftest import DIME_CALL
from tests.team.test_sync import spool_records

INTEGER_FIELDS = ("invocations", "attempts", "failures", "blocked", "input_tokens",
                  "output_tokens", "cache_read_tokens", "cache_write_tokens",
                  "unknown_cost_attempts", "baseline_attempts")
MONEY_FIELDS = ("cost_usd", "baseline_cost_usd", "savings_usd")
RANGE = ("--monthly", "--since", "2026-09-01")


def busy_team(team, monkeypatch):
    """Three members: seeded history (attempts, fallbacks, counters, blocks, unknown costs)
    plus four concurrent real calls each, all twelve in flight together; then each syncs."""
    members = team(3)
    for seed, member in enumerate(members):
        spool_records(member, monkeypatch, 90 + 15 * seed, seed=seed)
    procs = [m.popen(DIME_CALL, {"FAKE_CLAUDE_SLEEP": "0.3",
                                 "FAKE_CLAUDE_COST": f"0.0{i + 1}"})
             for m in members for i in range(4)]
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    for member in members:
        member.cli("sync")
    return members


def _sum_docs(docs, keys):
    """{(period, *keys): {field: summed}} over several report documents."""
    out = {}
    for doc in docs:
        for row in doc["rows"]:
            cell = out.setdefault((row["period"], *(row[k] for k in keys)),
                                  dict.fromkeys(INTEGER_FIELDS + MONEY_FIELDS, 0))
            for field in INTEGER_FIELDS + MONEY_FIELDS:
                cell[field] += row[field]
    return out


def test_team_report_equals_the_sum_of_the_members_reports(team, pg, monkeypatch):
    members = busy_team(team, monkeypatch)
    keys = ("agent", "model")
    args = ("report", "--json", "--by", ",".join(keys), "--tz", "Asia/Kolkata", *RANGE)
    local = [m.cli_json(*args) for m in members]
    team_doc = members[0].cli_json(*args, "--team")
    assert team_doc["rows"], "nothing was reported"
    expected = _sum_docs(local, keys)
    got = _sum_docs([team_doc], keys)
    assert got.keys() == expected.keys()
    for cell, fields in expected.items():
        for field in INTEGER_FIELDS:
            assert got[cell][field] == fields[field], (cell, field)
        for field in MONEY_FIELDS:
            assert got[cell][field] == pytest.approx(fields[field], abs=1e-9), (cell, field)
    totals = team_doc["totals"]
    assert totals["invocations"] == sum(d["totals"]["invocations"] for d in local)
    assert totals["attempts"] == sum(d["totals"]["attempts"] for d in local) > 12
    assert totals["cost_usd"] == pytest.approx(sum(d["totals"]["cost_usd"] for d in local),
                                               abs=1e-9)
    # The four live calls per member are in there, at their reported costs.
    assert pg.execute("SELECT COUNT(*), SUM(cost_usd) FROM team_attempts "
                      "WHERE model = 'dime-model'").fetchone() == (12, pytest.approx(0.30))
    for field in ("timezone", "granularity", "since", "until", "group_by"):
        assert team_doc[field] == local[0][field]
    assert team_doc["source"] == "rows"  # summed from the store's rows (no rollup there)


def test_the_sums_are_identical_integers_in_every_zone(team, pg, monkeypatch):
    """Below the document: the integer measure vectors PostgreSQL sums equal SQLite's
    (rollup and raw rows), bucket by bucket, in zones with odd offsets."""
    from shim.report import api, query
    from shim.team import report as team_report
    from shim.telemetry import store

    members = busy_team(team, monkeypatch)
    for zone in ("UTC", "Asia/Kathmandu", "America/St_Johns"):
        zone_info = api.periods_mod.resolve_zone(zone)
        periods = api.select_periods("day", "2026-09-15", "2026-11-30", zone_info, "monday")
        for group_by in ((), ("agent", "tool", "project")):
            expected = {}
            for member in members:
                conn = store.connect(str(member.home / "telemetry.db"))
                try:
                    sums, source = query.collect(conn, periods, group_by)
                    assert source == "rollup"
                    assert query.collect(conn, periods, group_by, use_rollup=False)[0] == sums
                finally:
                    conn.close()
                for cell, vector in sums.items():
                    total = expected.setdefault(cell, [0] * len(vector))
                    for i, v in enumerate(vector):
                        total[i] += v
            got = team_report.collect(pg, "core", periods, group_by)
            assert got == expected, (zone, group_by)


def test_every_format_works_from_the_team_store(team, monkeypatch, tmp_path):
    members = busy_team(team, monkeypatch)
    alice = members[0]
    table = alice.cli("report", "--team", *RANGE, "--by", "model").stdout.decode()
    assert "dime-model" in table and "total" in table
    text = alice.cli("report", "--team", "--csv", *RANGE).stdout.decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    local = sum(int(r["invocations"]) for m in members for r in csv.DictReader(
        io.StringIO(m.cli("report", "--csv", *RANGE).stdout.decode())))
    assert sum(int(r["invocations"]) for r in rows) == local
    page = tmp_path / "team.html"
    alice.cli("report", "--team", *RANGE, "--html", str(page))
    assert "<svg" in page.read_text()


def test_report_team_includes_the_call_made_a_moment_ago(team, pg):
    (alice,) = team(1)
    # The down marker keeps the background push from running: only report --team pushes.
    (alice.home / "cache").mkdir(parents=True, exist_ok=True)
    marker = alice.home / "cache" / "team-down"
    marker.touch()
    assert alice.run(DIME_CALL).returncode == 0
    os.utime(marker)
    doc = alice.cli_json("report", "--team", "--json", "--since", "today")
    assert doc["totals"]["invocations"] == 1


def test_report_team_when_the_store_is_down_says_so(team, pg_server):
    (alice,) = team(1)
    alice.cfg["team"]["dsn"] = f"postgresql://postgres@127.0.0.1:{pg_server.port + 1}/x"
    alice.write_config()
    proc = alice.cli("report", "--team", check=False)
    assert proc.returncode == 75
    line = proc.stderr.decode()
    assert line.startswith("llm-shim: team: team store 'core' at 127.0.0.1:")
    assert "is unreachable" in line and line.count("\n") == 1
    assert alice.cli("report", check=False).returncode == 0  # the local report still works
