"""The learned router's score reaches the record, the database column and `llm-shim logs`."""

import json
import sqlite3

from shim import paths
from shim.cli import main as cli
from shim.telemetry import migrations, spool
from tests.telemetry.conftest import claude_usage

ROUTE = {"score": 0.9312, "premium_score": 0.02, "tier": "standard",
         "thresholds": {"standard": 0.86, "premium": 0.1}, "strong_share": 0.35,
         "kind": "compute", "top_features": [["kind: compute", 2.5]]}


def test_record_carries_the_route_score(make_record):
    assert make_record(decision={"route": ROUTE, "score": 0.9312})["route_score"] == 0.9312
    assert make_record()["route_score"] is None  # no learned verdict: unknown, not 0


def test_logs_keeps_and_shows_the_score(make_record, capsys):
    spool.append(make_record(decision={"route": ROUTE, "tier": "standard", "model": "claude-sonnet-5"},
                             outcome={"usage": claude_usage(model="claude-sonnet-5")}))
    spool.append(make_record(decision={"tier": "premium"}, outcome={"usage": claude_usage()}))
    assert cli.main(["logs", "--json"]) == 0
    rows = json.loads(capsys.readouterr()[0])
    assert sorted((r["route_score"] is None, r["route_score"]) for r in rows) == [
        (False, 0.9312), (True, None)]
    assert cli.main(["logs"]) == 0
    table = capsys.readouterr()[0]
    assert "standard 0.93" in table
    conn = sqlite3.connect(paths.database_file())
    try:
        assert conn.execute("SELECT route_score FROM attempts WHERE route_score IS NOT NULL"
                            ).fetchall() == [(0.9312,)]
    finally:
        conn.close()


def test_migration_7_adds_the_column_to_an_older_database(tmp_path):
    conn = sqlite3.connect(str(tmp_path / "old.db"), isolation_level=None)
    try:
        migrations.migrate(conn, target=6)
        before = [r[1] for r in conn.execute("PRAGMA table_info(attempts)")]
        assert "route_score" not in before
        assert migrations.migrate(conn, target=7) == 7 <= migrations.LATEST
        after = [r[1] for r in conn.execute("PRAGMA table_info(attempts)")]
        assert after == before + ["route_score"]
    finally:
        conn.close()
