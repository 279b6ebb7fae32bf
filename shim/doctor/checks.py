"""One function per doctor check; each returns a plain dict (or, for tools, one per tool).

A result is {"name", "ok", "severity", "status", "detail", "hint"}: `severity` is "fail" or
"warn" when the check did not pass (None when it did), `status` is "ok", "warn" or "fail"
(the same thing in one field, for scripts), `detail` says what was found (possibly several
lines), `hint` the fix (None when there is nothing to do). Only a "fail" makes doctor exit 1.
docs/install.md "doctor checks" explains every check.
"""

import os
import tempfile

from shim import __version__, errors, paths, resolve
from shim.doctor import context, database, platform_limits, probe
from shim.install import installer, rcfiles, shells, shimdir, shimscript

INSTALL_HINT = "run `llm-shim install`"
result = context.result
writable_dir = context.writable_dir


# -- config ------------------------------------------------------------------------------------

def check_config(ctx):
    """The configuration compiles: every layer parses and validates."""
    exc = ctx["cfg_error"]
    if exc is None:
        sources = [context.tilde(s["path"], ctx["home"]) + f" ({s['layer']}"
                   + (f", {s['trust']}" if s.get("trust") else "") + ")"
                   for s in ctx["cfg"].get("_sources") or []]
        untrusted = [s["path"] for s in ctx["cfg"]["_sources"] if s.get("trust") == "untrusted"]
        if untrusted:  # a warning, not a failure: ignoring it is the safe default
            return result("config", False, "valid: " + ", ".join(sources), severity="warn",
                          hint=f"`llm-shim trust {untrusted[0]}` applies the project file "
                               "(docs/security.md); `llm-shim trust --list` lists trusted ones")
        return result("config", True, "valid: " + ", ".join(sources))
    if isinstance(exc, errors.ConfigError):
        lines = list(exc.problems) or [exc.why]
        return result("config", False, "\n".join(lines),
                      "fix each FILE:LINE above, then check with `llm-shim config validate`; "
                      "until then the shims run the real tools unrouted (or refuse them, with "
                      "policies.on_error: block)")
    why = exc.why if isinstance(exc, errors.ShimError) else f"{type(exc).__name__}: {exc}"
    return result("config", False, f"cannot load: {why}",
                  "rerun with LLM_SHIM_DEBUG=1 for the traceback and report it")


# -- shims -------------------------------------------------------------------------------------

def check_shims(ctx):
    """The shims dir exists and holds a shim for llm-shim and every configured tool."""
    directory = ctx["shims_dir"]
    shown = context.tilde(directory, ctx["home"])
    if not os.path.isdir(directory):
        what = "llm-shim is not installed" if not ctx["installed"] else "it was deleted"
        return result("shims", False, f"{shown} does not exist ({what})", INSTALL_HINT)
    missing, foreign = [], []
    for name in ctx["expected_shims"]:
        path = os.path.join(directory, name)
        if not os.path.lexists(path):
            missing.append(name)
        elif not shimdir.is_shim_file(path):
            foreign.append(name)
    if foreign:
        return result("shims", False,
                      f"not llm-shim shims: {', '.join(foreign)} in {shown}",
                      f"move them out of {shown}, then {INSTALL_HINT}")
    if missing:
        return result("shims", False, f"missing from {shown}: {', '.join(missing)}",
                      INSTALL_HINT)
    unshimmed = [t for t in ctx["tools"] if not os.path.lexists(os.path.join(directory, t))]
    if unshimmed:
        return result("shims", False,
                      f"configured tools without a shim: {', '.join(unshimmed)}",
                      f"{INSTALL_HINT} to add them", severity="warn")
    if ctx.get("copied_from"):
        return result("shims", False,
                      f"{shown}: this LLM_SHIM_HOME is a copy of "
                      f"{context.tilde(ctx['copied_from'], ctx['home'])} (its install state "
                      "names the shims there)",
                      f"{INSTALL_HINT} with this LLM_SHIM_HOME to make its shims its own",
                      severity="warn")
    return result("shims", True, f"{shown}: {' '.join(sorted(ctx['expected_shims']))}")


