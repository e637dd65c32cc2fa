"""The site as readers get it, built twice: by Material for MkDocs, which publishes it, and by
Zensical, its successor, which reads the same mkdocs.yml. Both must hold every page, every
included line of every snippet, and the same words."""

import html
import importlib.util
import json
import re
import types
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]  # mkdocs' dependency; no stubs installed
from sybil import Document

from pytest_pages.includes import snippet_section
from pytest_pages.prose import masked
from tests.support.project import ROOT, includes, page_address

DOCS = ROOT / "docs"
PAGES = sorted(DOCS.rglob("*.md"))
MAKEFILE = (ROOT / "Makefile").read_text(encoding="utf-8")
# Where each engine writes its search index, and the key that lists its entries.
SEARCH_INDEX = {
    "mkdocs": ("search/search_index.json", "docs"),
    "zensical": ("search.json", "items"),
}


def built(site: Path, page: Path) -> Path:
    return site / page_address(page) / "index.html"


def article(path: Path) -> str:
    """The text a reader reads: the page's article, without its markup, the site's chrome or
    the verified stamp (MkDocs' build alone has one: Zensical runs no hooks)."""
    match = re.search(r"<article[^>]*>(.*)</article>", path.read_text(encoding="utf-8"), re.S)
    assert match, f"{path} has no article"
    return html.unescape(re.sub(r"<[^>]+>", "", STAMP.sub("", match[1])))


STAMP = re.compile(r'<p class="verified">(.*?)</p>', re.S)
VERIFIED = re.compile(
    r"Verified: (?P<figures>.*), on FastAPI (?P<fastapi>\S+) / Starlette (?P<starlette>\S+) / "
    r"httpx (?P<httpx>\S+) / Python (?P<python>\S+), (?P<date>[-\d]{10}) \((?P<commit>\w+)\)\. "
    r"How$"
)
COUNTED = {  # the stamp's words for the report's counts
    "example": "python blocks passed",
    "exchange": "exchanges verified in process",
    "conversation": "conversations verified over a socket",
    "printed output": "outputs verified",
    "number in the prose": "prose numbers verified",
}


def stamps(page: Path) -> list[str]:
    """The text of each verified stamp on a built page."""
    found = STAMP.findall(page.read_text(encoding="utf-8"))
    return [html.unescape(re.sub(r"<[^>]+>", "", stamp)).strip() for stamp in found]


def test_every_page_carries_a_stamp_with_the_reports_figures(
    mkdocs_site: Path, pages_report: Path
) -> None:
    report = json.loads(pages_report.read_text(encoding="utf-8"))
    verified = 0
    for page in PAGES:
        name = page.relative_to(ROOT).as_posix()
        [stamp] = stamps(built(mkdocs_site, page))  # one, and only one
        counts = report["pages"].get(name, {})
        when = report["finished"][:10]
        if not counts.get("pages"):
            assert stamp == f"Not verified: the test run of {when} did not run this page. How"
            continue
        if counts and not any(counts.get(key) for key in COUNTED.values()):
            assert stamp == f"Not verified: every check on this page was skipped on {when}. How"
            continue
        if counts.get("checks failed"):
            failed = f"Not verified: a check on this page failed in the test run of {when}. How"
            assert stamp == failed
            continue
        match = VERIFIED.fullmatch(stamp)
        assert match, f"{page.name}: {stamp!r}"
        shown = {}
        for figure in match["figures"].split(", "):
            number, word = figure.split(" ", 1)
            singular = word.replace("numbers", "number").replace("outputs", "output")
            shown[singular.removesuffix("s")] = int(number)
        skips = sum(skip["page"] == name for skip in report["skipped"])
        expected = {word: int(counts.get(key, 0)) for word, key in COUNTED.items()}
        expected = {w: n for w, n in expected.items() if n or w == "example"}
        assert shown == expected | ({"skipped": skips} if skips else {}), (page.name, stamp)
        assert {key: match[key] for key in ("fastapi", "starlette", "httpx", "python")} == {
            key: report["versions"][key] for key in ("fastapi", "starlette", "httpx", "python")
        }
        assert (match["date"], match["commit"]) == (report["finished"][:10], report["commit"][:7])
        verified += 1
    assert 0 < verified < len(PAGES)  # the report's failed and absent pages say so


def load_hook() -> Any:  # the hook module, whose globals the tests set
    spec = importlib.util.spec_from_file_location("stamp", ROOT / "hooks" / "stamp.py")
    assert spec
    assert spec.loader
    hook = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hook)
    return hook


def test_pages_changed_after_the_run_are_not_stamped_verified(pages_report: Path) -> None:
    hook = load_hook()
    hook.report = json.loads(pages_report.read_text(encoding="utf-8"))
    hook.sources = hook.report["sources"]  # what the run verified: the stamp says so
    assert hook.stamp("docs/overview.md").startswith("Verified: ")
    hook.sources = "the digest of an edited page"
    when = hook.report["finished"][:10]
    assert hook.stamp("docs/overview.md") == (
        f"Not verified: the pages changed after the test run of {when}."
    )


def test_zensical_builds_without_the_stamp(sites: dict[str, Path]) -> None:
    for page in PAGES:
        assert stamps(built(sites["zensical"], page)) == [], page.name


