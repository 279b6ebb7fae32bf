"""`llm-shim prices import|update|show|clear`: the price table used to compute costs.

Precedence (docs/telemetry.md): rows imported here override the config's `models.*.prices`,
which override the LiteLLM snapshot shipped with llm-shim.
"""

import json
import os
import sys

from shim import errors


def add_parser(subparsers, common):
    from shim.cli.common import add_command

    p = add_command(
        subparsers, common, "prices",
        help="import, update, show or clear model prices (LiteLLM format)",
        description="Prices turn token counts into USD. Imported rows override the config's "
                    "`models.*.prices`; see docs/telemetry.md.",
        examples=["llm-shim prices show", "llm-shim prices update", "llm-shim prices reprice",
                  "llm-shim prices import model_prices_and_context_window.json",
                  "llm-shim prices import --snapshot", "llm-shim prices clear"])
    p.set_defaults(func=lambda args: show_prices())
    sub = p.add_subparsers(dest="prices_command", metavar="SUBCOMMAND", parser_class=type(p))

    imp = add_command(
        sub, common, "import",
        help="import LiteLLM's model_prices_and_context_window.json (or the shipped snapshot)",
        examples=["llm-shim prices import ~/Downloads/model_prices_and_context_window.json",
                  "llm-shim prices import --snapshot"])
    imp.add_argument("file", nargs="?", metavar="FILE", help="a LiteLLM-format price file")
    imp.add_argument("--snapshot", action="store_true",
                     help="import the dated snapshot shipped with llm-shim")
    imp.set_defaults(func=lambda args: import_prices(args.file, snapshot=args.snapshot))

    upd = add_command(
        sub, common, "update",
        help="refresh prices from LiteLLM's published file (or a local copy of it)",
        description="Fetches LiteLLM's model_prices_and_context_window.json, checks it and "
                    "replaces the imported prices with it; the prices in use are unchanged "
                    "if anything is wrong with the new file.",
        examples=["llm-shim prices update",
                  "llm-shim prices update --from ~/Downloads/model_prices_and_context_window.json",
                  "llm-shim prices update --from https://example.org/prices.json"])
    upd.add_argument("--from", dest="source", metavar="URL|FILE",
                     help="where to read it (default: LiteLLM's file on GitHub)")
    upd.set_defaults(func=lambda args: update_prices(args.source))

    rep = add_command(
        sub, common, "reprice",
        help="price recorded calls whose cost was unknown, now that their model has a price",
        description="Re-prices every recorded attempt with an unknown cost and known token "
                    "counts whose model the current price table prices (in one transaction; "
                    "`report` then counts them). `prices update` and `prices import` run it "
                    "by themselves.",
        examples=["llm-shim prices reprice"])
    rep.set_defaults(func=lambda args: reprice_recorded())

    show = add_command(sub, common, "show", help="print the effective price table",
                       examples=["llm-shim prices show", "llm-shim prices show --json"])
    show.add_argument("--json", action="store_true", help="print JSON")
    show.set_defaults(func=lambda args: show_prices(as_json=args.json))

    clear = add_command(sub, common, "clear", help="forget imported prices (use the config's)",
                        examples=["llm-shim prices clear"])
    clear.set_defaults(func=lambda args: clear_prices())


def import_prices(path=None, snapshot=False, stream=None):
    from shim.telemetry import ingest, prices

    stream = stream or sys.stdout
    if snapshot == bool(path):
        raise errors.UsageError("prices import", "give either FILE or --snapshot",
                                "e.g. `llm-shim prices import --snapshot`")
    source = prices.snapshot_file() if snapshot else path
    result = prices.import_litellm(source, ingest.load_config())
    stream.write(f"imported {result['rows']} price rows from {source} into {result['path']}\n")
    if result["changed"]:
        stream.write("these configured models now use the imported prices, which differ from "
                     f"the config: {', '.join(result['changed'])}\n")
    return reprice_recorded(stream=stream)