def read_shim(path):
    """{"version", "python", "lib", "home"} from a shim file's text (None for what cannot be
    read); see `shimscript.shim_info`."""
    return shimscript.shim_info(path)


def check_shims_current(ctx):
    """Every shim is from this llm-shim version and its interpreter and code copy exist."""
    directory = ctx["shims_dir"]
    if not os.path.isdir(directory):
        return result("shims-current", False, "nothing to check: no shims installed",
                      INSTALL_HINT, severity="warn")
    by_problem = {}
    names = sorted(n for n in os.listdir(directory)
                   if shimdir.is_shim_file(os.path.join(directory, n)))
    for name in names:
        info = read_shim(os.path.join(directory, name))
        if info["version"] != __version__:
            key = f"from llm-shim {info['version'] or '(unknown)'}, this is {__version__}"
            by_problem.setdefault(("stale", key), []).append(name)
        if not info["python"] or not os.access(info["python"], os.X_OK):
            key = f"their Python {info['python'] or '(unreadable)'} is gone"
            by_problem.setdefault(("python", key), []).append(name)
        if not info["lib"] or not os.path.isdir(os.path.join(info["lib"] or "", "shim")):
            key = f"their code copy {info['lib'] or '(unreadable)'} is gone"
            by_problem.setdefault(("lib", key), []).append(name)
    current_lib = os.path.join(ctx["data_dir"], "lib", __version__)
    if names and not by_problem and not os.path.isdir(current_lib):
        by_problem[("lib", f"{current_lib} is missing")] = []
    if not names:
        return result("shims-current", False, "nothing to check: no shims installed",
                      INSTALL_HINT, severity="warn")
    if by_problem:
        detail = "; ".join(f"{', '.join(shims) or 'the install'}: {why}"
                           for (_kind, why), shims in sorted(by_problem.items()))
        kinds = {kind for kind, _why in by_problem}
        hint = f"{INSTALL_HINT} with the llm-shim you mean to use (this one is {__version__})"
        if "python" in kinds:
            hint = f"{INSTALL_HINT} again with the Python you have now"
        return result("shims-current", False, detail, hint)
    return result("shims-current", True,
                  f"all {len(names)} from llm-shim {__version__}, code in "
                  + context.tilde(current_lib, ctx["home"]))


# -- PATH --------------------------------------------------------------------------------------

def first_real_on_path(tool, ctx):
    """(PATH index, path) of the first real `tool` on PATH, or None."""
    for index, entry in enumerate(ctx["path"]):
        if context.same_dir(entry or ".", ctx["shims_dir"]):
            continue
        path = os.path.join(entry or ".", tool)
        if os.path.isfile(path) and os.access(path, os.X_OK) and not resolve.is_our_shim(path):
            return index, path
    return None


def check_path(ctx):
    """The shims dir is on PATH and ahead of the directory of every real tool."""
    directory, home = ctx["shims_dir"], ctx["home"]
    shown = context.tilde(directory, home)
    position = next((i for i, entry in enumerate(ctx["path"])
                     if context.same_dir(entry or ".", directory)), None)
    if position is None:
        return result("path", False, f"{shown} is not on PATH", _not_on_path_hint(ctx))
    ahead = {}
    for tool in ctx["tools"]:
        found = first_real_on_path(tool, ctx)
        if found and found[0] < position:
            ahead.setdefault(ctx["path"][found[0]], []).append(tool)
    if not ahead:
        return result("path", True, f"{shown} is entry {position + 1} of PATH, ahead of every "
                                    "real tool")
    details, hints = [], []
    for entry, tools in ahead.items():
        details.append(f"{context.tilde(entry, home)} (the real {', '.join(tools)}) comes "
                       f"before {shown} on PATH, so `{tools[0]}` runs unrouted")
        hints.append(_ahead_hint(entry, ctx))
    return result("path", False, "\n".join(details), "\n".join(hints))


