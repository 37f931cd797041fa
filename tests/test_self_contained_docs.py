"""The product's files refer to the product's own domain page, never to a file outside it.

The domain rules are written in the project's words in docs/domain.md; code, docs, tools,
examples and the changelog point there ("docs/domain.md 3.5") and at sections it has.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path


ROOT = Path(__file__).resolve().parents[1]

#: The product's files: what ships or is published (the built docs excluded).
PRODUCT_DIRS = ("src", "docs", "tools", "examples", "benchmarks")
PRODUCT_FILES = ("README.md", "CHANGELOG.md")
SKIPPED_DIRS = {"_build", "__pycache__", ".mypy_cache", ".ruff_cache", ".pytest_cache"}
TEXT_SUFFIXES = {".py", ".md", ".rst", ".txt", ".toml", ".cfg", ".ini", ".html", ".j2", ".po"}

#: The briefing outside the repository; the product never names it.
OUTSIDE_PAGE = re.compile(r"DOMAIN\.md")
#: A reference to a section of the domain page: "domain.md 3.5", "domain.md, 9", "sections 1".
SECTION_REFERENCE = re.compile(r"domain\.md,? (?:sections? )?(\d+(?:\.\d+)?)")
SECTION_HEADING = re.compile(r"^#{2,3} (\d+(?:\.\d+)?)\.? ", re.MULTILINE)


def _product_files() -> Iterator[Path]:
    for name in PRODUCT_FILES:
        if (ROOT / name).is_file():
            yield ROOT / name
    for top in PRODUCT_DIRS:
        for path in sorted((ROOT / top).rglob("*")):
            parts = set(path.relative_to(ROOT).parts)
            if path.is_file() and path.suffix in TEXT_SUFFIXES and not parts & SKIPPED_DIRS:
                yield path


def _matches(pattern: re.Pattern[str]) -> Iterator[tuple[str, re.Match[str]]]:
    """Each match of ``pattern`` in the product's files, with its file and line."""
    for path in _product_files():
        text = path.read_text("utf-8", errors="replace")
        for number, line in enumerate(text.splitlines(), start=1):
            for match in pattern.finditer(line):
                yield f"{path.relative_to(ROOT)}:{number}", match


def test_the_product_scans_real_files() -> None:
    # the scan below means something only if it reads the product's files
    names = {str(path.relative_to(ROOT)) for path in _product_files()}
    assert {"README.md", "docs/domain.md", "src/csdomain/audit.py"} <= names
    assert not any(name.startswith("docs/_build/") for name in names)


def test_no_product_file_mentions_the_outside_briefing() -> None:
    # Rule: the docs are self-contained: code, docs, tools, examples, README and changelog
    # point at docs/domain.md, never at a DOMAIN page that is not in the repository
    found = [where for where, _ in _matches(OUTSIDE_PAGE)]
    assert found == []


def test_every_domain_reference_names_a_section_of_the_domain_page() -> None:
    # Rule: a reference "docs/domain.md N" names a section docs/domain.md has
    page = (ROOT / "docs" / "domain.md").read_text("utf-8")
    sections = set(SECTION_HEADING.findall(page))
    assert {"1", "2", "3", "3.5", "9", "10"} <= sections
    dangling = [
        f"{where}: {match.group(0)}"
        for where, match in _matches(SECTION_REFERENCE)
        if match.group(1) not in sections
    ]
    assert dangling == []
