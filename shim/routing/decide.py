"""The routing decision: a pure function of request + config + agent + budget state.

Order of the rules (docs/routing.md explains each; every rule that fires or is skipped leaves
a line in `reasons`):

1. argv not understood, a meta call (`--version`, `mcp`, `logs`), or a call the adapter marks
   `untouched` (a resumed, forked or remote session: `codex resume`, `claude -c`): nothing
   changes.
2. Tool: the agent's `tool`, when the request can be rendered for it faithfully.
3. Model, first that applies: a model pinned on argv (kept unless `override_explicit_model`);
   the agent's `model`; the agent's `tier`; cost optimisation (one-shot prompts only): the
   learned router's score against the `strong_share` thresholds (or, with `strong_share: null`,
   the keyword score against `thresholds`) → complexity → tier → `tiers[tool][tier]`; else the
   tool's default (argv unchanged).
4. A budget asking to downgrade moves the choice one tier cheaper.
5. Fallbacks: the agent's `fallback` list, else `policies.fallback.chains[tool]`, rendered.

Hot path: imports only our own modules, and the scorers only for a call they score: the
keyword score (shim.routing.classify) for a one-shot prompt, the learned router
(shim.routing.router) for one routed by cost; an interactive call loads neither.
"""

from shim import adapters
from shim.routing import agents
from shim.tools import BUILTIN_TOOLS

TIER_ORDER = ("cheap", "standard", "premium")
DEFAULT_COMPLEXITY_TO_TIER = {"simple": "cheap", "standard": "standard", "complex": "premium"}
DEFAULT_STRONG_SHARE = 0.35


def decide(request, cfg, agent, budget_state=None, agent_reason=None):
    """Decision dict (docs/internals.md, "Decision"). No I/O."""
    cfg = cfg or {}
    settings = agent_settings(cfg, agent)
    redirect = (budget_state or {}).get("redirect")
    if redirect:  # a quota moves the call (shim/policy/quotas.py): as if the agent said so
        settings = dict(settings, tool=redirect.get("tool"))
        if redirect.get("model"):
            settings["model"] = redirect["model"]
    cost = cost_settings(cfg, settings)
    tool_requested = request["tool"]
    reasons = []
    if agent_reason and agent_reason.startswith(agents.UNKNOWN_MARK):
        reasons.append(agent_reason)  # the recorded row keeps the name that was asked for
    verdict = None
    if request["understood"] and request["mode"] == "oneshot" and request["prompt"] is not None:
        from shim.routing import classify as classifier

        verdict = classifier.classify(request["prompt"], request["resume"], cost["thresholds"])
        # The learned router (~1 ms and its weights) only where its score picks the tier:
        # an agent that routes by cost. Other calls keep the keyword score.
        if cost["strong_share"] is not None and cost["enabled"]:
            from shim.routing import router

            try:
                verdict = router.route(request["prompt"], request["resume"],
                                        cost["strong_share"], verdict)
            except (OSError, ValueError, EOFError, TypeError, KeyError) as exc:
                # A damaged install must not break the call: the keyword score still works.
                reasons.append("learned router unavailable (%s: %s): keyword score used" % (
                    router.MODEL_FILE, exc))

    decision = {
        "agent": agent,
        "agent_reason": agent_reason,
        "tool_requested": tool_requested,
        "tool": tool_requested,
        "model_requested": request["model"],
        "model": canonical(cfg, request["model"]),
        "provider": None,
        "tier": None,
        "complexity": verdict["complexity"] if verdict else None,
        "features": dict(verdict["features"], why=verdict["why"]) if verdict else None,
        "score": verdict["score"] if verdict else None,
        "route": verdict.get("route") if verdict else None,
        "mode": request["mode"],
        "free": bool(request.get("free")),  # a meta call that spends nothing (adapters.parse)
        "output_format": request["output_format"],
        "prompt_chars": len(request["prompt"]) if request["prompt"] is not None else None,
        "argv": list(request["args"]),
        "changed": False,
        "reasons": reasons,
        "baseline_model": baseline_model(cfg, request),
        "fallbacks": [],
    }
    if not request["understood"]:
        why = request["untranslatable"][0] if request["untranslatable"] else "unknown"
        reasons.append("arguments not understood (%s): passed through untouched" % why)
        return _finish(decision, cfg, request)
    if request["mode"] == "meta":
        reasons.append("meta invocation: passed through untouched")
        return _finish(decision, cfg, request)
    if request.get("untouched"):  # a resumed or remote session keeps its own model
        reasons.append("%s: passed through untouched" % request["untouched"])
        return _finish(decision, cfg, request)
    if agent not in (cfg.get("agents") or {}):
        reasons.append("agent %s has no settings in the config" % agent)

    target = _target_tool(cfg, settings, agent, tool_requested, reasons,
                          budget_state.get("reason") if redirect else None)
    if target != tool_requested:
        pick = _choose_model(request, cfg, agent, settings, cost, verdict, budget_state, target, reasons)
        if pick is None:
            reasons.append("staying on %s" % tool_requested)
            target = tool_requested
        else:
            argv, why = adapters.render_explained(request, target, pick["model"], cfg)
            if argv is None:
                reasons.append("cannot move this call to %s: %s; staying on %s" % (
                    target, why, tool_requested))
                target = tool_requested
            else:
                reasons.append("redirected %s → %s" % (tool_requested, target))
                decision.update(tool=target, argv=argv, model=pick["model"])
    if target == tool_requested:
        pick = _choose_model(request, cfg, agent, settings, cost, verdict, budget_state, target, reasons)
        if pick is not None and pick["model"] is not None:
            same = canonical(cfg, request["model"]) == pick["model"]
            if same:
                reasons.append("model %s already requested on argv: argv unchanged" % request["model"])
            else:
                argv, why = adapters.render_explained(request, target, pick["model"], cfg)
                if argv is None:
                    reasons.append("cannot set model %s: %s; argv unchanged" % (pick["model"], why))
                else:
                    decision.update(argv=argv, model=pick["model"])
    decision["fallbacks"] = _fallbacks(request, cfg, settings, decision, reasons)
    return _finish(decision, cfg, request)


