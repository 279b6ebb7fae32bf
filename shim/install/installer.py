"""`install` and `uninstall` as typed functions: they act, and return what they did.

install: private code copy -> shims -> prune old copies -> PATH blocks -> state file. Each step
leaves identical files alone, so a second install rewrites nothing. uninstall undoes each step
from the state file (and, should it be lost, by recognising our shims and blocks), and never
touches anything that is not ours: not the real tools, nor config and telemetry unless `purge`.
"""

import os
import shutil
import sys

from shim import __version__, completions, errors, paths
from shim.install import libcopy, rcfiles, shells, shimdir, shimscript, state, statusline


def _home(environ):
    home = environ.get("HOME") or os.path.expanduser("~")
    if not home or not os.path.isabs(home):
        raise errors.ShimError("install", "cannot tell the home directory", "set HOME")
    return home


def resolve_shims_dir(shims_dir=None, recorded=None):
    """`--dir`, else the installed dir from the state file, else `paths.shims_dir()`."""
    value = shims_dir or recorded or paths.shims_dir()
    return shells.check_dir(os.path.abspath(os.path.expanduser(value)))


def resolve_shells(requested, home, environ):
    """`--shell` values (None = detect, "all" = every supported shell) as an ordered list."""
    if not requested:
        return shells.detect_shells(home, environ)
    if "all" in requested:
        return list(shells.SHELLS)
    return [s for s in shells.SHELLS if s in requested]


def tools_to_shim():
    """The shim names: every configured tool plus `llm-shim` itself."""
    return shimdir.configured_tools() + [shimdir.CLI_NAME]


def _refresh_user_schema():
    """The copy of the schema `config init` pointed the user's editor at follows an upgrade
    (only when it exists: install writes no config files of its own)."""
    from shim.config import schema

    target = schema.user_schema_file()
    if os.path.exists(target):
        try:
            schema.write_user_schema(target)
        except OSError:
            pass  # the editor keeps the old schema; nothing else depends on it


def install(shims_dir=None, shell_names=None, modify_rc=True, environ=None):
    """Install for this user; returns a report dict (see `shim.cli.commands.install`)."""
    environ = os.environ if environ is None else environ
    home = _home(environ)
    previous = state.load()
    target_dir = resolve_shims_dir(shims_dir)
    chosen = resolve_shells(shell_names, home, environ)
    names = tools_to_shim()
    shimdir.check_shims_dir(target_dir, names)

    python = shimscript.base_python()
    lib_root = paths.lib_dir()
    lib_path, lib_changed = libcopy.install_lib(lib_root, __version__, python)
    # An install made with $LLM_SHIM_HOME must keep working in shells without it.
    script = shimscript.shim_script(python, lib_path, __version__, home=paths.home_override())
    shim_result = shimdir.write_shims(target_dir, names, script)
    moved_from = previous.get("shims_dir")
    if moved_from and moved_from != target_dir:
        shimdir.remove_shims(moved_from)
    pruned = libcopy.prune_lib(lib_root, keep=__version__)
    _refresh_user_schema()

    records = dict(previous.get("rc_files") or {})
    new_state = {"version": __version__, "python": python, "shims_dir": target_dir,
                 "lib_dir": lib_root, "shims": names, "rc_files": records,
                 "completions": previous.get("completions") or {}}
    if previous.get("statusline"):  # Claude's statusLine (shim/install/statusline.py)
        new_state["statusline"] = previous["statusline"]
    rc_report, manual, completion_report = [], [], []
    try:
        for shell in chosen:
            for path in shells.rc_files(shell, home, environ):
                body = block_body(path, target_dir, home, environ)
                if not modify_rc:
                    manual.append({"shell": shell, "path": path,
                                   "text": rcfiles.render_block(body).decode()})
                    continue
                action, record = rcfiles.add_block(path, body)
                if record is not None:
                    records[path] = record
                rc_report.append({"shell": shell, "path": path, "action": action})
        if modify_rc:
            rc_report += _refresh_other_blocks(records, rc_report, target_dir, home, environ)
            completion_report, new_state["completions"] = completions.install_files(
                chosen, home, environ, new_state["completions"])
    finally:
        state.save(new_state)
    grammar = learn_grammars(environ)
    login = shells.login_shell(environ) or "bash"
    return {
        "version": __version__, "python": python, "shims_dir": target_dir,
        "lib": {"path": lib_path, "changed": lib_changed, "bytes": libcopy.lib_size(lib_path)},
        "pruned": pruned, "shims": shim_result, "shells": chosen, "rc": rc_report,
        "manual": manual, "completions": completion_report, "grammar": grammar,
        "moved_from": moved_from if moved_from != target_dir else None,
        "activate": shells.activation_line(login, target_dir),
        "first_on_path": environ.get("PATH", "").split(os.pathsep)[0] == target_dir,
    }


def learn_grammars(environ):
    """{tool: "VERSION" or "error: why"}: each real tool's grammar learned from its --help now
    (when absent or stale: a second install changes nothing),
    so the first shim call need not start the background relearn. Never fails the install;
    LLM_SHIM_LEARN=0 skips it."""
    if environ.get("LLM_SHIM_LEARN") == "0":
        return {}
    try:
        from shim.config import compiled
        from shim.grammar import learn

        tables = learn.learn_all(compiled.load(), environ, only_stale=True)
    except Exception:  # a broken config or tool: the shims still work with built-in tables
        return {}
    return {tool: ("error: " + table["error"]) if table.get("error") else
            (table.get("version") or "?") for tool, table in tables.items() if table}


