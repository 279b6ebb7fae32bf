"""What one stored row contributes to a report, as SQL expressions.

The same expressions are summed over raw rows (`query`), written by the rollup triggers for
each inserted or deleted row, and summed again when the rollup is backfilled (`rollup`), so
the two paths cannot drift apart. Every measure is an INTEGER: money is kept in nano-USD
(1e-9 USD, rounded per row) and latency in whole milliseconds, so sums are exact and a
delete subtracts exactly what the insert added.
"""

# The columns a row may be grouped by or filtered on, in rollup key order.
KEYS = ("agent", "model", "tool", "provider", "project")
# Keys only the rows have (not the rollups: a report using one sums the rows), as SQL:
# `source` is shim or import (an import row's invocation id says so, in counters too).
ROW_KEYS = {
    "session": "session_id",
    "branch": "git_branch",
    "source": "(CASE WHEN invocation_id LIKE 'import:%' THEN 'import' ELSE 'shim' END)",
}
GROUP_KEYS = KEYS + tuple(ROW_KEYS)

NANO = 1_000_000_000  # nano-USD per USD

_COMPARED = ("({baseline_cost_usd} IS NOT NULL AND {cost_usd} IS NOT NULL "
             "AND IFNULL({blocked}, 0) = 0)")

# name -> expression over the row's columns, written with {column} placeholders.
MEASURES = {
    "attempts": "1",
    # An invocation counts once: with its first attempt (see docs/report.md).
    "invocations": "({attempt} = 1)",
    "failures": "(IFNULL({exit_code}, 0) != 0 AND IFNULL({blocked}, 0) = 0)",
    "blocked": "(IFNULL({blocked}, 0) != 0)",
    "input_tokens": "IFNULL({input_tokens}, 0)",
    "output_tokens": "IFNULL({output_tokens}, 0)",
    "cache_read_tokens": "IFNULL({cache_read_tokens}, 0)",
    "cache_write_tokens": "IFNULL({cache_write_tokens}, 0)",
    # The part of output_tokens that was reasoning, where the tool reports it (never added
    # to the output again: docs/telemetry.md, "One token model").
    "reasoning_tokens": "IFNULL({reasoning_tokens}, 0)",
    "cost_nusd": "IFNULL(CAST(round({cost_usd} * 1e9) AS INTEGER), 0)",
    "unknown_cost": "({cost_usd} IS NULL AND IFNULL({blocked}, 0) = 0)",
    # Attempts that ran with no token count at all (text mode without harvested usage): the
    # token sums leave them out and are lower bounds (docs/telemetry.md, "One token model").
    "unknown_tokens": ("({input_tokens} IS NULL AND {output_tokens} IS NULL "
                       "AND {cache_read_tokens} IS NULL AND {cache_write_tokens} IS NULL "
                       "AND IFNULL({blocked}, 0) = 0)"),
    "latency_ms": "(CASE WHEN {duration_ms} IS NOT NULL AND IFNULL({blocked}, 0) = 0 "
                  "THEN CAST(round({duration_ms}) AS INTEGER) ELSE 0 END)",
    "latency_n": "({duration_ms} IS NOT NULL AND IFNULL({blocked}, 0) = 0)",
    # Savings only for attempts that ran and have both costs: the baseline and the one paid.
    "baseline_attempts": _COMPARED,
    "baseline_nusd": f"(CASE WHEN {_COMPARED} "
                     "THEN CAST(round({baseline_cost_usd} * 1e9) AS INTEGER) ELSE 0 END)",
    "compared_nusd": f"(CASE WHEN {_COMPARED} "
                     "THEN CAST(round({cost_usd} * 1e9) AS INTEGER) ELSE 0 END)",
}

# Columns the measures and keys read; a table lacking one (e.g. `counters`) reads NULL.
COLUMNS = ("started_at", "attempt", "exit_code", "blocked", "input_tokens", "output_tokens",
           "cache_read_tokens", "cache_write_tokens", "reasoning_tokens", "cost_usd",
           "duration_ms",
           "baseline_cost_usd") + KEYS


def expressions(available, prefix=""):
    """{measure: SQL} for a table whose columns are `available`, each column as prefix+name."""
    cols = {c: (f"{prefix}{c}" if c in available else "NULL") for c in COLUMNS}
    return {name: sql.format(**cols) for name, sql in MEASURES.items()}


def key_expression(key, available, prefix=""):
    """The group key as stored in the rollup: NULL becomes '' (a primary key cannot hold NULL)."""
    return f"IFNULL({prefix}{key}, '')" if key in available else "''"


def bucket_expression(prefix="", seconds=900):
    """The UTC bucket number of a row: whole `seconds` since the epoch."""
    return f"CAST({prefix}started_at / {int(seconds)} AS INTEGER)"
