"""Build the attempt record (docs/internals.md "Attempt record") from a Decision and an outcome.

Privacy is applied here, before anything is written, so no later stage can leak text:

* `metadata` (default): no prompt or response text; `prompt_chars` and a salted sha256 only;
* `full`: prompt and response text kept, with secrets (API keys, tokens) redacted first;
* `off`: no attempt row. A *counter* record (`"kind": "counter"`) keeps only what budgets and
  rate limits need (time, agent, tool, provider, model, tokens, cost); it lands in the
  `counters` table, not in `attempts`.

Costs are not computed here (prices are not hot): ingestion fills `cost_usd`, `cost_source`,
`computed_cost_usd`, `price_version` and `baseline_cost_usd`.

Hot module: os, sys, time and the shim's hot modules only; the builtin sha256 is imported when
a prompt or a hashed project needs it.
"""

import os
import sys
import time

from shim import __version__, paths, safefs
from shim.tools import BUILTIN_TOOLS

RECORD_VERSION = 1
PRIVACY_MODES = ("metadata", "full", "off")
PROJECT_MODES = ("full", "hash", "omit")
TOKEN_KEYS = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens",
              "reasoning_tokens")
HARVESTABLE = BUILTIN_TOOLS  # each built-in tool has a harvester (shim/telemetry/harvest)
SALT_NAME = "salt"
SALT_BYTES = 32


def new_invocation_id():
    return os.urandom(16).hex()


def privacy_mode(cfg, agent):
    """The agent's `privacy` if it sets one, else `policies.privacy`, else metadata.

    `telemetry.enabled: false` means `off`: budgets and rate limits still need the counters.
    """
    if (cfg.get("telemetry") or {}).get("enabled") is False:
        return "off"
    agent_cfg = (cfg.get("agents") or {}).get(agent) or {}
    mode = agent_cfg.get("privacy") or (cfg.get("policies") or {}).get("privacy")
    return mode if mode in PRIVACY_MODES else "metadata"


def make_attempt(decision, outcome, cfg, *, invocation_id, attempt, cwd, environ, memo=None):
    """The spool record of one attempt (a dict of literals), or a counter record in `off` mode.

    `outcome` keys: exit_code, started_at, ended_at, usage (tap result or None), failure_class,
    blocked, block_reason, budget_override, prompt_text, response_text; optional session_id.
    `memo`: a dict kept for one call, so its start line and its records read the git state
    and hash the prompt once (see `_once`).
    """
    usage = outcome.get("usage") or None
    known = has_usage(usage)
    mode = privacy_mode(cfg, decision.get("agent"))
    started = float(outcome.get("started_at") or time.time())
    ended = float(outcome.get("ended_at") or started)
    blocked = 1 if outcome.get("blocked") else 0
    model = (usage or {}).get("model") or decision.get("model")
    tokens = {key: (usage or {}).get(key) for key in TOKEN_KEYS}
    session_id = (usage or {}).get("session_id") or outcome.get("session_id")

    if mode == "off":
        record = {
            "v": RECORD_VERSION, "kind": "counter",
            "invocation_id": invocation_id, "attempt": int(attempt),
            "started_at": started, "ended_at": ended,
            "agent": decision.get("agent"), "tool": decision.get("tool"),
            "provider": decision.get("provider"), "tier": decision.get("tier"), "model": model,
            **tokens,
            "reported_cost_usd": (usage or {}).get("cost_usd"),
            "blocked": blocked,
        }
    else:
        record = {
            "v": RECORD_VERSION,
            "invocation_id": invocation_id, "attempt": int(attempt),
            "started_at": started, "ended_at": ended,
            "duration_ms": round((ended - started) * 1000.0, 3),
            "host": host_name(),
            "agent": decision.get("agent"),
            "tool_requested": decision.get("tool_requested"), "tool": decision.get("tool"),
            "model_requested": decision.get("model_requested"), "model": model,
            "provider": decision.get("provider"), "tier": decision.get("tier"),
            "complexity": decision.get("complexity"), "mode": decision.get("mode"),
            "route_score": (decision.get("route") or {}).get("score"),
            "reasons": [str(r) for r in (decision.get("reasons") or ())],
            "exit_code": outcome.get("exit_code"),
            "failure_class": outcome.get("failure_class"),
            **tokens,
            "cost_usd": None, "cost_source": None,
            "reported_cost_usd": (usage or {}).get("cost_usd"), "computed_cost_usd": None,
            "price_version": None,
            # Savings are what routing changed: a call it left alone saved nothing, whatever
            # model the tool defaulted to (None: priced as the attempt itself, prices.py).
            "baseline_model": decision.get("baseline_model") if decision.get("changed") else None,
            "baseline_cost_usd": None,
            "session_id": session_id,
            "project": recorded_project(cfg, cwd, memo),
            "blocked": blocked, "block_reason": outcome.get("block_reason"),
            "budget_override": 1 if outcome.get("budget_override") else 0,
            "usage_source": "stream" if known else None,
            "shim_version": __version__,
            **git_fields(cfg, _once(memo, ("git", cwd), git_state, cwd), memo),
        }
        record.update(_prompt_fields(mode, decision, outcome, memo))
    parts = (usage or {}).get("parts")
    if known and parts:
        record["usage_parts"] = [dict(p) for p in parts]
    harvest = _harvest(decision, outcome, cfg, known, model, cwd, environ, session_id)
    if harvest is not None:
        record["harvest"] = harvest
    return record


