"""Where the pinned real claude, codex and llm CLIs live, installing them when missing.

install/realclis.sh does the installing (into a cache outside the repo, versions from
install/versions.env); this module checks that exactly the pinned versions are there and says
why not otherwise. The distinction matters: a registry that cannot be reached is a reason to
skip (printed), a broken install is a failure.
"""

import glob
import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
VERSIONS_FILE = REPO / "install" / "versions.env"
INSTALL_SCRIPT = REPO / "install" / "realclis.sh"


class RealClisUnavailable(RuntimeError):
    """The real CLIs are not usable; `skip` says whether that is a skip or a failure."""

    def __init__(self, reason, skip):
        super().__init__(reason)
        self.skip = skip


def pinned_versions(path=VERSIONS_FILE):
    """install/versions.env as a dict: {"CLAUDE_CODE_VERSION": "2.1.197", ...}."""
    versions = {}
    for line in Path(path).read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, value = line.split("=", 1)
            versions[key.strip()] = value.strip().strip("'\"")
    return versions


def cache_dir():
    """${LLM_SHIM_REALCLIS:-$HOME/.cache/llm-shim-realclis}, read before tests isolate HOME."""
    return Path(os.environ.get("LLM_SHIM_REALCLIS") or Path.home() / ".cache" / "llm-shim-realclis")


class RealClis:
    """Paths of the installed real CLIs and the one bin/ directory holding all three."""

    def __init__(self, cache):
        self.cache = Path(cache)
        self.bin_dir = self.cache / "bin"
        self.claude = self.bin_dir / "claude"
        self.codex = self.bin_dir / "codex"
        self.llm = self.bin_dir / "llm"
        self.versions = pinned_versions()

    def problems(self):
        """What is missing or at the wrong version; empty when everything is ready."""
        found = []
        modules = self.cache / "npm" / "node_modules"
        for package, key in (("@anthropic-ai/claude-code", "CLAUDE_CODE_VERSION"),
                             ("@openai/codex", "CODEX_VERSION"),
                             ("ccusage", "CCUSAGE_VERSION")):  # the import comparison
            have = _package_version(modules / package / "package.json")
            if have != self.versions[key]:
                found.append(f"{package} is {have or 'not installed'}, want {self.versions[key]}")
        for dist, key in (("llm", "LLM_VERSION"), ("llm_echo", "LLM_ECHO_VERSION")):
            pattern = f"{self.cache}/llm-venv/lib/python*/site-packages/{dist}-{self.versions[key]}.dist-info"
            if not glob.glob(pattern):
                found.append(f"{dist}=={self.versions[key]} is not in {self.cache / 'llm-venv'}")
        for binary in (self.claude, self.codex, self.llm, self.bin_dir / "ccusage"):
            if not os.access(binary, os.X_OK):
                found.append(f"{binary} is missing")
        return found

    def install_status(self):
        """{"npm": "ok" | "unreachable: ..." | "failed: ...", "pypi": ...} from the last install."""
        status = {}
        path = self.cache / "install-status"
        if path.exists():
            for line in path.read_text().splitlines():
                key, _, value = line.partition("=")
                status[key] = value
        return status


def _package_version(path):
    try:
        return json.loads(path.read_text()).get("version")
    except (OSError, ValueError):
        return None


def locate(cache=None, install=True):
    """The ready RealClis; runs install/realclis.sh first when something is missing.

    Set LLM_SHIM_REALCLIS_NO_INSTALL=1 to never install from here. Raises RealClisUnavailable.
    """
    clis = RealClis(cache or cache_dir())
    if not clis.problems():
        return clis
    log = ""
    if install and os.environ.get("LLM_SHIM_REALCLIS_NO_INSTALL") != "1":
        print(f"\nacceptance: installing the real CLIs with {INSTALL_SCRIPT} ...", file=sys.stderr)
        done = subprocess.run(["bash", str(INSTALL_SCRIPT)], capture_output=True, text=True,
                              stdin=subprocess.DEVNULL, env=dict(os.environ, LLM_SHIM_REALCLIS=str(clis.cache)))
        log = (done.stdout + done.stderr).strip()
        print(log, file=sys.stderr)
    problems = clis.problems()
    if not problems:
        return clis
    status = clis.install_status()
    unreachable = [f"{k}: {v}" for k, v in status.items() if v.startswith("unreachable")]
    failed = [f"{k}: {v}" for k, v in status.items() if v.startswith("failed")]
    if unreachable and not failed:
        raise RealClisUnavailable("real CLIs not installed, a registry is unreachable: "
                                  + "; ".join(unreachable), skip=True)
    if not status and not log:
        raise RealClisUnavailable("real CLIs not installed (LLM_SHIM_REALCLIS_NO_INSTALL=1); run "
                                  "bash install/realclis.sh: " + "; ".join(problems), skip=True)
    raise RealClisUnavailable("real CLIs could not be installed: " + "; ".join(failed + problems),
                              skip=False)