def block_body(path, shims_dir, home, environ):
    """The body of the block install writes into start-up file `path` (see `shells.block_body`;
    ~/.zshrc also loads the zsh completion file install writes)."""
    zfunc = os.path.dirname(completions.completion_file("zsh", home, environ))
    return shells.block_body(path, shims_dir, zfunc)


def _refresh_other_blocks(records, done, shims_dir, home, environ):
    """Point blocks an earlier install wrote for other shells at `shims_dir` too.

    Only files that still hold a block: one the user deleted by hand stays deleted.
    """
    handled = {item["path"] for item in done}
    report = []
    for path in sorted(set(records) - handled):
        data = rcfiles.read_bytes(path)
        if data is None or not rcfiles.find_block(data):
            continue
        shell = "fish" if path.endswith(".fish") else "bash"  # bash and zsh share the sh code
        action, _ = rcfiles.add_block(path, block_body(path, shims_dir, home, environ))
        report.append({"shell": shell, "path": path, "action": action})
    return report


def _safe_to_delete(path, home):
    """Purge never deletes /, $HOME, or anything that contains $HOME."""
    path = os.path.realpath(path)
    home = os.path.realpath(home)
    return path != os.sep and not (home + os.sep).startswith(path + os.sep)


def uninstall(shims_dir=None, purge=False, environ=None):
    """Undo `install`; with `purge` also delete config, telemetry and cache. Returns a report.

    Run through an installed `llm-shim` shim, it undoes that shim's install: the state is read
    from the shim's own data dir and its shims dir is cleared, whatever `$LLM_SHIM_HOME` the
    calling shell has (or lacks).
    """
    environ = os.environ if environ is None else environ
    home = _home(environ)
    # Through an installed shim: that install. Otherwise: the one $LLM_SHIM_HOME (or the
    # default) names, and the default places in case its state file was lost.
    data_dir = running_data_dir()
    here = running_shims_dir() if data_dir else paths.shims_dir()
    data_dir = data_dir or paths.data_dir()
    recorded = state.load(data_dir)
    if shims_dir:
        dirs = [resolve_shims_dir(shims_dir)]
    else:
        dirs = sorted({resolve_shims_dir(None, recorded.get("shims_dir")), here})
    removed_shims = {d: shimdir.remove_shims(d) for d in dirs}

    removed_completions = completions.remove_files(recorded.get("completions"), home, environ)
    records = recorded.get("rc_files") or {}
    rc_report = []
    for path in sorted(set(records) | set(shells.all_candidate_files(home, environ))):
        action = rcfiles.remove_block(
            path, records.get(path),
            delete_if_empty=os.path.basename(path) == shells.FISH_FILE)
        if action:
            rc_report.append({"path": path, "action": action})

    removed_dirs = []
    own_lib = os.path.join(data_dir, "lib")
    for lib in sorted({own_lib, recorded.get("lib_dir") or own_lib}):
        if os.path.isdir(lib):
            shutil.rmtree(lib)
            removed_dirs.append(lib)
    statusline_report = statusline.uninstall(recorded.get("statusline"))
    state.remove(data_dir)

    purged, refused = [], []
    if purge:
        for directory in sorted({paths.config_dir(), paths.data_dir(), paths.cache_dir()}):
            if not os.path.exists(directory):
                continue
            if _safe_to_delete(directory, home):
                shutil.rmtree(directory)
                purged.append(directory)
            else:
                refused.append(directory)
    else:
        try:
            os.rmdir(data_dir)  # only when install left it empty
        except OSError:
            pass
    path_entries = environ.get("PATH", "").split(os.pathsep)
    return {"shims": removed_shims, "rc": rc_report, "lib": removed_dirs,
            "completions": removed_completions, "statusline": statusline_report,
            "purged": purged, "refused": refused,
            "still_on_path": [d for d in dirs if d in path_entries]}


def running_shim():
    """The path of the installed `llm-shim` shim running this process, or None."""
    argv0 = sys.argv[0] if sys.argv else ""
    if argv0 and shimdir.is_shim_file(argv0):
        return os.path.abspath(argv0)
    return None


def running_shims_dir():
    """The dir of the installed `llm-shim` shim running this process, or None."""
    shim = running_shim()
    return os.path.dirname(shim) if shim else None


def running_data_dir():
    """The data dir (install state, private code) of the install whose `llm-shim` shim runs
    this process, or None when no installed shim runs it.

    Read from the shim itself (its baked `$LLM_SHIM_HOME`, else the code copy it runs), so
    `uninstall` and `doctor` find their install from any shell.
    """
    shim = running_shim()
    return shimscript.data_dir_of(shimscript.shim_info(shim)) if shim else None


def shell_init(shell, shims_dir=None):
    """The snippet `eval "$(llm-shim shell-init SHELL)"` runs.

    Without `--dir`, an installed `llm-shim` names its own dir (right even when the shell that
    evals it lacks the LLM_SHIM_HOME install ran with), else the state file's, else the default.
    """
    recorded = running_shims_dir() or state.load(running_data_dir()).get("shims_dir")
    return shells.snippet(shell, resolve_shims_dir(shims_dir, recorded))
