"""Every ```yaml block in the docs is a configuration that `llm-shim config validate` accepts.

Each block is written to a file and validated merged over the embedded default, exactly as
`llm-shim config validate FILE` does. Two markers, as a comment anywhere in the block:

- `# fragment`: the block names agents, tools or models defined elsewhere (a snippet of a
  larger file); "unknown agent/tool/model/provider" problems are ignored, everything else
  (keys, types, values) is still checked;
- `# not llm-shim config`: YAML that is not a configuration at all; skipped.

A block whose first line is a comment naming `.llm-shim.yaml` is checked as a project file
(what a project file may not set is a problem too, docs/security.md).
"""

import os
import re

import pytest

from shim.config import build

from tests.docs.conftest import REPO, markdown_files

FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>```+|~~~+)[ \t]*(?P<info>[^\n]*)\n"
                   r"(?P<body>.*?)^(?P=indent)(?P=fence)[ \t]*$", re.M | re.S)
UNKNOWN_NAME = re.compile(r": unknown (agent|tool|model|provider) '")

# Problems a block is known to have because the schema lags behind the code it documents.
# Each entry fails the test once the problem is gone, so the list cannot go stale.
# Entries are (doc file, "key.path: message"), e.g.
# ("docs/routing.md", "agents.reviewer.tier: unknown key") while the schema lacked `tier`.
KNOWN = set()


def yaml_blocks():
    """(file relative to the repo, line, text) of every yaml/yml fenced block."""
    out = []
    for path in markdown_files():
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
        for match in FENCE.finditer(text):
            if match.group("info").split()[:1] not in (["yaml"], ["yml"]):
                continue
            indent = match.group("indent")
            body = "".join(line[len(indent):] if line.startswith(indent) else line
                           for line in match.group("body").splitlines(keepends=True))
            line = text.count("\n", 0, match.start()) + 2
            out.append((os.path.relpath(path, REPO), line, body))
    return out


def _problems(rel, body, tmp_path):
    first = body.split("\n", 1)[0]
    project = first.lstrip().startswith("#") and ".llm-shim.yaml" in first
    target = tmp_path / (".llm-shim.yaml" if project else "block.yaml")
    target.write_text(body, encoding="utf-8")
    problems = build.validate_file(str(target))
    if re.search(r"^\s*#.*\bfragment\b", body, re.M):
        problems = [p for p in problems if not UNKNOWN_NAME.search(p)]
    # `FILE:LINE: key: message` -> `key: message`, so KNOWN does not depend on temp paths
    return [p.split(": ", 1)[1] if p.startswith(str(target)) else p for p in problems]


BLOCKS = yaml_blocks()


def test_the_docs_have_yaml_blocks_to_check():
    files = {rel for rel, _, _ in BLOCKS}
    assert len(BLOCKS) >= 10 and "docs/configuration.md" in files
    assert any(rel.startswith("docs/personas/") for rel in files)


@pytest.mark.parametrize("rel,line,body", BLOCKS, ids=[f"{r}:{n}" for r, n, _ in BLOCKS])
def test_yaml_block_is_a_valid_configuration(rel, line, body, tmp_path):
    if re.search(r"^\s*#\s*not llm-shim config", body, re.M):
        pytest.skip("marked: not llm-shim config")
    problems = _problems(rel, body, tmp_path)
    unexpected = [p for p in problems if (rel, _key_message(p)) not in KNOWN]
    assert not unexpected, f"{rel}:{line}: the block does not validate:\n" + "\n".join(problems)


def _key_message(problem):
    """`agents.x.tier: unknown key; did you mean 'tool'?` -> `agents.x.tier: unknown key`."""
    line = problem.split(": ", 1)[1] if re.match(r"^\d+: ", problem) else problem
    return line.split(";", 1)[0]


def test_known_schema_gaps_are_still_real(tmp_path):
    """Remove an entry from KNOWN once the schema (or the doc) is fixed."""
    seen = set()
    for rel, _line, body in BLOCKS:
        seen |= {(rel, _key_message(p)) for p in _problems(rel, body, tmp_path)}
    assert KNOWN - seen == set(), "fixed now; delete these from KNOWN"


def test_an_invalid_block_is_caught(tmp_path):
    body = "# fragment\nagents:\n  x: {tool: claud, modle: sonnet}\n"
    problems = _problems("docs/x.md", body, tmp_path)
    assert any("modle: unknown key" in p for p in problems)
    assert not any("unknown tool" in p for p in problems)  # a fragment may name other things
