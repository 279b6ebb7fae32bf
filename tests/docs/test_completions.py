"""`llm-shim completion bash|zsh|fish`: valid scripts that complete real words, and install.

The scripts are run by the real shells: bash with COMP_WORDS set by hand, zsh with the
completion-system functions replaced by stubs that print what they were given (zsh completion
proper needs a terminal), fish through `complete -C`, which fish answers without one.
"""

import argparse
import os
import shutil
import subprocess

import pytest

from shim import completions, paths
from shim.cli.main import build_parser
from shim.install import state


def _shell(name):
    path = shutil.which(name)
    if not path:
        pytest.skip(f"{name} is not installed (install/test-deps.sh adds it)")
    return path


def _run(argv, script_text=None, tmp_path=None, **kw):
    env = {"HOME": str(tmp_path or "/nonexistent"), "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
           "TERM": "dumb"}
    return subprocess.run(argv, capture_output=True, text=True, timeout=60, env=env,
                          stdin=subprocess.DEVNULL, **kw)


@pytest.fixture(scope="module")
def scripts(tmp_path_factory):
    """{shell: path of the generated script}."""
    root = tmp_path_factory.mktemp("completions")
    out = {}
    for shell in completions.SHELLS:
        out[shell] = root / f"llm-shim.{shell}"
        out[shell].write_text(completions.script(shell))
    return out


def test_the_command_prints_the_script(cli, capsys):
    code, out, err = cli("completion", "fish")
    assert code == 0, err
    assert out == completions.script("fish")
    with pytest.raises(SystemExit) as exit_info:
        cli("completion", "tcsh")
    assert exit_info.value.code == 2 and "invalid choice" in capsys.readouterr().err


@pytest.mark.parametrize("shell,check", [("bash", ["-n"]), ("zsh", ["-n"]),
                                         ("fish", ["--no-execute"])])
def test_scripts_are_syntactically_valid(scripts, shell, check, tmp_path):
    out = _run([_shell(shell)] + check + [str(scripts[shell])], tmp_path=tmp_path)
    assert out.returncode == 0, out.stderr


BASH_PROBE = r'''
source "$1"
complete -p llm-shim
probe() {
    COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); COMPREPLY=()
    _llm_shim
    printf '%s|' "$*"; printf '%s ' "${COMPREPLY[@]}"; printf '\n'
}
probe llm-shim ''
probe llm-shim re
probe llm-shim config ''
probe llm-shim config validate --
probe llm-shim install --shell ''
probe llm-shim install --shell = z
probe llm-shim stats --mo
probe llm-shim logs -n 5 ''
probe llm-shim completion ''
probe llm-shim route -- claude ''
'''


def _probe_lines(stdout):
    return {line.split("|", 1)[0]: line.split("|", 1)[1].split() for line in stdout.splitlines()
            if "|" in line}


