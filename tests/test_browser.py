"""The published site in a real browser: Debian's headless Chromium, driven by Playwright.

The site MkDocs builds is served on 127.0.0.1 under the same path as on GitHub Pages, with its
404 page for unknown addresses, as GitHub Pages does. Chromium may reach nothing but that
server: the one request the site makes elsewhere, Material's question to GitHub's API for the
repository's stars and forks, gets a recorded answer, and any other is a failure."""

import os
import re
import threading
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from io import BytesIO
from pathlib import Path
from typing import BinaryIO
from urllib.error import HTTPError
from urllib.parse import urljoin, urlsplit

import pytest
from playwright.sync_api import (
    BrowserContext,
    ConsoleMessage,
    Page,
    Request,
    Response,
    Route,
    sync_playwright,
)

from docs_harness import ROOT, page_address

DOCS = ROOT / "docs"
PAGES = sorted(DOCS.rglob("*.md"))


def setting(name: str) -> str:
    """A top-level setting of mkdocs.yml."""
    text = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    match = re.search(rf"^{name}: (\S+)$", text, re.MULTILINE)
    assert match, f"mkdocs.yml has no {name}"
    return match[1]


PREFIX = urlsplit(setting("site_url")).path  # /async-fastapi-tested/, as on GitHub Pages
REPO_URL = setting("repo_url")

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
# Headless, and nothing in the background: without these Chromium tries to reach Google's
# servers at start-up, which a machine without a network refuses, many times over.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# GitHub's API, as the header's repository widget asks it: the repository's facts, and its
# latest release, which a repository without releases answers with 404 (Chromium logs that
# 404 as a console error on the published site too; it is the one error the test forgives).
GITHUB_API = REPO_URL.replace("https://github.com/", "https://api.github.com/repos/")
GITHUB_ANSWERS = {
    GITHUB_API: (200, {"stargazers_count": 42, "forks_count": 7, "default_branch": "main"}),
    f"{GITHUB_API}/releases/latest": (404, {"message": "Not Found", "status": "404"}),
}


class SiteHandler(SimpleHTTPRequestHandler):
    """Serves the site under PREFIX, and the site's 404 page, with status 404, for the rest."""

    def send_head(self) -> BinaryIO | BytesIO | None:
        if not urlsplit(self.path).path.startswith(PREFIX):
            self.send_error(404)
            return None
        return super().send_head()

    def translate_path(self, path: str) -> str:
        return super().translate_path("/" + urlsplit(path).path.removeprefix(PREFIX))

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        page = Path(self.directory) / "404.html"
        if code != 404 or not page.is_file():
            super().send_error(code, message, explain)
            return
        body = page.read_bytes()
        self.send_response(404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass  # the test reports what went wrong; a line per request would bury it


@pytest.fixture(scope="module")
def site_url(sites: dict[str, Path]) -> Iterator[str]:
    server = ThreadingHTTPServer(
        ("127.0.0.1", 0), partial(SiteHandler, directory=str(sites["mkdocs"]))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}{PREFIX}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@dataclass
class Visit:
    """What the browser saw while on one page."""

    errors: list[str] = field(default_factory=list)
    elsewhere: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrowserContext]:
    """Chromium with a fresh profile. Module-scoped: Playwright's own event loop lives only
    while this module's tests run, never beside other modules' async tests."""
    if not CHROMIUM.is_file():
        reason = f"no Chromium at {CHROMIUM} (install Debian's chromium; .ci/run does)"
        if os.environ.get("REQUIRE_BROWSER"):
            pytest.fail(f"{reason}, and REQUIRE_BROWSER is set")
        pytest.skip(reason)
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            tmp_path_factory.mktemp("chromium-profile"),
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_FLAGS,
            viewport={"width": 1280, "height": 900},
        )
        context.set_default_timeout(15_000)
        yield context
        context.close()


@pytest.fixture
def visit(browser: BrowserContext, site_url: str) -> Iterator[tuple[Page, Visit]]:
    """A new tab that records console errors, uncaught exceptions, failed requests and every
    request to another host; the test fails on any of them."""
    seen = Visit()
    page = browser.new_page()

    def route(route: Route) -> None:
        url = route.request.url
        if url.startswith(site_url):
            route.continue_()
        elif url in GITHUB_ANSWERS:
            status, answer = GITHUB_ANSWERS[url]
            route.fulfill(status=status, json=answer)
        else:
            seen.elsewhere.append(url)
            route.abort()

    def console(message: ConsoleMessage) -> None:
        if message.type == "error" and message.location["url"] not in GITHUB_ANSWERS:
            seen.errors.append(f"console: {message.text} at {message.location['url']}")

    page.route("**/*", route)
    page.on("console", console)
    page.on("pageerror", lambda error: seen.errors.append(f"uncaught: {error}"))

    def failed(request: Request) -> None:
        # Leaving a page cancels what it was still loading (net::ERR_ABORTED): not a fault.
        if request.failure != "net::ERR_ABORTED":
            seen.errors.append(f"failed: {request.url} ({request.failure})")

    def answered(response: Response) -> None:
        if response.status >= 400 and response.url not in GITHUB_ANSWERS:
            seen.errors.append(f"{response.status}: {response.url}")

    page.on("requestfailed", failed)
    page.on("response", answered)
    yield page, seen
    page.close()
    assert seen.elsewhere == [], "the site asked another host"


