"""docs/troubleshooting.md explains every message llm-shim can print and every doctor check.

The messages are read out of shim/ with `ast` (tests/docs/messages.py says how). A message is
documented when some *entry* of the doc matches it: an inline code span, a heading, or one line
of a fenced code block. Matching is on the message's literal text, in order, with anything in
the holes (write them as `<tool>`, `<path>`... or as a real example value), whitespace-
insensitive, and anchored at the start for errors and warnings (after an optional `llm-shim: `
and `warning: `); config problems and doctor details may stand anywhere in an entry (they
follow `FILE:LINE: key:` or a check name). A new message in the code fails this test until it
is documented; that is the point.
"""

import os
import re

import pytest

from tests.docs import messages as messages_mod
from tests.docs.conftest import read_doc

DOC = "troubleshooting.md"
ANCHORED = {"error", "warning", "stderr", "script"}
# Messages with too little literal text to look for (`<…>: <…>`) come only from places that
# print another error's own what/why again; any other place must print words.
GENERIC_OK = {
    "shim/proxy.py": "re-prints the error that made the shim fail open",
    "shim/config/compiled.py": "re-raises a ConfigError cached from an earlier compile",
    "shim/config/build.py": "re-prints a project file's problems (each one a config problem) "
                            "in the warning that leaves the file out",
    "shim/doctor/checks.py": "the check name of a tool, and config problems listed line by line",
    "shim/doctor/database.py": "path + sqlite3's message (the hint names the fix)",
}


def entries(markdown):
    """Code spans, heading texts and code-block lines, whitespace collapsed."""
    out = []
    in_fence = False
    for line in markdown.splitlines():
        if re.match(r"^\s*(```|~~~)", line):
            in_fence = not in_fence
            continue
        if in_fence:
            out.append(line.strip())
            continue
        if line.lstrip().startswith("#"):
            out.append(line.lstrip().lstrip("#").strip().replace("`", ""))
    prose = re.sub(r"^\s*(```|~~~).*?^\s*(```|~~~)[^\n]*$", "", markdown, flags=re.M | re.S)
    out += [double or single for double, single
            in re.findall(r"``(.+?)``|`([^`]+)`", prose, flags=re.S)]
    return [" ".join(e.split()) for e in out if e.strip()]


def pattern(tokens, anchored):
    parts = []
    for token in tokens:
        if token is messages_mod.HOLE:
            parts.append(".*?")
        else:
            words = token.split()
            lead = r"\s*" if token[:1].isspace() else ""
            trail = r"\s*" if token[-1:].isspace() else ""
            parts.append(lead + r"\s+".join(re.escape(w) for w in words) + trail)
    body = "".join(parts)
    if anchored:
        return re.compile(r"^(?:llm-shim:\s*)?(?:warning:\s*)?" + body)
    return re.compile(body)


def documented(message, doc_entries):
    regex = pattern(message["tokens"], message["kind"] in ANCHORED)
    return any(regex.search(entry) for entry in doc_entries)


@pytest.fixture(scope="module")
def found():
    return messages_mod.all_messages()


@pytest.fixture(scope="module")
def doc_entries():
    return entries(read_doc(DOC))


def _checkable(message):
    return messages_mod.literal_letters(message["tokens"]) >= 4


def test_the_extractor_finds_the_messages_we_know(found):
    shown = {messages_mod.show(m["tokens"]) for m in found}
    for known in ("<…>: the real <…> is not on PATH (after the shims in <…>)",
                  "install: <…> exists and is not an llm-shim shim",
                  "fallback: <…> refused (<…>)",
                  "unknown key",
                  "config validate: <…> problem<…>; fix each FILE:LINE above",
                  "exec: no prompt given",
                  "install.sh: <…> is older than 3.10; set PYTHON to a newer python3",
                  "install.sh: no <…> to build the zipapp with; pass --pyz FILE",
                  "install.sh: --pyz needs a file",
                  "realclis: <…>"):
        assert known in shown, known
    kinds = {m["kind"] for m in found}
    assert {"error", "warning", "stderr", "problem", "doctor", "doctor-check",
            "script"} <= kinds
    assert len(found) > 100


def test_every_message_is_in_troubleshooting(found, doc_entries):
    missing = sorted({f"{m['kind']:<8} {messages_mod.show(m['tokens'])}    ({m['where']})"
                      for m in found if _checkable(m) and not documented(m, doc_entries)})
    assert not missing, (f"{len(missing)} message(s) not in docs/{DOC}; add each as a heading "
                         "or code span, holes as <name>:\n" + "\n".join(missing))


