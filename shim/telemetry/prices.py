"""Prices: cost = sum over token kinds of tokens x USD per million, with long-context tiers.

Where prices come from, highest precedence first:

1. the imported table `data_dir()/prices.json`, written by `llm-shim prices import FILE` or
   `llm-shim prices update` (LiteLLM's `model_prices_and_context_window.json` format);
2. `models.<id>.prices` in the compiled config;
3. the LiteLLM snapshot shipped with llm-shim (`prices-litellm-snapshot.json`, dated in its
   `_llm_shim_snapshot` block), so a model the CLIs start defaulting to is priced out of the box;
4. config rows marked `price_source: estimate` (they give `cost_source = estimated`): a
   published price beats a guess.

A price row is `{input, output, cache_read, cache_write}` in USD per million tokens, plus
optional tiers `<kind>_above_<N>k` (e.g. `input_above_200k`): when the prompt of one request
(input + cache read + cache write tokens) exceeds N thousand, every kind that has a tier price
uses it. A missing `cache_read`/`cache_write` price falls back to the input price.

`input_tokens` never includes cached tokens (Codex/OpenAI counts are converted by the taps and
harvesters); reasoning tokens are part of `output_tokens` and are not charged twice.
"""

import json
import os
import re
import time
import zlib

from shim import errors, paths, safefs

KINDS = ("input", "output", "cache_read", "cache_write")
TOKENS = {"input": "input_tokens", "output": "output_tokens",
          "cache_read": "cache_read_tokens", "cache_write": "cache_write_tokens"}
IMPORTED_NAME = "prices.json"
SNAPSHOT_NAME = "prices-litellm-snapshot.json"
SNAPSHOT_META = "_llm_shim_snapshot"
# LiteLLM's published price file, which `llm-shim prices update` fetches by default.
LITELLM_PRICES_URL = ("https://raw.githubusercontent.com/BerriAI/litellm/main/"
                      "model_prices_and_context_window.json")
MAX_DOWNLOAD_BYTES = 64 * 1024 * 1024
FETCH_TIMEOUT_SECONDS = 30
_TIER_KEY = re.compile(r"^(input|output|cache_read|cache_write)_above_(\d+)k$")
_LITELLM_KIND = {
    "input_cost_per_token": "input",
    "output_cost_per_token": "output",
    "cache_read_input_token_cost": "cache_read",
    "cache_creation_input_token_cost": "cache_write",
}
_LITELLM_TIER = re.compile(
    r"^(input_cost_per_token|output_cost_per_token|cache_read_input_token_cost|"
    r"cache_creation_input_token_cost)_above_(\d+)k_tokens$")
_DATE_SUFFIX = re.compile(r"-(\d{8}|\d{4}-\d{2}-\d{2})$")


def imported_file():
    return os.path.join(paths.data_dir(), IMPORTED_NAME)


def snapshot_file():
    return paths.package_data(SNAPSHOT_NAME)


# --- the price table -------------------------------------------------------------------------

def load_table(cfg, imported_path=None):
    """{"rows": {name: row}, "aliases": {...}, "version": str} for `cost` and `lookup`."""
    rows, estimates = {}, {}
    for model_id, spec in (cfg.get("models") or {}).items():
        prices = (spec or {}).get("prices")
        if isinstance(prices, dict):
            row = normalise_row(prices)
            if row is not None:
                if spec.get("price_source") == "estimate":
                    row["source"] = "estimate"
                    estimates[model_id] = row
                else:
                    row["source"] = "config"
                    rows[model_id] = row
    aliases = cfg.get("_aliases") or {}
    snapshot = shipped_snapshot()
    for name, prices in select_litellm(snapshot, cfg).items():
        row = normalise_row(prices)
        # a name the config calls an alias is priced as the configured model it means
        if row is not None and name not in rows and aliases.get(name, name) == name:
            row["source"] = "snapshot"
            rows[name] = row
    for model_id, row in estimates.items():
        rows.setdefault(model_id, row)  # a published price beats an estimate
    label = "config+snapshot-" + str(snapshot_meta(snapshot).get("taken") or "?")
    imported = read_imported(imported_path)
    if imported:
        for name, prices in (imported.get("models") or {}).items():
            row = normalise_row(prices)
            if row is not None:
                row["source"] = "imported"
                rows[name] = row
        label = "imported-" + str(imported.get("source_date") or imported.get("imported_at", "?"))
    digest = zlib.crc32(json.dumps(rows, sort_keys=True).encode()) & 0xFFFFFFFF
    return {"rows": rows, "aliases": dict(cfg.get("_aliases") or {}),
            "version": f"{label}:{digest:08x}"}


