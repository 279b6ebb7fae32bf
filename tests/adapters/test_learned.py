"""The grammar learned from a real binary's --help (shim.grammar, shim.adapters.learned).

Help texts in tests/data/help are the pinned releases' own (`claude --help` 2.1.332, `codex
... --help` 0.171.0, `llm ... --help` 0.36).
"""

import os
import time

import pytest

from shim import adapters
from shim.adapters import claude, codex, learned
from shim.grammar import helpparse, learn
from shim.routing.decide import decide as decide_call
from tests.support.configs import make_config

HELP = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "data", "help")


def parsed(name):
    with open(os.path.join(HELP, name), encoding="utf-8") as fh:
        return helpparse.parse(fh.read())


NEW_CLAUDE_FLAGS = {"--autocompact": 1, "--cloud": "?", "--desktop": 0, "--environment": 1,
                    "--forward-subagent-text": 0, "--permission-prompts": 1, "--restricted": 0,
                    "--system-prompt-snapshot": 1, "--teleport": "?"}
NEW_CLAUDE_SUBCOMMANDS = ("attach", "gateway", "import", "logs", "purge", "respawn", "rm", "stop",
                          "kill", "ultrareview")


def test_claude_2_1_332_help_table():
    table = parsed("claude-2.1.332.txt")
    for flag, arity in NEW_CLAUDE_FLAGS.items():
        assert table["flags"][flag] == arity, flag
    assert table["flags"]["--add-dir"] == "*" and table["flags"]["-d"] == "?"
    assert table["flags"]["--model"] == 1 and table["flags"]["-p"] == 0
    for name in NEW_CLAUDE_SUBCOMMANDS + ("plugin", "plugins", "update", "upgrade"):
        assert name in table["subcommands"], name


def test_codex_0_171_0_help_tables():
    top = parsed("codex-0.171.0.txt")
    assert {"exec", "e", "resume", "fork", "queue", "archive", "remote-control"} <= set(top["subcommands"])
    assert top["flags"]["-i"] == "*" and top["flags"]["-c"] == 1 and top["flags"]["--oss"] == 0
    assert "fork" in parsed("codex-exec-0.171.0.txt")["subcommands"]


def test_llm_0_36_help_tables():
    assert "prompt" in parsed("llm-0.36.txt")["subcommands"]  # click's `prompt*`
    prompt = parsed("llm-prompt-0.36.txt")["flags"]
    assert prompt["--at"] == 2 and prompt["-o"] == 2 and prompt["-m"] == 1 and prompt["-u"] == 0


@pytest.mark.parametrize("value, arity", [
    ("", 0), ("<x>", 1), ("TEXT", 1), ("[x]", "?"), ("<x...>", "*"), ("<FILE>...", "*"),
    ("[x...]", "*"), ("<TEXT TEXT>...", 2), ("<key=value>", 1),
])
def test_value_arity(value, arity):
    assert helpparse.value_arity(value) == arity


def test_description_lines_are_not_flags():
    text = ("Options:\n  --bare        Minimal mode. Explicitly provide context via\n"
            "                --system-prompt[-file], --add-dir\n"
            "  -x, --extract     Extract\n")
    assert helpparse.parse(text)["flags"] == {"--bare": 0, "-x": 0, "--extract": 0}


# -- a pinned agent never rewrites a subcommand call -------------------------------------------

PINNED = {"agents": {"pinned": {"model": "sonnet"}}}
CODEX_PINNED = {"agents": {"pinned": {"model": "gpt-5-mini"}}}


@pytest.mark.parametrize("sub", sorted(set(parsed("claude-2.1.332.txt")["subcommands"])
                                       | claude.SUBCOMMANDS))
@pytest.mark.parametrize("learned_table", [False, True])
def test_pinned_agent_leaves_every_claude_subcommand_untouched(sub, learned_table):
    cfg = make_config(PINNED)
    grammar = _grammar("claude", "claude-2.1.332.txt") if learned_table else None
    for args in ([sub], [sub, "--help"], [sub, "x", "--json"]):
        request = adapters.parse("claude", args, cfg, grammar)
        decision = decide_call(request, cfg, "pinned")
        assert decision["argv"] == args and decision["tool"] == "claude", decision["reasons"]


