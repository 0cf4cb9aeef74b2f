"""The documentation a newcomer reads: README.md and docs/*.md link only to files and sections that exist, every
docs page is reachable from the README, and the README stays short (issue 14.6: at most 12 KB)."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

import pytest

from config.settings import REPO_ROOT

README = REPO_ROOT / "README.md"
PAGES = sorted((REPO_ROOT / "docs").glob("*.md"))
MAX_README_BYTES = 12 * 1024
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")  # [text](target): inline links only, the only kind these pages use
FENCE = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)
CODE_SPAN = re.compile(r"`[^`\n]*`")
HEADING = re.compile(r"^#{1,6} +(.+?) *#*$", re.MULTILINE)


def links(page: Path) -> list[str]:
    text = CODE_SPAN.sub("", FENCE.sub("", page.read_text()))
    return LINK.findall(text)


def anchors(page: Path) -> set[str]:
    """GitHub's heading ids: lower case, punctuation but '-' and '_' dropped, spaces as '-', repeats numbered."""
    ids: set[str] = set()
    for heading in HEADING.findall(FENCE.sub("", page.read_text())):
        slug = candidate = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        repeat = 0
        while candidate in ids:
            repeat += 1
            candidate = f"{slug}-{repeat}"
        ids.add(candidate)
    return ids


def broken(page: Path, target: str) -> str | None:
    """Why a relative link from `page` leads nowhere, or None if it resolves."""
    if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto:: not files of this repository
        return None
    path, _, fragment = target.partition("#")
    file = (page.parent / unquote(path)).resolve() if path else page
    if not file.exists():
        return f"{page.name}: {target}: no such file"
    if fragment and file.suffix == ".md" and fragment not in anchors(file):
        return f"{page.name}: {target}: no such heading"
    return None


@pytest.mark.parametrize("page", [README, *PAGES], ids=lambda page: str(page.relative_to(REPO_ROOT)))
def test_every_relative_link_leads_to_an_existing_file_and_heading(page: Path) -> None:
    problems = [problem for target in links(page) if (problem := broken(page, target))]
    assert problems == []


def test_every_docs_page_is_linked_from_the_readme() -> None:
    linked = {(README.parent / target.partition("#")[0]).resolve() for target in links(README)}
    assert [page.name for page in PAGES if page.resolve() not in linked] == []


def test_the_readme_stays_a_ten_minute_read() -> None:
    assert len(README.read_bytes()) <= MAX_README_BYTES


def test_a_missing_file_or_heading_is_reported(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "# Title\n\n## Part `two`\n\n## Part two\n\n"
        "[a](other.md) [b](#part-two-1) [c](page.md#nowhere) `[d](none.md)`\n"
    )
    (tmp_path / "other.md").write_text("# Other\n")
    assert [target for target in links(page) if broken(page, target)] == ["page.md#nowhere"]
    (tmp_path / "other.md").unlink()
    assert [target for target in links(page) if broken(page, target)] == ["other.md", "page.md#nowhere"]
