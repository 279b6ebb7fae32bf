"""A shim's own process pauses Python's cyclic collector while the call is decided (config,
routing, the policy gate) and collects as usual again, start-up objects frozen, before the
tool runs: the tool may run for hours. An in-process caller's collector is left alone."""

import gc
import json
import os

import pytest

from shim import proxy, runner


@pytest.fixture
def observed(monkeypatch, fake_cli):
    """Records the collector's state while deciding and while the tool runs."""
    fake_cli("claude")
    monkeypatch.setenv("PATH", os.pathsep.join([str(fake_cli.bin_dir), "/usr/bin", "/bin"]))
    seen = {}
    real_plan, real_run = proxy.plan_call, runner.run

    def plan_call(*args, **kwargs):
        seen["deciding"] = gc.isenabled()
        return real_plan(*args, **kwargs)

    def run(*args, **kwargs):
        seen["running"] = gc.isenabled()
        seen["frozen"] = gc.get_freeze_count()
        return real_run(*args, **kwargs)

    monkeypatch.setattr(proxy, "plan_call", plan_call)
    monkeypatch.setattr(runner, "run", run)
    yield seen
    gc.unfreeze()
    gc.enable()


def gated(isolated_env):
    isolated_env["shim_home"].mkdir(exist_ok=True)
    (isolated_env["shim_home"] / "config.yaml").write_text(json.dumps({"policies": {
        "budgets": {"b": {"scope": "global", "period": "day",
                          "limit": {"usd": 100, "type": "hard"}, "reserve_usd": 0.01}}}}))


@pytest.mark.parametrize("gate", [False, True])
def test_the_shim_process_pauses_it_while_deciding(observed, isolated_env, gate):
    if gate:
        gated(isolated_env)
    gc.unfreeze()
    assert proxy.main("claude", ["-p", "hi"], own_process=True) == 0
    assert observed["deciding"] is False
    assert observed["running"] is True and observed["frozen"] > 0
    assert gc.isenabled()


def test_a_refused_call_resumes_it(observed, isolated_env):
    isolated_env["shim_home"].mkdir(exist_ok=True)
    (isolated_env["shim_home"] / "config.yaml").write_text(json.dumps({"policies": {
        "budgets": {"b": {"scope": "global", "period": "day",
                          "limit": {"usd": 0.001, "type": "hard"}, "reserve_usd": 0.01}}}}))
    assert proxy.main("claude", ["-p", "hi"], own_process=True) != 0
    assert observed["deciding"] is False and "running" not in observed
    assert gc.isenabled()


def test_an_in_process_call_leaves_it_alone(observed):
    gc.unfreeze()
    assert proxy.main("claude", ["-p", "hi"]) == 0
    assert observed["deciding"] is True and observed["running"] is True
    assert gc.get_freeze_count() == 0