def _finish(decision, cfg, request):
    info = ((cfg.get("models") or {}).get(decision["model"]) or {}) if decision["model"] else {}
    decision["provider"] = info.get("provider")
    decision["tier"] = info.get("tier")
    decision["changed"] = (decision["argv"] != request["args"]
                           or decision["tool"] != decision["tool_requested"])
    # A failed redirect re-runs the model choice for the original tool: say each thing once.
    decision["reasons"] = list(dict.fromkeys(decision["reasons"]))
    return decision


def agent_settings(cfg, agent):
    return ((cfg.get("agents") or {}).get(agent)) or {}


def cost_settings(cfg, settings):
    """`policies.cost_optimization` with the agent's `cost_optimization` (bool or mapping)
    and `override_explicit_model` on top."""
    policy = ((cfg.get("policies") or {}).get("cost_optimization")) or {}
    cost = {
        "enabled": bool(policy.get("enabled", False)),
        "override_explicit_model": bool(policy.get("override_explicit_model", False)),
        "complexity_to_tier": dict(policy.get("complexity_to_tier") or DEFAULT_COMPLEXITY_TO_TIER),
        "tiers": {tool: dict(row) for tool, row in (policy.get("tiers") or {}).items()},
        "thresholds": policy.get("thresholds"),
        "strong_share": policy.get("strong_share", DEFAULT_STRONG_SHARE),
        "source": "policies.cost_optimization" if policy.get("enabled") else None,
    }
    own = settings.get("cost_optimization")
    if isinstance(own, dict):
        cost["enabled"] = bool(own.get("enabled", True))
        if own.get("override_explicit_model") is not None:
            cost["override_explicit_model"] = bool(own["override_explicit_model"])
        if own.get("thresholds"):
            cost["thresholds"] = dict(cost["thresholds"] or {}, **own["thresholds"])
        if "strong_share" in own:
            cost["strong_share"] = own["strong_share"]
        cost["complexity_to_tier"].update(own.get("complexity_to_tier") or {})
        for tool, row in (own.get("tiers") or {}).items():
            cost["tiers"].setdefault(tool, {}).update(row)
        cost["source"] = "agent"
    elif own is not None:
        cost["enabled"] = bool(own)
        cost["source"] = "agent"
    if settings.get("override_explicit_model") is not None:  # null (schema default): the policy's
        cost["override_explicit_model"] = bool(settings["override_explicit_model"])
    return cost


