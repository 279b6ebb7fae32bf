"""`llm-shim report`: cost, savings and usage by period and group.

Data flow: `query` sums the store in UTC quarter-hour buckets (from the `attempts_rollup` table
when the schema has it, else from the rows), `periods` folds the buckets into local days,
weeks or months with zoneinfo, `summary` turns the folded sums into the report document
(the `--json` shape, docs/report.md), and `render`, `export` and `html` print it.
"""
