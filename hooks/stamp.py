"""The verified stamp: a line at the foot of every page saying what the test run checked on it,
against which versions, and when. A MkDocs hook (mkdocs.yml, `hooks:`).

It reads the run's JSON report, which `make test` writes (pytest-pages' `--pages-report`) to
build/pages-report.json, or to wherever PAGES_REPORT says; `make build`, `make serve` and the
publish workflow build from it. A page the run did not verify, or a build with no report at
all, says so instead; so does every page when the pages or snippets differ from those the run
verified (the report holds a digest of them, pytest-pages' `sources_digest`). Zensical, which
reads the same mkdocs.yml, runs no MkDocs hooks: its build carries no stamp, and
tests/test_site.py holds it to that.
"""

from __future__ import annotations

import html
import json
import os
import posixpath
from pathlib import Path
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import Files
from mkdocs.structure.pages import Page

from pytest_pages.figures import sources_digest

#: Where `make test` writes the report, relative to mkdocs.yml.
REPORT = "build/pages-report.json"
#: The libraries the stamp names, as the report's `versions` calls them, and as readers do.
NAMED = {"fastapi": "FastAPI", "starlette": "Starlette", "httpx": "httpx", "python": "Python"}
#: What the stamp counts, as the report's pages count it: (key, singular, plural).
COUNTED = (
    ("python blocks passed", "example", "examples"),
    ("exchanges verified in process", "exchange", "exchanges"),
    ("conversations verified over a socket", "conversation", "conversations"),
    ("outputs verified", "printed output", "printed outputs"),
    ("prose numbers verified", "number in the prose", "numbers in the prose"),
)
HOW = "verification.md"  # the page that says what "verified" means

report: dict[str, Any] | None = None
config_dir = Path()
sources = ""  # the digest of the pages and snippets this build reads


def on_config(config: MkDocsConfig) -> None:
    global report, config_dir, sources
    config_dir = Path(str(config.config_file_path)).parent
    path = config_dir / os.environ.get("PAGES_REPORT", REPORT)
    report = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None
    snippets = config.mdx_configs.get("pymdownx.snippets", {}).get("base_path", [])
    sources = sources_digest([Path(config.docs_dir), *(config_dir / s for s in snippets)])


def on_page_markdown(markdown: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    """The page's Markdown with its stamp as the last paragraph; MkDocs resolves the link."""
    docs = os.path.relpath(config.docs_dir, config_dir)  # as the report names pages: docs/x.md
    name = (Path(docs) / page.file.src_uri).as_posix()
    how = posixpath.relpath(HOW, posixpath.dirname(page.file.src_uri) or ".")
    return f'{markdown}\n\n<p class="verified" markdown>{stamp(name)} [How]({how})</p>\n'


def stamp(name: str) -> str:
    """The stamp's words for the page `name` (`docs/page.md`), escaped for HTML."""
    if report is None:
        return "Not verified: this build found no test report (`make test` writes it)."
    when = str(report["finished"])[:10]
    if report.get("sources") != sources:
        return html.escape(f"Not verified: the pages changed after the test run of {when}.")
    counts = report["pages"].get(name, {})
    skips = [skip for skip in report["skipped"] if skip["page"] == name]
    if not counts.get("pages"):
        return html.escape(f"Not verified: the test run of {when} did not run this page.")
    if counts.get("checks failed"):
        return html.escape(f"Not verified: a check on this page failed in the test run of {when}.")
    if not any(counts.get(key) for key, _, _ in COUNTED):
        return html.escape(f"Not verified: every check on this page was skipped on {when}.")
    figures = [
        f"{int(counts.get(key, 0))} {singular if counts.get(key) == 1 else plural}"
        for key, singular, plural in COUNTED
        if counts.get(key) or key == "python blocks passed"
    ]
    if skips:
        figures.append(f"{len(skips)} skipped")
    versions = " / ".join(f"{shown} {report['versions'][key]}" for key, shown in NAMED.items())
    commit = str(report.get("commit", "unknown"))[:7]
    return html.escape(f"Verified: {', '.join(figures)}, on {versions}, {when} ({commit}).")
