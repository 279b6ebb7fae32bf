"""YAML aliases are expanded within limits: a recursive alias or an alias bomb is one
`FILE:LINE: key: message` problem, found quickly, never a RecursionError or a memory blow-up.
Merge keys (`<<: *base`) still work, and overriding a merged key is not a duplicate."""

import time

import pytest

from shim.cli.main import main as cli_main
from shim.config import build, compiled, yamlload
from shim.errors import ConfigError


def _bomb(levels=9, width=9):
    lines = ["schema_version: 1", "x0: &a0 [" + ", ".join(["lol"] * width) + "]"]
    for i in range(1, levels + 1):
        lines.append(f"x{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


def _merge_bomb(levels=30, width=9):
    lines = ["schema_version: 1", "m0: &m0 {k0: 1, k1: 2, k2: 3}"]
    for i in range(1, levels + 1):
        refs = ", ".join([f"*m{i - 1}"] * width)
        lines.append(f"m{i}: &m{i} {{<<: [{refs}], z{i}: 1}}")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("text,line,key,fragment", [
    ("a: &x [*x]\n", 1, "a[0]", "recursive alias"),
    ("a: &x {b: *x}\n", 1, "a.b", "recursive alias"),
    ("schema_version: 1\na: &x {b: 1, <<: *x}\n", 2, "a", "recursive alias"),
    ("schema_version: 1\na: &x {b: {<<: *x}}\n", 2, "a.b", "recursive alias"),
    (_bomb(), 2, None, f"expands to more than {yamlload.MAX_NODES} values"),
    (_merge_bomb(), 2, None, f"expands to more than {yamlload.MAX_NODES} values"),
    ("a: " + "[" * 80 + "]" * 80 + "\n", 1, None, f"nested more than {yamlload.MAX_DEPTH} levels"),
], ids=["sequence", "mapping", "merge-self", "merge-ancestor", "billion-laughs", "merge-bomb",
        "deep"])
def test_alias_abuse_is_one_located_problem_and_fast(write_yaml, text, line, key, fragment):
    path = write_yaml("bad.yaml", text)
    started = time.monotonic()
    value, _marks, problems = yamlload.parse(path, text)
    assert time.monotonic() - started < 5
    assert value is None
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"{path}:{line}: " + (f"{key}: " if key else "")), problems
    assert fragment in problems[0]


def test_recursive_alias_through_validate_and_the_shim_loader(write_yaml, capsys, monkeypatch):
    path = write_yaml("rec.yaml", "a: &x [*x]\n")
    assert cli_main(["config", "validate", path]) == 1
    out, err = capsys.readouterr()
    assert out.startswith(f"{path}:1: a[0]: recursive alias")
    assert "internal error" not in err and "RecursionError" not in err
    monkeypatch.setenv("LLM_SHIM_CONFIG", path)
    with pytest.raises(ConfigError) as info:
        compiled.load()
    assert "recursive alias" in info.value.problems[0]


def test_a_file_under_the_limits_with_aliases_still_loads(write_yaml):
    text = "schema_version: 1\nx0: &a [1, 2, 3]\nx1: [*a, *a, *a]\n"
    value, _marks, problems = yamlload.parse(write_yaml("ok.yaml", text), text)
    assert problems == []
    assert value["x1"] == [[1, 2, 3]] * 3


def test_merge_keys_override_without_a_duplicate_key_problem(write_yaml):
    path = write_yaml("merge.yaml", """
        schema_version: 1
        models:
          m1: &base
            provider: anthropic
            tier: cheap
            prices: {input: 1.0, output: 2.0}
          m2:
            <<: *base
            tier: premium
    """)
    assert build.validate_file(path) == []
    value, _marks, problems = yamlload.parse(path, open(path).read())
    assert problems == []
    assert value["models"]["m2"] == {"provider": "anthropic", "tier": "premium",
                                     "prices": {"input": 1.0, "output": 2.0}}


def test_first_merged_mapping_wins(write_yaml):
    text = "a: &a {k: 1, x: 1}\nb: &b {k: 2, y: 2}\nc: {<<: [*a, *b], z: 3}\n"
    value, _marks, problems = yamlload.parse(write_yaml("m.yaml", text), text)
    assert problems == []
    assert value["c"] == {"k": 1, "x": 1, "y": 2, "z": 3}


def test_merging_a_scalar_is_a_problem(write_yaml):
    text = "a: {<<: 5, b: 1}\n"
    path = write_yaml("m.yaml", text)
    _value, _marks, problems = yamlload.parse(path, text)
    assert problems == [f"{path}:1: a: << merges a mapping or a list of mappings only"]
