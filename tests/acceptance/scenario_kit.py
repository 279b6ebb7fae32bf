"""What the scenario tests share: our shims installed for real, a test config, telemetry rows.

The scenarios drive the real CLIs through the shims a user would have: `llm-shim install`
itself writes them (with the project's Python, into a temp dir, rc files untouched), and
everything the tests read back about a call comes through the same shims (`llm-shim logs
--json`, `llm-shim report --json`), never by importing the product in the test process.
"""

import json
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
DEFAULT_CONFIG = REPO / "config" / "default.yaml"
SNAPSHOT = REPO / "config" / "prices-litellm-snapshot.json"
SHIM_MARKER = "# llm-shim shim"


def install_command(*args):
    """`python -m shim install|uninstall ...` with the Python running the tests (the venv's)."""
    return [sys.executable, "-m", "shim", *args]


def install_shims(real_env, directory):
    """Install our shims into `directory` with `llm-shim install --dir DIR --no-modify-rc`,
    HOME and LLM_SHIM_HOME being the test's. Returns the directory."""
    directory = Path(directory)
    result = real_env.run(install_command("install", "--dir", directory, "--no-modify-rc"),
                          timeout=120, include_real=False)
    assert result.returncode == 0, f"llm-shim install failed:\n{result.stdout}\n{result.stderr}"
    for name in ("claude", "codex", "llm", "llm-shim"):
        shim = directory / name
        assert shim.is_file(), f"install wrote no {shim}:\n{result.stdout}"
        assert shim.read_text().splitlines()[1].startswith(SHIM_MARKER), shim
    return directory


def write_config(real_env, shims, data, name="scenario.yaml"):
    """Write `data` as a YAML config file, check it with `llm-shim config validate FILE` (so a
    bad test config fails here, clearly), and return the extra_env that selects it."""
    path = Path(real_env.root) / name
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    check = real_env.run([shims / "llm-shim", "config", "validate", path], path_prefix=[shims])
    assert check.returncode == 0, (f"test config {path} is invalid:\n{path.read_text()}\n"
                                   f"{check.stdout}{check.stderr}")
    return {"LLM_SHIM_CONFIG": str(path)}


def attempts(real_env, shims, count=50):
    """The recorded attempts, oldest first, as `llm-shim logs --json` prints them (it imports
    the spool first)."""
    result = real_env.run([shims / "llm-shim", "logs", "--json", "-n", count], path_prefix=[shims])
    assert result.returncode == 0, f"llm-shim logs failed: {result.stdout}{result.stderr}"
    rows = json.loads(result.stdout)
    return sorted(rows, key=lambda r: (r["started_at"], r["invocation_id"], r["attempt"]))


def report(real_env, shims, *args):
    """`llm-shim report --json ARGS` through the shims, parsed."""
    result = real_env.run([shims / "llm-shim", "report", "--json", *args], path_prefix=[shims])
    assert result.returncode == 0, f"llm-shim report failed: {result.stdout}{result.stderr}"
    return json.loads(result.stdout)


def claude_result(result):
    """The one JSON result line of `claude -p --output-format json`."""
    assert result.stdout.strip(), f"no stdout; rc={result.returncode} stderr={result.stderr!r}"
    return json.loads(result.stdout.strip().splitlines()[-1])


def jsonl(text):
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def model_prices(model):
    """USD per million tokens of `model`: the default config's, unless they are an estimate (or
    the config has no such model) and the LiteLLM snapshot shipped next to it has the model
    (docs/telemetry.md "Which prices")."""
    spec = yaml.safe_load(DEFAULT_CONFIG.read_text())["models"].get(model)
    if spec is None or spec.get("price_source") == "estimate":
        row = json.loads(SNAPSHOT.read_text()).get(model)
        if row:
            per_m = {"input": "input_cost_per_token", "output": "output_cost_per_token",
                     "cache_read": "cache_read_input_token_cost",
                     "cache_write": "cache_creation_input_token_cost"}
            return {kind: row[key] * 1_000_000 for kind, key in per_m.items() if key in row}
    return spec["prices"]


def priced(tokens, prices):
    """Cost in USD of a token dict (input/output/cache_read/cache_write) at `prices`; a kind
    without a price costs what input does."""
    return sum(tokens.get(kind, 0) * prices.get(kind, prices["input"]) for kind in (
        "input", "output", "cache_read", "cache_write")) / 1_000_000


def tokens_the_stub_reported(api, usage):
    """The tokens one successful stub reply carries, in llm-shim's convention (input never
    includes cached tokens; OpenAI's cached and cache-write tokens are part of its input,
    Anthropic's not)."""
    if api == "anthropic":
        return {"input": usage["input"], "output": usage["output"],
                "cache_read": usage["cache_read"], "cache_write": usage["cache_creation"]}
    written = usage.get("cache_write", 0) if api == "responses" else 0
    return {"input": usage["input"] - usage["cached"] - written, "output": usage["output"],
            "cache_read": usage["cached"], "cache_write": written}


def rc_snapshot(home, names):
    """{relative name: bytes, or None when absent} of the start-up files under `home`."""
    snapshot = {}
    for name in names:
        path = Path(home) / name
        snapshot[name] = path.read_bytes() if path.exists() else None
    return snapshot
