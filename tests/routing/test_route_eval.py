"""`llm-shim route --eval FILE.jsonl`, and the learned router in `route --json/--explain`."""

import json

import pytest

from shim.cli.main import main

HARD = "Lena is twice as old as Max. In 5 years their ages add up to 40. How old is Max now?"
EASY = "Pretend you are a friendly robot and tell me a joke about the weather."


def run(argv, capsys):
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def write(tmp_path, rows, name="prompts.jsonl"):
    path = tmp_path / name
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return str(path)


ROWS = [
    {"prompt": HARD, "label": "standard"},
    {"prompt": EASY, "label": "cheap"},
    {"prompt": "What is the capital of Portugal?", "label": "cheap"},
    {"prompt": "Write a poem about rain.", "label": "premium"},  # a label the router disagrees with
]


def test_eval_prints_confusion_share_and_agreement(tmp_path, capsys):
    code, out, err = run(["route", "--eval", write(tmp_path, ROWS)], capsys)
    assert code == 0, err
    assert "4 prompts, strong_share 0.35" in out
    assert "confusion (rows: label, columns: routed to)" in out
    matrix = {line.split()[0]: [int(n) for n in line.split()[1:]]
              for line in out.splitlines()
              if line.split()[:1] in (["cheap"], ["standard"], ["premium"]) and line.split()[1].isdigit()}
    assert len(matrix) == 3
    assert matrix["cheap"] == [2, 0, 0]
    assert matrix["premium"] == [1, 0, 0]
    assert sum(matrix["standard"]) == 1 and matrix["standard"][0] == 0
    assert "share per tier: cheap 75.0%" in out
    assert "agreement: 75.0% (tier equals label)" in out


def test_eval_json(tmp_path, capsys):
    code, out, _ = run(["route", "--eval", write(tmp_path, ROWS), "--json"], capsys)
    assert code == 0
    result = json.loads(out)
    assert result["total"] == 4 and result["agent"] == "auto" and result["strong_share"] == 0.35
    assert result["confusion"]["cheap"] == {"cheap": 2, "standard": 0, "premium": 0}
    assert result["agreement"] == 0.75
    assert sum(result["share"].values()) == pytest.approx(1.0)


def test_eval_uses_the_agents_strong_share(tmp_path, capsys, monkeypatch):
    config = tmp_path / "config.yaml"
    config.write_text("agents:\n  stingy:\n    cost_optimization: {strong_share: 0}\n")
    monkeypatch.setenv("LLM_SHIM_CONFIG", str(config))
    code, out, err = run(["route", "--eval", write(tmp_path, ROWS), "--agent", "stingy", "--json"],
                         capsys)
    assert code == 0, err
    assert json.loads(out)["share"]["cheap"] == 1.0


@pytest.mark.parametrize("text, why", [
    ('{"prompt": "x", "label": "gold"}\n', 'line 1: "label" must be one of cheap, standard, premium'),
    ('{"prompt": "x", "label": "cheap"}\nnot json\n', "line 2: not JSON"),
    ('{"label": "cheap"}\n', 'line 1: expected an object with a string "prompt"'),
    ("\n", "no prompts in the file"),
])
def test_eval_bad_file_is_one_line(tmp_path, capsys, text, why):
    path = tmp_path / "bad.jsonl"
    path.write_text(text, encoding="utf-8")
    code, out, err = run(["route", "--eval", str(path)], capsys)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("llm-shim: route --eval: ")
    assert why in err


def test_eval_missing_file_and_extra_command(tmp_path, capsys):
    code, _, err = run(["route", "--eval", str(tmp_path / "nope.jsonl")], capsys)
    assert code == 2 and "No such file" in err and "Traceback" not in err
    code, _, err = run(["route", "--eval", write(tmp_path, ROWS), "--", "claude", "-p", "x"], capsys)
    assert code == 2 and "--eval takes no command" in err


def test_explain_shows_score_threshold_features_and_tier(capsys):
    code, out, _ = run(["route", "--explain", "--agent", "auto", "--", "claude", "-p", HARD], capsys)
    assert code == 0
    router = [line for line in out.splitlines() if line.startswith("router:")]
    assert router and ("tier standard" in router[0] or "tier premium" in router[0])
    assert "score 0." in router[0] and "standard from 0." in router[0]
    assert "strong_share 0.35" in router[0]
    assert "top features: " in out and "kind: compute" in out
    assert "cost optimisation: score " in out


def test_json_has_score_and_route(capsys):
    code, out, _ = run(["route", "--json", "--agent", "auto", "--", "claude", "-p", EASY], capsys)
    assert code == 0
    result = json.loads(out)
    assert result["route"]["tier"] == "cheap" and result["tier"] == "cheap"
    assert result["score"] == result["route"]["score"] < result["route"]["thresholds"]["standard"]
    assert result["route"]["top_features"] and all(len(f) == 2 for f in result["route"]["top_features"])


# --- the routing data files in the repo ---------------------------------------------------------

# Public and unlabelled (MT-Bench has no tiers), and deliberately never run through the learned
# router (docs/routing.md "Benchmark"): --eval must refuse it in one clear line.
UNLABELLED = {"mt_bench_first_turns.jsonl"}


def _data_files():
    import os

    from tests.support.configs import DATA

    return sorted(os.path.join(DATA, name) for name in os.listdir(DATA) if name.endswith(".jsonl"))


@pytest.mark.parametrize("path", _data_files(), ids=lambda p: p.rsplit("/", 1)[-1])
def test_every_routing_data_file_works_with_eval(path, capsys):
    with open(path, encoding="utf-8") as fh:
        count = sum(1 for line in fh if line.strip())
    code, out, err = run(["route", "--eval", path, "--json"], capsys)
    if path.rsplit("/", 1)[-1] in UNLABELLED:
        assert code == 2 and out == "" and err.count("\n") == 1
        assert 'line 1: no "label"' in err and "--eval needs labelled prompts" in err
        return
    assert code == 0, err
    result = json.loads(out)
    assert result["total"] == count
    assert sum(sum(row.values()) for row in result["confusion"].values()) == count


def test_eval_reads_the_keyword_scores_expected_class_as_a_tier(tmp_path, capsys):
    rows = [{"prompt": EASY, "expected": "simple"}, {"prompt": HARD, "expected": "complex"},
            {"prompt": "What is the capital of Portugal?", "expected": "standard"},
            {"prompt": "Write a poem about rain.", "expected": "simple", "label": "premium"}]
    code, out, err = run(["route", "--eval", write(tmp_path, rows), "--json"], capsys)
    assert code == 0, err
    confusion = json.loads(out)["confusion"]
    assert sum(confusion["cheap"].values()) == 1       # simple -> cheap
    assert sum(confusion["standard"].values()) == 1
    assert sum(confusion["premium"].values()) == 2     # complex -> premium; "label" wins over "expected"
    assert confusion["cheap"]["cheap"] == 1


def test_eval_bad_expected_class_is_one_line(tmp_path, capsys):
    path = write(tmp_path, [{"prompt": "x", "expected": ["complex"]}])
    code, out, err = run(["route", "--eval", path], capsys)
    assert code == 2 and out == "" and err.count("\n") == 1
    assert 'line 1: "expected" must be one of simple, standard, complex, got [' in err