def update_prices(source=None, stream=None):
    from shim.telemetry import ingest, prices

    stream = stream or sys.stdout
    source = source or prices.LITELLM_PRICES_URL
    result = prices.update_litellm(source, ingest.load_config())
    stream.write(f"updated {result['rows']} price rows from {result['source']} "
                 f"(dated {result['source_date']}) into {result['path']}\n")
    if result["changed"]:
        stream.write("these configured models now use the updated prices, which differ from "
                     f"the config: {', '.join(result['changed'])}\n")
    return reprice_recorded(stream=stream)


def reprice_recorded(stream=None):
    """Price the recorded attempts whose cost was unknown and whose model is priced now."""
    import sqlite3

    from shim.cli.common import open_store, store_error
    from shim.telemetry import ingest, prices, reprice

    stream = stream or sys.stdout
    table = prices.load_table(ingest.load_config())
    conn = open_store("prices reprice")
    try:
        ingest.ingest(conn)
        result = reprice.reprice(conn, table)
    except sqlite3.Error as exc:
        raise store_error("prices reprice", exc) from None
    finally:
        conn.close()
    n = result["priced"]
    line = f"re-priced {n} recorded attempt{'s' if n != 1 else ''} whose cost was unknown"
    still = result["unpriced"]
    if still:
        named = ", ".join(f"{m or '(no model)'} ({c})" for m, c in sorted(still.items(),
                                                                          key=lambda kv: -kv[1]))
        line += (f"; still no price for {named}: give them models.<id>.prices in the config "
                 "(docs/telemetry.md)")
    stream.write(line + "\n")
    return 0


def sources(prices):
    """Which price data is in use: {"imported": {...} or None, "snapshot": {...}}."""
    imported = prices.read_imported()
    meta = prices.snapshot_meta(prices.shipped_snapshot())
    return {
        "imported": None if not imported else {
            "path": prices.imported_file(), "source": imported.get("source"),
            "source_date": imported.get("source_date"),
            "imported_at": imported.get("imported_at")},
        "snapshot": {"path": prices.snapshot_file(), "taken": meta.get("taken"),
                     "litellm_version": meta.get("litellm_version")},
    }


def _describe(src):
    snap = src["snapshot"]
    lines = [f"shipped LiteLLM snapshot: taken {snap['taken'] or '?'}"
             + (f" (litellm {snap['litellm_version']})" if snap["litellm_version"] else "")
             + "; prices models neither an import nor the config prices"]
    imp = src["imported"]
    if imp:
        lines.insert(0, f"imported prices: {imp['source']}, dated {imp['source_date'] or '?'}, "
                        f"imported {imp['imported_at'] or '?'}; they win over the config")
    else:
        lines.insert(0, "imported prices: none (`llm-shim prices update` fetches LiteLLM's)")
    return "".join(line + "\n" for line in lines)


def show_prices(as_json=False, stream=None):
    from shim.telemetry import ingest, prices

    stream = stream or sys.stdout
    cfg = ingest.load_config()
    table = prices.load_table(cfg)
    configured = set(cfg.get("models") or {})
    rows = []
    for name, row in sorted(table["rows"].items(), key=lambda kv: (kv[0] not in configured, kv[0])):
        tiers = {f"{kind}_above_{threshold // 1000}k": value
                 for threshold, tier in row["tiers"] for kind, value in tier.items()}
        rows.append({"model": name, **row["base"], "tiers": tiers, "source": row["source"]})
    if as_json:
        json.dump({"version": table["version"], "sources": sources(prices), "models": rows},
                  stream, indent=1)
        stream.write("\n")
        return 0
    from tabulate import tabulate

    stream.write(f"price table {table['version']} (USD per million tokens)\n")
    stream.write(_describe(sources(prices)))
    stream.write(tabulate(
        [[r["model"], r.get("input"), r.get("output"), r.get("cache_read"), r.get("cache_write"),
          ", ".join(f"{k}={v:g}" for k, v in r["tiers"].items()), r["source"]] for r in rows],
        headers=["model", "input", "output", "cache read", "cache write", "tiers", "source"]))
    stream.write("\n")
    return 0


def clear_prices(stream=None):
    from shim.telemetry import prices

    stream = stream or sys.stdout
    path = prices.imported_file()
    try:
        os.unlink(path)
    except FileNotFoundError:
        stream.write("no imported prices; the config's prices are in use\n")
        return 0
    stream.write(f"removed {path}; the config's prices are in use\n")
    return 0
