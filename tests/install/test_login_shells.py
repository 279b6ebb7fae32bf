"""Real shells started as a fresh login would be find the shims first, and after uninstall don't.

Each shell gets only HOME and TERM (`env -i`), so PATH comes from the system files (Debian's
/etc/profile resets it) and then from the start-up files install edited. A fake "real" claude
sits in ~/.local/bin, which the user's own ~/.profile puts on PATH the way Debian's does: the
shims must still come first, because the block is appended after those lines.
"""

import os

import pytest

from shim import paths

DEBIAN_PROFILE = b"""# ~/.profile: executed by the command interpreter for login shells.
if [ -n "$BASH_VERSION" ]; then
    if [ -f "$HOME/.bashrc" ]; then
        . "$HOME/.bashrc"
    fi
fi
if [ -d "$HOME/.local/bin" ] ; then
    PATH="$HOME/.local/bin:$PATH"
fi
"""
# Debian's ~/.bashrc returns early when not interactive: our block must not rely on it.
DEBIAN_BASHRC = b"""case $- in
    *i*) ;;
      *) return;;
esac
HISTCONTROL=ignoreboth
"""


@pytest.fixture
def installed(cli, isolated_env, prebuilt_lib, monkeypatch):
    """Install for every shell into a home that already has a "real" claude on its PATH."""
    home = isolated_env["home"]
    monkeypatch.setenv("SHELL", "/bin/bash")
    (home / ".profile").write_bytes(DEBIAN_PROFILE)
    (home / ".bashrc").write_bytes(DEBIAN_BASHRC)
    (home / ".zprofile").write_bytes(b'path=("$HOME/.local/bin" $path)\n')
    (home / ".zshrc").write_bytes(b'path=("$HOME/.local/bin" $path)\n')
    fish_conf = home / ".config" / "fish"
    fish_conf.mkdir(parents=True)
    # What `fish_add_path ~/.local/bin` (universal by default) leaves behind.
    (fish_conf / "fish_variables").write_text(
        "# This file contains fish universal variable definitions.\n# VERSION: 3.0\n"
        f"SETUVAR fish_user_paths:{home}/.local/bin\n")
    bin_dir = home / ".local" / "bin"
    bin_dir.mkdir(parents=True)
    real = bin_dir / "claude"
    real.write_text("#!/bin/sh\necho real claude\n")
    real.chmod(0o755)
    code, out, err = cli("install", "--shell", "all")
    assert code == 0, err
    return {"home": home, "shim": os.path.join(paths.shims_dir(), "claude"), "real": str(real),
            "cli": cli}


SHELL_CASES = [
    ("bash", ["-l", "-c"]),   # login: /etc/profile, then ~/.profile
    ("bash", ["-i", "-c"]),   # interactive non-login: ~/.bashrc
    ("sh", ["-l", "-c"]),     # dash as a login shell reads ~/.profile too
    ("zsh", ["-l", "-c"]),    # login: ~/.zprofile (never ~/.zshrc)
    ("zsh", ["-i", "-c"]),    # interactive: ~/.zshrc
    ("fish", ["-c"]),         # conf.d is read by every fish
    ("fish", ["-l", "-c"]),
]


def _command_v(shell, flags, home, run_shell, require_shell, extra_env=None):
    exe = require_shell(shell)
    out = run_shell([exe, *flags, "command -v claude"], home, extra_env)
    return out.stdout.strip().splitlines()[-1] if out.stdout.strip() else "", out


@pytest.mark.parametrize("shell,flags", SHELL_CASES, ids=lambda v: "".join(v) if
                         isinstance(v, list) else v)
def test_fresh_shell_finds_the_shim_first(installed, shell, flags, run_shell, require_shell):
    found, out = _command_v(shell, flags, installed["home"], run_shell, require_shell)
    assert found == installed["shim"], out.stderr


@pytest.mark.parametrize("shell,flags", [("bash", ["-i", "-c"]), ("zsh", ["-i", "-c"]),
                                         ("fish", ["-c"])], ids=["bash", "zsh", "fish"])
def test_inherited_path_with_the_shims_behind_gets_them_in_front(installed, shell, flags,
                                                                 run_shell, require_shell):
    shims = os.path.dirname(installed["shim"])
    real_dir = os.path.dirname(installed["real"])
    found, out = _command_v(shell, flags, installed["home"], run_shell, require_shell,
                            {"PATH": f"{real_dir}:/usr/bin:/bin:{shims}"})
    assert found == installed["shim"], out.stderr


