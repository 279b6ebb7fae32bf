"""The configured alerts, normalised; an alert set by a project file is refused.

A project file (`.llm-shim.yaml` in a cloned repository) must never run a program or send
data anywhere, so an alert is taken only when every key of it came from the user config,
$LLM_SHIM_CONFIG or the default (config validation also rejects `policies.alerts` in a project
file: this is the second lock, for a compiled config however it was built)."""

DEFAULT_THRESHOLDS = (0.5, 0.8, 1.0)
DEFAULT_TIMEOUT = 5.0


def project_files(cfg):
    return {s.get("path") for s in (cfg.get("_sources") or ()) if s.get("layer") == "project"}


def from_project(cfg, name):
    """True when any key of `policies.alerts.<name>` was set by a project file."""
    prefix = f"policies.alerts.{name}"
    projects = project_files(cfg)
    if not projects:
        return False
    for path, origin in (cfg.get("_origin") or {}).items():
        if (path == prefix or path.startswith(prefix + ".") or path == "policies.alerts") \
                and origin in projects:
            return True
    return False


def configured(cfg):
    """([alert dicts], [refused names]). An alert: {name, budgets, quotas (sets or None),
    thresholds (sorted), command (list or None), webhook (str or None), timeout}."""
    specs = ((cfg.get("policies") or {}).get("alerts")) or {}
    alerts, refused = [], []
    for name, spec in sorted(specs.items()):
        if not isinstance(spec, dict):
            continue
        if from_project(cfg, name):
            refused.append(name)
            continue
        command = spec.get("command")
        webhook = spec.get("webhook")
        if not command and not webhook:
            continue
        budgets, quotas = spec.get("budgets"), spec.get("quotas")
        alerts.append({
            "name": name,
            "budgets": set(budgets) if budgets else None,
            "quotas": set(quotas) if quotas else None,
            "thresholds": sorted(float(t) for t in (spec.get("thresholds")
                                                    or DEFAULT_THRESHOLDS)),
            "command": [str(a) for a in command] if command else None,
            "webhook": webhook or None,
            "timeout": float(spec.get("timeout") or DEFAULT_TIMEOUT),
        })
    return alerts, refused


def watches(alert, subject_name, kind="budget"):
    """Does `alert` watch this budget (or quota, `kind="quota"`)? An alert that names the
    budgets or the quotas it watches watches only those (naming budgets alone: no quota, and
    the reverse); one that names neither watches every budget and every quota."""
    named, other = ((alert["budgets"], alert.get("quotas")) if kind == "budget"
                    else (alert.get("quotas"), alert["budgets"]))
    if named is not None:
        return subject_name in named
    return other is None
