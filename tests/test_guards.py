"""Guards that keep the corpus honest: nothing on a page escapes the test run."""

import html
import json
import os
import re
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest

from docs_harness import (
    RECORDINGS,
    ROOT,
    Code,
    includes,
    pages,
    scanned_python_fences,
    seeded_database,
    snippet_section,
)

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
    files = {path.name for path in SNIPPETS.iterdir() if path.is_file()}
    assert files - shown == set(), "snippets no page shows"


@pytest.mark.parametrize("page", PAGES, ids=PAGE_IDS)
def test_every_include_names_a_file_and_section_that_exist(page: Path) -> None:
    for line, path, section in includes(page):
        assert path.is_file(), f"{page.relative_to(ROOT)}:{line}: no such file {path}"
        snippet_section(path, section)  # raises, naming the file, for a missing section


def test_the_site_builds_strictly_with_every_include(tmp_path: Path) -> None:
    site = tmp_path / "site"
    build = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert build.returncode == 0, build.stderr
    assert "WARNING" not in build.stderr + build.stdout
    for page in PAGES:
        built = site / page.relative_to(DOCS).with_suffix("") / "index.html"
        if page.name == "index.md":
            built = site / page.relative_to(DOCS).with_name("index.html")
        text = html.unescape(re.sub(r"<[^>]+>", "", built.read_text(encoding="utf-8")))
        for line, path, section in includes(page):
            source, _ = snippet_section(path, section)
            shown = [row.strip() for row in source.splitlines() if row.strip()]
            missing = [row for row in shown if "--8<--" not in row and row not in text]
            assert missing == [], f"{page.name}:{line} renders without these lines of {path.name}"


def test_the_seed_database_holds_the_recorded_users(tmp_path: Path) -> None:
    url = seeded_database(tmp_path)
    with closing(sqlite3.connect(url.removeprefix("sqlite+aiosqlite:///"))) as database:
        rows = database.execute("SELECT id, name, username, email FROM users ORDER BY id")
        seeded = [dict(zip(("id", "name", "username", "email"), row, strict=True)) for row in rows]
    recorded = json.loads((RECORDINGS / "users.json").read_text(encoding="utf-8"))
    assert seeded == [
        {key: user[key] for key in ("id", "name", "username", "email")} for user in recorded
    ]
