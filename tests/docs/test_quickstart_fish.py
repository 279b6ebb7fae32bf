"""docs/quickstart.md step 4, fish: the line that adds the llm venv to PATH, run literally in
a real fish in a throwaway HOME, keeps the shims first, in the running shell and in new ones.

(A plain `fish_add_path --append DIR` sets the universal `fish_user_paths`, which fish puts in
front of PATH at once in every running shell: ahead of the shims.)
"""

import re

from shim import paths
from tests.docs.conftest import read_doc


def _fish_line():
    """The code span of step 4 that adds ~/.venvs/llm/bin to PATH in fish."""
    step = read_doc("quickstart.md").split("## 4.", 1)[1].split("## 5.", 1)[0]
    step = re.sub(r"^```.*?^```", "", step, flags=re.M | re.S)  # the code blocks
    spans = [s for s in re.findall(r"`([^`]+)`", step) if "fish_add_path" in s
             and ".venvs/llm/bin" in s]
    assert len(spans) == 1, spans
    return spans[0]


def test_the_quickstart_fish_line_keeps_the_shims_first(cli, prebuilt_lib, isolated_env,
                                                        monkeypatch, require_shell,
                                                        run_shell):
    fish = require_shell("fish")
    home = isolated_env["home"]
    monkeypatch.setenv("SHELL", fish)
    venv_bin = home / ".venvs" / "llm" / "bin"
    venv_bin.mkdir(parents=True)
    (venv_bin / "llm").write_text("#!/bin/sh\necho real llm\n")
    (venv_bin / "llm").chmod(0o755)
    code, _, err = cli("install", "--shell", "fish")
    assert code == 0, err
    shims = paths.shims_dir()
    line = _fish_line()
    assert "--path" in line  # a universal fish_user_paths entry would go ahead of the shims

    # The running shell: run the line, then look (before any `exec fish -l`).
    out = run_shell([fish, "-l", "-c", f"{line}; echo $PATH[1]; command -v llm"], home)
    assert out.stdout.splitlines()[-2:] == [shims, f"{shims}/llm"], out.stdout + out.stderr
    # New shells: the shims first, the venv behind them, once.
    for flags in (["-l", "-c"], ["-c"], ["-i", "-c"]):
        out = run_shell([fish, *flags, "string join : $PATH; command -v llm"], home)
        entries, found = out.stdout.splitlines()[-2:]
        entries = entries.split(":")
        assert entries[0] == shims, (flags, entries, out.stderr)
        assert entries.count(str(venv_bin)) == 1, (flags, entries)
        assert found == f"{shims}/llm"
    # And the shim finds the venv's llm as the real one.
    out = run_shell([fish, "-l", "-c", "llm"], home)
    assert out.stdout.strip() == "real llm", out.stderr


def test_even_the_plain_universal_form_keeps_the_shims_first(cli, prebuilt_lib, isolated_env,
                                                             monkeypatch, require_shell,
                                                             run_shell):
    """`fish_add_path --append DIR` puts the universal `fish_user_paths` ahead of PATH; the
    conf.d function (`--on-variable PATH`) moves the shims back in front at once."""
    fish = require_shell("fish")
    home = isolated_env["home"]
    monkeypatch.setenv("SHELL", fish)
    (home / ".venvs" / "llm" / "bin").mkdir(parents=True)
    assert cli("install", "--shell", "fish")[0] == 0
    out = run_shell([fish, "-c", "fish_add_path --append ~/.venvs/llm/bin; echo $PATH[1]"],
                    home)
    assert out.stdout.strip().splitlines()[-1] == paths.shims_dir()