def canonical(cfg, model):
    """The model id an alias names (`sonnet` → `claude-sonnet-5`); unknown names unchanged."""
    if model is None:
        return None
    return (cfg.get("_aliases") or {}).get(model, model)


def baseline_model(cfg, request):
    """What the call would have cost without us: the model on argv, else the tool's premium
    model per `policies.cost_optimization.tiers` (the CLIs default to their premium model)."""
    if request["model"] is not None:
        return canonical(cfg, request["model"])
    tiers = (((cfg.get("policies") or {}).get("cost_optimization") or {}).get("tiers") or {})
    return canonical(cfg, (tiers.get(request["tool"]) or {}).get("premium"))


def _target_tool(cfg, settings, agent, tool_requested, reasons, redirected_by=None):
    wanted = settings.get("tool")
    who = redirected_by or "agent %s" % agent
    if not wanted or wanted == tool_requested:
        return tool_requested
    if wanted not in (cfg.get("tools") or {}) and wanted not in BUILTIN_TOOLS:
        reasons.append("%s asks for tool %s, which is not configured" % (who, wanted))
        return tool_requested
    reasons.append("%s runs tool %s" % (who, wanted))
    return wanted


def _served(cfg, tool, model):
    """False only when both the tool's providers and the model's provider are known and differ."""
    providers = ((cfg.get("tools") or {}).get(tool) or {}).get("providers")
    info = (cfg.get("models") or {}).get(model) or {}
    return not providers or not info.get("provider") or info["provider"] in providers


def _tier_model(cost, tool, tier):
    return (cost["tiers"].get(tool) or {}).get(tier)


def _cheaper(tier):
    if tier not in TIER_ORDER:
        return None
    index = TIER_ORDER.index(tier)
    return TIER_ORDER[index - 1] if index > 0 else None


def _choose_model(request, cfg, agent, settings, cost, verdict, budget_state, tool, reasons):
    """{"model": id or None (= leave argv's model alone), "tier"}; None when a pinned model
    forbids moving to `tool`."""
    chooser = request.get("model_chooser")
    if chooser:
        # A profile, template, agent or local provider picks the model where we cannot see it
        # (and may not even serve our model ids): leave the model alone, whatever the policy.
        if tool != request["tool"]:
            reasons.append("%s on argv chooses the model: the call cannot move to %s" % (chooser, tool))
            return None
        reasons.append("%s on argv chooses the model: kept" % chooser)
        return {"model": None, "tier": None}
    pinned = request["model_pinned"] and not cost["override_explicit_model"]
    requested = canonical(cfg, request["model"])
    downgrade = bool(budget_state and budget_state.get("downgrade"))
    if pinned:
        if tool != request["tool"]:
            if requested and _served(cfg, tool, requested) and requested in (cfg.get("models") or {}):
                reasons.append("model %s pinned on argv: kept on %s" % (request["model"], tool))
                return {"model": requested, "tier": None}
            reasons.append("model %s pinned on argv cannot run on %s" % (request["model"], tool))
            return None
        reasons.append("model %s pinned on argv: kept (override_explicit_model is off)" % request["model"])
        if downgrade:
            reasons.append("budget asks to downgrade, but the model is pinned on argv")
        return {"model": None, "tier": None}

    model = tier = None
    source = None
    if settings.get("model"):
        candidate = canonical(cfg, settings["model"])
        if _served(cfg, tool, candidate):
            model, source = candidate, "agent %s pins model %s" % (agent, settings["model"])
        else:
            reasons.append("agent %s pins model %s, which %s does not serve; ignored" % (
                agent, settings["model"], tool))
    if model is None and settings.get("tier"):
        candidate = _tier_model(cost, tool, settings["tier"])
        if candidate:
            model, tier = canonical(cfg, candidate), settings["tier"]
            source = "agent %s pins tier %s → %s" % (agent, tier, model)
        else:
            reasons.append("agent %s pins tier %s, but tiers.%s has none" % (agent, settings["tier"], tool))
    agent_pinned = model is not None
    if cost["enabled"]:
        if agent_pinned:
            reasons.append("cost optimisation skipped: the agent pins the model")
        elif request["mode"] != "oneshot":
            reasons.append("cost optimisation skipped: %s call (one-shot prompts only)" % request["mode"])
        elif verdict is None:
            reasons.append("cost optimisation skipped: no prompt on argv to classify")
        else:
            wanted = cost["complexity_to_tier"].get(verdict["complexity"])
            candidate = _tier_model(cost, tool, wanted) if wanted else None
            if candidate:
                model, tier = canonical(cfg, candidate), wanted
                source = "cost optimisation: %s → tier %s → %s" % (_verdict_text(verdict), wanted, model)
            else:
                reasons.append("cost optimisation skipped: no %s model in tiers.%s" % (wanted, tool))
    if source:
        reasons.append(source)

    if downgrade:
        if request["mode"] != "oneshot" and not agent_pinned:
            reasons.append("budget downgrade skipped: %s call without an agent model" % request["mode"])
        else:
            if model is None:
                current = "premium"  # the CLIs default to their premium model
            else:
                current = tier or ((cfg.get("models") or {}).get(model) or {}).get("tier")
            cheaper = _cheaper(current)
            if cheaper and budget_state.get("to_tier") in TIER_ORDER:  # a quota: straight there
                cheaper = budget_state["to_tier"]
            candidate = _tier_model(cost, tool, cheaper) if cheaper else None
            why = budget_state.get("reason") or "budget"
            if candidate:
                model, tier = canonical(cfg, candidate), cheaper
                reasons.append("%s: downgraded %s → %s (%s)" % (why, current, cheaper, model))
            else:
                reasons.append("%s asks to downgrade, but nothing is cheaper than %s on %s" % (
                    why, current, tool))
    avoided = [canonical(cfg, m) for m in request.get("avoid_models") or ()]
    if model is not None and model in avoided:
        reasons.append("%s is also the call's fallback model, which the tool refuses: "
                       "the model is left alone" % model)
        model = tier = None
    if model is None and not source and not cost["enabled"] and not downgrade:
        reasons.append("no agent setting or policy changes the model")
    if model is not None and request["model_pinned"] and model != requested:
        reasons.append("model %s pinned on argv: overridden by %s (override_explicit_model is on)"
                       % (request["model"], model))
    return {"model": model, "tier": tier}


