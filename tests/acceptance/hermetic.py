"""Hermetic runs of the real CLIs (or of our shims in front of them) against the stub.

Each RealEnv owns a fresh directory tree: HOME, CLAUDE_CONFIG_DIR, CODEX_HOME (with a quiet
config.toml that points codex at the stub), LLM_USER_PATH and a work dir. The environment starts
from ours minus everything that could leak a developer's setup or reach the network (API keys,
base URLs, proxies, XDG dirs), then adds the settings ../shared/REAL_CLIS.md found keep each CLI
quiet, fast to fail and pointed at the stub. Commands run inside the stub's private network
namespace, with stdin from /dev/null, in their own session, under a timeout that kills the whole
process group.
"""

import os
import shutil
import signal
import subprocess
from pathlib import Path

# Everything with these prefixes is dropped from the inherited environment.
SCRUBBED_PREFIXES = ("ANTHROPIC_", "OPENAI_", "CLAUDE_", "CODEX_", "LLM_", "XDG_", "STUB_",
                     "AWS_", "GOOGLE_", "VERTEX_", "AZURE_", "GEMINI_", "NPM_CONFIG_", "npm_",
                     "GIT_", "GH_", "GITHUB_")
SCRUBBED_NAMES = {
    "DISABLE_TELEMETRY", "DISABLE_AUTOUPDATER", "DISABLE_ERROR_REPORTING", "API_TIMEOUT_MS",
    "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "http_proxy", "https_proxy",
    "all_proxy", "no_proxy", "NODE_OPTIONS", "NODE_EXTRA_CA_CERTS", "PYTHONPATH", "PYTHONHOME",
    "VIRTUAL_ENV", "BASH_ENV", "ENV", "CDPATH", "MAILCHECK", "PYTEST_CURRENT_TEST", "PWD",
    "OLDPWD", "SSH_AUTH_SOCK", "TMUX", "TMUX_PANE",
}
# REAL_CLIS.md section 2: all four are needed for zero non-stub connections from Claude Code.
CLAUDE_QUIET = {
    "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1", "DISABLE_TELEMETRY": "1",
    "DISABLE_AUTOUPDATER": "1", "DISABLE_ERROR_REPORTING": "1",
}
SYSTEM_PATH = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"]
ANTHROPIC_KEY = "sk-ant-stub-key-0123456789abcdefghij"
OPENAI_KEY = "sk-stub-openai-key"
CODEX_KEY = "sk-stub-codex-key"
CODEX_MODEL = "stub-model"

# REAL_CLIS.md section 5: no plugin sync, no telemetry, no update check, and failures that
# end after one request instead of retrying (or, for unbounded retries, waiting forever).
CODEX_CONFIG = """\
model = "{model}"
model_provider = "stub"
check_for_update_on_startup = false

[analytics]
enabled = false
[feedback]
enabled = false
[otel]
exporter = "none"
trace_exporter = "none"
metrics_exporter = "none"
[features]
plugins = false
apps = false
remote_plugin = false
unbounded_connection_retries = false

[model_providers.stub]
name = "Stub"
base_url = "{base_url}"
env_key = "STUB_API_KEY"
wire_api = "responses"
request_max_retries = {request_retries}
stream_max_retries = {stream_retries}
stream_idle_timeout_ms = {idle_ms}
"""


def scrubbed_environ(environ=None):
    """A copy of environ without the variables that could leak a setup or reach the network."""
    environ = os.environ if environ is None else environ
    return {k: v for k, v in environ.items()
            if not k.startswith(SCRUBBED_PREFIXES) and k not in SCRUBBED_NAMES}


def write_codex_config(codex_home, base_url, model=CODEX_MODEL, request_retries=0,
                       stream_retries=0, idle_ms=3000, extra=""):
    """Write $CODEX_HOME/config.toml; `extra` is appended verbatim (more TOML)."""
    path = Path(codex_home) / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    text = CODEX_CONFIG.format(model=model, base_url=base_url, request_retries=request_retries,
                               stream_retries=stream_retries, idle_ms=idle_ms)
    path.write_text(text + (("\n" + extra + "\n") if extra else ""))
    return path


