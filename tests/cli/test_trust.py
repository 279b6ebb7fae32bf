"""`llm-shim trust [PATH]`, `trust --list`, `untrust [PATH]`, and the trust store on disk."""

import os
import stat

from shim import paths
from shim.config import compiled, trust
from tests.support.cli import run


def test_trust_pins_path_and_hash_in_a_private_file(capsys, tmp_path):
    project = tmp_path / ".llm-shim.yaml"
    project.write_text("default_agent: auto\n")
    code, out, err = run(capsys, "trust")
    assert code == 0 and err == ""
    sha = trust.digest(project.read_bytes())
    assert out == (f"trusted {project} (sha256 {sha[:16]}); an edit makes it untrusted again\n")
    store = paths.trust_file()
    assert stat.S_IMODE(os.stat(store).st_mode) == 0o600
    assert open(store).read() == f"{sha} {project}\n"
    assert [n for n in os.listdir(os.path.dirname(store)) if n.endswith(".tmp")] == []
    assert compiled.load()["default_agent"] == "auto"


def test_trust_takes_a_directory_or_a_file_and_resolves_symlinks(capsys, tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    (real / ".llm-shim.yaml").write_text("default_agent: auto\n")
    (tmp_path / "link").symlink_to(real)
    assert run(capsys, "trust", str(tmp_path / "link"))[0] == 0
    assert [e[0] for e in trust.entries()] == [str(real / ".llm-shim.yaml")]
    assert compiled.load(cwd=str(tmp_path / "link"))["default_agent"] == "auto"


def test_trust_says_which_keys_will_not_apply(capsys, tmp_path):
    (tmp_path / ".llm-shim.yaml").write_text("schema_version: 1\ntelemetry: {enabled: false}\n")
    code, out, _ = run(capsys, "trust", str(tmp_path))
    assert code == 0
    assert "these keys will not apply" in out
    assert f"{tmp_path / '.llm-shim.yaml'}:2: telemetry: not allowed in a project file" in out


def test_list_shows_trusted_changed_and_missing(capsys, tmp_path):
    code, out, _ = run(capsys, "trust", "--list")
    assert code == 0 and out.startswith("no trusted project files")
    for name in ("a", "b", "c"):
        (tmp_path / name).mkdir()
        (tmp_path / name / ".llm-shim.yaml").write_text("schema_version: 1\n")
        run(capsys, "trust", str(tmp_path / name))
    (tmp_path / "b" / ".llm-shim.yaml").write_text("schema_version: 1\n# edited\n")
    os.unlink(tmp_path / "c" / ".llm-shim.yaml")
    code, out, _ = run(capsys, "trust", "--list")
    lines = out.splitlines()
    assert [line.split("  ")[-1] for line in lines] == [
        "trusted", "changed since trusted: ignored", "missing"]
    assert lines[0].startswith(str(tmp_path / "a" / ".llm-shim.yaml"))


def test_untrust_forgets_and_the_file_is_ignored_again(capsys, tmp_path):
    (tmp_path / ".llm-shim.yaml").write_text("default_agent: auto\n")
    run(capsys, "trust")
    assert compiled.load()["default_agent"] == "auto"
    code, out, _ = run(capsys, "untrust")
    assert code == 0 and out == f"untrusted {tmp_path / '.llm-shim.yaml'}\n"
    assert compiled.load()["default_agent"] == "default"
    assert run(capsys, "untrust", str(tmp_path))[1].endswith("was not trusted\n")


def test_trust_without_a_project_file_is_one_usage_line(capsys, tmp_path):
    code, out, err = run(capsys, "trust")
    assert code == 2 and out == ""
    assert err == ("llm-shim: trust: no .llm-shim.yaml here or in a parent directory; "
                   "pass its PATH\n")
    code, _, err = run(capsys, "trust", str(tmp_path / "nope"))
    assert code == 2 and "no such file" in err


def test_parallel_trusts_keep_every_entry(tmp_path):
    """Read-modify-write of the store is serialised: eight processes, eight entries."""
    import subprocess
    import sys

    from tests.support import REPO

    for index in range(8):
        (tmp_path / f"p{index}").mkdir()
        (tmp_path / f"p{index}" / ".llm-shim.yaml").write_text(f"# {index}\n")
    code = ("import sys; sys.path.insert(0, %r); from shim.config import trust; "
            "trust.trust(sys.argv[1])" % REPO)
    procs = [subprocess.Popen([sys.executable, "-c", code,
                               str(tmp_path / f"p{index}" / ".llm-shim.yaml")])
             for index in range(8)]
    assert [p.wait(timeout=60) for p in procs] == [0] * 8
    assert len(trust.entries()) == 8


def _forge_store(tmp_path, project):
    """A store that trusts `project`, written where an attacker could put it."""
    forged = tmp_path / "forged-store"
    forged.write_text(f"{trust.digest(project.read_bytes())} {project}\n")
    os.makedirs(os.path.dirname(paths.trust_file()), exist_ok=True)
    return forged


def test_a_symlinked_trust_store_trusts_nothing_and_trust_refuses_it(capsys, tmp_path):
    project = tmp_path / ".llm-shim.yaml"
    project.write_text("default_agent: auto\n")
    forged = _forge_store(tmp_path, project)
    os.symlink(forged, paths.trust_file())
    assert compiled.load()["default_agent"] == "default"
    err = capsys.readouterr().err
    assert f"llm-shim: warning: {paths.trust_file()}: is a symlink, so no project file is " \
           "trusted" in err
    for argv in (("trust",), ("untrust",), ("trust", "--list")):
        code, out, err = run(capsys, *argv)
        assert code != 0 and out == ""
        assert err.startswith(f"llm-shim: {paths.trust_file()}: is a symlink, so "), err
        assert len(err.strip().splitlines()) == 1
    assert os.path.islink(paths.trust_file())


def test_a_group_writable_trust_store_trusts_nothing(capsys, tmp_path):
    project = tmp_path / ".llm-shim.yaml"
    project.write_text("default_agent: auto\n")
    forged = _forge_store(tmp_path, project)
    os.replace(forged, paths.trust_file())
    os.chmod(paths.trust_file(), 0o664)
    assert compiled.load()["default_agent"] == "default"
    err = capsys.readouterr().err
    assert "is writable by other users, so no project file is trusted; check nobody changed " \
           f"it, then `chmod 600 {paths.trust_file()}`" in err
    os.chmod(paths.trust_file(), 0o600)
    assert compiled.load()["default_agent"] == "auto"


def test_a_symlinked_trust_lock_is_one_standard_line(capsys, tmp_path):
    (tmp_path / ".llm-shim.yaml").write_text("default_agent: auto\n")
    os.makedirs(os.path.dirname(paths.trust_file()), exist_ok=True)
    victim = tmp_path / "victim"
    victim.write_text("x")
    os.symlink(victim, paths.trust_file() + ".lock")
    code, out, err = run(capsys, "trust")
    assert code != 0
    assert err.startswith(f"llm-shim: {paths.trust_file()}.lock: is a symlink, so nothing was "
                          "trusted; llm-shim never follows a link")
    assert victim.read_text() == "x"
