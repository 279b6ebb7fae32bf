"""The compact rollup triggers (a view of signed row contributions, one INSTEAD OF trigger) keep
exactly the rollup m012's triggers kept: two stores, one left at schema 12 and one migrated to
the latest schema, get the same random inserts, updates and deletes on `attempts` and
`counters`, and after every batch both rollups are equal row for row, and equal to a GROUP BY
over the rows."""

import random
import sqlite3

import pytest

from shim.report import measures, rollup
from shim.telemetry import migrations

OLD_TRIGGERS = 12  # m012: the last schema with the long per-level, per-source triggers

DAY = 86400
START = 1_771_545_600  # 2026-02-20 00:00 UTC, a whole day: bucket edges are easy to hit

READ = ("started_at", "attempt", "exit_code", "blocked", "input_tokens", "output_tokens",
        "cache_read_tokens", "cache_write_tokens", "reasoning_tokens", "cost_usd", "duration_ms",
        "baseline_cost_usd", "agent", "model", "tool", "provider", "project")
COUNTER_READ = tuple(c for c in READ if c in migrations.COUNTER_COLUMNS)


def _value(rnd, column):
    """A value for `column`: NULLs, zeros, edges and ordinary values."""
    if column == "started_at":
        return rnd.choice([START + rnd.uniform(0, 4 * DAY),
                           START + rnd.randint(0, 4 * DAY // 900) * 900,
                           START + DAY * rnd.randint(0, 4) - rnd.choice([0, 0.001, 1e-7])])
    if column == "attempt":
        return rnd.choice([1, 1, 2, 3])
    if column == "blocked":
        return rnd.choice([0, 0, 0, 1])
    if column == "exit_code":
        return rnd.choice([None, 0, 0, 1, 2, -9])
    if column.endswith("_tokens"):
        return rnd.choice([None, 0, rnd.randint(0, 10**6), rnd.randint(0, 100)])
    if column in ("cost_usd", "baseline_cost_usd"):
        return rnd.choice([None, 0.0, rnd.uniform(0, 3), round(rnd.uniform(0, 1), 6), 5e-10,
                           1.5e-9])
    if column == "duration_ms":
        return rnd.choice([None, 0.0, 0.5, 1.5, rnd.uniform(0, 90000)])
    if column == "agent":
        return rnd.choice(["a", "b", "", None])
    if column == "model":
        return rnd.choice(["claude-sonnet-5", "gpt-5.5", None])
    if column == "tool":
        return rnd.choice(["claude", "codex", "llm", None])
    if column == "provider":
        return rnd.choice(["anthropic", "openai", None])
    if column == "project":
        return rnd.choice(["/x", "/y", None])
    raise AssertionError(column)


class Pair:
    """Two stores at different schemas; every statement runs on both, with the same outcome."""

    def __init__(self):
        self.old = sqlite3.connect(":memory:", isolation_level=None)
        self.new = sqlite3.connect(":memory:", isolation_level=None)
        for conn in (self.old, self.new):
            assert migrations.migrate(conn, target=OLD_TRIGGERS) == OLD_TRIGGERS

    def execute(self, sql, params=()):
        outcomes = []
        for conn in (self.old, self.new):
            try:
                conn.execute(sql, params)
                outcomes.append(None)
            except sqlite3.IntegrityError as exc:  # e.g. an update onto a taken primary key
                outcomes.append(str(exc))
        assert outcomes[0] == outcomes[1], (sql, outcomes)

    def close(self):
        self.old.close()
        self.new.close()


@pytest.fixture
def pair():
    pair = Pair()
    yield pair
    pair.close()


def _insert(pair, rnd, table, serial):
    columns = READ if table == "attempts" else COUNTER_READ
    row = {c: _value(rnd, c) for c in columns}
    row["invocation_id"] = f"{serial % 97:032x}"  # some collide: ignored, never counted twice
    names = ", ".join(row)
    pair.execute(f"INSERT INTO {table} ({names}) VALUES ({', '.join('?' * len(row))}) "
                 "ON CONFLICT (invocation_id, attempt) DO NOTHING", tuple(row.values()))


def _update(pair, rnd, table):
    columns = READ if table == "attempts" else COUNTER_READ
    changed = rnd.sample(columns, rnd.randint(1, 4))
    sets = ", ".join(f"{c} = ?" for c in changed)
    values = tuple(_value(rnd, c) for c in changed)
    where = rnd.choice([("rowid = ?", (rnd.randint(1, 200),)),
                        ("rowid % 7 = ?", (rnd.randint(0, 6),)),
                        ("agent IS NULL", ()), ("started_at < ?", (START + rnd.uniform(0, DAY),))])
    pair.execute(f"UPDATE {table} SET {sets} WHERE {where[0]}", values + where[1])


def _step(pair, rnd, serial):
    table = rnd.choice(["attempts", "attempts", "counters"])
    kind = rnd.random()
    if kind < 0.5:
        _insert(pair, rnd, table, serial)
    elif kind < 0.8:
        _update(pair, rnd, table)
    elif kind < 0.85:
        pair.execute(f"UPDATE {table} SET started_at = started_at + ?, cost_usd = cost_usd * 2 "
                     "WHERE rowid % 5 = ?", (rnd.choice([1, 900, DAY, -600]), rnd.randint(0, 4)))
    elif kind < 0.9 and table == "attempts":  # a column the rollup does not read
        pair.execute("UPDATE attempts SET response_text = 'x', host = 'h' WHERE rowid % 3 = 0")
    elif kind < 0.97:
        pair.execute(f"DELETE FROM {table} WHERE rowid = ?", (rnd.randint(1, 200),))
    else:  # a prune-like range delete
        pair.execute(f"DELETE FROM {table} WHERE started_at < ?", (START + rnd.uniform(0, DAY),))


def _rollup_rows(conn, table):
    return conn.execute(f"SELECT * FROM {table} ORDER BY bucket, agent, model, tool, provider, "
                        "project").fetchall()


def _recomputed(conn, table, seconds):
    """The rollup `table` as a GROUP BY over attempts and counters computes it."""
    cells = {}
    for source in rollup.SOURCES:
        available = set(rollup.columns_of(conn, source))
        keys = [measures.bucket_expression("", seconds)]
        keys += [measures.key_expression(k, available) for k in measures.KEYS]
        sums = [f"SUM({sql})" for sql in measures.expressions(available).values()]
        for row in conn.execute(f"SELECT {', '.join(keys + sums)} FROM {source} "
                                "GROUP BY 1, 2, 3, 4, 5, 6"):
            key, vector = row[:6], row[6:]
            old = cells.get(key, (0,) * len(vector))
            cells[key] = tuple(a + b for a, b in zip(old, vector))
    return sorted(key + vector for key, vector in cells.items())


def _check(pair):
    for table, seconds in rollup.LEVELS:
        old, new = _rollup_rows(pair.old, table), _rollup_rows(pair.new, table)
        assert new == old, table
        assert new == _recomputed(pair.new, table, seconds), table


@pytest.mark.parametrize("seed", range(4))
def test_compact_triggers_keep_the_rollup_m012_kept(pair, seed):
    rnd = random.Random(seed)
    for serial in range(60):  # rows the migration finds: kept, not recomputed
        _insert(pair, rnd, rnd.choice(["attempts", "counters"]), serial)
    assert migrations.migrate(pair.new) == migrations.LATEST > OLD_TRIGGERS
    assert "report_rollup_delta" in {r[0] for r in pair.new.execute(
        "SELECT name FROM sqlite_master WHERE type = 'view'")}
    _check(pair)
    for batch in range(12):
        for serial in range(40):
            _step(pair, rnd, 1000 * batch + serial)
        _check(pair)
    assert pair.new.execute("SELECT COUNT(*) FROM attempts").fetchone()[0] > 20
    for table in ("attempts", "counters"):
        pair.execute(f"DELETE FROM {table}")
    for table, _ in rollup.LEVELS:
        assert _rollup_rows(pair.new, table) == _rollup_rows(pair.old, table) == []


def test_a_cell_missing_from_the_rollup_is_left_missing_as_before(pair):
    """Where the rollup has lost a cell (a hand edit, a damaged copy), removing a row of it
    changes nothing, as m012's UPDATE did, rather than leaving a negative cell."""
    rnd = random.Random(99)
    for serial in range(40):
        _insert(pair, rnd, "attempts", serial)
    assert migrations.migrate(pair.new) == migrations.LATEST
    pair.execute("DELETE FROM report_rollup_15m WHERE agent = 'a'")
    pair.execute("DELETE FROM report_rollup_1d WHERE model = ''")
    pair.execute("UPDATE attempts SET started_at = started_at + 1800 WHERE rowid % 2 = 0")
    pair.execute("DELETE FROM attempts WHERE rowid % 3 = 0")
    for table, _ in rollup.LEVELS:
        rows = _rollup_rows(pair.new, table)
        assert rows == _rollup_rows(pair.old, table)
        assert all(row[6] > 0 for row in rows), table  # attempts: no negative cell


def test_the_schema_sqlite_parses_is_smaller(pair):
    """The point of the change: the schema text every connection parses shrank (the triggers
    and views; later migrations may add tables)."""
    def schema_bytes(conn):
        return conn.execute("SELECT SUM(LENGTH(sql)) FROM sqlite_master "
                            "WHERE type IN ('trigger', 'view')").fetchone()[0]

    before = schema_bytes(pair.new)
    migrations.migrate(pair.new)
    after = schema_bytes(pair.new)
    assert after < before / 2, (before, after)


def test_one_signed_delta_trigger_replaces_m014s_two(pair):
    """m015: m014's add and subtract INSTEAD OF triggers become one signed trigger, so the
    trigger text every connection parses shrinks by a third; the rollup's rows stay as they
    were, and the writes after it keep it equal to m012's (the tests above, at LATEST)."""
    rnd = random.Random(7)
    for serial in range(40):
        _insert(pair, rnd, rnd.choice(["attempts", "counters"]), serial)
    migrations.migrate(pair.new, target=14)

    def triggers(conn):
        return conn.execute("SELECT name, LENGTH(sql) FROM sqlite_master WHERE type = 'trigger' "
                            "AND sql LIKE '%INSTEAD OF%' ORDER BY name").fetchall()

    before = triggers(pair.new)
    rows = {table: _rollup_rows(pair.new, table) for table, _ in rollup.LEVELS}
    assert [name for name, _ in before] == ["report_rollup_delta_add",
                                            "report_rollup_delta_subtract"]
    assert migrations.migrate(pair.new, target=15) == 15
    after = triggers(pair.new)
    assert [name for name, _ in after] == [rollup.APPLY_TRIGGER]
    assert after[0][1] < sum(size for _, size in before) * 2 / 3, (before, after)
    assert {table: _rollup_rows(pair.new, table) for table, _ in rollup.LEVELS} == rows
    for serial in range(60):
        _step(pair, rnd, 1000 + serial)
    _check(pair)