def _recorded_files(ctx):
    return sorted((ctx["state"].get("rc_files") or {}).keys())


def _init_line(ctx):
    """The `shell-init` line for the user's shell, naming the installed llm-shim by path (the
    shims dir is not on PATH yet where that line runs)."""
    login = shells.login_shell(ctx["environ"]) or "bash"
    return shells.init_line(login, os.path.join(ctx["shims_dir"], shimdir.CLI_NAME),
                            ctx["home"])


def _not_on_path_hint(ctx):
    login = shells.login_shell(ctx["environ"]) or "bash"
    now = shells.activation_line(login, ctx["shims_dir"])
    if any(_has_block(f) for f in _recorded_files(ctx)):
        return f"start a new login shell (`exec $SHELL -l`), or in this one: {now}"
    return (f"{INSTALL_HINT}, or add `{_init_line(ctx)}` to your shell's start-up file; in this "
            f"shell now: {now}")


def _ahead_hint(entry, ctx):
    home = ctx["home"]
    files = probe.start_up_files(home, ctx["environ"], _recorded_files(ctx))
    lines = probe.path_lines(entry, files, home)
    shown = context.tilde(entry, home)
    if lines:
        path, number, text = lines[0]
        where = f"{context.tilde(path, home)}:{number}"
        more = f" (and {len(lines) - 1} more such line(s))" if len(lines) > 1 else ""
        return (f"`{text}` ({where}) runs after the llm-shim block and puts {shown} first{more}: "
                "move it above the block (or delete the block and run `llm-shim install`, which "
                "appends a new one at the end), then start a new login shell: `exec $SHELL -l`")
    return (f"something that ran after the llm-shim block put {shown} first: start a new login "
            f"shell (`exec $SHELL -l`); if that does not help, find where {shown} is added to "
            "PATH and move that line above the llm-shim block")


# -- start-up files ----------------------------------------------------------------------------

def _has_block(path):
    data = rcfiles.read_bytes(path)
    return bool(data and rcfiles.find_block(data))


def _expected_block(path, ctx):
    return rcfiles.render_block(installer.block_body(path, ctx["shims_dir"], ctx["home"],
                                                     ctx["environ"]))


def check_rc_blocks(ctx):
    """The blocks install wrote are still in their start-up files and name this shims dir."""
    home, directory = ctx["home"], ctx["shims_dir"]
    recorded = _recorded_files(ctx)
    if not recorded:
        return _unrecorded_rc(ctx)
    good, problems, outdated = [], [], []
    for path in recorded:
        shown = context.tilde(path, home)
        data = rcfiles.read_bytes(path)
        found = rcfiles.find_block(data) if data else None
        if not found:
            problems.append(f"{shown}: no llm-shim block" + ("" if data is not None
                                                             else " (the file is gone)"))
            continue
        block = data[found[0]:found[1]]
        if block == _expected_block(path, ctx):
            good.append(shown)
        elif os.fsencode(directory) in block:
            outdated.append(shown)
        else:
            problems.append(f"{shown}: the block does not name {context.tilde(directory, home)}")
    if problems:
        return result("rc-blocks", False, "\n".join(problems),
                      f"{INSTALL_HINT} to put the block back (a block you removed on purpose "
                      "stays removed once you also delete the file's entry: reinstall with "
                      "--shell for the shells you use)")
    if outdated:
        return result("rc-blocks", False, f"blocks from another llm-shim: {', '.join(outdated)}",
                      f"{INSTALL_HINT} to rewrite them", severity="warn")
    return result("rc-blocks", True, ", ".join(good))