def normalise_row(prices):
    """Config-shaped prices -> {"base": {kind: usd/M}, "tiers": [(threshold, {kind: usd/M})]}."""
    try:
        base = {k: float(prices[k]) for k in KINDS if prices.get(k) is not None}
        tiers = {}
        for key, value in prices.items():
            match = _TIER_KEY.match(str(key))
            if match and value is not None:
                tiers.setdefault(int(match.group(2)) * 1000, {})[match.group(1)] = float(value)
    except (TypeError, ValueError):
        return None
    if "input" not in base or "output" not in base:
        return None
    return {"base": base, "tiers": sorted(tiers.items())}


_shipped = []


def shipped_snapshot():
    """The LiteLLM rows shipped with llm-shim (parsed once per process); {} if unreadable."""
    if not _shipped:
        try:
            with open(snapshot_file(), encoding="utf-8") as fh:
                data = json.load(fh)
        except (OSError, ValueError):
            data = {}
        _shipped.append(data if isinstance(data, dict) else {})
    return _shipped[0]


def snapshot_meta(data):
    """The `_llm_shim_snapshot` block of a LiteLLM-format file llm-shim wrote ({} if none)."""
    meta = data.get(SNAPSHOT_META) if isinstance(data, dict) else None
    return meta if isinstance(meta, dict) else {}


def read_imported(path=None):
    path = path or imported_file()
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        errors.warn("prices", f"ignoring {path}: {exc}", "re-run `llm-shim prices import`")
        return None
    return data if isinstance(data, dict) else None


def lookup(table, model):
    """The price row for `model` (id, alias, `[1m]`, provider prefix or date suffix), or None."""
    if not model:
        return None
    rows, aliases = table["rows"], table["aliases"]
    for name in _candidates(model, aliases):
        if name in rows:
            return rows[name]
    return None


def _candidates(model, aliases):
    seen = []

    def add(name):
        if name and name not in seen:
            seen.append(name)
            if aliases.get(name) and aliases[name] not in seen:
                seen.append(aliases[name])

    add(model)
    bare = model[:-4] if model.endswith("[1m]") else model
    add(bare)
    if "/" in bare:
        bare = bare.split("/", 1)[1]
        add(bare)
    add(_DATE_SUFFIX.sub("", bare))
    return seen


# --- arithmetic --------------------------------------------------------------------------------

def part_cost(part, row):
    """USD for one request's (or one aggregate's) tokens at `row`'s prices."""
    tokens = {kind: int(part.get(TOKENS[kind]) or 0) for kind in KINDS}
    prompt = tokens["input"] + tokens["cache_read"] + tokens["cache_write"]
    total = 0.0
    for kind, per_million in zip(KINDS, rates(row, prompt)):
        total += tokens[kind] * per_million / 1_000_000
    return total


def rates(row, prompt):
    """USD per million tokens of each of KINDS at `row`'s prices, for a request of `prompt`
    prompt tokens (a long-context tier applies above its threshold)."""
    rate = dict(row["base"])
    for threshold, tier in row["tiers"]:
        if prompt > threshold:
            rate.update(tier)
    return tuple(rate.get(kind, rate["input"]) for kind in KINDS)


