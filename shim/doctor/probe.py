"""The doctor's two probes that reach outside: a real tool's `--version`, and the start-up
file lines that put a directory on PATH.

The version probe runs the real binary directly (not through a shim), with stdin at /dev/null,
in its own session so a timeout kills everything it started, and with the recursion guard
`_LLM_SHIM_CHAIN` already full for that binary: if the "real" tool is a wrapper that calls the
shim back, the shim refuses at once (exit 126, "recursive shim invocation") instead of looping,
and the doctor can say so.
"""

import os
import signal
import subprocess
from concurrent.futures import ThreadPoolExecutor

from shim import exitcodes, resolve
from shim.install import rcfiles, shells

DEFAULT_TIMEOUT = 5.0
_MAX_LINE = 120
_RECURSION_TEXT = b"recursive shim invocation"


def guarded_env(environ, binary):
    """`environ` with the guard variable saying `binary` has already re-entered too often."""
    env = dict(environ)
    chain = [p for p in env.get(resolve.CHAIN_ENV, "").split(os.pathsep) if p]
    chain += [os.path.realpath(binary)] * resolve.MAX_REENTRY
    env[resolve.CHAIN_ENV] = os.pathsep.join(chain)
    return env


def version(binary, environ, timeout=DEFAULT_TIMEOUT):
    """Run `binary --version`; returns {"line", "exit_code", "timed_out", "recursion", "error"}.

    `line` is the first non-empty line of stdout (else of stderr), shortened, or None.
    """
    result = {"line": None, "exit_code": None, "timed_out": False, "recursion": False,
              "error": None}
    try:
        proc = subprocess.Popen([binary, "--version"], stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                env=guarded_env(environ, binary), start_new_session=True)
    except OSError as exc:
        result["error"] = exc.strerror or str(exc)
        return result
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        result["timed_out"] = True
        out, err = kill_session(proc)
    result["exit_code"] = proc.returncode
    result["recursion"] = (proc.returncode == exitcodes.RECURSION and _RECURSION_TEXT in err)
    result["line"] = _first_line(out) or _first_line(err)
    return result


def kill_session(proc):
    """Kill the probe's whole session; give up on pipes a runaway grandchild keeps open."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except OSError:
        proc.kill()
    try:
        return proc.communicate(timeout=1)
    except subprocess.TimeoutExpired:
        for pipe in (proc.stdout, proc.stderr):
            pipe.close()
        proc.wait()
        return b"", b""


def _first_line(data):
    for line in (data or b"").decode("utf-8", "replace").splitlines():
        line = line.strip()
        if line:
            return line if len(line) <= _MAX_LINE else line[:_MAX_LINE - 3] + "..."
    return None


def versions(binaries, environ, timeout=DEFAULT_TIMEOUT):
    """{binary: version(...)} for several binaries at once (their start-ups overlap)."""
    unique = sorted(set(binaries))
    if not unique:
        return {}
    with ThreadPoolExecutor(max_workers=min(len(unique), 4)) as pool:
        results = pool.map(lambda b: version(b, environ, timeout), unique)
        return dict(zip(unique, results))


# -- which start-up line puts a directory ahead of the shims ---------------------------------

def start_up_files(home, environ, recorded=()):
    """Every file a shell reads at start-up that could change PATH, recorded ones first."""
    zdot = environ.get("ZDOTDIR", "").strip() or home
    config = environ.get("XDG_CONFIG_HOME", "").strip() or os.path.join(home, ".config")
    files = list(recorded) + shells.all_candidate_files(home, environ)
    files += [os.path.join(zdot, ".zshenv"), os.path.join(config, "fish", "config.fish")]
    seen, unique = set(), []
    for path in files:
        if path not in seen:
            seen.add(path)
            unique.append(path)
    return unique


def spellings(directory, home):
    """The ways a start-up file may write `directory`: as is, and with $HOME, ${HOME} or ~."""
    directory = directory.rstrip(os.sep) or os.sep
    forms = [directory]
    home = (home or "").rstrip(os.sep)
    if home and directory.startswith(home + os.sep):
        rest = directory[len(home):]
        forms += ["$HOME" + rest, "${HOME}" + rest, "~" + rest]
    return forms


def path_lines(directory, files, home):
    """[(file, line number, text)] of lines that add `directory` to PATH and run AFTER our block.

    In a file holding the llm-shim block only the lines below it count; in other files every
    line does (Debian's ~/.profile sources ~/.bashrc, block included, and then prepends
    ~/.local/bin). Only lines that mention PATH (or fish_add_path) and the directory are
    taken, comments skipped.
    """
    forms = spellings(directory, home)
    found = []
    for path in files:
        data = rcfiles.read_bytes(path)
        if not data:
            continue
        block = rcfiles.find_block(data)
        offset = block[1] if block else 0
        first_line = data[:offset].count(b"\n") + 1
        text = data[offset:].decode("utf-8", "replace")
        for number, line in enumerate(text.splitlines(), first_line):
            stripped = line.strip()
            if not stripped or stripped.startswith("#"):
                continue
            if ("PATH" in stripped or "fish_add_path" in stripped) and \
                    any(_mentions(stripped, form) for form in forms):
                found.append((path, number, stripped))
    return found


def _mentions(line, form):
    """`form` appears in `line` as a whole directory (not as the prefix of a longer one)."""
    start = line.find(form)
    while start >= 0:
        after = line[start + len(form):start + len(form) + 1]
        if after in ("", ":", '"', "'", " ", ";", ")", "/", "}", "\t"):
            if after != "/" or line[start + len(form) + 1:start + len(form) + 2] in (
                    "", ":", '"', "'", " ", ";"):
                return True
        start = line.find(form, start + 1)
    return False


# -- `shell-init` lines ----------------------------------------------------------------------

def shell_init_lines(path):
    """[(line number, text)] of the lines of start-up file `path` that run `shell-init`."""
    data = rcfiles.read_bytes(path)
    found = []
    for number, line in enumerate((data or b"").decode("utf-8", "replace").splitlines(), 1):
        stripped = line.strip()
        if stripped and not stripped.startswith("#") and "shell-init" in stripped:
            found.append((number, stripped))
    return found


def init_line_works(line, shims_dir, home):
    """True when a `shell-init` line would put `shims_dir` on PATH in a shell that lacks it:
    it names that dir (running `<dir>/llm-shim`, or passing `--dir <dir>`) and does not run
    a bare `llm-shim`, which the shell looks up on the PATH the line is meant to fix."""
    before = line.split("shell-init", 1)[0].split()
    command = before[-1].lstrip("\"'$(`") if before else ""
    if command == "llm-shim":
        return False
    return any(form + "/llm-shim" in line or _mentions(line, form)
               for form in spellings(shims_dir, home))
