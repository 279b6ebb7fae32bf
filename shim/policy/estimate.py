"""What a call will probably cost, before it runs: the amount a budget reserves.

input tokens  = prompt characters / `chars_per_token` (4: the usual rule of thumb);
output tokens = `output_tokens` (1000), a flat guess, since nobody knows the answer's length;
price         = the model's row from the price table (shim.telemetry.prices), the tool's
                premium model when none is named (the CLIs default to it).

That static guess is wrong for agentic CLIs (one `claude -p` can make many requests), so once
the database has history the reservation comes from what calls like this one really cost:
the `LEARN_QUANTILE` (p90) of the last `LEARN_FROM` paid calls of the same agent, tool and
model, where "model" is the one the decision names or, for a call that names none, the tool
default (rows that recorded no model, answers that named none, count there). A high quantile,
not the mean: an underestimate is what lets a parallel burst overspend a hard budget. The
larger of the static guess and the learned figure is reserved; a budget's `reserve_usd`
replaces both (engine.judge_budgets). docs/policies.md "Budget guarantee" states the bound.
"""


DEFAULT_OUTPUT_TOKENS = 1000
DEFAULT_CHARS_PER_TOKEN = 4.0
LEARN_FROM = 20
LEARN_QUANTILE = 0.9
# A call claude stopped at its --max-budget-usd (failure_class max_budget) wanted more than it
# got: it is learned at this multiple of its cost, so the next reservations grow until calls
# complete, instead of learning the cap that cut them short.
CAPPED_FACTOR = 2

_table_cache = {}


def settings(cfg):
    own = ((cfg.get("policies") or {}).get("estimate")) or {}
    return {
        "output_tokens": int(own.get("output_tokens", DEFAULT_OUTPUT_TOKENS)),
        "chars_per_token": float(own.get("chars_per_token") or DEFAULT_CHARS_PER_TOKEN),
        "learn": bool(own.get("learn", True)),
    }


def price_table(cfg):
    """The price table, loaded once per process (the config does not change under us)."""
    key = id(cfg)
    table = _table_cache.get(key)
    if table is None:
        from shim.telemetry import prices

        table = prices.load_table(cfg)
        _table_cache.clear()
        _table_cache[key] = table
    return table


def effective_model(decision):
    return decision.get("model") or decision.get("baseline_model")


def tokens(decision, cfg):
    """(input, output) tokens expected for the call."""
    opts = settings(cfg)
    chars = decision.get("prompt_chars") or 0
    return int(chars / opts["chars_per_token"] + 0.999), opts["output_tokens"]


def usd_for(part, model, cfg):
    """USD for one set of token counts at `model`'s prices, or None when it has no price.

    The config's `models.<id>.prices` first (no import needed); the full price table
    (shim.telemetry.prices: imported prices, long-context tiers) for models it lacks.
    """
    prices = _config_prices(cfg, model)
    if prices is not None:
        total = 0.0
        for kind, key in _KINDS:
            rate = prices.get(kind)
            if rate is None:
                rate = prices.get("input") or 0.0
            total += int(part.get(key) or 0) * float(rate) / 1_000_000
        return total
    from shim.telemetry import prices as price_table_module

    row = price_table_module.lookup(price_table(cfg), model)
    if row is None:
        return None
    return price_table_module.part_cost(part, row)


_KINDS = (("input", "input_tokens"), ("output", "output_tokens"),
          ("cache_read", "cache_read_tokens"), ("cache_write", "cache_write_tokens"))


def _config_prices(cfg, model):
    if not model:
        return None
    models = cfg.get("models") or {}
    name = model[:-4] if model.endswith("[1m]") else model
    spec = models.get(name) or models.get((cfg.get("_aliases") or {}).get(name))
    prices = (spec or {}).get("prices")
    return prices if isinstance(prices, dict) and prices.get("output") is not None else None