# exec, e, resume and fork take the model flag themselves (tests/adapters/test_parse_codex.py).
CODEX_SUBS = sorted((set(parsed("codex-0.171.0.txt")["subcommands"]) | codex.META_COMMANDS)
                    - codex.EXEC_COMMANDS - codex.RESUME_COMMANDS)


@pytest.mark.parametrize("sub", CODEX_SUBS)
@pytest.mark.parametrize("learned_table", [False, True])
def test_pinned_agent_leaves_every_codex_subcommand_untouched(sub, learned_table):
    cfg = make_config(CODEX_PINNED)
    grammar = _grammar("codex", "codex-0.171.0.txt", exec_name="codex-exec-0.171.0.txt") \
        if learned_table else None
    for args in ([sub], [sub, "--help"], [sub, "x"]):
        request = adapters.parse("codex", args, cfg, grammar)
        decision = decide_call(request, cfg, "pinned")
        assert decision["argv"] == args, (args, decision["reasons"])


@pytest.mark.parametrize("sub", sorted(codex.EXEC_SUBCOMMANDS - {"resume"}))
def test_pinned_agent_leaves_codex_exec_subcommands_untouched(sub):
    cfg = make_config(CODEX_PINNED)
    args = ["exec", sub, "abc"]
    decision = decide_call(adapters.parse("codex", args, cfg), cfg, "pinned")
    assert decision["argv"] == args


def test_a_subcommand_only_the_learned_table_knows_is_untouched():
    cfg = make_config(PINNED)
    grammar = {"tool": "claude", "version": "9.9.9",
               "commands": {"": {"flags": {}, "subcommands": ["brandnew"]}}}
    assert decide_call(adapters.parse("claude", ["brandnew"], cfg), cfg, "pinned")["argv"] \
        != ["brandnew"]  # without the table it is a prompt
    decision = decide_call(adapters.parse("claude", ["brandnew"], cfg, grammar), cfg, "pinned")
    assert decision["argv"] == ["brandnew"]


# -- flags: built-in meaning, learned existence ------------------------------------------------

def test_a_learned_flag_keeps_a_call_understood_with_its_arity():
    cfg = make_config(PINNED)
    grammar = {"tool": "claude", "version": "9.9.9", "commands": {"": {"flags": {
        "--newvalue": 1, "--newbool": 0, "--model": 0}, "subcommands": []}}}
    args = ["-p", "--newvalue", "v", "hi", "--newbool"]
    unknown = adapters.parse("claude", args, cfg)
    assert not unknown["understood"] and unknown["unknown_flag"] == "--newvalue"
    request = adapters.parse("claude", args, cfg, grammar)
    assert request["understood"] and request["prompt"] == "hi" and request["mode"] == "oneshot"
    # The built-in meaning wins: --model still takes a value.
    assert adapters.parse("claude", ["-p", "--model", "opus", "hi"], cfg, grammar)["model"] == "opus"


def test_unknown_flag_reason_names_the_learned_version():
    cfg = make_config(PINNED)
    grammar = _grammar("claude", "claude-2.1.332.txt")
    request = adapters.parse("claude", ["-p", "hi", "--not-a-flag"], cfg, grammar)
    assert request["unknown_flag"] == "--not-a-flag"
    decision = decide_call(request, cfg, "pinned")
    assert decision["argv"] == ["-p", "hi", "--not-a-flag"]
    assert "claude 2.1.332" in decision["reasons"][0] and "--not-a-flag" in decision["reasons"][0]


def test_new_2_1_332_flags_are_understood_without_a_learned_table():
    cfg = make_config(PINNED)
    request = adapters.parse("claude", ["-p", "hi", "--restricted", "--teleport"], cfg)
    assert request["understood"] and request["prompt"] == "hi"


