"""Alerts (`policies.alerts`): a command and/or a webhook told once per budget, threshold and
period when spend crosses a threshold (docs/plans.md "Alerts"). Never on the hot path: the
proxy imports it only when alerts are configured, and hands `policy_hooks` to the policy
engine, which never imports this package (as with shim.team.budget_hooks)."""


def policy_hooks(cfg):
    """shim.alerts.check (after_quotas, after_settlement) when `policies.alerts` is set, else
    None: what the policy gate is handed to tell the alerts about measured spend."""
    if not ((cfg or {}).get("policies") or {}).get("alerts"):
        return None
    from shim.alerts import check

    return check
