"""The doctor's text form: marks, fix lines, the summary, and terminals without ✓."""

from shim.doctor import render
from shim.doctor.context import result

RESULTS = [
    result("config", False, "a.yaml:3: x: unknown key\na.yaml:4: y: unknown key", "fix them"),
    result("cache", False, "slow", "chmod it", severity="warn"),
    result("shims", True, "all here", "never shown"),
]


def test_text_marks_fixes_and_summary():
    out = render.text(RESULTS).splitlines()
    assert out[1].startswith("✗ config  a.yaml:3: x: unknown key")
    assert out[2].strip() == "a.yaml:4: y: unknown key"  # every problem line, indented
    assert out[3].strip() == "fix: fix them"
    assert out[4].startswith("! cache")
    assert out[6].startswith("✓ shims") and "never shown" not in "\n".join(out)
    assert out[-1] == "1 failed, 1 warning (of 3 checks)"


def test_ascii_terminal_gets_words_instead_of_marks():
    out = render.text(RESULTS, encoding="ascii")
    out.encode("ascii")
    assert "\nFAIL config" in out and "\nwarn cache" in out and "\nok   shims" in out
