"""adapters/* and routing/* stay light: parse + identify + decide (with the classifier and a
redirect) import nothing outside the hot-path budget, and no psutil/fnmatch without rules."""

import marshal
import subprocess
import sys

from tests.routing.conftest import REPO, make_config

ALLOWED_STDLIB = {"os", "sys", "time", "marshal", "_signal", "zlib", "fcntl", "errno",
                  # what `import os` itself loads (python -S skips site, which normally does)
                  "os.path", "posixpath", "genericpath", "stat", "_stat", "_collections_abc"}
BANNED = {"re", "json", "fnmatch", "glob", "psutil", "yaml", "dataclasses", "typing", "enum",
          "signal", "subprocess", "pathlib", "argparse", "inspect", "logging", "datetime",
          "sqlite3", "bisect", "collections", "functools", "shlex"}

SCRIPT = r"""
import marshal, sys
before = set(sys.modules)
from shim import adapters, routing
from shim.routing import agents
cfg = marshal.load(open(sys.argv[1], "rb"))
for tool, args in [("claude", ["-p", "Design the architecture of a distributed cache"]),
                   ("codex", ["exec", "-m", "gpt-5.5", "--json", "fix src/app.py"]),
                   ("llm", ["hello"]), ("claude", ["mcp", "list"]), ("gemini", ["-p", "x"])]:
    request = adapters.parse(tool, args, cfg)
    agent, why = agents.identify(tool, cfg, {}, "/tmp")
    routing.decide(request, cfg, "auto")
    routing.decide(request, cfg, "redirect")
    adapters.classify_failure(tool, "Error: 429", cfg)
print(" ".join(sorted(set(sys.modules) - before)))
"""


def test_hot_path_imports(tmp_path):
    from tests.routing.conftest import GEMINI

    cfg = make_config({"tools": {"gemini": GEMINI},
                       "agents": {"redirect": {"tool": "codex", "cost_optimization": True}},
                       "policies": {"fallback": {"chains": {"claude": [{"tool": "llm"}]}}}})
    path = tmp_path / "cfg.marshal"
    path.write_bytes(marshal.dumps(cfg))
    proc = subprocess.run([sys.executable, "-E", "-s", "-S", "-c", SCRIPT, str(path)], cwd=REPO,
                          capture_output=True, text=True, timeout=60,
                          env={"PATH": "/usr/bin:/bin"})
    assert proc.returncode == 0, proc.stderr
    loaded = set(proc.stdout.split())
    ours = {name for name in loaded if name == "shim" or name.startswith("shim.")}
    foreign = loaded - ours - ALLOWED_STDLIB
    assert not (foreign & BANNED), sorted(foreign & BANNED)
    assert not foreign, "unexpected imports on the hot path: %s" % sorted(foreign)
    assert {"shim.adapters.claude", "shim.adapters.codex", "shim.adapters.llm",
            "shim.adapters.generic", "shim.routing.classify"} <= ours
