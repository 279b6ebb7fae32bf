"""`llm-shim doctor`'s platform check: the limits of macOS (and of a Linux without setpriv),
played on this machine, and a real tool that is a Windows program seen through WSL2."""

import json
import os

import pytest

from shim import runner
from shim.doctor import platform_limits


def _checks(cli):
    code, out, err = cli("doctor", "--json")
    return code, [r for r in json.loads(out)["checks"]
                  if r["name"] == "platform" or r["name"].startswith("wsl:")]


@pytest.mark.skipif(not platform_limits.parent_death_guard(),
                    reason="needs Linux with util-linux's setpriv")
def test_linux_with_setpriv_has_no_limits(cli, installed, all_tools):
    code, [platform] = _checks(cli)
    assert platform["status"] == "ok"
    assert platform["detail"] == "Linux: a shim killed with SIGKILL takes the real tool with it"


def test_macos_reports_its_limits_without_failing(cli, installed, all_tools, monkeypatch):
    monkeypatch.setattr(platform_limits, "system", lambda: "Darwin")
    monkeypatch.setattr(platform_limits, "pid_start_times", lambda pid=None: False)
    code, [platform] = _checks(cli)
    assert code == 0 and platform["status"] == "ok"
    assert platform["detail"].startswith("macOS: kill -9 of a shim leaves the real tool "
                                         "running")
    assert "no /proc" in platform["detail"]


def test_linux_without_setpriv_warns_with_the_fix(cli, installed, all_tools, monkeypatch,
                                                  tmp_path):
    monkeypatch.setattr(runner, "SETPRIV", str(tmp_path / "no-setpriv"))
    monkeypatch.setattr(platform_limits, "system", lambda: "Linux")
    code, [platform] = _checks(cli)
    assert code == 0 and platform["status"] == "warn"
    assert platform["detail"].startswith(f"Linux without {tmp_path / 'no-setpriv'}: ")
    assert "apt-get install util-linux" in platform["hint"]


def test_another_system_is_untested(cli, installed, all_tools, monkeypatch):
    monkeypatch.setattr(platform_limits, "system", lambda: "FreeBSD")
    code, [platform] = _checks(cli)
    assert platform["status"] == "warn" and platform["detail"].startswith("FreeBSD: untested")


def test_a_windows_claude_through_interop_is_named(cli, installed, all_tools, fake_bin,
                                                   monkeypatch, tmp_path):
    """Under WSL2 the Windows PATH is appended: a Windows-side claude.exe can be the first
    claude. Played with a PE file named claude.exe (what Windows' installer puts there)."""
    windows = tmp_path / "AppData" / "Local" / "bin"
    windows.mkdir(parents=True)
    exe = windows / "claude.exe"
    exe.write_bytes(b"MZ\x90\x00" + b"\0" * 60)
    exe.chmod(0o755)
    os.unlink(all_tools["claude"])
    os.symlink(exe, fake_bin / "claude")
    monkeypatch.setenv("WSL_DISTRO_NAME", "Ubuntu")
    monkeypatch.setattr(platform_limits, "system", lambda: "Linux")
    code, results = _checks(cli)
    by_name = {r["name"]: r for r in results}
    assert by_name["platform"]["detail"].startswith("Linux under WSL: ")
    wsl = by_name["wsl:claude"]
    assert wsl["status"] == "warn"
    assert "is a Windows program (WSL interop)" in wsl["detail"]
    assert "install the Linux claude inside WSL" in wsl["hint"]
    assert set(by_name) == {"platform", "wsl:claude"}  # the Linux codex and llm are fine


@pytest.mark.parametrize("path, windows", [
    ("/mnt/c/Users/me/AppData/Roaming/npm/claude", True),
    ("/mnt/d/tools/codex.exe", True),
    ("/mnt/wsl/claude", False),          # WSL's own shared mount, not a drive
    ("/mnt/cdrom/claude", False),
    ("/usr/local/bin/claude", False),
])
def test_windows_drives_are_told_by_path(path, windows):
    assert platform_limits.windows_binary(path) is windows


def test_an_elf_named_claude_exe_is_linux(tmp_path):
    """npm's @anthropic-ai/claude-code installs the Linux binary as bin/claude.exe."""
    elf = tmp_path / "claude.exe"
    elf.write_bytes(b"\x7fELF" + b"\0" * 60)
    assert platform_limits.windows_binary(str(elf)) is False
    elf.write_bytes(b"MZ" + b"\0" * 60)
    assert platform_limits.windows_binary(str(elf)) is True


def test_wsl_is_told_by_the_kernel_release(tmp_path):
    release = tmp_path / "osrelease"
    release.write_text("5.15.167.4-microsoft-standard-WSL2\n")
    assert platform_limits.is_wsl({}, str(release))
    release.write_text("6.1.0-28-amd64\n")
    assert not platform_limits.is_wsl({}, str(release))
    assert platform_limits.is_wsl({"WSL_DISTRO_NAME": "Ubuntu"}, str(tmp_path / "none"))
