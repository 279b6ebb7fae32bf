"""Relative links in the docs and the README point at files that exist, and at headings that
exist in them (GitHub's anchor rules), so a reader following the quickstart never hits a 404."""

import os
import re

import pytest

from tests.docs.conftest import REPO, markdown_files

LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^\s*(```|~~~).*?^\s*(```|~~~)[^\n]*$", re.M | re.S)


def slug(heading):
    """GitHub's anchor for a heading: lower case, markup and punctuation dropped, spaces to -."""
    text = re.sub(r"[`*_]|<[^>]+>", "", heading.strip().lower())
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path):
    with open(path, encoding="utf-8") as fh:
        text = FENCE.sub("", fh.read())
    seen, out = {}, set()
    for line in text.splitlines():
        match = re.match(r"^#{1,6}\s+(.*)$", line)
        if match:
            base = slug(match.group(1))
            count = seen.get(base, 0)
            seen[base] = count + 1
            out.add(base if count == 0 else f"{base}-{count}")
    return out


def links():
    out = []
    for path in markdown_files():
        with open(path, encoding="utf-8") as fh:
            text = FENCE.sub("", fh.read())
        for target in LINK.findall(text):
            if re.match(r"^[a-z]+:", target):  # http:, mailto:
                continue
            out.append((os.path.relpath(path, REPO), target))
    return out


LINKS = links()


def test_the_docs_link_to_each_other():
    assert len(LINKS) > 30


@pytest.mark.parametrize("source,target", LINKS, ids=[f"{s}->{t}" for s, t in LINKS])
def test_link_resolves(source, target):
    file_part, _, anchor = target.partition("#")
    path = os.path.normpath(os.path.join(REPO, os.path.dirname(source), file_part)) \
        if file_part else os.path.join(REPO, source)
    assert os.path.exists(path), f"{source}: {target}: no such file"
    if anchor and path.endswith(".md"):
        assert anchor in anchors(path), f"{source}: {target}: no heading with that anchor"


def test_slug_follows_github():
    assert slug("`llm-shim doctor` checks") == "llm-shim-doctor-checks"
    assert slug("Why parallel calls cannot overspend (reservations)") == \
        "why-parallel-calls-cannot-overspend-reservations"
    assert slug("logs, report, budget, prices") == "logs-report-budget-prices"
