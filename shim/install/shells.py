"""Per shell: which start-up files put the shims on PATH, and the snippet that does it.

The snippet moves the shims dir to the FRONT of PATH unless it already is there, so sourcing
it twice (a login shell's `~/.profile` and then `~/.bashrc`) changes nothing, and a PATH that a
parent shell, a user line or macOS's path_helper left with the shims further back gets them in
front again, without a second copy. The path is written absolute, so the snippet works in a
shell that has no `LLM_SHIM_HOME`.
"""

import os
import re

from shim import errors

SHELLS = ("bash", "zsh", "fish")
FISH_FILE = "llm-shim.fish"
# Words that need no quoting in sh or fish (no globs, no `~`, no `$`, no spaces).
_PLAIN = re.compile(r"[A-Za-z0-9_./+@%,=-]+")


def check_dir(shims_dir):
    """The shims dir as it will be written into PATH: absolute and without ':' or newlines."""
    if not os.path.isabs(shims_dir) or ":" in shims_dir or "\n" in shims_dir:
        raise errors.UsageError("install", f"cannot put {shims_dir!r} on PATH",
                                "choose an absolute directory without ':' or newlines")
    return shims_dir


def sh_word(text):
    return text if _PLAIN.fullmatch(text) else "'" + text.replace("'", "'\\''") + "'"


def fish_word(text):
    if _PLAIN.fullmatch(text):
        return text
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def snippet(shell, shims_dir):
    """The lines that put `shims_dir` first on PATH in `shell` (`shell-init` prints these).

    When the dir is already first nothing happens; otherwise every other occurrence is taken
    out before it is prepended, so re-sourcing after a user line pushed it back (Debian's
    ~/.profile adding ~/.local/bin) moves it instead of piling up copies.
    """
    check_dir(shims_dir)
    if shell == "fish":
        # conf.d runs before config.fish, so a `set -gx PATH ~/.local/bin $PATH` or
        # `fish_add_path` there would put a real tool first: the function also runs on every
        # change of PATH and moves the shims back in front with one `set` (which re-fires it
        # once, with the shims already first).
        word = fish_word(shims_dir)
        return ("# llm-shim: keep the shims first on PATH (`llm-shim uninstall` removes this)\n"
                "function __llm_shim_first --on-variable PATH\n"
                f"    test \"$PATH[1]\" = {word}; and return\n"
                "    set -l __llm_shim_rest\n"
                "    for __llm_shim_dir in $PATH\n"
                f"        test \"$__llm_shim_dir\" = {word}; or set -a __llm_shim_rest $__llm_shim_dir\n"
                "    end\n"
                f"    set -gx PATH {word} $__llm_shim_rest\n"
                "end\n"
                "__llm_shim_first\n")
    if shell not in SHELLS:
        raise errors.UsageError("shell", f"unsupported shell {shell!r}",
                                "use one of " + ", ".join(SHELLS))
    word = sh_word(shims_dir)
    # POSIX sh on purpose: ~/.profile is also read by dash and by display managers.
    return ("# llm-shim: put the shims first on PATH (`llm-shim uninstall` removes this)\n"
            "case \":${PATH}:\" in\n"
            f"    :{word}:*) ;;\n"
            "    *)\n"
            "        __llm_shim_path=\":${PATH}:\"\n"
            "        while :; do\n"
            "            case $__llm_shim_path in\n"
            f"                *:{word}:*) __llm_shim_path=\"${{__llm_shim_path%%:{word}:*}}:"
            f"${{__llm_shim_path#*:{word}:}}\" ;;\n"
            "                *) break ;;\n"
            "            esac\n"
            "        done\n"
            "        __llm_shim_path=${__llm_shim_path#:}; __llm_shim_path=${__llm_shim_path%:}\n"
            f"        PATH={word}\"${{__llm_shim_path:+:${{__llm_shim_path}}}}\"; export PATH\n"
            "        unset __llm_shim_path ;;\n"
            "esac\n")


def zsh_completion(zfunc_dir):
    """The ~/.zshrc lines that turn on llm-shim's tab completion (`_llm-shim` in `zfunc_dir`).

    The block is appended at the end of ~/.zshrc, so the user's `compinit` (oh-my-zsh, prezto
    and most setups run one) has already run: adding the dir to fpath is no longer enough,
    compinit scanned fpath before. So the function is autoloaded and registered with `compdef`
    directly (only when compdef exists, i.e. compinit ran). Guarded by the file's existence,
    so a block printed by `--no-modify-rc` (no completion file written) does nothing.
    """
    word = sh_word(zfunc_dir)
    return ("# llm-shim: tab completion for llm-shim (needs `compinit` earlier in this file)\n"
            f"if [[ -r {word}/_llm-shim ]]; then\n"
            f"    __llm_shim_zfunc={word}\n"
            "    (( ${fpath[(Ie)$__llm_shim_zfunc]} )) || fpath=(\"$__llm_shim_zfunc\" $fpath)\n"
            "    unset __llm_shim_zfunc\n"
            "    autoload -Uz _llm-shim\n"
            "    if (( ${+functions[compdef]} )); then compdef _llm-shim llm-shim; fi\n"
            "fi\n")