def cost(parts, model, table):
    """(usd, estimated) for `parts` (each may name its own model), or (None, False) if unpriced."""
    total = 0.0
    estimated = False
    for part in parts:
        row = lookup(table, part.get("model") or model)
        if row is None:
            return None, False
        total += part_cost(part, row)
        estimated = estimated or row.get("source") == "estimate"
    return total, estimated


def price_record(rec, parts, table):
    """Fill cost_usd, cost_source, computed_cost_usd, price_version, baseline_cost_usd in place."""
    rec["price_version"] = table["version"]
    never_ran = rec.get("blocked") or rec.get("failure_class") == "binary_missing"
    known = any(rec.get(TOKENS[k]) is not None for k in KINDS)
    if never_ran and not known:
        for key in TOKENS.values():
            rec[key] = 0
        known = True
    if known and not parts:
        parts = [{TOKENS[k]: rec.get(TOKENS[k]) for k in KINDS}]
    computed, estimated = cost(parts, rec.get("model"), table) if known else (None, False)
    rec["computed_cost_usd"] = computed
    reported = rec.get("reported_cost_usd")
    if reported is not None:
        rec["cost_usd"], rec["cost_source"] = float(reported), "reported"
    elif computed is not None:
        rec["cost_usd"] = computed
        rec["cost_source"] = "estimated" if estimated else "computed"
    else:
        rec["cost_usd"], rec["cost_source"] = None, "unknown"
    if "baseline_model" in rec:
        rec["baseline_cost_usd"] = _baseline(rec, parts if known else None, table)
    return rec


def _baseline(rec, parts, table):
    """What the same tokens would have cost on the baseline model (for savings). No baseline
    model means routing changed nothing: the baseline is what the attempt cost."""
    baseline = rec.get("baseline_model")
    if parts is None:
        return None
    if not baseline:
        return rec.get("cost_usd")
    row = lookup(table, baseline)
    if row is None:
        return None
    models = {p.get("model") or rec.get("model") for p in parts}
    if all(lookup(table, m) is row for m in models) and rec.get("cost_usd") is not None:
        return rec["cost_usd"]  # same model: no savings, whichever figure the report uses
    return sum(part_cost(p, row) for p in parts)


# --- import ------------------------------------------------------------------------------------

def convert_litellm_row(row):
    """One LiteLLM entry (USD per token) -> our row (USD per million), or None if not a chat row."""
    if not isinstance(row, dict):
        return None
    if row.get("input_cost_per_token") is None or row.get("output_cost_per_token") is None:
        return None
    out = {}
    try:
        for key, kind in _LITELLM_KIND.items():
            if row.get(key) is not None:
                out[kind] = _per_million(row[key])
        for key, value in row.items():
            match = _LITELLM_TIER.match(key)
            if match and value is not None:
                out[f"{_LITELLM_KIND[match.group(1)]}_above_{match.group(2)}k"] = \
                    _per_million(value)
    except (TypeError, ValueError):
        return None
    return out


def _per_million(value):
    return round(float(value) * 1_000_000, 9)


def select_litellm(data, cfg):
    """The rows worth keeping: every configured model (matched by id, else by alias) and every
    bare chat/responses row of a provider the config uses. Returns {name: converted row}."""
    aliases = cfg.get("_aliases") or {}
    model_ids = set(cfg.get("models") or {})
    providers = {(m or {}).get("provider") for m in (cfg.get("models") or {}).values()}
    exact, aliased, generic = {}, {}, {}
    # Bare keys first, so "claude-x" wins over a provider-prefixed duplicate "anthropic/claude-x".
    for key, row in sorted(data.items(), key=lambda item: "/" in item[0]):
        if not isinstance(row, dict) or key == "sample_spec" or key.startswith("_"):
            continue
        bare = key.split("/", 1)[1] if key.startswith(("anthropic/", "openai/")) else key
        converted = convert_litellm_row(row)
        if converted is None:
            continue
        if bare in model_ids:
            exact.setdefault(bare, converted)
        elif bare in aliases:
            aliased.setdefault(aliases[bare], converted)
        if "/" not in key and row.get("litellm_provider") in providers \
                and row.get("mode") in ("chat", "responses"):
            generic.setdefault(bare, converted)
    return {**generic, **aliased, **exact}


