"""Our files are ours (issue 15, item 5): a symlink where a file or directory of llm-shim's
should be is refused, never followed, appended to or chmod'ed; what we create is 0600 in 0700
directories, `$LLM_SHIM_HOME` included; a call whose spool is refused still runs."""

import os
import stat
import subprocess

import pytest

from shim import errors, paths, safefs
from shim.telemetry import ingest, record, spool, store
from tests.support.launchers import write_launcher


def rec(i):
    return {"v": 1, "invocation_id": f"{i:032x}", "attempt": 1,
            "started_at": 1_700_000_000.0 + i, "ended_at": 1_700_000_001.0 + i,
            "agent": "default", "tool": "llm", "reasons": [], "prompt_chars": i}


def _victim(tmp_path, text=b"precious\n"):
    victim = tmp_path / "victim.txt"
    victim.write_bytes(text)
    victim.chmod(0o644)
    return victim


def _mode(path):
    return stat.S_IMODE(os.lstat(path).st_mode)


def test_symlinked_spool_log_is_refused_not_appended_to(tmp_path, capsys):
    victim = _victim(tmp_path)
    os.makedirs(paths.spool_dir())
    os.symlink(victim, spool.spool_file())
    assert spool.append(rec(1)) is False
    assert victim.read_bytes() == b"precious\n"
    assert _mode(victim) == 0o644
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith(f"llm-shim: warning: {spool.spool_file()}: is a symlink")
    assert "not recorded" in err[0]


def test_symlinked_spool_directory_is_refused(tmp_path, capsys):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    os.makedirs(paths.data_dir())
    os.symlink(elsewhere, paths.spool_dir())
    assert spool.append(rec(1)) is False
    assert os.listdir(elsewhere) == []
    assert f"{paths.spool_dir()}: is a symlink" in capsys.readouterr().err


def test_ingestion_does_not_read_through_a_symlinked_spool(tmp_path, capsys):
    victim = _victim(tmp_path, (repr(rec(7)) + "\n").encode())
    os.makedirs(paths.spool_dir())
    os.symlink(victim, spool.spool_file())
    assert spool.claim() == []
    assert os.path.islink(spool.spool_file()) and victim.exists()
    assert "is a symlink" in capsys.readouterr().err
    # A link planted as an abandoned claimed file is skipped the same way.
    os.unlink(spool.spool_file())
    os.symlink(victim, os.path.join(paths.spool_dir(), "claimed-1-abc.log"))
    assert spool.claim() == []


def test_a_call_whose_spool_is_a_symlink_still_runs_with_its_exit_code(tmp_path, fake_cli):
    fake = fake_cli("claude")
    victim = _victim(tmp_path)
    os.makedirs(paths.spool_dir())
    os.symlink(victim, spool.spool_file())
    shims = tmp_path / "shims"
    shims.mkdir()
    write_launcher(shims / "claude")
    env = dict(os.environ, FAKE_EXIT="3",
               PATH=os.pathsep.join([str(shims), str(fake_cli.bin_dir), "/usr/bin", "/bin"]))
    proc = subprocess.run(["claude", "-p", "hello"], env=env, capture_output=True, timeout=60)
    assert proc.returncode == 3
    assert len(fake.calls()) == 1
    lines = proc.stderr.decode().strip().splitlines()
    assert len(lines) == 1 and "spool.log: is a symlink" in lines[0], lines
    assert victim.read_bytes() == b"precious\n"


@pytest.mark.parametrize("suffix", ["", "-wal", "-shm"])
def test_symlinked_database_is_refused_and_its_target_untouched(tmp_path, suffix):
    victim = _victim(tmp_path)
    os.makedirs(paths.data_dir())
    if suffix:
        store.connect().close()
    db = paths.database_file()
    for side in ("-wal", "-shm"):
        if os.path.exists(db + side):
            os.unlink(db + side)
    os.symlink(victim, db + suffix) if suffix else os.symlink(victim, db)
    with pytest.raises(errors.TelemetryError) as caught:
        store.connect()
    assert f"{db}{suffix}: is a symlink" in caught.value.why
    assert victim.read_bytes() == b"precious\n"
    assert _mode(victim) == 0o644


def test_ingest_with_a_symlinked_database_keeps_the_spool(tmp_path, capsys):
    victim = _victim(tmp_path)
    assert spool.append(rec(1))
    os.makedirs(paths.data_dir(), exist_ok=True)
    os.symlink(victim, paths.database_file())
    assert ingest.ingest() == 0
    assert f"{paths.database_file()}: is a symlink" in capsys.readouterr().err
    assert _mode(victim) == 0o644 and victim.read_bytes() == b"precious\n"
    os.unlink(paths.database_file())
    assert ingest.ingest() == 1  # the row waited in the spool


def test_llm_shim_home_and_everything_in_it_is_private(tmp_path, monkeypatch):
    home = tmp_path / "new" / "home"
    monkeypatch.setenv("LLM_SHIM_HOME", str(home))
    old = os.umask(0o022)
    try:
        assert spool.append(rec(1))
        store.connect().close()
        record.salted_hash("x")
    finally:
        os.umask(old)
    for directory in (tmp_path / "new", home, paths.spool_dir()):
        assert _mode(directory) == 0o700, directory
    for path in (spool.spool_file(), paths.database_file(),
                 os.path.join(paths.data_dir(), record.SALT_NAME)):
        assert _mode(path) == 0o600, path


def test_symlinked_salt_is_not_read(tmp_path):
    victim = _victim(tmp_path, b"s" * record.SALT_BYTES)
    os.makedirs(paths.data_dir())
    os.symlink(victim, os.path.join(paths.data_dir(), record.SALT_NAME))
    with pytest.raises(safefs.Refused):
        record.salted_hash("x")


def test_a_directory_of_another_kind_is_refused(tmp_path):
    os.makedirs(paths.data_dir())
    (tmp_path / "shim-home" / "spool").write_text("not a dir")
    with pytest.raises(safefs.Refused, match="not a directory"):
        paths.ensure_dir(paths.spool_dir())


def test_the_roots_may_be_symlinks_to_our_own_directory(tmp_path, monkeypatch):
    real = tmp_path / "real-home"
    real.mkdir(mode=0o700)
    os.symlink(real, tmp_path / "linked-home")
    monkeypatch.setenv("LLM_SHIM_HOME", str(tmp_path / "linked-home"))
    assert spool.append(rec(1))
    assert (real / "spool" / "spool.log").exists()


def test_loose_modes_of_our_existing_files_and_dirs_are_tightened_on_open(tmp_path):
    """spool/ at 0755 and spool.log / salt at 0644 (an older llm-shim, a umask) become 0700 and
    0600 through the open fd; the roots themselves are the user's and are left alone."""
    os.makedirs(paths.spool_dir())
    os.chmod(paths.spool_dir(), 0o755)
    with open(spool.spool_file(), "wb"):
        pass
    os.chmod(spool.spool_file(), 0o644)
    assert spool.append(rec(1)) is True
    assert _mode(paths.spool_dir()) == 0o700
    assert _mode(spool.spool_file()) == 0o600
    salt = os.path.join(paths.data_dir(), record.SALT_NAME)
    with open(salt, "wb") as fh:
        fh.write(os.urandom(record.SALT_BYTES))
    os.chmod(salt, 0o644)
    record._salt()
    assert _mode(salt) == 0o600