def test_messages_without_words_come_only_from_known_places(found):
    places = {m["where"].rsplit(":", 1)[0] for m in found if not _checkable(m)}
    unknown = places - set(GENERIC_OK)
    assert not unknown, f"messages with no literal words (all holes) in {sorted(unknown)}: " \
                        "print words a user can look up, or explain here why not"


def test_every_doctor_check_has_its_own_heading(found):
    markdown = read_doc(DOC)
    headings = [line.lstrip("#").strip() for line in markdown.splitlines()
                if line.startswith("#")]
    names = {messages_mod.show(m["tokens"]) for m in found if m["kind"] == "doctor-check"
             and _checkable(m)}
    names = {n.replace("<…>", "<tool>") for n in names}
    missing = [n for n in sorted(names) if not any(f"`{n}`" in h for h in headings)]
    assert not missing, f"doctor checks without a heading in docs/{DOC}: {missing}"


def test_matching_is_strict_enough_to_fail():
    message = {"kind": "error", "tokens": ["install: ", messages_mod.HOLE,
                                           " exists and is not an llm-shim shim"]}
    assert documented(message, entries("`llm-shim: install: <path> exists and is not an "
                                       "llm-shim shim; move it away`"))
    assert documented(message, entries("### install: `~/bin/claude` exists and is\n"
                                       "```\nllm-shim: install: /x/claude exists and is not "
                                       "an llm-shim shim\n```"))
    assert not documented(message, entries("`llm-shim: install: <path> exists`"))
    assert not documented(message, entries("`see install: <path> exists and is not an "
                                           "llm-shim shim`"))  # not at the start
    problem = {"kind": "problem", "tokens": ["unknown key"]}
    assert documented(problem, entries("`FILE:LINE: key.path: unknown key; did you mean`"))


def test_every_prefixed_line_of_the_install_scripts_is_extracted(found):
    """Each `echo "install.sh: ..."` (and the other scripts' prefixes) is a message: the
    extractor misses none of them, so none can go undocumented."""
    import glob
    import re as re_mod

    scripts = {m["where"].rsplit(":", 1)[0] for m in found if m["kind"] == "script"}
    expected = {os.path.relpath(p, messages_mod.REPO)
                for p in glob.glob(os.path.join(messages_mod.REPO, "install", "*.sh"))
                if re_mod.search(r'echo "[a-z.-]+: ', open(p).read())}
    assert expected and expected <= scripts, expected - scripts
    assert "bin/llm-shim" in scripts
    with open(os.path.join(messages_mod.REPO, "install", "install.sh")) as fh:
        lines = [n for n, line in enumerate(fh, 1) if 'echo "install.sh: ' in line]
    where = {int(m["where"].rsplit(":", 1)[1]) for m in found
             if m["where"].startswith("install/install.sh:")}
    assert set(lines) == where


def test_script_messages_are_read_with_holes_and_prefixed_helpers(tmp_path):
    script = tmp_path / "demo.sh"
    script.write_text(
        '#!/bin/sh\n'
        'say() { echo "demo: $*" >&2; }\n'
        '# echo "demo: a comment is no message"\n'
        '[ -f "$x" ] || { echo "demo: no $x here; pass --x FILE" >&2; exit 1; }\n'
        'say "installing ${pkgs[*]} into $(pwd)"\n'
        "echo 'demo: single quoted $x stays'\n"
        'echo "progress without a prefix"\n'
        'echo "demo: a long line \\\n'
        'continued"\n')
    shown = {(m["where"].rsplit(":", 1)[1], messages_mod.show(m["tokens"]))
             for m in messages_mod.script_messages([str(script)])}
    assert shown == {("2", "demo: <…>"),
                     ("4", "demo: no <…> here; pass --x FILE"),
                     ("5", "demo: installing <…> into <…>"),
                     ("6", "demo: single quoted $x stays"),
                     ("8", "demo: a long line continued")}
    message = {"kind": "script", "tokens": ["demo: no ", messages_mod.HOLE, " here"]}
    assert documented(message, entries("- `demo: no <file> here; pass --x FILE`: cause"))
    assert not documented(message, entries("- `see demo: no <file> here`"))