def test_llm_learned_plugin_command_is_meta():
    cfg = make_config({"agents": {"pinned": {"model": "gpt-4o-mini"}}})
    grammar = {"tool": "llm", "version": "0.36", "commands": {
        "": {"flags": {}, "subcommands": ["prompt", "chat", "cmd"]}, "prompt": {"flags": {}}}}
    args = ["cmd", "list", "files"]
    decision = decide_call(adapters.parse("llm", args, cfg, grammar), cfg, "pinned")
    assert decision["argv"] == args and decision["mode"] == "meta"


def _grammar(tool, top, exec_name=None):
    commands = {"": parsed(top)}
    if exec_name:
        commands["exec"] = parsed(exec_name)
    return {"tool": tool, "version": top.rsplit("-", 1)[1][:-4], "commands": commands}


# -- the cache: identity, one relearn ----------------------------------------------------------

def _binary(tmp_path, text="#!/bin/sh\n"):
    path = tmp_path / "realtool"
    path.write_text(text)
    path.chmod(0o755)
    return str(path)


def test_lookup_hit_after_write_and_stale_after_change(tmp_path):
    binary = _binary(tmp_path)
    key = learned.identity(binary)
    table = {"tool": "claude", "key": key, "version": "1.0", "commands": {}}
    assert learned.write(learned.cache_file("claude", key[0]), table)
    assert learned.lookup("claude", binary)[1] == "hit"
    with open(binary, "a") as fh:
        fh.write("# changed\n")
    assert learned.lookup("claude", binary) == (None, "stale")


def test_identity_change_triggers_exactly_one_relearn(tmp_path):
    binary = _binary(tmp_path)
    key = learned.identity(binary)
    learned.write(learned.cache_file("claude", key[0]),
                  {"tool": "claude", "key": key, "version": "1.0", "commands": {}})
    started = []
    for _ in range(3):
        assert learned.load("claude", binary, relearn=lambda *a: started.append(a)) is not None
    assert started == []  # a hit starts nothing
    os.utime(binary, ns=(time.time_ns(), time.time_ns() + 10**9))
    for _ in range(5):
        assert learned.load("claude", binary, relearn=lambda *a: started.append(a)) is None
    assert started == [("claude", binary)]
    learned.release("claude", binary)  # the learner finished (and wrote nothing new)
    learned.load("claude", binary, relearn=lambda *a: started.append(a))
    assert len(started) == 2


def test_a_stale_lock_is_taken_over(tmp_path):
    binary = _binary(tmp_path)
    assert learned.claim("claude", binary)
    assert not learned.claim("claude", binary)
    assert learned.claim("claude", binary, now=time.time() + learned.LOCK_STALE_SECONDS + 1)


def test_learn_writes_a_table_from_the_binary(tmp_path):
    help_text = open(os.path.join(HELP, "claude-2.1.332.txt"), encoding="utf-8").read()
    (tmp_path / "help.txt").write_text(help_text)
    binary = _binary(tmp_path, '#!/bin/sh\nif [ "$1" = --version ]; then echo "2.1.332 (Claude Code)"; '
                               'else cat %s; fi\n' % (tmp_path / "help.txt"))
    table = learn.learn("claude", binary, make_config())
    assert table["version"] == "2.1.332" and "error" not in table
    got, status = learned.lookup("claude", binary)
    assert status == "hit" and got["commands"][""]["flags"]["--teleport"] == "?"


def test_learning_failure_is_stored_and_not_retried(tmp_path):
    binary = _binary(tmp_path, "#!/bin/sh\nexit 3\n")
    table = learn.learn("claude", binary, make_config())
    assert "error" in table
    started = []
    assert learned.load("claude", binary, relearn=lambda *a: started.append(a)) is None
    assert started == []


def test_generic_tool_learns_only_with_a_help_recipe():
    cfg = make_config({"tools": {"gem": {"adapter": "generic", "generic": {}}}})
    assert learn.recipe("gem", cfg) is None
    cfg = make_config({"tools": {"gem": {"adapter": "generic", "generic": {}, "help": ["run"]}}})
    assert learn.recipe("gem", cfg) == ("", "run")
    assert learn.recipe("claude", cfg) == ("",)
