"""Find the real binary behind a shim, never another shim (pyenv `which`, mise `which_shim`).

A candidate is ours, and skipped, when it is the running shim by realpath or inode (symlinked
or hard-linked shims), or when its first bytes say it is a llm-shim launcher (copied shims,
pip's console script). That also covers a shims dir on PATH twice, first or last.

Recursion guard: every shim exports `_LLM_SHIM_CHAIN`, the realpaths of the real binaries that
shims above it launched. Legitimate nesting (claude running `claude -p` in its shell tool) is
fine, but a binary that keeps calling the shim back (a wrapper script that runs `claude` from
PATH) would loop; past `MAX_REENTRY` launches of the same binary the chain stops with an error.
"""

import os
import sys

from shim import errors

CHAIN_ENV = "_LLM_SHIM_CHAIN"
MAX_REENTRY = 5
# Line 2 of every launcher `llm-shim install` generates starts with this marker.
SHIM_MARKER = b"# llm-shim shim"
# pip's console script carries no marker but imports the entry point.
_CONSOLE_SCRIPT = b"from shim.entry import main"
_HEAD_BYTES = 512

INSTALL_HINTS = {
    "claude": "npm install -g @anthropic-ai/claude-code",
    "codex": "npm install -g @openai/codex",
    "llm": "pipx install llm",
}


def _running_shim():
    """(realpath, (st_dev, st_ino)) of the shim that is running, or (None, None)."""
    argv0 = sys.argv[0] if sys.argv else ""
    if not argv0 or argv0 == "-c":
        return None, None
    try:
        st = os.stat(argv0)
    except OSError:
        return None, None
    return os.path.realpath(argv0), (st.st_dev, st.st_ino)


def is_our_shim(path, running=None):
    """True when `path` is an llm-shim launcher rather than a real tool."""
    real, ident = running if running is not None else _running_shim()
    try:
        st = os.stat(path)
    except OSError:
        return False
    if ident is not None and (st.st_dev, st.st_ino) == ident:
        return True
    if real is not None and os.path.realpath(path) == real:
        return True
    head = _head(path)
    return head is not None and (_marked(head) or _CONSOLE_SCRIPT in head)


def has_shim_marker(path):
    """True when the file at `path` is a launcher we generated: its second line starts with
    `SHIM_MARKER`. The one rule for the resolver, install, uninstall and doctor."""
    head = _head(path)
    return head is not None and _marked(head)


def _marked(head):
    return marker_line(head) is not None


def marker_line(head):
    """Line 2 of `head` (a file's first bytes) when it starts with `SHIM_MARKER`, else None:
    the one rule of a generated launcher (shim.install.shimscript reads its version there)."""
    lines = head.split(b"\n", 2)
    return lines[1] if len(lines) > 1 and lines[1].startswith(SHIM_MARKER) else None


def _head(path):
    try:
        with open(path, "rb") as fh:
            return fh.read(_HEAD_BYTES)
    except OSError:
        return None


def _executable(path):
    return os.path.isfile(path) and os.access(path, os.X_OK)


def shims_dir_of_caller():
    argv0 = sys.argv[0] if sys.argv else ""
    return os.path.dirname(os.path.abspath(argv0)) if argv0 else "?"


def candidates(tool, environ):
    """Every executable named `tool` on PATH, in order, that is not one of our shims."""
    running = _running_shim()
    seen = set()
    for entry in environ.get("PATH", os.defpath).split(os.pathsep):
        path = os.path.join(entry or ".", tool)
        if path in seen:
            continue
        seen.add(path)
        if _executable(path) and not is_our_shim(path, running):
            yield path


def real_binary(tool, cfg=None, environ=None):
    """The absolute path of the real `tool`; raises RealBinaryNotFound or RecursionDetected."""
    environ = os.environ if environ is None else environ
    configured = (((cfg or {}).get("tools") or {}).get(tool) or {}).get("binary")
    if configured:
        path = os.path.expanduser(configured)
        if not _executable(path):
            raise errors.RealBinaryNotFound(
                tool, f"tools.{tool}.binary is {path}, which is not an executable file",
                f"fix tools.{tool}.binary in your config (`llm-shim config path` shows where)")
        if is_our_shim(path):
            raise errors.RecursionDetected(
                tool, f"tools.{tool}.binary ({path}) is an llm-shim shim, not the real {tool}",
                f"point tools.{tool}.binary at the real binary")
        found = path
    else:
        found = next(candidates(tool, environ), None)
        if found is None:
            hint_install = (((cfg or {}).get("tools") or {}).get(tool) or {}).get(
                "install_hint") or INSTALL_HINTS.get(tool)
            hint = f"install it ({hint_install}) or set tools.{tool}.binary" if hint_install \
                else f"install it or set tools.{tool}.binary"
            raise errors.RealBinaryNotFound(
                tool, f"the real {tool} is not on PATH (after the shims in {shims_dir_of_caller()})",
                hint)
        found = os.path.abspath(found)
    check_reentry(tool, found, environ)
    return found


def _chain(environ):
    value = environ.get(CHAIN_ENV, "")
    return [p for p in value.split(os.pathsep) if p] if value else []


def check_reentry(tool, path, environ):
    real = os.path.realpath(path)
    if _chain(environ).count(real) >= MAX_REENTRY:
        raise errors.RecursionDetected(
            tool, f"recursive shim invocation: {path} re-entered the {tool} shim "
                  f"{MAX_REENTRY} times",
            f"it probably runs `{tool}` from PATH itself; set tools.{tool}.binary to the real "
            f"binary or LLM_SHIM_DISABLE=1 inside it")


def child_chain(environ, path):
    """The value of the guard variable for a child that runs `path`."""
    return os.pathsep.join(_chain(environ) + [os.path.realpath(path)])
