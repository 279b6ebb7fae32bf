"""install/quickstart.sh, the README's first command, in a throwaway HOME.

Its demo call must show real routing: a project `.llm-shim.yaml` in a temp dir defines a
`demo` agent on llm's offline `echo` model, and `llm "hello from llm-shim"` (no `-m`) is
rewritten by it, which the log shows with the reason. When pip cannot install llm and
llm-echo, it says so and still runs doctor and the route demos.
"""

import os
import shutil
import subprocess
import sys

import pytest

from shim import __version__

FAKE_LLM = """#!/bin/sh
# A fake real llm with the llm-echo plugin: lists the echo model, echoes the prompt.
case "${1-}" in
    --version) echo "llm, version 0.36"; exit 0 ;;
    models) echo "OpenAI Chat: gpt-4o (aliases: 4o)"; echo "Echo: echo"; exit 0 ;;
esac
printf '%s\\n' "$*" >> "$HOME/llm-calls.txt"
echo "echo: $*"
"""


def _run(repo, tmp_path, pyz, path, **extra):
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env = {"HOME": str(home), "PATH": path, "TERM": "dumb", "SHELL": "/bin/bash",
           "LLM_SHIM_PYZ": str(pyz), "SHIV_ROOT": str(tmp_path / "shiv"),
           "TMPDIR": str(tmp_path), "PYTHON": sys.executable}
    env.update(extra)
    out = subprocess.run(["sh", os.path.join(repo, "install", "quickstart.sh"), "--shell", "bash"],
                         env=env, capture_output=True, text=True, timeout=300,
                         stdin=subprocess.DEVNULL, cwd=str(tmp_path))
    return home, out


def test_the_demo_call_is_routed_by_the_demo_agent(repo, tmp_path, zipapp_factory):
    pyz = zipapp_factory(tmp_path / "llm-shim.pyz")
    fake = tmp_path / "fakebin"
    fake.mkdir()
    (fake / "llm").write_text(FAKE_LLM)
    (fake / "llm").chmod(0o755)
    home, out = _run(repo, tmp_path, pyz, f"{fake}:/usr/bin:/bin")
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    # The real llm ran once, without -m from the user: the demo agent added `-m echo`. (doctor
    # also read its `--help` to learn its grammar.)
    calls = [c for c in (home / "llm-calls.txt").read_text().splitlines()
             if not c.endswith("--help") and c != "--version"]
    assert calls == ["hello from llm-shim -m echo"], calls
    # The log shows the rewrite and the reason.
    logs = out.stdout.split("== llm-shim logs -n 3", 1)[1]
    assert "(default)->echo" in logs and "agent demo pins model echo" in logs, logs
    assert "pinned on argv" not in out.stdout
    assert "quickstart.sh:" not in out.stderr  # nothing went wrong
    assert not [p for p in os.listdir(tmp_path) if p.startswith("llm-shim-demo.")]
    # The demo trusted its project file (project files apply only once trusted), and forgot
    # it again on the way out.
    assert "trusted " in out.stdout and "not trusted" not in out.stderr
    trusted = home / ".local" / "share" / "llm-shim" / "trusted-projects"
    assert not trusted.exists() or "llm-shim-demo." not in trusted.read_text()


def test_without_pip_it_says_so_and_still_runs_doctor_and_route(repo, tmp_path,
                                                                 zipapp_factory):
    if shutil.which("llm", path="/usr/bin:/bin"):
        pytest.skip("a real llm is installed in /usr/bin or /bin")
    pyz = zipapp_factory(tmp_path / "llm-shim.pyz")
    home, out = _run(repo, tmp_path, pyz, "/usr/bin:/bin", PIP_NO_INDEX="1",
                     PIP_FIND_LINKS=str(tmp_path / "no-wheels"))
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert "quickstart.sh: could not install llm and llm-echo with pip" in out.stderr
    assert "docs/quickstart.md, step 4" in out.stderr
    assert f"llm-shim {__version__} doctor" in out.stdout
    assert "agent demo pins model echo" in out.stdout  # the route demo still ran
    assert "The demo call is skipped" in out.stdout
    assert not (home / "llm-calls.txt").exists()