def _unrecorded_rc(ctx):
    """No install state about start-up files: find blocks or `shell-init` lines ourselves.

    Either counts only when it would work: a block naming this shims dir; a `shell-init`
    line naming it (`<dir>/llm-shim shell-init ...`, or `--dir <dir>`) and not running a bare
    `llm-shim`, which the shell cannot find before the shims are on PATH.
    """
    home, directory = ctx["home"], ctx["shims_dir"]
    files = probe.start_up_files(home, ctx["environ"])
    found, broken = [], []
    for path in files:
        data = rcfiles.read_bytes(path) or b""
        block = rcfiles.find_block(data)
        if block and os.fsencode(directory) in data[block[0]:block[1]]:
            found.append(context.tilde(path, home))
            continue
        lines = probe.shell_init_lines(path)
        if any(probe.init_line_works(text, directory, home) for _number, text in lines):
            found.append(context.tilde(path, home))
        else:
            broken += [(path, number, text) for number, text in lines]
    if found:
        return result("rc-blocks", True, ", ".join(found) + " (not recorded by install)")
    hint = (f"{INSTALL_HINT} to add the blocks, or add `{_init_line(ctx)}` to your shell's "
            "start-up file")
    if broken:
        path, number, text = broken[0]
        return result("rc-blocks", False,
                      f"{context.tilde(path, home)}:{number}: {text}: does not run "
                      f"{context.tilde(directory, home)}/llm-shim by its path, so it cannot put "
                      "the shims on PATH (a bare llm-shim is not on PATH before they are)",
                      f"replace it with `{_init_line(ctx)}`, or {hint}", severity="warn")
    return result("rc-blocks", False,
                  "no start-up file puts the shims on PATH (installed with --no-modify-rc?)",
                  hint, severity="warn")


# -- real tools --------------------------------------------------------------------------------

def locate_tool(tool, ctx):
    """(real binary or None, result or None): a result when the tool is missing or loops."""
    try:
        return resolve.real_binary(tool, ctx["cfg"], ctx["environ"]), None
    except errors.RecursionDetected as exc:
        return None, result(f"tool:{tool}", False, exc.why, exc.hint)
    except errors.RealBinaryNotFound as exc:
        configured = ((ctx["cfg"] or {}).get("tools") or {}).get(tool) or {}
        why = exc.why if configured.get("binary") else f"not installed: no real {tool} on PATH"
        return None, result(f"tool:{tool}", False, why, exc.hint, severity="warn")


def check_tool(tool, binary, version, ctx):
    """The real `tool` at `binary` answers `--version` and does not call the shim back."""
    name, shown = f"tool:{tool}", context.tilde(binary, ctx["home"])
    if version["recursion"]:
        return result(name, False, f"{shown} calls the {tool} shim back (recursive shim "
                                   "invocation): it is a wrapper, not the real tool",
                      f"set tools.{tool}.binary to the real {tool}, or make the wrapper run "
                      f"it by absolute path (or with LLM_SHIM_DISABLE=1)")
    if version["error"]:
        return result(name, False, f"{shown} cannot be run: {version['error']}",
                      f"reinstall {tool} ({resolve.INSTALL_HINTS.get(tool, 'its installer')})")
    if version["timed_out"]:
        return result(name, False, f"{shown} did not answer `--version` in time",
                      f"check that `{binary} --version` works", severity="warn")
    line = version["line"] or "(no output)"
    if version["exit_code"] != 0:
        return result(name, False, f"{shown}: `--version` exited {version['exit_code']}: {line}",
                      f"check that `{binary} --version` works", severity="warn")
    return result(name, True, f"{shown} ({line})")


def check_tools(ctx, timeout=probe.DEFAULT_TIMEOUT):
    """One result per tool; the found ones are probed in parallel."""
    located = {tool: locate_tool(tool, ctx) for tool in ctx["tools"]}
    found = [binary for binary, failed in located.values() if failed is None]
    versions = probe.versions(found, ctx["environ"], timeout)
    return [failed or check_tool(tool, binary, versions[binary], ctx)
            for tool, (binary, failed) in located.items()]


