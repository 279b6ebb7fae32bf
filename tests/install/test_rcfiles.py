"""Marked blocks: appended at the end, replaced in place, removed to the original bytes."""

import os

import pytest

from shim.install import rcfiles

BODY = "export PATH=/shims:$PATH\n"
BLOCK = b"# >>> llm-shim >>>\nexport PATH=/shims:$PATH\n# <<< llm-shim <<<\n"


@pytest.mark.parametrize("original", [
    b"",
    b"export A=1\n",
    b"export A=1",                      # no final newline
    b"line\r\nwindows\r\n",
    "caf\u00e9\n".encode("latin-1") + b"\xff\xfe\n",  # not UTF-8
])
def test_add_then_remove_restores_the_exact_bytes(tmp_path, original):
    rc = tmp_path / "rc"
    rc.write_bytes(original)
    action, record = rcfiles.add_block(str(rc), BODY)
    assert action == "appended"
    data = rc.read_bytes()
    assert data.startswith(original) and data.endswith(BLOCK)  # at the END
    assert rcfiles.remove_block(str(rc), record) == "removed"
    assert rc.read_bytes() == original


def test_appended_block_starts_on_its_own_line_after_a_blank_line(tmp_path):
    rc = tmp_path / "rc"
    rc.write_bytes(b"export A=1")
    rcfiles.add_block(str(rc), BODY)
    assert rc.read_bytes() == b"export A=1\n\n" + BLOCK


def test_absent_file_is_created_and_deleted_again_with_its_dirs(tmp_path):
    rc = tmp_path / "config" / "fish" / "conf.d" / "llm-shim.fish"
    (tmp_path / "config").mkdir()
    action, record = rcfiles.add_block(str(rc), BODY)
    assert action == "created" and rc.read_bytes() == BLOCK
    assert record["created_dirs"] == [str(tmp_path / "config" / "fish"),
                                      str(tmp_path / "config" / "fish" / "conf.d")]
    assert rcfiles.remove_block(str(rc), record) == "deleted"
    assert os.listdir(tmp_path / "config") == []


def test_created_file_the_user_added_to_is_kept(tmp_path):
    rc = tmp_path / ".zprofile"
    _, record = rcfiles.add_block(str(rc), BODY)
    with open(rc, "ab") as fh:
        fh.write(b"alias ll='ls -l'\n")
    assert rcfiles.remove_block(str(rc), record) == "removed"
    assert rc.read_bytes() == b"alias ll='ls -l'\n"


def test_second_add_changes_nothing(tmp_path):
    rc = tmp_path / "rc"
    rc.write_bytes(b"x\n")
    rcfiles.add_block(str(rc), BODY)
    before = rc.read_bytes(), os.stat(rc).st_mtime_ns
    assert rcfiles.add_block(str(rc), BODY) == ("unchanged", None)
    assert (rc.read_bytes(), os.stat(rc).st_mtime_ns) == before


def test_changed_block_is_replaced_where_it_stands(tmp_path):
    rc = tmp_path / "rc"
    rc.write_bytes(b"a\n" + BLOCK + b"b\n")
    assert rcfiles.add_block(str(rc), "export PATH=/new:$PATH\n") == ("replaced", None)
    assert rc.read_bytes() == \
        b"a\n# >>> llm-shim >>>\nexport PATH=/new:$PATH\n# <<< llm-shim <<<\nb\n"


def test_lines_the_user_wrote_after_the_block_survive_removal(tmp_path):
    rc = tmp_path / "rc"
    rc.write_bytes(b"export A=1")
    _, record = rcfiles.add_block(str(rc), BODY)
    with open(rc, "ab") as fh:
        fh.write(b"export B=2\n")
    rcfiles.remove_block(str(rc), record)
    assert rc.read_bytes() == b"export A=1\nexport B=2\n"


def test_removal_without_a_record_takes_only_the_block(tmp_path):
    rc = tmp_path / "rc"
    rc.write_bytes(b"a\n\n" + BLOCK)
    assert rcfiles.remove_block(str(rc)) == "removed"
    assert rc.read_bytes() == b"a\n\n"
    assert rcfiles.remove_block(str(rc)) is None
    assert rcfiles.remove_block(str(tmp_path / "absent")) is None


def test_unterminated_block_runs_to_the_end(tmp_path):
    rc = tmp_path / "rc"
    rc.write_bytes(b"a\n# >>> llm-shim >>>\nexport PATH=/x:$PATH\n")
    rcfiles.remove_block(str(rc))
    assert rc.read_bytes() == b"a\n"


def test_symlinked_rc_file_stays_a_symlink_and_keeps_its_mode(tmp_path):
    dotfiles = tmp_path / "dotfiles"
    dotfiles.mkdir()
    target = dotfiles / "bashrc"
    target.write_bytes(b"set -o vi\n")
    target.chmod(0o600)
    link = tmp_path / ".bashrc"
    link.symlink_to(target)
    _, record = rcfiles.add_block(str(link), BODY)
    assert link.is_symlink() and target.read_bytes().endswith(BLOCK)
    assert oct(target.stat().st_mode & 0o777) == "0o600"
    rcfiles.remove_block(str(link), record)
    assert link.is_symlink() and target.read_bytes() == b"set -o vi\n"
    assert sorted(os.listdir(dotfiles)) == ["bashrc"]  # no temp files left


def test_find_block_ignores_markers_inside_a_line():
    assert rcfiles.find_block(b"echo '# >>> llm-shim >>>'\n") is None
    assert rcfiles.find_block(BLOCK) == (0, len(BLOCK))
