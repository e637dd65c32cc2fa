"""Guards that keep the corpus honest: nothing on a page escapes the test run."""

import json
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from pytest_pages.blocks import Code
from pytest_pages.corpus import scanned_python_fences
from pytest_pages.includes import snippet_section
from tests.support.databases import seeded_database, sqlite_path
from tests.support.project import RECORDINGS, ROOT, includes, pages

DOCS = ROOT / "docs"
SNIPPETS = ROOT / "snippets"
PAGES = sorted(DOCS.rglob("*.md"))
PAGE_IDS = [str(page.relative_to(ROOT)) for page in PAGES]


@pytest.mark.parametrize("page", PAGES, ids=PAGE_IDS)
def test_every_python_fence_is_a_test(page: Path) -> None:
    """A plain scan of the Markdown and Sybil agree on where every Python block is, so no
    block is silently left out (a `py` fence, say). Skipped blocks are collected too, and
    ReasonedSkipParser refuses a skip without a reason."""
    document = pages().parse(page)
    collected = [
        example.line
        for example in document.examples()
        if isinstance(example.parsed, Code) and example.parsed.fenced
    ]
    assert collected == scanned_python_fences(page)


def test_the_corpus_has_python_blocks() -> None:
    """The guard above must not pass by finding nothing."""
    assert sum(len(scanned_python_fences(page)) for page in PAGES) >= 10


def test_every_snippet_is_shown_on_a_page() -> None:
    shown = {path.name for page in PAGES for _, path, _ in includes(page)}
    # ruff.toml is the snippets' lint setting (79 columns), not an example
    files = {path.name for path in SNIPPETS.iterdir() if path.is_file()}
    files.discard("ruff.toml")
    assert files - shown == set(), "snippets no page shows"


@pytest.mark.parametrize("page", PAGES, ids=PAGE_IDS)
def test_every_include_names_a_file_and_section_that_exist(page: Path) -> None:
    for line, path, section in includes(page):
        assert path.is_file(), f"{page.relative_to(ROOT)}:{line}: no such file {path}"
        snippet_section(path, section)  # raises, naming the file, for a missing section


def test_the_seed_database_holds_the_recorded_users(tmp_path: Path) -> None:
    url = seeded_database(tmp_path)
    with closing(sqlite3.connect(sqlite_path(url))) as database:
        rows = database.execute("SELECT id, name, username, email FROM users ORDER BY id")
        seeded = [dict(zip(("id", "name", "username", "email"), row, strict=True)) for row in rows]
    recorded = json.loads((RECORDINGS / "users.json").read_text(encoding="utf-8"))
    assert seeded == [
        {key: user[key] for key in ("id", "name", "username", "email")} for user in recorded
    ]
