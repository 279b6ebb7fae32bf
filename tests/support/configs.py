"""The compiled-config stand-in for the adapter and routing tests (their conftests re-export
the fixtures).

Pure tests use a small stand-in for the compiled config: the embedded default YAML, merged with
the test's overrides (mappings merge key by key, lists are replaced, as the real loader does),
plus `_aliases`. This keeps them independent of the config loader; the `route` command tests go
through the real `shim.config.compiled.load()`.
"""

import copy
import os

import pytest
import yaml

from tests.support import REPO

DEFAULT_YAML = os.path.join(REPO, "config", "default.yaml")
DATA = os.path.join(REPO, "tests", "data", "routing")

with open(DEFAULT_YAML, encoding="utf-8") as _fh:
    _DEFAULT = yaml.safe_load(_fh)


def merge(base, over):
    out = copy.deepcopy(base)
    for key, value in (over or {}).items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def aliases(cfg):
    table = {model_id: model_id for model_id in cfg.get("models", {})}
    for model_id, model in cfg.get("models", {}).items():
        for alias in model.get("aliases") or ():
            table.setdefault(alias, model_id)
    return table


def make_config(overrides=None):
    """The default config with `overrides` merged in, shaped like the compiled config."""
    cfg = merge(_DEFAULT, overrides)
    cfg["_aliases"] = aliases(cfg)
    return cfg


GEMINI = {
    "adapter": "generic",
    "providers": ["google"],
    "generic": {
        "oneshot_flags": ["-p", "--prompt"],
        "prompt_flags": ["-p", "--prompt"],
        "prompt_positional": True,
        "model_flags": ["-m", "--model"],
        "value_flags": ["-e", "--extensions", "--approval-mode"],
        "resume_flags": ["-r", "--resume"],
        "meta_flags": ["--version", "-v", "--help", "-h"],
        "meta_subcommands": ["mcp", "extensions"],
        "output_flags": ["-o", "--output-format"],
        "output_formats": {"text": "text", "json": "json", "stream-json": "stream-json"},
        "default_output": "text",
        "render": ["-p", "{prompt}", ["-m", "{model}"], "{output}"],
        "render_output": {"json": ["-o", "json"]},
        "failures": {"RESOURCE_EXHAUSTED": "rate_limited", "quota exceeded": "quota",
                     "UNAUTHENTICATED": "auth"},
    },
}
GEMINI_MODELS = {
    "gemini-3-flash": {"provider": "google", "tier": "cheap",
                       "prices": {"input": 0.3, "output": 2.5, "cache_read": 0.03, "cache_write": 0.0},
                       "aliases": ["flash"]},
    "gemini-3-pro": {"provider": "google", "tier": "premium",
                     "prices": {"input": 2.0, "output": 12.0, "cache_read": 0.2, "cache_write": 0.0},
                     "aliases": ["gemini-pro"]},
}


@pytest.fixture
def cfg():
    return make_config()


@pytest.fixture
def config():
    """Factory: config({...overrides...})."""
    return make_config


@pytest.fixture
def gemini_cfg():
    return make_config({"tools": {"gemini": GEMINI}, "models": GEMINI_MODELS})
