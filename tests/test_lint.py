"""Lint and types: ruff and mypy over the harness, the snippets and tests, and ruff over the
Python blocks inside the pages, which are code readers copy."""

import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from pytest_pages.blocks import Code
from tests.support.project import ROOT, page_as_module, pages

PAGES = sorted((ROOT / "docs").glob("*.md"))
PAGE_IDS = [page.name for page in PAGES]
# Pages are notebooks more than modules: top-level await (F704), imports where a block needs
# them (E402), and included snippets stood in for by star imports (F403, F405).
PAGE_RULES_OFF = "F704,E402,F403,F405"
# The site's code box shows about 80 characters at 1280 px: page blocks, like the snippets
# (snippets/ruff.toml), keep to PEP 8's 79.
SHOWN = ("--line-length", "79")


def run(*command: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, cwd=ROOT, input=stdin, capture_output=True, text=True, check=False
    )


def test_ruff_finds_nothing() -> None:
    result = run(sys.executable, "-m", "ruff", "check", "--no-cache", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_would_reformat_nothing() -> None:
    result = run(sys.executable, "-m", "ruff", "format", "--no-cache", "--check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_strict_passes() -> None:
    # Files and strictness from pyproject.toml; the cache outside the repository, which a
    # test run leaves untouched.
    cache = Path(tempfile.gettempdir()) / "async-fastapi-tested-mypy-cache"
    result = run(sys.executable, "-m", "mypy", "--cache-dir", str(cache))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("page", PAGES, ids=PAGE_IDS)
def test_ruff_finds_nothing_in_the_pages_python(page: Path) -> None:
    name = f"{page.relative_to(ROOT)}.py"  # findings read docs/page.md.py:LINE, the page's line
    result = run(
        *(sys.executable, "-m", "ruff", "check", "--no-cache", *SHOWN),
        *("--ignore", PAGE_RULES_OFF),
        *("--stdin-filename", name, "-"),
        stdin=page_as_module(page),
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("page", PAGES, ids=PAGE_IDS)
def test_ruff_would_reformat_no_block_of_the_pages(page: Path) -> None:
    document = pages().parse(page)
    unformatted = []
    for example in document.examples():
        code = example.parsed
        if isinstance(code, Code) and code.filename == document.path:
            result = run(
                *(sys.executable, "-m", "ruff", "format", "--no-cache", *SHOWN, "--diff"),
                *("--stdin-filename", f"{page.relative_to(ROOT)}.py", "-"),
                stdin=code.source,
            )
            if result.returncode != 0:
                unformatted.append(f"{page.relative_to(ROOT)}:{example.line}\n{result.stdout}")
    assert unformatted == [], "\n".join(unformatted)
