"""Learn a real binary's grammar: run its `--help` (and its subcommands' that matter), parse
them (`helpparse`), and store the table where the hot path looks (`shim.adapters.learned`).

Run by `llm-shim install`, `llm-shim doctor`, and, detached, by a shim that saw the binary
change (`python -m shim.grammar.learn TOOL BINARY`). The binary runs with stdin at /dev/null,
in its own session, with a timeout, and with the recursion guard full for that binary, so a
wrapper that calls the shim back stops at once.
"""

import os
import re
import subprocess
import sys
import time

from shim import errors
from shim.adapters import adapter_name, learned
from shim.tools import BUILTIN_TOOLS

TIMEOUT = 15.0
# Per built-in adapter: the command paths whose `--help` is read ("" is the top level).
RECIPES = {
    "claude": ("",),
    "codex": ("", "exec", "resume", "fork", "exec resume"),
    "llm": ("", "prompt", "chat"),
}
_VERSION = re.compile(r"\d+(?:\.\d+)+(?:[-+.][0-9A-Za-z.]+)?")


def recipe(tool, cfg):
    """The command paths to read for `tool`, or None when it does not learn: the built-in
    recipe of its adapter, or a generic tool's `help:` (true, or a list of subcommands)."""
    name = adapter_name(tool, cfg)
    if name in RECIPES:
        return RECIPES[name]
    entry = ((cfg or {}).get("tools") or {}).get(tool) or {}
    wanted = entry.get("help")
    if not wanted:
        return None
    return ("",) + tuple(str(s) for s in (wanted if isinstance(wanted, list) else ()))


def run(binary, argv, environ=None, timeout=TIMEOUT):
    """(exit code, stdout text) of `binary argv...`; raises OSError or TimeoutError."""
    from shim.doctor import probe

    env = probe.guarded_env(dict(environ if environ is not None else os.environ), binary)
    env.setdefault("NO_COLOR", "1")
    proc = subprocess.Popen([binary] + list(argv), stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                            start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        probe.kill_session(proc)
        raise TimeoutError("`%s %s` did not answer in %gs" % (
            os.path.basename(binary), " ".join(argv), timeout)) from None
    text = out.decode("utf-8", "replace")
    if not text.strip():
        text = err.decode("utf-8", "replace")
    return proc.returncode, text


def build(tool, binary, commands, environ=None, timeout=TIMEOUT):
    """The grammar table of `binary` (see shim.adapters.learned)."""
    from shim.grammar import helpparse

    key = learned.identity(binary)
    table = {"tool": tool, "key": key, "learned_at": time.time(), "commands": {},
             "version": None, "binary": binary}
    code, text = run(binary, ["--version"], environ, timeout)
    match = _VERSION.search(text) if code == 0 else None
    table["version"] = match.group(0) if match else None
    for command in commands:
        words = command.split()
        code, text = run(binary, words + ["--help"], environ, timeout)
        if code != 0 and not text.strip():
            raise ValueError("`%s --help` exited %d" % (" ".join([tool] + words), code))
        table["commands"][command] = helpparse.parse(text)
    if not table["commands"].get("", {}).get("flags"):
        raise ValueError("`%s --help` lists no options" % tool)
    return table


def learn(tool, binary, cfg=None, environ=None, timeout=TIMEOUT):
    """Learn and store; returns the table (with "error" when learning failed) or None when
    `tool` does not learn."""
    commands = recipe(tool, cfg)
    if commands is None:
        return None
    key = learned.identity(binary)
    if key is None:
        return None
    try:
        table = build(tool, binary, commands, environ, timeout)
    except (OSError, ValueError, TimeoutError) as exc:
        table = {"tool": tool, "key": key, "learned_at": time.time(), "binary": binary,
                 "error": "%s: %s" % (type(exc).__name__, exc)}
    learned.write(learned.cache_file(tool, key[0]), table)
    return table


def learn_all(cfg, environ=None, only_stale=False, timeout=TIMEOUT, read_only=False):
    """{tool: table or None} for every configured tool with a recipe and a real binary.
    `read_only` (LLM_SHIM_LEARN=0) runs nothing and returns what is stored."""
    from shim import resolve

    environ = os.environ if environ is None else environ
    tools = list(dict.fromkeys(BUILTIN_TOOLS + tuple((cfg or {}).get("tools") or ())))
    out = {}
    for tool in tools:
        if recipe(tool, cfg) is None:
            continue
        try:
            binary = resolve.real_binary(tool, cfg, environ)
        except errors.ShimError:
            continue
        table, status = learned.lookup(tool, binary)
        if read_only:
            out[tool] = table
            continue
        if only_stale and status in ("hit", "error"):
            out[tool] = table or learned.read(learned.cache_file(tool, learned.identity(binary)[0]))
            continue
        out[tool] = learn(tool, binary, cfg, environ, timeout)
    return out


def main(argv=None):
    """The detached relearn: `python -m shim.grammar.learn TOOL BINARY`."""
    argv = sys.argv[1:] if argv is None else argv
    tool, binary = argv[0], argv[1]

    def work():
        try:
            cfg = None
            try:
                from shim.config import compiled

                cfg = compiled.load()
            except Exception:
                pass
            learn(tool, binary, cfg)
        finally:
            learned.release(tool, binary)

    return errors.run_detached("grammar", work)


if __name__ == "__main__":
    sys.exit(main())
