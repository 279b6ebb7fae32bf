"""The `eval "$(... shell-init ...)"` advice must work where it is needed: in a shell whose PATH
does not have the shims dir yet, where a bare `llm-shim` (which lives in that dir) is not found.

So `shell-init --help` and doctor's hints name the installed llm-shim by its path, the lines
they print really put the shims first in bash, zsh and fish, and doctor's `rc-blocks` check
passes for a `shell-init` line only when it would work.
"""

import json
import os
import re
import shutil

import pytest

from shim import paths
from shim.cli.main import main as cli_main

BARE = 'eval "$(llm-shim shell-init bash)"'


@pytest.fixture
def manual_install(cli, prebuilt_lib, isolated_env, monkeypatch, fake_bin, set_path):
    """`install --no-modify-rc` (the dotfiles-managing user); PATH = fake-bin only."""
    monkeypatch.setenv("SHELL", "/bin/bash")
    code, _, err = cli("install", "--no-modify-rc")
    assert code == 0, err
    set_path(fake_bin)
    return {"home": isolated_env["home"], "shims": paths.shims_dir()}


def _checks(cli):
    _, out, _ = cli("doctor", "--json")
    return {c["name"]: c for c in json.loads(out)["checks"]}


def _help(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli_main(["shell-init", "--help"])
    assert exit_info.value.code == 0
    return capsys.readouterr().out


def _works_in(shell, line, home, run_shell, require_shell):
    """Run `line` in a `shell` that has only /usr/bin:/bin; return where `claude` is found."""
    exe = shutil.which(shell, path="/usr/local/bin:/usr/bin:/bin") or require_shell(shell)
    out = run_shell([exe, "-c", f"{line}; command -v claude"], home,
                    {"PATH": "/usr/bin:/bin"})
    return out.stdout.strip().splitlines()[-1] if out.stdout.strip() else out.stderr


def test_the_bare_line_really_does_not_work(manual_install, run_shell, require_shell):
    found = _works_in("bash", BARE, manual_install["home"], run_shell, require_shell)
    assert found != os.path.join(manual_install["shims"], "claude")


def test_shell_init_help_examples_name_llm_shim_by_path_and_work(capsys, manual_install,
                                                                 run_shell, require_shell):
    out = _help(capsys)
    examples = out.split("examples:", 1)[1].strip().splitlines()
    lines = {shell: next(e.split("  #")[0].strip() for e in examples
                         if re.search(rf"shell-init {shell}\b", e))
             for shell in ("bash", "zsh", "fish")}
    shim = os.path.join(manual_install["shims"], "llm-shim")
    assert lines["bash"] == f'eval "$({shim} shell-init bash)"'
    assert lines["fish"] == f"{shim} shell-init fish | source"
    for shell, line in lines.items():
        found = _works_in(shell, line, manual_install["home"], run_shell, require_shell)
        assert found == os.path.join(manual_install["shims"], "claude"), (shell, found)


def test_the_default_location_is_written_with_a_tilde(capsys, isolated_env, monkeypatch):
    monkeypatch.delenv("LLM_SHIM_HOME")
    out = _help(capsys)
    assert 'eval "$(~/.local/share/llm-shim/shims/llm-shim shell-init bash)"' in out


def test_doctor_hints_give_a_line_that_works(cli, manual_install, run_shell, require_shell):
    checks = _checks(cli)
    shim = os.path.join(manual_install["shims"], "llm-shim")
    expected = f'eval "$({shim} shell-init bash)"'
    for name in ("path", "rc-blocks"):
        assert checks[name]["status"] != "ok"
        assert f"`{expected}`" in checks[name]["hint"], checks[name]["hint"]
        assert BARE not in checks[name]["hint"]
    found = _works_in("bash", expected, manual_install["home"], run_shell, require_shell)
    assert found == os.path.join(manual_install["shims"], "claude")


def test_doctor_hint_for_a_fish_user_is_fish(cli, manual_install, monkeypatch):
    monkeypatch.setenv("SHELL", "/usr/bin/fish")
    shim = os.path.join(manual_install["shims"], "llm-shim")
    assert f"`{shim} shell-init fish | source`" in _checks(cli)["rc-blocks"]["hint"]


@pytest.mark.parametrize("line,works", [
    (BARE, False),
    ('eval "$(llm-shim shell-init bash --dir {shims})"', False),   # still a bare llm-shim
    ('eval "$({shims}/llm-shim shell-init bash)"', True),
    ('eval "$({home_form}/llm-shim shell-init bash)"', True),       # $HOME spelling
    ('eval "$(/opt/other/shims/llm-shim shell-init bash)"', False),  # another shims dir
    ('eval "$(python3 ~/llm-shim.pyz shell-init bash --dir {shims})"', True),
    ('# eval "$({shims}/llm-shim shell-init bash)"', False),        # a comment
])
def test_rc_blocks_passes_for_a_shell_init_line_only_when_it_works(cli, manual_install, line,
                                                                   works):
    home, shims = manual_install["home"], manual_install["shims"]
    home_form = shims.replace(str(home), "$HOME") if shims.startswith(str(home)) else shims
    (home / ".bashrc").write_text("# mine\n" + line.format(shims=shims, home_form=home_form)
                                  + "\n")
    check = _checks(cli)["rc-blocks"]
    assert (check["status"] == "ok") is works, check
    if not works and not line.startswith("#"):
        assert check["detail"].startswith("~/.bashrc:2: "), check["detail"]
        assert f"{shims}/llm-shim shell-init bash" in check["hint"]


def test_rc_blocks_accepts_the_shims_dir_under_home_with_a_tilde(cli, prebuilt_lib,
                                                                 isolated_env, monkeypatch,
                                                                 set_path, fake_bin):
    home = isolated_env["home"]
    shims = home / "my-shims"
    monkeypatch.setenv("SHELL", "/bin/bash")
    assert cli("install", "--no-modify-rc", "--dir", str(shims))[0] == 0
    set_path(fake_bin)
    (home / ".bashrc").write_text('eval "$(~/my-shims/llm-shim shell-init bash)"\n')
    assert _checks(cli)["rc-blocks"]["status"] == "ok"
