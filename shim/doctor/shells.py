"""How `claude`, `codex` and `llm` resolve in every shell that `llm-shim install` configured,
not only the one doctor runs in: a user line after our block (fish's config.fish runs after
conf.d, a `PATH=~/.local/bin:$PATH` at the end of ~/.zshrc) can put a real tool first there.

Each shell runs as a login + interactive shell (`bash -lic`, `zsh -lic`, `fish -lc`), with
stdin at /dev/null, in its own session, under a timeout. Doctor only; never on a shim's path.
"""

import os
import shutil
import subprocess

from shim.doctor.context import result, tilde
from shim.tools import BUILTIN_TOOLS as TOOLS

TIMEOUT = 10.0
_POSIX = "for t in %s; do command -v \"$t\" || echo -; done" % " ".join(TOOLS)
_FISH = "for t in %s; command -v $t; or echo -; end" % " ".join(TOOLS)
COMMANDS = {"bash": ["bash", "-lic", _POSIX], "zsh": ["zsh", "-lic", _POSIX],
            "fish": ["fish", "-lc", _FISH]}


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


def resolve_in(shell, environ, timeout=TIMEOUT):
    """({tool: path or None}, None) as `shell` resolves them, or (None, why)."""
    argv = COMMANDS[shell]
    if shutil.which(argv[0], path=environ.get("PATH")) is None:
        return None, "%s is not installed" % shell
    env = {k: v for k, v in environ.items() if k != "PATH"}
    env["PATH"] = os.defpath if "PATH" not in environ else environ["PATH"]
    try:
        proc = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, env=env,
                              timeout=timeout, start_new_session=True)
    except subprocess.TimeoutExpired:
        return None, "`%s` did not answer in %gs" % (" ".join(argv[:2]), timeout)
    except OSError as exc:
        return None, exc.strerror or str(exc)
    lines = [l.strip() for l in proc.stdout.decode("utf-8", "replace").splitlines() if l.strip()]
    lines = lines[-len(TOOLS):]
    if len(lines) != len(TOOLS):
        return None, "`%s ...` printed %d lines, not %d" % (" ".join(argv[:2]), len(lines), len(TOOLS))
    return {t: (None if p == "-" else p) for t, p in zip(TOOLS, lines)}, None


def check(ctx, timeout=TIMEOUT):
    """One result per configured shell."""
    out = []
    shims = ctx["shims_dir"]
    for shell in configured(ctx):
        name = f"shell:{shell}"
        found, why = resolve_in(shell, ctx["environ"], timeout)
        if found is None and why.endswith("is not installed"):
            continue  # configured once, gone now: nothing runs there
        if found is None:
            out.append(result(name, False, f"cannot check how the tools resolve in it: {why}",
                              "run `%s` yourself" % " ".join(COMMANDS[shell][:2] + ["'command -v claude'"]),
                              severity="warn"))
            continue
        wrong = {t: p for t, p in found.items()
                 if p is not None and os.path.dirname(os.path.abspath(p)) != shims}
        shown = ", ".join("%s → %s" % (t, tilde(p, ctx["home"]) if p else "(none)")
                          for t, p in found.items())
        if wrong:
            tools = ", ".join(sorted(wrong))
            out.append(result(name, False,
                              f"{tools} runs the real tool, not the shim, in {shell} ({shown})",
                              "something in %s's start-up files puts %s ahead of %s after "
                              "llm-shim's block; `llm-shim install` again, or move that line "
                              "before the block" % (shell, ", ".join(sorted({
                                  tilde(os.path.dirname(p), ctx["home"]) for p in wrong.values()})),
                                  tilde(shims, ctx["home"]))))
        else:
            out.append(result(name, True, "%s: %s" % (shell, shown)))
    return out
