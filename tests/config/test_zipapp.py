"""install/build.sh builds a reproducible dist/llm-shim.pyz that runs with a bare python3."""

import hashlib
import os
import shutil
import subprocess
import zipfile

import pytest

from shim import __version__

from tests.config.conftest import REPO

BUILD = os.path.join(REPO, "install", "build.sh")


@pytest.fixture(scope="module")
def pyz(tmp_path_factory):
    out = tmp_path_factory.mktemp("dist") / "llm-shim.pyz"
    proc = subprocess.run(["bash", BUILD, str(out)], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return out


def _python3():
    """A python3 outside our venv when there is one (the pyz must not need the venv)."""
    for candidate in ("/usr/bin/python3", shutil.which("python3")):
        if candidate and os.path.exists(candidate):
            return candidate
    pytest.skip("no python3 on this machine")


def _run(pyz, tmp_path, *args):
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path / "home"), "SHIV_ROOT": str(tmp_path / "shiv"),
           "LLM_SHIM_HOME": str(tmp_path / "shim-home"), "LANG": "C.UTF-8"}
    return subprocess.run([_python3(), "-s", str(pyz)] + list(args), cwd=str(tmp_path), env=env,
                          capture_output=True, text=True, timeout=120)


def test_pyz_runs_version_with_only_python3(pyz, tmp_path):
    with open(pyz, "rb") as fh:
        assert fh.readline() == b"#!/usr/bin/env python3\n"
    proc = _run(pyz, tmp_path, "version")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == f"llm-shim {__version__}\n"


def test_pyz_validates_config(pyz, tmp_path):
    good = tmp_path / "good.yaml"
    good.write_text("schema_version: 1\ndefault_agent: auto\n")
    bad = tmp_path / "bad.yaml"
    bad.write_text("schema_version: 1\ndefault_agent: nobody\ntelemetry: {enabled: maybe}\n")
    ok = _run(pyz, tmp_path, "config", "validate", str(good))
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout == f"ok: {good}\n"
    failed = _run(pyz, tmp_path, "config", "validate", str(bad))
    assert failed.returncode == 1
    assert [line.split(":")[1] for line in failed.stdout.splitlines()] == ["2", "3"]
    embedded = _run(pyz, tmp_path, "config", "validate")
    assert embedded.returncode == 0, embedded.stderr
    assert embedded.stdout.startswith("ok: ") and embedded.stdout.rstrip().endswith("shim/data/default.yaml")


def test_pyz_ships_the_learned_router_weights(pyz, tmp_path):
    """The weights are package data: the auto agent routes with the learned router from the pyz."""
    import json

    proc = _run(pyz, tmp_path, "route", "--json", "--agent", "auto", "--", "claude", "-p",
                "How many handshakes happen when 12 people each shake hands once?")
    assert proc.returncode == 0, proc.stderr
    decision = json.loads(proc.stdout)
    assert decision["route"] is not None and decision["route"]["tier"] != "cheap"
    assert not any("learned router unavailable" in r for r in decision["reasons"])


def test_build_is_reproducible(pyz, tmp_path):
    """Fixed timestamps and modes, sorted entries; two builds of one tree are byte-identical.

    Other people may be editing the tree while this runs, so two builds that differ are tried
    once more: a build that is really not reproducible differs both times.
    """
    with zipfile.ZipFile(pyz) as archive:
        infos = archive.infolist()
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
    names = [i.filename for i in infos if i.filename.startswith("site-packages/")]
    assert names == sorted(names)
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]

    def build(name):
        out = tmp_path / name
        proc = subprocess.run(["bash", BUILD, str(out)], cwd=REPO, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr
        return hashlib.sha256(out.read_bytes()).hexdigest()

    for attempt in range(2):
        if build(f"a{attempt}.pyz") == build(f"b{attempt}.pyz"):
            return
    pytest.fail("two builds of the same tree differ")