def _verdict_text(verdict):
    """`score 0.91 >= 0.84 (strong_share 0.35): standard prompt` or, for the keyword score,
    `simple prompt (score -3)`."""
    routed = verdict.get("route")
    if not routed:
        return "%s prompt (score %d)" % (verdict["complexity"], verdict["score"])
    limits = routed["thresholds"]
    if routed["tier"] == "cheap":
        compared = "score %.4f < %.4f" % (routed["score"], limits["standard"])
    else:
        compared = "score %.4f >= %.4f" % (routed["score"], limits["standard"])
        compared += ", premium score %.4f %s %.4f" % (
            routed["premium_score"], ">=" if routed["tier"] == "premium" else "<", limits["premium"])
    return "%s (strong_share %s): %s prompt" % (compared, routed["strong_share"], verdict["complexity"])


def _fallbacks(request, cfg, settings, decision, reasons):
    """The remaining chain, rendered; entries that cannot be rendered are skipped with a reason."""
    chain = settings.get("fallback")
    origin = "agent fallback"
    if chain is None:
        chains = (((cfg.get("policies") or {}).get("fallback") or {}).get("chains") or {})
        chain = chains.get(decision["tool"]) or []
        origin = "fallback chain of %s" % decision["tool"]
    if not chain:
        return []
    if request["mode"] != "oneshot":
        reasons.append("%s not used: %s call (one-shot only)" % (origin, request["mode"]))
        return []
    out = []
    for number, entry in enumerate(chain, 1):
        tool = entry.get("tool") or decision["tool"]
        model = canonical(cfg, entry.get("model"))
        label = "%s %d (%s%s)" % (origin, number, tool, "/" + model if model else "")
        argv, why = adapters.render_explained(request, tool, model, cfg)
        if argv is None:
            reasons.append("%s skipped: %s" % (label, why))
            continue
        if tool == decision["tool"] and argv == decision["argv"]:
            reasons.append("%s skipped: same as the primary call" % label)
            continue
        out.append({"tool": tool, "model": model, "argv": argv})
    return out