def block_body(path, shims_dir, zfunc_dir=None):
    """What the marked block in start-up file `path` holds.

    The PATH snippet everywhere (fish's in fish files; bash and zsh share the POSIX one);
    ~/.zshrc, the interactive zsh file, also gets the completion lines when `zfunc_dir` is
    given.
    """
    if path.endswith(".fish"):
        return snippet("fish", shims_dir)
    body = snippet("bash", shims_dir)
    if zfunc_dir and os.path.basename(path) == ".zshrc":
        body += zsh_completion(zfunc_dir)
    return body


def init_line(shell, llm_shim, home=None):
    """The start-up file line that evals `shell-init`, running `llm-shim` by its path.

    By path because the shims dir, where the installed `llm-shim` lives, is not on PATH yet
    when that line runs (that is what the line is for). Under `home` it is written with `~`.
    """
    word = None
    home = (home or "").rstrip(os.sep)
    if home and llm_shim.startswith(home + os.sep) and _PLAIN.fullmatch(llm_shim[len(home):]):
        word = "~" + llm_shim[len(home):]
    if shell == "fish":
        return f"{word or fish_word(llm_shim)} shell-init fish | source"
    return f'eval "$({word or sh_word(llm_shim)} shell-init {shell})"'


def activation_line(shell, shims_dir):
    """One line to paste into the current shell to use the shims right away."""
    if shell == "fish":
        return f"set -gx PATH {fish_word(shims_dir)} $PATH"
    if _PLAIN.fullmatch(shims_dir):
        return f'export PATH="{shims_dir}:$PATH"'
    return f'export PATH={sh_word(shims_dir)}:"$PATH"'


def _bash_login_file(home):
    """The file a bash login shell reads: the first of these that exists, else ~/.profile."""
    for name in (".bash_profile", ".bash_login", ".profile"):
        path = os.path.join(home, name)
        if os.path.lexists(path):
            return path
    return os.path.join(home, ".profile")


def _zdotdir(home, environ):
    value = environ.get("ZDOTDIR", "").strip()
    return value if value else home


def fish_conf_file(home, environ):
    config = environ.get("XDG_CONFIG_HOME", "").strip() or os.path.join(home, ".config")
    return os.path.join(config, "fish", "conf.d", FISH_FILE)


def rc_files(shell, home, environ):
    """The start-up files of `shell` that get the PATH block.

    bash: ~/.bashrc (interactive) and the login file bash actually reads. zsh: ~/.zshrc
    (interactive) and ~/.zprofile (login: `zsh -l -c` never reads ~/.zshrc; on macOS it runs
    after /etc/zprofile's path_helper). fish: a whole file of its own in conf.d.
    """
    if shell == "bash":
        return [os.path.join(home, ".bashrc"), _bash_login_file(home)]
    if shell == "zsh":
        zdot = _zdotdir(home, environ)
        return [os.path.join(zdot, ".zshrc"), os.path.join(zdot, ".zprofile")]
    if shell == "fish":
        return [fish_conf_file(home, environ)]
    raise errors.UsageError("shell", f"unsupported shell {shell!r}",
                            "use one of " + ", ".join(SHELLS))


def all_candidate_files(home, environ):
    """Every file any shell's block could be in (uninstall looks in all of them)."""
    zdot = _zdotdir(home, environ)
    names = [os.path.join(home, n) for n in (".bashrc", ".bash_profile", ".bash_login",
                                             ".profile")]
    names += [os.path.join(zdot, ".zshrc"), os.path.join(zdot, ".zprofile")]
    names.append(fish_conf_file(home, environ))
    return names


def login_shell(environ):
    """The user's shell from $SHELL if we support it, else None."""
    name = os.path.basename(environ.get("SHELL", "").strip())
    return name if name in SHELLS else None


def detect_shells(home, environ):
    """The default for `--shell`: bash, the user's $SHELL, and every shell already configured.

    bash is always included because scripts, CI and agents' tool calls run `bash -c`/`bash -l`
    whatever the login shell is; zsh and fish are added when $SHELL names them or their
    start-up files exist (the user evidently runs them).
    """
    chosen = {"bash"}
    own = login_shell(environ)
    if own:
        chosen.add(own)
    zdot = _zdotdir(home, environ)
    if any(os.path.lexists(os.path.join(zdot, n)) for n in (".zshrc", ".zprofile", ".zshenv")):
        chosen.add("zsh")
    if os.path.isdir(os.path.dirname(os.path.dirname(fish_conf_file(home, environ)))):
        chosen.add("fish")
    return [s for s in SHELLS if s in chosen]