def import_litellm(path, cfg, dest=None):
    """Read a LiteLLM price file and write the selected rows to the imported table.

    Returns {"path": dest, "rows": n, "changed": [names whose prices differ from the config]}.
    """
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except OSError as exc:
        raise errors.ShimError("prices import", f"cannot read {path}: {exc.strerror or exc}")
    except ValueError as exc:
        raise errors.ShimError("prices import", f"{path} is not JSON: {exc}",
                               "expected LiteLLM's model_prices_and_context_window.json")
    return write_imported(data, cfg, os.path.abspath(path), snapshot_meta(data).get("taken")
                          if isinstance(data, dict) else None, dest, "prices import")


def update_litellm(source, cfg, dest=None):
    """`llm-shim prices update`: fetch LiteLLM's file (a URL, or a local path), check it, and
    replace the imported table with it. Nothing is replaced unless the new file is valid."""
    what = "prices update"
    if source.startswith(("http://", "https://")):
        raw = _fetch(source, what)
    else:
        try:
            with open(source, "rb") as fh:
                raw = fh.read(MAX_DOWNLOAD_BYTES + 1)
        except OSError as exc:
            raise errors.ShimError(what, f"cannot read {source}: {exc.strerror or exc}")
        source = os.path.abspath(source)
    if len(raw) > MAX_DOWNLOAD_BYTES:
        raise errors.ShimError(what, f"{source} is larger than {MAX_DOWNLOAD_BYTES >> 20} MB",
                               "expected LiteLLM's model_prices_and_context_window.json")
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise errors.ShimError(what, f"{source} is not JSON: {exc}",
                               "expected LiteLLM's model_prices_and_context_window.json; "
                               "the prices in use are unchanged")
    taken = snapshot_meta(data).get("taken") if isinstance(data, dict) else None
    return write_imported(data, cfg, source,
                          taken or time.strftime("%Y-%m-%d", time.gmtime()), dest, what)


def _fetch(url, what):
    from urllib import error, request

    try:
        with request.urlopen(url, timeout=FETCH_TIMEOUT_SECONDS) as resp:
            return resp.read(MAX_DOWNLOAD_BYTES + 1)
    except error.HTTPError as exc:
        raise errors.ShimError(what, f"{url}: HTTP {exc.code} {exc.reason}",
                               "check the URL, or download the file and pass it with --from")
    except (error.URLError, OSError, ValueError) as exc:
        why = getattr(exc, "reason", None) or exc
        raise errors.ShimError(what, f"cannot fetch {url}: {why}",
                               "are you online? Or download the file and pass it with --from")


def write_imported(data, cfg, source, source_date, dest=None, what="prices import"):
    """Validate LiteLLM-format `data`, then write its selected rows to the imported table."""
    hint = "expected LiteLLM's model_prices_and_context_window.json"
    if not isinstance(data, dict):
        raise errors.ShimError(what, f"{source}: expected a JSON object of models", hint)
    rows = select_litellm(data, cfg)
    if not rows:
        raise errors.ShimError(what, f"{source}: no usable price rows", hint)
    doc = {
        "format": 1,
        "source": source,
        "source_date": source_date,
        "imported_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "models": dict(sorted(rows.items())),
    }
    dest = dest or imported_file()
    safefs.write_atomic(dest, (json.dumps(doc, indent=1, sort_keys=False) + "\n").encode("utf-8"))
    changed = []
    for model_id, spec in (cfg.get("models") or {}).items():
        new = rows.get(model_id)
        old = (spec or {}).get("prices") or {}
        if new and any(abs(float(new.get(k, 0)) - float(old.get(k) or 0)) > 1e-9
                       for k in ("input", "output", "cache_read", "cache_write")
                       if k in new):
            changed.append(model_id)
    return {"path": dest, "rows": len(rows), "changed": changed, "source": source,
            "source_date": source_date}