# -- telemetry and cache -----------------------------------------------------------------------

def check_telemetry(ctx):
    """The spool can be appended to and the database opens, is writable and is current."""
    if ctx["cfg"] is not None and not (ctx["cfg"].get("telemetry") or {}).get("enabled", True):
        return result("telemetry", True, "disabled (telemetry.enabled: false)")
    home = ctx["home"]
    ok, where = writable_dir(paths.spool_dir())
    if not ok:
        return result("telemetry", False,
                      f"{context.tilde(where, home)} is not writable: shims cannot record calls",
                      f"fix its permissions (chmod u+rwx {where}) or set LLM_SHIM_HOME")
    return database.check(paths.database_file(), home)


def check_cache(ctx):
    """The cache dir (the compiled config lives there) can be written."""
    directory = paths.cache_dir()
    shown = context.tilde(directory, ctx["home"])
    ok, where = writable_dir(directory)
    if ok and os.path.isdir(directory):
        try:
            fd, tmp = tempfile.mkstemp(prefix=".doctor-", dir=directory)
            os.close(fd)
            os.unlink(tmp)
        except OSError as exc:
            ok, where = False, f"{directory} ({exc.strerror})"
    if not ok:
        return result("cache", False,
                      f"{context.tilde(where, ctx['home'])} is not writable: every call "
                      "recompiles the config from YAML",
                      f"fix its permissions (chmod u+rwx {directory}) or set LLM_SHIM_HOME")
    state = "writable" if os.path.isdir(directory) else "will be created"
    return result("cache", True, f"{shown} ({state})")


# -- prices ------------------------------------------------------------------------------------

def check_prices(ctx):
    """Recorded models whose attempts have no known cost, with what each needs: a price
    (none yet), or `prices reprice` (priced since they were recorded). Worded by
    report/unpriced.py, as under `llm-shim report`."""
    from shim.report import unpriced
    from shim.telemetry import prices

    path = paths.database_file()
    if not os.path.exists(path):
        return result("prices", True, "no calls recorded yet")
    found = database.unpriced_models(path)
    kinds = unpriced.classify(found, prices.load_table(ctx["cfg"] or {}))
    missing = [(m, n) for m, n in kinds["no price"] if m]
    stale = kinds["priced now"]
    unknown_model = sum(n for m, n in kinds["no price"] if not m)
    tokenless = sum(n for _, n in kinds["no token counts"])
    if not missing and not stale:
        detail = "every recorded model has a price and every priced attempt is counted"
        if unknown_model:
            detail += f" ({unknown_model} attempts recorded no model: their cost stays unknown)"
        if tokenless:
            detail += (f" ({tokenless} attempts of priced models have no token counts: their "
                       "cost stays unknown)")
        return result("prices", True, detail)
    parts, hints = [], []
    if missing:
        parts.append(f"no price: {unpriced.attempts_text(missing)}")
        hints.append(unpriced.ADD_PRICE + "; until then `llm-shim report` shows their cost as "
                     "a lower bound (≥ $x*)")
    if stale:
        parts.append(f"priced now: {unpriced.attempts_text(stale)}")
        hints.append(f"{unpriced.REPRICE} to price the attempts recorded before the price")
    return result("prices", False, "recorded models with unpriced attempts: " + "; ".join(parts),
                  "; ".join(hints), severity="warn")


def check_zstd(ctx):
    """Compressed codex rollouts (`.jsonl.zst`, codex >= 0.137) can be read for usage."""
    from shim.telemetry.harvest import zst

    binding = zst.binding()
    if binding:
        return result("zstd", True, f"compressed codex rollouts are read with {binding}")
    if "codex" not in ctx["tools"]:
        return result("zstd", True, "no zstd decompressor, not needed: codex is not configured")
    return result("zstd", False,
                  "cannot read compressed codex rollouts (.jsonl.zst): this Python has neither "
                  "compression.zstd nor the zstandard package",
                  "pip install 'llm-shim[zstd]' (or zstandard) into llm-shim's Python, or use "
                  "Python 3.14+; until then calls whose rollout was compressed have no usage",
                  severity="warn")


