"""How `claude`, `codex` and `llm` resolve in every shell that `llm-shim install` configured,
not only the one doctor runs in: a user line after our block (fish's config.fish runs after
conf.d, a `PATH=~/.local/bin:$PATH` at the end of ~/.zshrc) can put a real tool first there.

bash and zsh run twice: as a login + interactive shell (`bash -lic`: a macOS terminal, an ssh
session) and as an interactive non-login one (`bash -ic`: a terminal tab on Linux, which reads
only ~/.bashrc); fish once (`fish -lc`: config.fish runs in every fish). Each has stdin at
/dev/null, its own session and a timeout. Doctor only; never on a shim's path.
"""

import os
import shutil
import subprocess

from shim.doctor.context import result, tilde
from shim.tools import BUILTIN_TOOLS as TOOLS

TIMEOUT = 10.0
_POSIX = "for t in %s; do command -v \"$t\" || echo -; done" % " ".join(TOOLS)
_FISH = "for t in %s; command -v $t; or echo -; end" % " ".join(TOOLS)
# Every way a user's terminal starts each shell, in the order doctor reports them.
COMMANDS = {"bash": [["bash", "-lic", _POSIX], ["bash", "-ic", _POSIX]],
            "zsh": [["zsh", "-lic", _POSIX], ["zsh", "-ic", _POSIX]],
            "fish": [["fish", "-lc", _FISH]]}


def shell_of(path):
    """The shell a recorded start-up file belongs to."""
    name = os.path.basename(path)
    if name.endswith(".fish"):
        return "fish"
    if name in (".zshrc", ".zprofile", ".zshenv", ".zlogin"):
        return "zsh"
    return "bash"


def configured(ctx):
    """The shells install wrote a block for, in a fixed order."""
    files = (ctx["state"].get("rc_files") or {}).keys()
    found = {shell_of(f) for f in files}
    return [s for s in ("bash", "zsh", "fish") if s in found]


def how(argv):
    """`bash -ic`: the shell and its options, as a user would type them."""
    return " ".join(argv[:2])


def resolve_in(argv, environ, timeout=TIMEOUT):
    """({tool: path or None}, None) as the shell started by `argv` resolves them, or
    (None, why)."""
    if shutil.which(argv[0], path=environ.get("PATH")) is None:
        return None, "%s is not installed" % argv[0]
    env = {k: v for k, v in environ.items() if k != "PATH"}
    env["PATH"] = os.defpath if "PATH" not in environ else environ["PATH"]
    try:
        proc = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, env=env,
                              timeout=timeout, start_new_session=True)
    except subprocess.TimeoutExpired:
        return None, "`%s` did not answer in %gs" % (how(argv), timeout)
    except OSError as exc:
        return None, exc.strerror or str(exc)
    lines = [l.strip() for l in proc.stdout.decode("utf-8", "replace").splitlines() if l.strip()]
    lines = lines[-len(TOOLS):]
    if len(lines) != len(TOOLS):
        return None, "`%s ...` printed %d lines, not %d" % (how(argv), len(lines), len(TOOLS))
    return {t: (None if p == "-" else p) for t, p in zip(TOOLS, lines)}, None


def check(ctx, timeout=TIMEOUT):
    """One result per configured shell: the first way of starting it that runs a real tool
    instead of the shim, else the first that could not be checked, else ok."""
    out = []
    shims = ctx["shims_dir"]
    for shell in configured(ctx):
        name = f"shell:{shell}"
        wrong = unchecked = None
        seen = []
        for argv in COMMANDS[shell]:
            found, why = resolve_in(argv, ctx["environ"], timeout)
            if found is None:
                if why.endswith("is not installed"):
                    break  # configured once, gone now: nothing runs there
                unchecked = unchecked or (argv, why)
                continue
            outside = {t: p for t, p in found.items()
                       if p is not None and os.path.dirname(os.path.abspath(p)) != shims}
            shown = ", ".join("%s → %s" % (t, tilde(p, ctx["home"]) if p else "(none)")
                              for t, p in found.items())
            if outside:
                wrong = (argv, outside, shown)
                break
            seen.append((argv, shown))
        if wrong:
            argv, outside, shown = wrong
            tools = ", ".join(sorted(outside))
            out.append(result(name, False,
                              f"{tools} runs the real tool, not the shim, in {how(argv)} ({shown})",
                              "something in %s's start-up files puts %s ahead of %s after "
                              "llm-shim's block; `llm-shim install` again, or move that line "
                              "before the block" % (shell, ", ".join(sorted({
                                  tilde(os.path.dirname(p), ctx["home"]) for p in outside.values()})),
                                  tilde(shims, ctx["home"]))))
        elif unchecked:
            argv, why = unchecked
            out.append(result(name, False, f"cannot check how the tools resolve in it: {why}",
                              "run `%s` yourself" % " ".join(argv[:2] + ["'command -v claude'"]),
                              severity="warn"))
        elif seen:
            out.append(result(name, True, "%s (%s): %s" % (
                shell, ", ".join(how(argv) for argv, _ in seen), seen[0][1])))
    return out