def make_start(decision, cfg, *, invocation_id, attempt, cwd, environ, prompt=None, memo=None):
    """The *start line* of an attempt, appended just before the tool starts: what ingestion
    records as a `killed` attempt if no end record ever follows (the shim was SIGKILLed) and
    the shim's process is gone (shim.telemetry.starts). `record` is that attempt, already
    built (privacy applied, harvest hint included), so nothing about the call is lost."""
    now = time.time()
    rec = make_attempt(decision, {"exit_code": None, "started_at": now, "ended_at": now,
                                  "failure_class": "killed", "prompt_text": prompt},
                       cfg, invocation_id=invocation_id, attempt=attempt, cwd=cwd,
                       environ=environ, memo=memo)
    return {"v": RECORD_VERSION, "kind": "start", "invocation_id": invocation_id,
            "attempt": int(attempt), "started_at": now, "host": host_name(), "pid": os.getpid(),
            "record": rec}


def host_name():
    """This machine's name, as start lines carry it (shim.telemetry.starts compares it to tell
    this host's shims, whose pids it can check, from another's)."""
    try:
        return os.uname().nodename
    except (AttributeError, OSError):
        return None


def _once(memo, key, compute, arg):
    """compute(arg), remembered in `memo` (one call's) when given: the git state and salted
    hashes do not change between an attempt's start line and its record. A failure (an
    exception) is not remembered."""
    if memo is None:
        return compute(arg)
    if key not in memo:
        memo[key] = compute(arg)
    return memo[key]


def _prompt_fields(mode, decision, outcome, memo=None):
    prompt = outcome.get("prompt_text")
    chars = len(prompt) if isinstance(prompt, str) else decision.get("prompt_chars")
    fields = {"prompt_chars": chars, "prompt_hash": None, "prompt_text": None,
              "response_text": None}
    if isinstance(prompt, str) and prompt:
        try:
            fields["prompt_hash"] = _once(memo, ("hash", prompt), salted_hash, prompt)
        except OSError:
            pass  # no salt, no hash: never a reason to fail the call
    if mode == "full":
        # Redacted before the line is written, not only at ingestion: the spool is a file too.
        # (privacy imports re: paid only by `full`, which stores text anyway.)
        from shim.telemetry import privacy

        response = outcome.get("response_text")
        fields["prompt_text"] = privacy.scrub_text(prompt) if isinstance(prompt, str) else None
        fields["response_text"] = privacy.scrub_text(response) \
            if isinstance(response, str) else None
    return fields


def recorded_project(cfg, cwd, memo=None):
    """The `project` a record carries for `cwd` under policies.project (full, hash, omit)."""
    mode = (cfg.get("policies") or {}).get("project") or "full"
    if mode == "omit" or not cwd:
        return None
    if mode == "hash":
        return _hashed(cwd, memo)
    return cwd


def git_fields(cfg, state, memo=None):
    """{"git_branch", "git_head"} under `policies.project`: a branch name says what the
    project is as much as its path does (omit: both None; hash: each hashed like the path)."""
    return {key: private_git(cfg, value, memo) for key, value in state.items()}


def private_git(cfg, value, memo=None):
    """A git branch or HEAD as `policies.project` allows it to be stored."""
    mode = (cfg.get("policies") or {}).get("project") or "full"
    if value is None or mode == "full":
        return value
    if mode == "hash":
        return _hashed(value, memo)
    return None


def _hashed(value, memo):
    """What `policies.project: hash` stores for a path or a git name: `sha256:` and 16 hex
    digits of its salted hash, or None when the salt cannot be read."""
    try:
        return "sha256:" + _once(memo, ("hash", value), salted_hash, value)[:16]
    except OSError:
        return None


GIT_MAX_DEPTH = 40


def git_state(cwd):
    """{"git_branch", "git_head"} of the repository holding `cwd`, read from .git/HEAD by
    hand (no git process: the hot path). A detached HEAD has no branch; a ref not found as a
    loose file or in packed-refs leaves the head unknown. Never raises."""
    state = {"git_branch": None, "git_head": None}
    try:
        git_dir = _git_dir(cwd)
        if git_dir is None:
            return state
        with open(os.path.join(git_dir, "HEAD"), "rb") as fh:
            head = fh.read(512).decode("utf-8", "replace").strip()
        if not head.startswith("ref: "):
            state["git_head"] = head or None
            return state
        ref = head[5:].strip()
        state["git_branch"] = ref[11:] if ref.startswith("refs/heads/") else ref
        state["git_head"] = _resolve_ref(git_dir, ref)
    except (OSError, ValueError):
        pass
    return state