def test_a_build_without_a_report_says_the_pages_are_not_verified(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PAGES_REPORT", raising=False)
    hook = load_hook()
    (tmp_path / "docs").mkdir()
    config = types.SimpleNamespace(
        config_file_path=str(tmp_path / "mkdocs.yml"),
        docs_dir=str(tmp_path / "docs"),
        mdx_configs={},
    )
    hook.on_config(config)  # no build/pages-report.json beside it
    assert hook.stamp("docs/overview.md") == (
        "Not verified: this build found no test report (`make test` writes it)."
    )


def test_every_page_is_built_with_every_included_line(built_site: tuple[str, Path]) -> None:
    engine, site = built_site
    for page in PAGES:
        text = article(built(site, page))
        for line, path, section in includes(page):
            source, _ = snippet_section(path, section)
            shown = [row.strip() for row in source.splitlines() if row.strip()]
            missing = [row for row in shown if "--8<--" not in row and row not in text]
            assert missing == [], f"{engine}: {page.name}:{line} lacks these lines of {path.name}"


def test_both_engines_render_the_same_words(sites: dict[str, Path]) -> None:
    for page in PAGES:
        words = {engine: article(built(site, page)).split() for engine, site in sites.items()}
        assert words["mkdocs"] == words["zensical"], f"{page.name} reads differently"
        assert len(words["mkdocs"]) > 100, f"{page.name} is nearly empty"


def test_no_prose_number_marker_shows(built_site: tuple[str, Path]) -> None:
    """A marker after a number in the prose (`3.0<!-- = seconds -->`, checked by the run) is an
    HTML comment: in the page's source, never in its text, where only code may show one."""
    engine, site = built_site
    for page in PAGES:
        found = re.search(
            r"<article[^>]*>(.*)</article>", built(site, page).read_text("utf-8"), re.S
        )
        assert found, f"{engine}: {page.name} has no article"
        prose = re.sub(r"<(pre|code)\b.*?</\1>", "", found[1], flags=re.S)
        assert "&lt;!--" not in prose, f"{engine}: {page.name} shows a comment as text"
        source = masked(Document(page.read_text(encoding="utf-8"), str(page)))  # code aside
        markers = len(re.findall(r"\d<!-- = ", source))
        assert len(re.findall(r"\d<!-- = ", prose)) == markers, f"{engine}: {page.name}"


def test_search_indexes_every_page(built_site: tuple[str, Path]) -> None:
    engine, site = built_site
    path, key = SEARCH_INDEX[engine]
    entries = json.loads((site / path).read_text(encoding="utf-8"))[key]
    pages = {entry["location"].partition("#")[0] for entry in entries}
    assert pages == {page_address(page) for page in PAGES}


def test_an_unknown_address_gets_the_guides_404_page(built_site: tuple[str, Path]) -> None:
    engine, site = built_site
    page = (site / "404.html").read_text(encoding="utf-8")
    assert "This page does not exist" in page
    assert "the path through the guide" in page
    title = re.search(r"<title>(.*?)</title>", page, re.S)
    assert title, f"{engine}: the 404 page has no title"
    assert title[1].strip() == "Page not found - Async FastAPI, tested", engine


def front_matter(page: Path) -> dict[str, object]:
    text = page.read_text(encoding="utf-8")
    match = re.match(r"---\n(.*?)\n---\n", text, re.S)
    return yaml.safe_load(match[1]) if match else {}


# Without `description:` in its front matter, a page shows the site's description, in search
# results and link previews too.
def test_every_page_has_its_own_description() -> None:
    descriptions = {page.name: front_matter(page).get("description") for page in PAGES}
    missing = sorted(name for name, text in descriptions.items() if not text)
    assert missing == [], f"pages without a description in their front matter: {missing}"
    texts = [text for text in descriptions.values() if text]
    assert len(set(texts)) == len(texts), "two pages share a description"


def test_the_site_asks_no_other_host_for_scripts_or_styles() -> None:
    """Everything the pages load comes from the site: Mermaid from the npm registry, copied
    into docs/javascripts/ by make setup (the browser test checks that diagrams render, and
    fails on any request to another host)."""
    config = yaml.load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"), Loader=yaml.BaseLoader)
    assets = [*config["extra_javascript"], *config["extra_css"]]
    assert "javascripts/mermaid.min.js" in assets
    assert [asset for asset in assets if "//" in asset] == []
    assert config["theme"]["font"] == "false"


def test_the_workflow_verifies_then_publishes_what_make_build_writes() -> None:
    """.github/workflows/publish.yml cannot run here; what it runs and publishes can be read."""
    workflow = yaml.safe_load((ROOT / ".github/workflows/publish.yml").read_text(encoding="utf-8"))
    test, publish = workflow["jobs"]["test"], workflow["jobs"]["publish"]
    commands = [step["run"] for step in test["steps"] if "run" in step]
    assert "bash .ci/run" in commands  # the very script CI runs
    # The site is built from the report of that same run: make test writes it where the
    # stamp hook reads it, and the build refuses to go ahead without one.
    built_from_the_report = "test -s build/pages-report.json && make build"
    assert commands.index("bash .ci/run") < commands.index(built_from_the_report)
    assert re.search(r"^PAGES_REPORT \?= build/pages-report\.json$", MAKEFILE, re.MULTILINE)
    assert re.search(r"^test:.*\n(\t.*\n)*\t.*--pages-report \$\(PAGES_REPORT\)$", MAKEFILE, re.M)
    assert 'REPORT = "build/pages-report.json"' in (ROOT / "hooks/stamp.py").read_text("utf-8")
    (upload,) = [step for step in test["steps"] if "upload-pages-artifact" in step.get("uses", "")]
    assert upload["with"]["path"] == "site"
    assert re.search(r"^build:.*\n\t\$\(BIN\)/mkdocs build --strict$", MAKEFILE, re.MULTILINE)
    assert "site_dir" not in (ROOT / "mkdocs.yml").read_text(encoding="utf-8")  # so: site/
    assert publish["needs"] == "test"
    assert publish["if"] == "github.event_name == 'push' && github.ref == 'refs/heads/main'"
    assert [step["uses"] for step in publish["steps"]] == ["actions/deploy-pages@v4"]