def estimate(decision, cfg, conn=None):
    """{"usd", "tokens", "model", "basis"} for one attempt of `decision`."""
    model = effective_model(decision)
    tokens_in, tokens_out = tokens(decision, cfg)
    static = usd_for({"input_tokens": tokens_in, "output_tokens": tokens_out}, model, cfg)
    basis = f"{tokens_in} in + {tokens_out} out tokens at {model} prices"
    if static is None:
        static, basis = 0.0, f"no price for {model or 'the default model'}"
    usd = static
    history = 0
    if conn is not None and settings(cfg)["learn"]:
        costs = recent_costs(conn, decision)
        history = len(costs)
        learned = quantile(costs)
        if learned is not None and learned > usd:
            usd, basis = learned, (f"p{LEARN_QUANTILE * 100:.0f} of recent "
                                   f"{_subject_label(decision)} calls")
    return {"usd": float(usd), "tokens": tokens_in + tokens_out, "model": model, "basis": basis,
            "history": history}


def _subject_label(decision):
    return f"{decision.get('agent')}/{decision.get('tool')}/" + (
        decision.get("model") or "tool default")


def recent_quantile(conn, decision, limit=LEARN_FROM, q=LEARN_QUANTILE):
    """The `q` quantile (nearest rank) of `recent_costs`, or None without history."""
    return quantile(recent_costs(conn, decision, limit), q)


def quantile(costs, q=LEARN_QUANTILE):
    if not costs:
        return None
    costs = sorted(costs)
    rank = -int(-(q * len(costs) - 1e-9) // 1)  # ceil, nearest rank: p90 of 3 is the largest
    return float(costs[min(max(rank, 1), len(costs)) - 1])


def recent_costs(conn, decision, limit=LEARN_FROM):
    """The costs of the last `limit` paid calls of this decision's agent, tool and model
    (None = the tool default: rows without a model or with the default's): ingested rows, and
    settled reservations that stand in for rows not ingested yet. A call stopped at its cap
    counts `CAPPED_FACTOR` times its cost."""
    tool = decision.get("tool")
    if not tool:
        return []
    agent = decision.get("agent")
    model = effective_model(decision)
    tool_default = 0 if decision.get("model") else 1
    match = "tool = ? AND agent IS ? AND (model IS ? OR (? = 1 AND model IS NULL))"
    args = (tool, agent, model, tool_default)
    costs = [row[0] for row in conn.execute(f"""
        SELECT c FROM (
            SELECT CASE WHEN failure_class = 'max_budget' THEN cost_usd * {CAPPED_FACTOR}
                        ELSE cost_usd END AS c, started_at AS t FROM attempts
             WHERE {match} AND blocked = 0 AND cost_usd > 0
            UNION ALL
            SELECT cost_usd, started_at FROM counters
             WHERE {match} AND blocked = 0 AND cost_usd > 0
            UNION ALL
            SELECT cost_usd, created_at FROM policy_reservations r
             WHERE settled = 1 AND {match} AND cost_usd > 0
               AND NOT EXISTS (SELECT 1 FROM attempts a WHERE a.invocation_id = r.invocation_id
                                  AND a.attempt = r.attempt)
               AND NOT EXISTS (SELECT 1 FROM counters k WHERE k.invocation_id = r.invocation_id
                                  AND k.attempt = r.attempt)
            ORDER BY t DESC LIMIT ?)""", args * 3 + (int(limit),))]
    return [float(c) for c in costs]


def actual_cost(usage, decision, cfg):
    """(usd, known) after an attempt: reported cost, else tokens x prices, else (None, False)."""
    if not usage:
        return None, False
    if usage.get("cost_usd") is not None:
        return float(usage["cost_usd"]), True
    keys = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens")
    if all(usage.get(k) is None for k in keys):
        return None, False
    parts = usage.get("parts") or [{k: usage.get(k) for k in keys}]
    total = 0.0
    for part in parts:
        cost = usd_for(part, part.get("model") or usage.get("model") or
                       effective_model(decision), cfg)
        if cost is None:
            return None, False
        total += cost
    return total, True


def used_tokens(usage):
    """Input (cached included) + output tokens an attempt used, or None when unknown."""
    if not usage:
        return None
    keys = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens")
    values = [usage.get(k) for k in keys]
    if all(v is None for v in values):
        return None
    return sum(int(v or 0) for v in values)
