"""The model table that pricing and ingestion read: the compiled config, or the embedded
defaults when it cannot be loaded (prices must still work), and the provider and tier of the
model that actually ran. Shared by ingestion and `llm-shim import`, below both."""

from shim import errors, paths


def model_facts(rec, cfg):
    """Provider and tier of the model that actually ran, when the decision did not know it."""
    model = rec.get("model")
    if not model or (rec.get("provider") and rec.get("tier")):
        return
    models = cfg.get("models") or {}
    model_id = (cfg.get("_aliases") or {}).get(model, model)
    if model_id not in models and model.endswith("[1m]"):
        model_id = (cfg.get("_aliases") or {}).get(model[:-4], model[:-4])
    spec = models.get(model_id) or {}
    rec["provider"] = rec.get("provider") or spec.get("provider")
    rec["tier"] = rec.get("tier") or spec.get("tier")


def load_config():
    """The compiled config; the embedded defaults if it cannot be loaded (prices still work)."""
    try:
        from shim.config import compiled
    except ImportError:
        return embedded_config()
    try:
        return compiled.load()
    except errors.ShimError as exc:
        errors.warn("telemetry", f"config unusable ({exc.why})", "pricing with the defaults")
        return embedded_config()


def embedded_config():
    import yaml

    with open(paths.embedded_default_config(), encoding="utf-8") as fh:
        cfg = yaml.safe_load(fh) or {}
    aliases = {}
    for model_id, spec in (cfg.get("models") or {}).items():
        aliases[model_id] = model_id
        for alias in (spec or {}).get("aliases") or ():
            aliases.setdefault(alias, model_id)
    cfg["_aliases"] = aliases
    return cfg
