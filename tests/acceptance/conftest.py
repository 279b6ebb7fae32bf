"""Fixtures for the acceptance suite: the real CLIs, the stub in a private netns, hermetic runs.

Fixtures (details and examples in docs/acceptance.md):
  real_clis       session  RealClis: .claude .codex .llm paths, .bin_dir, .versions
  stub_namespace  session  (NetNamespace, StubServer): one stub for the session, in the netns
  stub            function the StubServer, reset (log, counters, modes, reply, usage)
  real_env        function RealEnv: .run(argv, extra_env=None, cwd=None, timeout=60,
                           path_prefix=(), input=None, include_real=True, text=True)
                           -> CompletedProcess, plus .stub, .env(), dirs, .claude/.codex/.llm

A test skips, with the reason printed in the summary, only when the real CLIs could not be
installed because a registry is unreachable, or when this machine cannot create a network
namespace. Helper modules live next to this file and are importable by their plain names
(`import hermetic`, `import realclis`...) because this conftest puts this directory on sys.path;
the pty driver, shared with the watch tests, is `tests.support.pty_driver`.
When a test using real_env fails, the stub's request log is added to its report.
"""

import os
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import hermetic  # noqa: E402
import netns  # noqa: E402
import realclis  # noqa: E402
from stub_server import StubServer  # noqa: E402

# Read now: the autouse isolated_env fixture replaces HOME and drops LLM_* during each test.
_REALCLIS_CACHE = realclis.cache_dir()
_MAY_INSTALL = os.environ.get("LLM_SHIM_REALCLIS_NO_INSTALL") != "1"


@pytest.fixture(scope="session")
def real_clis():
    """The pinned real CLIs (installed by install/realclis.sh if missing), or skip/fail why."""
    try:
        return realclis.locate(_REALCLIS_CACHE, install=_MAY_INSTALL)
    except realclis.RealClisUnavailable as exc:
        if exc.skip:
            pytest.skip(str(exc))
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture(scope="session")
def stub_namespace():
    """A loopback-only network namespace with one stub server listening inside it."""
    namespace = netns.NetNamespace()
    try:
        namespace.create()
    except netns.NetnsUnavailable as exc:
        pytest.skip(str(exc))
    server = StubServer()
    namespace.call(server.start)
    yield namespace, server
    server.stop()
    namespace.close()


@pytest.fixture
def stub(stub_namespace):
    """The session's stub, with a clean log, counters and settings for this test."""
    server = stub_namespace[1]
    server.reset()
    return server


@pytest.fixture
def real_env(isolated_env, real_clis, stub_namespace, stub, tmp_path):
    """A RealEnv: fresh config dirs under tmp_path, HOME/LLM_SHIM_HOME shared with isolated_env."""
    return hermetic.RealEnv(tmp_path / "real", stub, stub_namespace[0], real_clis,
                            home=isolated_env["home"], shim_home=isolated_env["shim_home"])


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """On a failure, show what the stub saw: usually the quickest clue."""
    outcome = yield
    report = outcome.get_result()
    server = getattr(item, "funcargs", {}).get("stub")
    if report.when == "call" and report.failed and isinstance(server, StubServer):
        lines = [f"{e['seq']:>3} {e['method']} {e['path']} model={e['model']} mode={e['mode']} "
                 f"status={e['status']} ua={e['headers'].get('user-agent')}"
                 for e in server.requests()]
        report.sections.append(("stub requests", "\n".join(lines) or "(none)"))


@pytest.fixture
def shims_dir(real_env):
    """Our shims, installed for real: `llm-shim install --dir <tmp>/real/shims --no-modify-rc`
    with the project's Python, HOME and LLM_SHIM_HOME being the test's. Put it first with
    `real_env.run(..., path_prefix=[shims_dir])`; `shims_dir / "llm-shim"` is the CLI."""
    import scenario_kit

    return scenario_kit.install_shims(real_env, real_env.root / "shims")
