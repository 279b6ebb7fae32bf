"""The report as a function: store in, document out (what the CLI and other commands call)."""

from shim import errors
from shim.report import periods as periods_mod
from shim.report import imported, query, summary
from shim.report.measures import GROUP_KEYS as KEYS

FILTER_KEYS = ("agent", "tool", "model", "source")


def settings():
    """(timezone name, week_starts, model aliases) from the compiled config, or the defaults
    when there is no usable config (a report must still work then)."""
    try:
        from shim.config import compiled

        cfg = compiled.load()
    except ImportError:
        return "local", "monday", {}
    except errors.ShimError as exc:
        errors.warn("report", f"config unusable ({exc.why})", "using the local time zone")
        return "local", "monday", {}
    policies = cfg.get("policies") or {}
    return (policies.get("timezone") or "local", policies.get("week_starts") or "monday",
            cfg.get("_aliases") or {})


def parse_keys(text):
    """`--by agent,model` -> ["agent", "model"]; raises UsageError for unknown keys."""
    keys = []
    for part in (text or "").split(","):
        part = part.strip().lower()
        if not part:
            continue
        if part not in KEYS:
            raise errors.UsageError("report", f"cannot group by {part!r}",
                                    f"use a comma list of {', '.join(KEYS)}")
        if part not in keys:
            keys.append(part)
    return keys


def hour_view(granularity, by):
    """`--by hour` is the day view: (granularity "hour", the other --by keys)."""
    parts = [part.strip() for part in (by or "").split(",")]
    if "hour" not in (part.lower() for part in parts):
        return granularity, by
    return "hour", ",".join(part for part in parts if part and part.lower() != "hour")


def split_values(values):
    """Repeatable, comma-separated option values -> a flat list without duplicates."""
    out = []
    for value in values or ():
        for part in value.split(","):
            part = part.strip()
            if part and part not in out:
                out.append(part)
    return out


def expand_models(names, aliases):
    """Each model name plus its canonical id and that id's other aliases, so `--model sonnet`
    also finds rows recorded as claude-sonnet-5."""
    out = list(names)
    for name in names:
        target = aliases.get(name)
        if target is None:
            continue
        for alias, model_id in aliases.items():
            if model_id == target and alias not in out:
                out.append(alias)
        if target not in out:
            out.append(target)
    return out


def select_periods(granularity, since, until, zone, week_starts, now=None):
    """The periods for --since/--until (texts or None); the default range when both are None."""
    if granularity not in periods_mod.GRANULARITIES:
        raise errors.UsageError("report", f"unknown period {granularity!r}",
                                "use --hourly, --daily, --weekly or --monthly")
    first, last = periods_mod.default_range(granularity, zone, week_starts, now)
    if since:
        first = periods_mod.parse_day(since, zone, now, week_starts=week_starts)
    if until:
        last = periods_mod.parse_day(until, zone, now, end=True)
        if not since:
            first = periods_mod.span_ending(last, granularity, week_starts)[0]
    if last < first:
        raise errors.UsageError("report", f"--since {first} is after --until {last}",
                                "swap them or widen the range")
    return periods_mod.build(first, last, granularity, zone, week_starts,
                             current=periods_mod.today(zone, now))


def compute(conn, *, granularity="day", since=None, until=None, group_by=(), filters=None,
            timezone=None, week_starts=None, now=None, use_rollup=True):
    """(document, periods, filters): the report over the store behind `conn`.

    `timezone` None takes policies.timezone from the config; filters are {key: [values]} for
    agent, tool, model (model names are widened to their aliases).
    """
    configured_zone, configured_week, aliases = settings()
    zone_text = timezone or configured_zone
    zone = periods_mod.resolve_zone(zone_text)
    week_starts = week_starts or configured_week
    periods = select_periods(granularity, since, until, zone, week_starts, now)
    filters = {k: list(v) for k, v in (filters or {}).items() if v and k in FILTER_KEYS}
    query_filters = dict(filters)
    if "model" in query_filters:
        query_filters["model"] = expand_models(query_filters["model"], aliases)
    sums, source = query.collect(conn, periods, group_by, query_filters, use_rollup=use_rollup)
    doc = summary.build(
        periods, sums, group_by=group_by, granularity=granularity, zone=zone,
        zone_name=periods_mod.zone_name(zone) if zone_text == "local" else zone_text,
        week_starts=week_starts, filters=filters, source=source,
        unpriced=unpriced(conn, periods, sums, group_by, query_filters, use_rollup))
    imported.annotate(doc, imported.cells(conn, periods, group_by, query_filters), group_by)
    return doc, periods, query_filters


def unpriced(conn, periods, sums, group_by, filters, use_rollup=True):
    """{(period index, keys): {model: unpriced attempts}} for the cells of `sums` that have
    unpriced attempts. A second, per-model sum runs only when there are any, so a fully
    priced report costs nothing more."""
    column = query.MEASURE_NAMES.index("unknown_cost")
    if not any(vector[column] for vector in sums.values()):
        return {}
    group_by = list(group_by)
    with_model = group_by + ([] if "model" in group_by else ["model"])
    detail, _ = query.collect(conn, periods, with_model, filters, use_rollup=use_rollup)
    model_at = with_model.index("model")
    out = {}
    for (index, keys), vector in detail.items():
        if vector[column]:
            cell = out.setdefault((index, keys[:len(group_by)]), {})
            cell[keys[model_at]] = cell.get(keys[model_at], 0) + vector[column]
    return out


def breakdown(conn, periods, key, filters, use_rollup=True):
    """[(key tuple, measures)] for one key over `periods`, most expensive first."""
    sums, _ = query.collect(conn, periods, [key], filters, use_rollup=use_rollup)
    return summary.breakdown(sums, [key])


def models(conn, periods, filters, use_rollup=True):
    """(by model over the range, per period by model): one sum for the HTML page's
    "spend by model" bars and its per-period breakdown table."""
    sums, _ = query.collect(conn, periods, ["model"], filters, use_rollup=use_rollup)
    by_model, per_period = summary.breakdown(sums, ["model"]), summary.per_period(sums, periods)
    imported.annotate_breakdown(by_model, per_period, periods,
                                imported.cells(conn, periods, ["model"], filters))
    return by_model, per_period
