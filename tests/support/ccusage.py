"""Finding the pinned ccusage for the import comparison (tests/telemetry/test_import_ccusage.py,
the acceptance test and the benchmark), and deciding skip or fail like the real CLIs do
(tests/acceptance/realclis.py): a registry that could not be reached is a reason to skip; an
install that says it succeeded (install-status `npm=ok`) but left no ccusage, or a ccusage at
another version than CCUSAGE_VERSION (install/versions.env), is a failure — the comparison
must not pass by silently not running, nor run against a ccusage that counts differently.
"""

import json
import os
import shutil
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
VERSIONS_FILE = REPO / "install" / "versions.env"


def pinned_version(path=VERSIONS_FILE):
    for line in Path(path).read_text().splitlines():
        key, _, value = line.strip().partition("=")
        if key.strip() == "CCUSAGE_VERSION":
            return value.strip().strip("'\"")
    return None


def cache_dir():
    """${LLM_SHIM_REALCLIS:-$HOME/.cache/llm-shim-realclis} (read before tests isolate HOME)."""
    return Path(os.environ.get("LLM_SHIM_REALCLIS")
                or Path.home() / ".cache" / "llm-shim-realclis")


def install_status(cache):
    status = {}
    try:
        text = (Path(cache) / "install-status").read_text()
    except OSError:
        return status
    for line in text.splitlines():
        key, _, value = line.partition("=")
        status[key.strip()] = value.strip()
    return status


def version_of(path, cache=None):
    """The version of the ccusage at `path`: the realclis cache's package.json when it is that
    one, else what `ccusage --version` prints; None when neither says."""
    if cache is not None and Path(path) == Path(cache) / "bin" / "ccusage":
        try:
            package = Path(cache) / "npm" / "node_modules" / "ccusage" / "package.json"
            return json.loads(package.read_text()).get("version")
        except (OSError, ValueError):
            pass
    try:
        out = subprocess.run([str(path), "--version"], capture_output=True, text=True,
                             timeout=60, stdin=subprocess.DEVNULL).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    words = out.strip().split()
    return words[-1].lstrip("v") if words else None


def locate(environ=None, cache=None):
    """{"path": the pinned ccusage or None, "reason": why not, "skip": True when that is a
    reason to skip, False when it is a failure}. Looked for: $LLM_SHIM_CCUSAGE, the realclis
    cache's bin/ccusage, ccusage on PATH; only the pinned version counts."""
    environ = os.environ if environ is None else environ
    cache = Path(cache) if cache is not None else cache_dir()
    want = pinned_version()
    if shutil.which("node", path=environ.get("PATH")) is None:
        return _absent("node is not installed (ccusage runs on node)", cache)
    candidates = [environ.get("LLM_SHIM_CCUSAGE"), str(cache / "bin" / "ccusage"),
                  shutil.which("ccusage", path=environ.get("PATH"))]
    wrong = []
    for path in dict.fromkeys(c for c in candidates if c):
        if not os.access(path, os.X_OK):
            continue
        have = version_of(path, cache)
        if have == want:
            return {"path": path, "reason": None, "skip": False}
        wrong.append(f"{path} is ccusage {have or '(unknown version)'}, want {want}")
    return _absent("; ".join(wrong) or "ccusage is not installed", cache)


def _absent(why, cache):
    npm = install_status(cache).get("npm")
    if npm == "ok":
        return {"path": None, "skip": False,
                "reason": f"{why}, but {cache}/install-status says npm=ok: the pinned ccusage "
                          "should be there (bash install/realclis.sh)"}
    if npm and npm.startswith("failed"):
        return {"path": None, "skip": False, "reason": f"{why}: npm install failed: {npm}"}
    if npm:
        return {"path": None, "skip": True, "reason": f"{why}: {npm}"}
    return {"path": None, "skip": True,
            "reason": f"{why} (bash install/realclis.sh installs the pinned one)"}


def daily_cells(ccusage, home, claude_config_dir, codex_home, timeout=300):
    """`ccusage daily --offline --json` over those logs, in UTC: {(day, model): [input,
    output, cache read, cache creation tokens]}."""
    environ = {"PATH": os.environ.get("PATH", ""), "HOME": str(home), "TZ": "UTC",
               "CLAUDE_CONFIG_DIR": str(claude_config_dir), "CODEX_HOME": str(codex_home),
               "NO_COLOR": "1"}
    proc = subprocess.run([str(ccusage), "daily", "--offline", "--json", "--timezone", "UTC"],
                          env=environ, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stderr
    cells = {}
    for day in json.loads(proc.stdout)["daily"]:
        for model in day["modelBreakdowns"]:
            cells[(day.get("period") or day.get("date"), model["modelName"])] = [
                model["inputTokens"], model["outputTokens"], model["cacheReadTokens"],
                model["cacheCreationTokens"]]
    return cells