@pytest.mark.parametrize("shell,files", [("bash", "~/.profile ~/.bashrc"),
                                         ("zsh", "~/.zprofile ~/.zshrc")])
def test_sourcing_the_start_up_files_again_adds_no_second_entry(installed, shell, files,
                                                                run_shell, require_shell):
    exe = require_shell(shell)
    again = "; ".join(f". {f}" for f in files.split())
    out = run_shell([exe, "-l", "-i", "-c", f'{again}; {again}; echo "$PATH"'],
                    installed["home"])
    entries = out.stdout.strip().splitlines()[-1].split(":")
    assert entries[0] == paths.shims_dir(), out.stderr
    assert entries.count(paths.shims_dir()) == 1


@pytest.mark.parametrize("shell,flags", SHELL_CASES, ids=lambda v: "".join(v) if
                         isinstance(v, list) else v)
def test_after_uninstall_a_fresh_shell_runs_the_real_tool(installed, shell, flags, run_shell,
                                                          require_shell):
    code, _, err = installed["cli"]("uninstall")
    assert code == 0, err
    found, out = _command_v(shell, flags, installed["home"], run_shell, require_shell)
    if (shell, flags) == ("bash", ["-i", "-c"]):
        # Not a login shell: ~/.profile (which adds ~/.local/bin) is not read, bash's own PATH.
        assert found == "", out.stderr
    else:
        assert found == installed["real"], out.stderr


def test_eval_of_shell_init_puts_the_shims_first(installed, run_shell, require_shell):
    llm_shim = os.path.join(os.path.dirname(installed["shim"]), "llm-shim")
    for shell, line in [("bash", f'eval "$({llm_shim} shell-init bash)"'),
                        ("zsh", f'eval "$({llm_shim} shell-init zsh)"'),
                        ("fish", f"{llm_shim} shell-init fish | source")]:
        exe = require_shell(shell)
        out = run_shell([exe, "-c", f"{line}; command -v claude"], installed["home"],
                        {"PATH": f"{os.path.dirname(installed['real'])}:/usr/bin:/bin"})
        assert out.stdout.strip() == installed["shim"], (shell, out.stderr)


# fish reads conf.d (our block) BEFORE config.fish: the lines users put there to get
# ~/.local/bin (claude's native install) first must not win over the shims.
CONFIG_FISH_LINES = [
    "set -gx PATH $HOME/.local/bin $PATH",
    "fish_add_path -g ~/.local/bin",
    "fish_add_path -gm ~/.local/bin",
    "set -U fish_user_paths ~/.local/bin $fish_user_paths",
]


@pytest.mark.parametrize("line", CONFIG_FISH_LINES)
@pytest.mark.parametrize("flags", [["-c"], ["-l", "-c"], ["-l", "-i", "-c"]],
                         ids=["c", "lc", "lic"])
def test_fish_config_fish_putting_local_bin_first_does_not_win(installed, line, flags,
                                                                run_shell, require_shell):
    config = installed["home"] / ".config" / "fish" / "config.fish"
    config.write_text(line + "\n")
    found, out = _command_v("fish", flags, installed["home"], run_shell, require_shell)
    assert found == installed["shim"], out.stderr
    out = run_shell([require_shell("fish"), *flags, "string join : $PATH"], installed["home"])
    entries = out.stdout.strip().splitlines()[-1].split(":")
    assert entries.count(os.path.dirname(installed["shim"])) == 1, entries


def test_fish_uninstall_leaves_config_fish_byte_for_byte(installed, run_shell, require_shell):
    config = installed["home"] / ".config" / "fish" / "config.fish"
    original = b"set -gx PATH $HOME/.local/bin $PATH\n# mine\n"
    config.write_bytes(original)
    code, _, err = installed["cli"]("uninstall")
    assert code == 0, err
    assert config.read_bytes() == original
    assert not (installed["home"] / ".config" / "fish" / "conf.d" / "llm-shim.fish").exists()
    found, out = _command_v("fish", ["-c"], installed["home"], run_shell, require_shell)
    assert found == installed["real"], out.stderr
