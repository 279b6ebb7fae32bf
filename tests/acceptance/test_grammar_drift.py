"""Drift: every subcommand and flag that the pinned real CLIs' own `--help` lists is in the
adapters' built-in tables (classified). Bumping a version in install/versions.env makes this
fail with the exact list of what is new, to be classified in shim/adapters/*.py.

Runs the real binaries' `--help` only (no model call), with the quiet settings of
docs/acceptance.md and a private HOME.
"""

import os

import pytest

from shim.adapters import claude, codex, llm
from shim.grammar import learn

pytestmark = pytest.mark.acceptance

QUIET = {"CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1", "DISABLE_TELEMETRY": "1",
         "DISABLE_AUTOUPDATER": "1", "DISABLE_ERROR_REPORTING": "1", "NO_COLOR": "1"}


def _known(spec):
    return set(spec["arity"]) | set(spec.get("booleans", ()))


# (tool, command path) → (known flags, known subcommands) of the built-in tables.
BUILTIN = {
    ("claude", ""): (_known(claude.SPEC), claude.SUBCOMMANDS),
    ("codex", ""): (_known(codex.TOP_SPEC),
                    codex.META_COMMANDS | codex.EXEC_COMMANDS | codex.RESUME_COMMANDS),
    ("codex", "exec"): (_known(codex.EXEC_SPEC), codex.EXEC_SUBCOMMANDS),
    ("codex", "resume"): (_known(codex.EXEC_SPEC), frozenset()),
    ("codex", "fork"): (_known(codex.EXEC_SPEC), frozenset()),
    ("codex", "exec resume"): (_known(codex.EXEC_SPEC), frozenset()),
    ("llm", ""): (_known(llm.PROMPT_SPEC), llm.COMMANDS),
    ("llm", "prompt"): (_known(llm.PROMPT_SPEC), frozenset()),
    ("llm", "chat"): (_known(llm.PROMPT_SPEC), frozenset()),
}


def test_every_recipe_command_has_a_builtin_table():
    wanted = {(tool, command) for tool, commands in learn.RECIPES.items() for command in commands}
    assert wanted == set(BUILTIN)


@pytest.mark.parametrize("tool", ["claude", "codex", "llm"])
def test_builtin_tables_cover_the_pinned_help(tool, real_clis, tmp_path):
    binary = str(getattr(real_clis, tool))
    env = dict(os.environ, HOME=str(tmp_path), **QUIET)
    table = learn.build(tool, binary, learn.RECIPES[tool], env)
    pinned = {"claude": "CLAUDE_CODE_VERSION", "codex": "CODEX_VERSION", "llm": "LLM_VERSION"}
    assert table["version"] == real_clis.versions[pinned[tool]]
    new = []
    for command, found in table["commands"].items():
        flags, subcommands = BUILTIN[(tool, command)]
        where = " ".join([tool, command]).strip()
        new += ["%s flag %s" % (where, f) for f in found["flags"] if f not in flags]
        new += ["%s subcommand %s" % (where, s) for s in found["subcommands"]
                if s not in subcommands]
    assert not new, "%s %s lists what the built-in tables do not classify:\n  %s" % (
        tool, table["version"], "\n  ".join(new))
