"""Telemetry: one record per attempt, spooled on the hot path, ingested into SQLite later.

Hot modules (imported on every shim call, stdlib-light): `spool`, `record`, `usage`.
Everything else (`store`, `migrations`, `ingest`, `prices`, `privacy`, `harvest`) is imported by
`llm-shim logs|report|budget` and by ingestion only. See docs/telemetry.md.

Nothing is imported here on purpose: importing `shim.telemetry.spool` must not pull the rest in.
"""