class RealEnv:
    """What an acceptance test gets from the `real_env` fixture; see docs/acceptance.md."""

    def __init__(self, root, stub, netns, clis, home=None, shim_home=None):
        self.root = Path(root)
        self.stub, self.netns, self.clis = stub, netns, clis
        self.home = Path(home) if home else self.root / "home"
        self.shim_home = Path(shim_home) if shim_home else self.root / "shim-home"
        self.claude_config_dir = self.root / "claude-config"
        self.codex_home = self.root / "codex-home"
        self.llm_user_path = self.root / "llm-user"
        self.work_dir = self.root / "work"
        for path in (self.home, self.claude_config_dir, self.codex_home, self.llm_user_path,
                     self.work_dir):
            path.mkdir(parents=True, exist_ok=True)
        self.write_codex_config()

    # --- the pieces tests may want to tweak ------------------------------------------------
    @property
    def claude(self):
        return self.clis.claude

    @property
    def codex(self):
        return self.clis.codex

    @property
    def llm(self):
        return self.clis.llm

    @property
    def real_bin_dir(self):
        return self.clis.bin_dir

    def write_codex_config(self, base_url=None, **options):
        """(Re)write codex's config.toml; base_url defaults to the stub's /v1."""
        return write_codex_config(self.codex_home, base_url or f"{self.stub.url}/v1", **options)

    def path(self, path_prefix=(), include_real=True):
        """PATH: path_prefix first, then the real CLIs' bin dir, then system dirs and node's."""
        dirs = [str(p) for p in path_prefix]
        if include_real:
            dirs.append(str(self.clis.bin_dir))
        node = shutil.which("node")
        extra = [os.path.dirname(node)] if node else []
        for entry in SYSTEM_PATH + extra:
            if entry not in dirs:
                dirs.append(entry)
        return os.pathsep.join(dirs)

    def env(self, extra_env=None, path_prefix=(), include_real=True):
        """The full hermetic environment; extra_env wins (a None value removes a variable)."""
        env = scrubbed_environ()
        env.update({
            "PATH": self.path(path_prefix, include_real),
            "HOME": str(self.home),
            "LANG": env.get("LANG") or "C.UTF-8",
            "LLM_SHIM_HOME": str(self.shim_home),
            # Claude Code
            "CLAUDE_CONFIG_DIR": str(self.claude_config_dir),
            "ANTHROPIC_BASE_URL": self.stub.url,
            "ANTHROPIC_API_KEY": ANTHROPIC_KEY,
            "CLAUDE_CODE_MAX_RETRIES": "0",
            "API_TIMEOUT_MS": "20000",
            **CLAUDE_QUIET,
            # Codex (the base URL is in config.toml)
            "CODEX_HOME": str(self.codex_home),
            "STUB_API_KEY": CODEX_KEY,
            # llm
            "LLM_USER_PATH": str(self.llm_user_path),
            "OPENAI_BASE_URL": f"{self.stub.url}/v1",
            "OPENAI_API_KEY": OPENAI_KEY,
        })
        for key, value in (extra_env or {}).items():
            if value is None:
                env.pop(key, None)
            else:
                env[key] = str(value)
        return env

    def command(self, argv):
        """argv wrapped so it runs inside the stub's network namespace."""
        return self.netns.command([str(a) for a in argv])

    # --- running -----------------------------------------------------------------------------
    def run(self, argv, extra_env=None, cwd=None, timeout=60, path_prefix=(), input=None,
            include_real=True, text=True):
        """Run argv hermetically inside the namespace -> CompletedProcess (stdout/stderr kept).

        stdin is /dev/null unless `input` (str/bytes) is given. On timeout the whole process
        group is killed and subprocess.TimeoutExpired is raised with the output so far.
        """
        env = self.env(extra_env, path_prefix, include_real)
        proc = subprocess.Popen(
            self.command(argv), env=env, cwd=str(cwd or self.work_dir),
            stdin=subprocess.DEVNULL if input is None else subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
        if isinstance(input, str):
            input = input.encode()
        try:
            out, err = proc.communicate(input, timeout=timeout)
        except subprocess.TimeoutExpired:
            kill_group(proc.pid)
            out, err = proc.communicate()
            raise subprocess.TimeoutExpired(argv, timeout, output=out, stderr=err) from None
        finally:
            kill_group(proc.pid)  # strays (a daemon, a grandchild) must not outlive the test
        if text:
            out, err = out.decode(errors="replace"), err.decode(errors="replace")
        return subprocess.CompletedProcess([str(a) for a in argv], proc.returncode, out, err)


def kill_group(pgid):
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
