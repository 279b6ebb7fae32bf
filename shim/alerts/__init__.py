"""Alerts (`policies.alerts`): a command and/or a webhook told once per budget, threshold and
period when spend crosses a threshold (docs/plans.md "Alerts"). Never on the hot path: the
policy engine imports it only when alerts are configured."""