def test_bash_completes_commands_subcommands_flags_and_choices(scripts, tmp_path):
    out = _run([_shell("bash"), "--norc", "--noprofile", "-c", BASH_PROBE, "probe",
                str(scripts["bash"])], tmp_path=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "complete -o default -F _llm_shim llm-shim" in out.stdout
    got = _probe_lines(out.stdout)
    assert {"report", "config", "install", "completion", "version"} <= set(got["llm-shim "])
    assert "stats" not in got["llm-shim "]  # aliases are understood, not offered
    assert got["llm-shim re"] == ["report"]
    assert got["llm-shim config "] == ["init", "validate", "show", "path"]
    assert "--help" in got["llm-shim config validate --"]
    assert got["llm-shim install --shell "] == ["bash", "zsh", "fish", "all"]
    assert got["llm-shim install --shell = z"] == ["zsh"]
    assert got["llm-shim stats --mo"] == ["--monthly", "--model"]  # the alias walks to report
    assert got["llm-shim logs -n 5 "] == ["prune", "repair"]  # the value of -n is skipped
    assert got["llm-shim completion "] == ["bash", "zsh", "fish"]
    assert got["llm-shim route -- claude "] == []  # after --: the shell's own completion


ZSH_PROBE = r'''
compdef() { print -r -- "compdef $*"; }
compadd() { [[ $1 == -- ]] && shift; print -r -- "${PROBE}|$*"; }
_describe() { local -a arr; arr=("${(@P)4}"); print -r -- "${PROBE}|${(j: :)${arr[@]%%:*}}"; }
_files() { print -r -- "${PROBE}|<files $*>"; }
source "$1"
probe() { PROBE="$*"; words=("$@"); CURRENT=${#words}; _llm_shim; }
probe llm-shim ''
probe llm-shim config ''
probe llm-shim install --shell ''
probe llm-shim install --dir ''
probe llm-shim report --o
probe llm-shim report --output ''
probe llm-shim config validate ''
probe llm-shim stats --by ''
'''


def test_zsh_completes_with_the_completion_system_stubbed(scripts, tmp_path):
    out = _run([_shell("zsh"), "-f", "-c", ZSH_PROBE, "probe", str(scripts["zsh"])],
               tmp_path=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "compdef _llm_shim llm-shim" in out.stdout  # sourced: registers itself
    got = {}
    for line in out.stdout.splitlines():
        if "|" in line:
            key, value = line.split("|", 1)
            got.setdefault(key, []).extend(value.split())
    assert {"report", "config", "install", "completion"} <= set(got["llm-shim "])
    assert got["llm-shim config "] == ["init", "validate", "show", "path"]
    assert got["llm-shim install --shell "] == ["bash", "zsh", "fish", "all"]
    assert got["llm-shim install --dir "] == ["<files", "-/>"]
    assert {"--output", "--since", "--monthly"} <= set(got["llm-shim report --o"])
    assert got["llm-shim report --output "] == ["<files", ">"]
    assert got["llm-shim config validate "] == ["<files", ">"]
    assert "llm-shim stats --by " not in got  # free text: nothing offered


def test_zsh_compinit_picks_the_file_up_from_fpath(scripts, tmp_path):
    zfunc = tmp_path / "zfunc"
    zfunc.mkdir()
    shutil.copy(scripts["zsh"], zfunc / "_llm-shim")
    code = (f"fpath=({zfunc} $fpath); autoload -Uz compinit; "
            f"compinit -u -d {tmp_path}/zcompdump; print -r -- $_comps[llm-shim]")
    out = _run([_shell("zsh"), "-f", "-c", code], tmp_path=tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "_llm-shim"


@pytest.mark.parametrize("line,expected,absent", [
    ("llm-shim ", {"report", "config", "install", "completion", "budget"}, {"stats"}),
    ("llm-shim con", {"config"}, {"report"}),
    ("llm-shim config ", {"init", "validate", "show", "path"}, {"report"}),
    ("llm-shim install --shell ", {"bash", "zsh", "fish", "all"}, set()),
    ("llm-shim stats --mo", {"--monthly", "--model"}, {"--daily"}),
    ("llm-shim logs -n 5 ", {"prune", "repair"}, set()),
    ("llm-shim completion ", {"bash", "zsh", "fish"}, {"report"}),
])
def test_fish_completes(scripts, tmp_path, line, expected, absent):
    code = f"source {scripts['fish']}; complete -C '{line}'"
    out = _run([_shell("fish"), "--no-config", "-c", code], tmp_path=tmp_path)
    assert out.returncode == 0, out.stderr
    words = {row.split("\t", 1)[0] for row in out.stdout.splitlines()}
    assert expected <= words, out.stdout
    assert not (absent & words), out.stdout


def test_new_commands_and_flags_are_covered_without_listing_them():
    """The scripts come from the parser: a command added there is completed at once."""
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    extra = sub.add_parser("zz-new", help="a command added later", aliases=["zz-alias"])
    extra.add_argument("--colour", choices=["red", "green"], help="pick one")
    nested = extra.add_subparsers(dest="zz").add_parser("deeper", help="nested")
    nested.add_argument("--out", metavar="FILE")
    tree = completions.command_tree(parser)
    for shell in completions.SHELLS:
        text = completions.script(shell, tree)
        assert "zz-new" in text and "zz-alias" in text and "deeper" in text, shell
        assert "green" in text and ("--out" in text or "-l out" in text), shell


def test_tree_reads_nested_commands_aliases_and_value_flags():
    tree = completions.command_tree(build_parser())
    by_name = {s["name"]: s for s in tree["subcommands"]}
    assert by_name["report"]["aliases"] == ["stats"]
    config = by_name["config"]["node"]
    assert [s["name"] for s in config["subcommands"]] == ["init", "validate", "show", "path"]
    install = {f: o for o in by_name["install"]["node"]["options"] for f in o["flags"]}
    assert install["--shell"]["takes_value"] and install["--shell"]["choices"] == \
        ["bash", "zsh", "fish", "all"]
    assert install["--dir"]["kind"] == "dir" and not install["--no-modify-rc"]["takes_value"]
    route = by_name["route"]["node"]
    assert any(p["rest"] for p in route["positionals"])


# --- installed by `llm-shim install`, removed by `uninstall` ---------------------------------

@pytest.fixture
def home(isolated_env, monkeypatch):
    monkeypatch.setenv("SHELL", "/bin/bash")
    return isolated_env["home"]


def _expected_files(home):
    return {"bash": home / ".local/share/bash-completion/completions/llm-shim",
            "zsh": home / ".zfunc/_llm-shim",
            "fish": home / ".config/fish/completions/llm-shim.fish"}


def _tree(root):
    return {os.path.relpath(os.path.join(d, n), root): (open(os.path.join(d, n), "rb").read()
                                                         if n in f else None)
            for d, ds, f in os.walk(root) for n in ds + f}


def test_install_writes_the_completion_files_and_uninstall_removes_them(cli, home,
                                                                         prebuilt_lib):
    (home / ".bashrc").write_text("# mine\n")
    before = _tree(home)
    code, out, err = cli("install", "--shell", "all")
    assert code == 0, err
    for shell, path in _expected_files(home).items():
        assert path.read_text() == completions.script(shell), shell
        assert f"{shell:<6} ~/{path.relative_to(home)}: completion created" in out
    assert "the ~/.zshrc block loads it" in out
    assert set(state.load()["completions"]) == {str(p) for p in _expected_files(home).values()}

    first = _tree(home)
    mtimes = {p: p.stat().st_mtime_ns for p in _expected_files(home).values()}
    code, out, _ = cli("install", "--shell", "all")
    assert code == 0 and "completion unchanged" in out
    assert _tree(home) == first
    assert {p: p.stat().st_mtime_ns for p in _expected_files(home).values()} == mtimes

    code, out, err = cli("uninstall")
    assert code == 0, err
    assert "compl  removed" in out
    assert _tree(home) == before  # the files and the directories install created are gone


def test_install_updates_a_stale_script_and_leaves_a_foreign_file(cli, home, prebuilt_lib):
    files = _expected_files(home)
    files["fish"].parent.mkdir(parents=True)
    files["fish"].write_text("# my own fish completions for llm-shim\n")
    assert cli("install", "--shell", "bash", "--shell", "fish")[0] == 0
    assert files["fish"].read_text() == "# my own fish completions for llm-shim\n"
    assert not files["zsh"].exists()  # zsh was not chosen
    files["bash"].write_text(completions.script("bash").replace("_llm_shim()", "_old()"))
    code, out, _ = cli("install", "--shell", "bash")
    assert code == 0 and "completion updated" in out
    assert files["bash"].read_text() == completions.script("bash")
    assert cli("uninstall")[0] == 0
    assert files["fish"].exists() and not files["bash"].exists()


def test_no_modify_rc_writes_no_completion_file(cli, home, prebuilt_lib):
    assert cli("install", "--shell", "all", "--no-modify-rc")[0] == 0
    assert not any(p.exists() for p in _expected_files(home).values())


def test_uninstall_without_the_state_file_still_removes_our_scripts(cli, home, prebuilt_lib):
    assert cli("install", "--shell", "zsh")[0] == 0
    state.remove()
    assert cli("uninstall")[0] == 0
    assert not _expected_files(home)["zsh"].exists()
    assert not os.path.exists(paths.shims_dir())


def test_installed_bash_file_is_found_by_bash_completion_rules(cli, home, prebuilt_lib,
                                                               monkeypatch, tmp_path):
    """bash-completion looks in $BASH_COMPLETION_USER_DIR/completions, else in
    $XDG_DATA_HOME/bash-completion/completions; install honours both."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    assert cli("install", "--shell", "bash")[0] == 0
    assert (tmp_path / "xdg-data/bash-completion/completions/llm-shim").exists()
    monkeypatch.setenv("BASH_COMPLETION_USER_DIR", str(tmp_path / "bc-user"))
    assert cli("install", "--shell", "bash")[0] == 0
    assert (tmp_path / "bc-user/completions/llm-shim").exists()


ZSHRC = b"""# a .zshrc like most: compinit, then whatever else
autoload -Uz compinit
compinit
alias ll='ls -l'
"""


def test_zsh_completion_is_active_in_a_new_interactive_zsh_after_install(
        cli, home, prebuilt_lib, require_shell, run_shell):
    """install writes ~/.zfunc/_llm-shim; its ~/.zshrc block (after the user's compinit) must
    make zsh use it: `_comps[llm-shim]` names the function. Uninstall puts ~/.zshrc back."""
    zsh = require_shell("zsh")
    (home / ".zshrc").write_bytes(ZSHRC)
    probe = 'print -r -- "[${_comps[llm-shim]-}] $(whence -w _llm-shim)"'

    def interactive():
        out = run_shell([zsh, "-i", "-c", probe], home)
        return out.stdout.strip().splitlines()[-1] if out.stdout.strip() else out.stderr

    assert interactive().startswith("[] ")  # nothing before the install
    code, _, err = cli("install", "--shell", "zsh")
    assert code == 0, err
    assert interactive() == "[_llm-shim] _llm-shim: function"
    code, _, err = cli("uninstall")
    assert code == 0, err
    assert (home / ".zshrc").read_bytes() == ZSHRC
    assert interactive().startswith("[] ")


def test_the_zshrc_block_does_nothing_without_the_completion_file(cli, home, prebuilt_lib,
                                                                  require_shell, run_shell):
    """`--no-modify-rc` prints the same block but writes no completion file: pasted into
    ~/.zshrc, it must not register a function that does not exist."""
    zsh = require_shell("zsh")
    (home / ".zshrc").write_bytes(ZSHRC)
    code, out, err = cli("install", "--shell", "zsh", "--no-modify-rc")
    assert code == 0, err
    block = out.split("# ~/.zshrc (zsh)\n", 1)[1].split("# <<< llm-shim <<<", 1)[0]
    assert "compdef _llm-shim llm-shim" in block
    with open(home / ".zshrc", "a") as fh:
        fh.write(block + "# <<< llm-shim <<<\n")
    out = run_shell([zsh, "-i", "-c", 'print -r -- "[${_comps[llm-shim]-}]"'], home)
    assert out.stdout.strip().splitlines()[-1] == "[]", out.stderr
