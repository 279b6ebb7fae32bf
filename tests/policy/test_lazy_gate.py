"""The gate loads shim.policy.cap and shim.policy.stale_spool only for a call that needs them
(issue 16): the shortcut must decide exactly as the modules would."""

import pytest

from shim.policy import cap, engine


def test_surely_not_zero_is_never_written_as_zero():
    assert engine.SURELY_NOT_ZERO_USD >= 10 * cap.MIN_USD
    assert cap.text(engine.SURELY_NOT_ZERO_USD) != "0"
    assert cap.unpriced({"tool": "codex"}, engine.SURELY_NOT_ZERO_USD, ["b"]) is None


def _judged(mode, usd, kind="hard"):
    return {"decision": {"tool": "codex", "mode": mode, "model": None},
            "estimate": {"usd": usd}, "error": None,
            "budgets": [{"budget": {"name": "b", "type": kind}}]}


@pytest.mark.parametrize("usd, refused", [(0.0, True), (0.0000004, True), (0.00001, False),
                                          (0.5, False)])
def test_an_uncappable_call_is_refused_only_when_its_reservation_is_zero(usd, refused):
    judged = _judged("interactive", usd)
    engine._cap(judged, {"mode": "interactive"}, {})
    assert (judged["error"] is not None) is refused
    if refused:
        assert "cannot be estimated" in judged["error"].why


def test_a_soft_budget_caps_and_refuses_nothing():
    judged = _judged("oneshot", 0.0, kind="soft")
    engine._cap(judged, {"mode": "oneshot"}, {})
    assert judged["error"] is None
