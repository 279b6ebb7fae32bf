"""One rule recognises a shim we generated (line 2 starts with the marker), for the resolver
that skips it on PATH and for install/uninstall that may replace or delete it."""

import os

from shim import resolve
from shim.install import shimdir, shimscript


def _write(path, text):
    path.write_text(text)
    path.chmod(0o755)
    return str(path)


def test_a_generated_shim_is_ours_everywhere(tmp_path):
    shim = _write(tmp_path / "claude", shimscript.shim_script("/usr/bin/python3", "/lib/1", "1"))
    assert resolve.has_shim_marker(shim)
    assert shimdir.is_shim_file(shim)
    assert resolve.is_our_shim(shim, running=(None, None))


def test_the_marker_elsewhere_than_line_2_is_not_a_shim(tmp_path):
    text = "#!/bin/sh\n# a wrapper\n# llm-shim shim 1.0\nexec /usr/bin/claude \"$@\"\n"
    wrapper = _write(tmp_path / "claude", text)
    assert not resolve.has_shim_marker(wrapper)
    assert not shimdir.is_shim_file(wrapper)
    assert not resolve.is_our_shim(wrapper, running=(None, None))


def test_reading_a_shims_version_uses_the_same_line_2_rule(tmp_path):
    """shimscript.shim_info finds a version exactly where resolve.has_shim_marker finds the
    marker: a form feed or a lone CR is no line break to the rule (str.splitlines thinks so)."""
    cases = {"generated": (shimscript.shim_script("/usr/bin/python3", "/lib/2.5", "2.5"), True),
             "form feed": ("#!/bin/sh\x0c# llm-shim shim 9: x\nexec claude\n", False),
             "lone CR": ("#!/bin/sh\r# llm-shim shim 9: x\nexec claude\n", False),
             "CRLF": ("#!/bin/sh\r\n# llm-shim shim 9: x\r\nexec claude\r\n", True)}
    for name, (text, ours) in cases.items():
        path = _write(tmp_path / name.replace(" ", "-"), text)
        assert resolve.has_shim_marker(path) is ours, name
        assert (shimscript.shim_info(path)["version"] is not None) is ours, name
    assert shimscript.shim_info(str(tmp_path / "generated"))["version"] == "2.5"


def test_pips_console_script_is_skipped_on_path_but_never_deleted_by_install(tmp_path):
    text = ("#!/usr/bin/python3\n# -*- coding: utf-8 -*-\nimport sys\n"
            "from shim.entry import main\nsys.exit(main())\n")
    script = _write(tmp_path / "llm-shim", text)
    assert resolve.is_our_shim(script, running=(None, None))
    assert not shimdir.is_shim_file(script)


def test_a_link_to_a_shim_is_skipped_on_path_but_not_a_shim_file(tmp_path):
    shim = _write(tmp_path / "claude", shimscript.shim_script("/usr/bin/python3", "/lib/1", "1"))
    link = tmp_path / "codex"
    os.symlink(shim, link)
    assert resolve.is_our_shim(str(link), running=(None, None))
    assert not shimdir.is_shim_file(str(link))