def _git_dir(cwd):
    """The .git directory for `cwd` (a `.git` file of a worktree points elsewhere)."""
    directory = cwd
    for _ in range(GIT_MAX_DEPTH):
        if not directory:
            return None
        candidate = os.path.join(directory, ".git")
        if os.path.isdir(candidate):
            return candidate
        if os.path.isfile(candidate):
            with open(candidate, "rb") as fh:
                line = fh.read(4096).decode("utf-8", "replace").strip()
            if line.startswith("gitdir: "):
                return os.path.join(directory, line[8:].strip())
            return None
        parent = os.path.dirname(directory)
        if parent == directory:
            return None
        directory = parent
    return None


def _resolve_ref(git_dir, ref):
    common = git_dir
    try:
        with open(os.path.join(git_dir, "commondir"), "rb") as fh:
            common = os.path.join(git_dir, fh.read(4096).decode("utf-8", "replace").strip())
    except OSError:
        pass
    for base in dict.fromkeys((git_dir, common)):
        try:
            with open(os.path.join(base, ref), "rb") as fh:
                return fh.read(128).decode("ascii", "replace").strip() or None
        except OSError:
            continue
    try:
        with open(os.path.join(common, "packed-refs"), "rb") as fh:
            wanted = (" " + ref).encode("utf-8")
            for line in fh:
                if line.rstrip(b"\r\n").endswith(wanted):
                    return line.split(b" ", 1)[0].decode("ascii", "replace")
    except OSError:
        pass
    return None


def has_usage(usage):
    """True when a tap result carries tokens or a cost: it may carry only error hints or a
    session id, which is not usage."""
    if not usage:
        return False
    return usage.get("cost_usd") is not None or any(usage.get(k) is not None for k in TOKEN_KEYS)


def _harvest(decision, outcome, cfg, known, model, cwd, environ, session_id):
    """Where ingestion should look for usage the stream did not give us (None: nowhere)."""
    if outcome.get("blocked") or outcome.get("failure_class") == "binary_missing":
        return None
    if decision.get("mode") not in ("interactive", "oneshot"):
        return None
    tool = decision.get("tool")
    adapter = ((cfg.get("tools") or {}).get(tool) or {}).get("adapter") or tool
    if adapter not in HARVESTABLE:
        return None
    # Codex --json reports tokens but no model: the rollout's turn_context has it.
    if known and model:
        return None
    environ = environ if environ is not None else os.environ
    home = environ.get("HOME") or os.path.expanduser("~")
    return {
        "tool": adapter,
        "cwd": cwd,
        "claude_config_dir": environ.get("CLAUDE_CONFIG_DIR") or os.path.join(home, ".claude"),
        # claude >= 2.1.234 writes its transcripts under this name instead of the cwd's
        "claude_project_dir_name": environ.get("CLAUDE_CODE_PROJECT_DIR_NAME") or None,
        "codex_home": environ.get("CODEX_HOME") or os.path.join(home, ".codex"),
        "llm_user_path": environ.get("LLM_USER_PATH") or llm_default_dir(environ, home),
        "session_id": session_id,
        "oneshot": decision.get("mode") == "oneshot",  # one session: see harvest.select_sessions
    }


def llm_default_dir(environ, home):
    """click.get_app_dir("io.datasette.llm"), which llm uses when LLM_USER_PATH is unset."""
    if sys.platform == "darwin":
        return os.path.join(home, "Library", "Application Support", "io.datasette.llm")
    base = environ.get("XDG_CONFIG_HOME") or os.path.join(home, ".config")
    return os.path.join(base, "io.datasette.llm")


def salted_hash(text):
    """sha256(salt + text) as hex; the salt is private to this machine (data_dir()/salt)."""
    data = text.encode("utf-8", "surrogateescape")
    return _sha256(_salt() + data).hexdigest()


def _sha256(data):
    """The builtin sha256 (~1 ms to import) rather than hashlib (~3 ms, loads OpenSSL)."""
    try:
        from _sha256 import sha256  # Python <= 3.11
    except ImportError:
        try:
            from _sha2 import sha256  # Python 3.12+
        except ImportError:
            from hashlib import sha256
    return sha256(data)


def _salt():
    directory = paths.data_dir()
    path = os.path.join(directory, SALT_NAME)
    for _ in range(2):
        try:
            fd = safefs.open_file(path, os.O_RDONLY)  # a symlinked salt is refused
            try:
                salt = os.read(fd, SALT_BYTES + 1)
            finally:
                os.close(fd)
        except FileNotFoundError:
            _create_salt(directory, path)
            continue
        if len(salt) == SALT_BYTES:
            return salt
        break
    raise OSError(f"unusable salt file {path}; delete it to make a new one (hashes will change)")


def _create_salt(directory, path):
    """Write the salt to a private temp file, then link it in: readers never see a partial one."""
    paths.ensure_dir(directory)
    safefs.create_once(path, os.urandom(SALT_BYTES), durable=True)  # a concurrent one may win