def fetch(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode("utf-8")
    except HTTPError as error:
        return error.code, ""


@pytest.mark.parametrize("source", PAGES, ids=[page.name for page in PAGES])
def test_every_page_renders_without_errors(
    visit: tuple[Page, Visit], site_url: str, screenshots: Path, source: Path
) -> None:
    page, seen = visit
    response = page.goto(urljoin(site_url, page_address(source)), wait_until="networkidle")
    assert response is not None
    assert response.status == 200

    # Every code block has its copy button (Material adds them once the page's script runs).
    blocks = page.locator("article pre > code")
    buttons = page.locator("article pre > .md-code__nav > button[data-md-type='copy']")
    assert buttons.count() == blocks.count(), "a code block without a copy button"

    # Every image loaded; every link into the site reaches a page that has the anchor it names.
    broken_images = page.eval_on_selector_all(
        "img", "images => images.filter(i => !i.complete || !i.naturalWidth).map(i => i.src)"
    )
    assert broken_images == []
    # (A code annotation's marker links to an anchor Material never creates: its script
    # opens the annotation instead, which test_code_annotations_open checks.)
    links = page.eval_on_selector_all(
        "a[href]:not(.md-annotation__index)", "links => links.map(a => a.href)"
    )
    here = page.url.partition("#")[0]
    for link in sorted({link for link in links if link.startswith(site_url)}):
        target, _, anchor = link.partition("#")
        if target == here:  # anchors on this page, some made by its script (annotations)
            assert page.evaluate("id => !!document.getElementById(id)", anchor) if anchor else 1
            continue
        status, body = fetch(target)
        assert status == 200, f"{link}: {status}"
        assert not anchor or f'id="{anchor}"' in body, f"{link}: no such anchor"

    # The edit link opens this page's own Markdown file in the repository.
    edit = page.locator("a.md-content__button[href*='/edit/']").get_attribute("href")
    assert edit == f"{REPO_URL}/edit/main/docs/{source.relative_to(DOCS).as_posix()}"

    page.screenshot(path=screenshots / f"{source.stem}.png", full_page=True)
    assert seen.errors == []


def test_search_for_gather_lands_on_the_concurrency_page(
    visit: tuple[Page, Visit], site_url: str
) -> None:
    page, seen = visit
    page.goto(site_url, wait_until="networkidle")
    page.locator("input.md-search__input").click()
    page.keyboard.type("gather")
    first = page.locator(".md-search-result__item > a").first
    first.wait_for()
    assert "Running tasks concurrently" in first.inner_text()
    first.click()
    page.wait_for_url(re.compile(r"/parallel_tasks/"))
    # A result that matched in the text opens with the term highlighted (search.highlight).
    page.goto(urljoin(site_url, "parallel_tasks/?h=gather"), wait_until="networkidle")
    marks = page.locator("article mark").all_inner_texts()
    assert marks, "the search term is highlighted on the page"
    assert {mark.lower() for mark in marks} == {"gather"}
    assert seen.errors == []


def test_an_unknown_address_shows_the_404_page(visit: tuple[Page, Visit], site_url: str) -> None:
    page, seen = visit
    missing = urljoin(site_url, "no-such-page/")
    response = page.goto(missing, wait_until="networkidle")
    assert response is not None
    assert response.status == 404
    assert page.locator("h1").inner_text() == "This page does not exist"
    # The page's own 404 is the one error expected (Chromium logs it to the console too).
    assert [error for error in seen.errors if missing not in error] == []
    page.get_by_role("link", name="the path through the guide").click()
    page.wait_for_url(site_url)
    assert page.title() == "Async FastAPI, tested"


def test_linked_tabs_switch_together(visit: tuple[Page, Visit], site_url: str) -> None:
    page, seen = visit
    page.goto(urljoin(site_url, "users/"), wait_until="networkidle")
    first, second = page.locator(".tabbed-set").all()
    first.locator(".tabbed-labels label", has_text="SQLAlchemy").click()
    assert "users_sqlalchemy:app" in second.locator(".tabbed-block:visible").inner_text()
    first.locator(".tabbed-labels label", has_text="databases").click()
    assert "users_db:app" in second.locator(".tabbed-block:visible").inner_text()
    assert seen.errors == []


def test_the_palette_toggles_between_light_and_dark(
    visit: tuple[Page, Visit], site_url: str
) -> None:
    page, seen = visit
    page.goto(site_url, wait_until="networkidle")
    scheme = "document.body.getAttribute('data-md-color-scheme')"
    before = page.evaluate(scheme)
    page.locator("label.md-header__button[for^='__palette']:visible").click()
    assert {before, page.evaluate(scheme)} == {"default", "slate"}
    assert seen.errors == []


def test_code_annotations_open(visit: tuple[Page, Visit], site_url: str) -> None:
    page, seen = visit
    page.goto(urljoin(site_url, "testing/"), wait_until="networkidle")
    annotations = page.locator("article .md-annotation")
    assert annotations.count() == 2
    annotations.first.focus()
    tooltip = annotations.first.locator(".md-tooltip__inner")
    tooltip.wait_for(state="visible")
    assert "No lifespan ran" in tooltip.inner_text()
    assert seen.errors == []
