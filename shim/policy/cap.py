"""claude's own spending cap on a one-shot call under a hard budget: `--max-budget-usd`.

A reservation is an estimate; a call that costs more than its estimate overspends the budget by
the difference, and a burst of parallel calls by that difference times the burst. claude can
stop itself: `claude -p --max-budget-usd X` ends with `subtype: error_max_budget_usd` (exit 1)
once its spend reaches X (REAL_CLIS.md; it checks after each API request, so the request that
crosses X still completes). So a claude one-shot call under a hard budget gets the flag with
X = its reservation, and can spend at most its reservation plus that one request.

This is the one argv change llm-shim makes for a budget, and only where the flag's meaning is
known: claude's adapter, a one-shot call it understood, no subcommand. A value the user gave
is kept when it is smaller, and lowered to the reservation otherwise. `0` is a usage error
for claude, so a call whose reservation is 0 (no price and no history) is refused instead.
"""

from shim import errors

FLAG = "--max-budget-usd"
MIN_USD = 0.000001  # what the flag is written with: six decimals, rounded down


def applies(decision, request, cfg):
    """True for a one-shot call of claude's adapter: one it understood, or one whose flags it
    all read (a `-p` before any "--") but whose positionals it did not, e.g. text after "--"."""
    from shim import adapters

    request = request or {}
    if request.get("subcommand"):
        return False
    if request.get("understood") is False:
        if not request.get("print_flag"):
            return False
    elif decision.get("mode") != "oneshot" or request.get("mode") not in (None, "oneshot"):
        return False
    return adapters.adapter_name(decision.get("tool"), cfg) == "claude"


def text(usd):
    """`usd` rounded down to six decimals, as claude reads it ("0.1", "0.034512")."""
    value = int((float(usd) * 1_000_000 + 1e-6) // 1) / 1_000_000  # floor; math is not loaded
    return f"{value:.6f}".rstrip("0").rstrip(".") if value > 0 else "0"


def unpriced(decision, usd, names):
    """errors.Blocked for a call under hard budget(s) `names` whose reservation is 0 (no price
    for its model, no recorded cost, no `reserve_usd`), else None: a hard budget is never run
    past because a price is unknown."""
    if text(usd) != "0":
        return None
    which = ", ".join(f"'{n}'" for n in names)
    return errors.Blocked(
        "budget", f"cannot run this {decision.get('tool')} call under hard budget {which}: "
                  f"its cost cannot be estimated (no price for {_model(decision)} and no "
                  "recorded cost)", HINT)


HINT = ("set reserve_usd on the budget, or add a price: `llm-shim prices update` or "
        "models: in your config (docs/policies.md)")


def _model(decision):
    return decision.get("model") or decision.get("baseline_model") or "its model"


def apply(decision, usd, names):
    """(decision with the cap, None) or (decision, errors.Blocked) when it cannot be capped.

    `usd` is the call's reservation, `names` the hard budgets it falls under."""
    value = text(usd)
    which = ", ".join(f"'{n}'" for n in names)
    if value == "0":
        return decision, errors.Blocked(
            "budget", f"cannot cap this {decision.get('tool')} call under hard budget {which}: "
                      f"its reservation is {value} USD (no price for "
                      f"{_model(decision)} and no recorded cost)", HINT)
    argv = list(decision.get("argv") or ())
    given = _given(argv)
    if given is not None:
        index, inline, current = given
        if current is None:  # not a number claude takes: claude itself says so
            return decision, None
        if current <= float(value):
            reason = (f"budget: kept your {FLAG} {_plain(current)}: it is within this call's "
                      f"reservation of ${value} (hard budget {which})")
            return _with(decision, argv, reason), None
        if inline:
            argv[index] = f"{FLAG}={value}"
        else:
            argv[index + 1] = value
        reason = (f"budget: lowered {FLAG} to {value}, this call's reservation under hard budget "
                  f"{which}: claude stops itself there")
        return _with(decision, argv, reason), None
    argv[0:0] = [FLAG, value]
    reason = (f"budget: added {FLAG} {value}, this call's reservation under hard budget {which}: "
              "claude stops itself there")
    return _with(decision, argv, reason), None


def _with(decision, argv, reason):
    # `changed` stays routing's: the cap is not a routing change, and savings (the record's
    # baseline) are only counted for those.
    return dict(decision, argv=argv, reasons=list(decision.get("reasons") or ()) + [reason])


def _given(argv):
    """(index, inline, value or None) of the user's own flag (the last one wins), or None."""
    found = None
    for i, arg in enumerate(argv):
        if arg == "--":
            break
        if arg == FLAG and i + 1 < len(argv):
            found = (i, False, _number(argv[i + 1]))
        elif arg.startswith(FLAG + "="):
            found = (i, True, _number(arg[len(FLAG) + 1:]))
    return found


def _number(value):
    try:
        number = float(value)
    except ValueError:
        return None
    return number if 0 < number < float("inf") else None


def _plain(number):
    return f"{number:.6f}".rstrip("0").rstrip(".")