# -- platform (Linux-only features, WSL2) ------------------------------------------------------

def check_platform(ctx):
    """What this system cannot do (macOS: no parent-death signal, no /proc), and any real tool
    that is a Windows program reached through WSL2 interop."""
    sysname = platform_limits.system()
    name = {"Linux": "Linux", "Darwin": "macOS"}.get(sysname, sysname)
    if sysname == "Linux" and platform_limits.is_wsl(ctx["environ"]):
        name = "Linux under WSL"
    ok, lacks = platform_limits.limits(sysname)
    results = []
    if sysname not in ("Linux", "Darwin"):
        results.append(result("platform", False, f"{name}: untested; llm-shim supports Linux "
                              "and macOS (Windows through WSL2)", None, severity="warn"))
    elif ok:
        detail = f"{name}: " + ("; ".join(lacks) if lacks else
                                "a shim killed with SIGKILL takes the real tool with it")
        results.append(result("platform", True, detail))
    else:
        setpriv = platform_limits.runner.SETPRIV
        results.append(result("platform", False, f"{name} without {setpriv}: "
                              + "; ".join(lacks),
                              "install util-linux (apt-get install util-linux); until then "
                              "stop a call with `kill <pid>`, or its process group: "
                              "kill -9 -<pgid>", severity="warn"))
    for tool in ctx["tools"]:
        try:
            binary = resolve.real_binary(tool, ctx["cfg"], ctx["environ"])
        except errors.ShimError:
            continue  # the tool check says why
        if platform_limits.windows_binary(binary):
            results.append(result(
                f"wsl:{tool}", False,
                f"{context.tilde(binary, ctx['home'])} is a Windows program (WSL interop): it "
                "reads Windows paths and its own Windows config and logs, so usage may go "
                "unrecorded", f"install the Linux {tool} inside WSL so it comes first on PATH "
                f"({resolve.INSTALL_HINTS.get(tool, 'its installer')}), or set "
                f"tools.{tool}.binary", severity="warn"))
    return results
# -- learned grammar and other shells ----------------------------------------------------------

def check_grammar(ctx):
    """Per tool: version, pinned or not, grammar learned when, unknown flags seen recently."""
    from shim.doctor import grammar

    return grammar.check_all(ctx)


def check_shells(ctx):
    """How claude, codex and llm resolve in every shell install configured."""
    from shim.doctor import shells as shell_probe

    return shell_probe.check(ctx)


# -- all of them -------------------------------------------------------------------------------

def run_all(environ=None, cwd=None, timeout=None):
    """Every check's result in display order. A check that crashes becomes a failed result."""
    ctx = context.gather(environ, cwd)
    timeout = probe.DEFAULT_TIMEOUT if timeout is None else timeout
    steps = [("shims", check_shims), ("shims-current", check_shims_current),
             ("path", check_path), ("rc-blocks", check_rc_blocks),
             ("tools", lambda c: check_tools(c, timeout)), ("config", check_config),
             ("telemetry", check_telemetry), ("prices", check_prices), ("cache", check_cache),
             ("zstd", check_zstd), ("platform", check_platform), ("grammar", check_grammar),
             ("shells", check_shells)]
    results = []
    for name, step in steps:
        try:
            outcome = step(ctx)
        except Exception as exc:
            if errors.debug_enabled(ctx["environ"]):
                raise
            outcome = result(name, False, f"the check itself failed: {type(exc).__name__}: "
                                          f"{exc}",
                             "rerun with LLM_SHIM_DEBUG=1 for the traceback and report it")
        results.extend(outcome if isinstance(outcome, list) else [outcome])
    return results


def failed(results):
    """True when any result is a failure (warnings do not count)."""
    return any(r["severity"] == "fail" for r in results)
