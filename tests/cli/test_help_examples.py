"""Every `--help`, at every level, ends with examples that run that very command.

Walks the parser `llm-shim` builds, so a command added later without `examples=[...]` in its
`add_command(...)` call fails here.
"""

import argparse

from shim.cli.main import build_parser


def _parsers(parser, path=("llm-shim",)):
    """(command path, parser) for the root and every subcommand, aliases once."""
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            seen = set()
            for name, sub in action.choices.items():
                if id(sub) not in seen:
                    seen.add(id(sub))
                    yield from _parsers(sub, path + (name,))


def _examples(help_text):
    """The indented lines under an `examples:` heading of a --help text."""
    lines = help_text.splitlines()
    starts = [i for i, line in enumerate(lines) if line.strip().lower().startswith("example")]
    if not starts:
        return []
    out = []
    for line in lines[starts[0] + 1:]:
        if not line.startswith("  "):
            break
        out.append(line.strip())
    return out


def test_the_walk_reaches_nested_commands():
    paths = {" ".join(p) for p, _ in _parsers(build_parser())}
    assert {"llm-shim", "llm-shim config validate", "llm-shim logs prune", "llm-shim report",
            "llm-shim completion"} <= paths


def test_every_help_has_an_example_of_its_own_command():
    missing = []
    for path, parser in _parsers(build_parser()):
        command = " ".join(path)
        examples = _examples(parser.format_help())
        if not examples:
            missing.append(f"{command}: no examples in --help (add_command(..., examples=[...]))")
        elif len(path) > 1 and not any(command in e or _aliased(path, parser, e)
                                       for e in examples):
            missing.append(f"{command}: no example runs `{command}`: {examples}")
    assert not missing, "\n".join(missing)


def _aliased(path, parser, example):
    """True when `example` runs the command under one of its aliases (`llm-shim stats`)."""
    parent = build_parser()
    for name in path[1:-1]:
        parent = next(a for a in parent._actions
                      if isinstance(a, argparse._SubParsersAction)).choices[name]
    action = next(a for a in parent._actions if isinstance(a, argparse._SubParsersAction))
    aliases = [n for n, p in action.choices.items()
               if n != path[-1] and p is action.choices[path[-1]]]
    return any(" ".join(path[:-1] + (alias,)) in example for alias in aliases)


def test_a_command_without_examples_is_caught():
    parser = argparse.ArgumentParser(prog="llm-shim x", epilog="docs: docs/quickstart.md")
    assert _examples(parser.format_help()) == []
    parser.epilog = "examples:\n  llm-shim x --flag"
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    assert _examples(parser.format_help()) == ["llm-shim x --flag"]


def test_each_command_builds_its_own_modules_parser_alone():
    """`llm-shim <command>` builds only the parser of the module that adds <command> (argparse
    takes ~40 ms for all of them), and that parser knows the command as the full one does."""
    from shim.cli import main

    full = main._subcommands(build_parser())
    for name, parser in full.items():
        alone = main._subcommands(main._parser_for([name, "--help"]))
        assert name in alone and len(alone) < len(full), name
        assert alone[name].format_help() == parser.format_help(), name
