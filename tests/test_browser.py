"""The published site in a real browser: Debian's headless Chromium, driven by Playwright.

The site MkDocs builds is served on 127.0.0.1 under the same path as on GitHub Pages, with its
404 page for unknown addresses, as GitHub Pages does. Chromium may reach nothing but that
server: any request to another host is a failure, GitHub's API included (the header's
repository link asks it nothing; overrides/partials/source.html).

Each page is loaded once and surveyed in the colour scheme it opens in and, after the palette
toggle, in the other (light and dark): what it loaded and logged, its links and images,
whether its code fits its box at 1280 px, whether its diagrams are drawn and legible, and what
axe-core (from the npm registry, package-lock.json) finds. The tests below each assert one
part of that survey."""

import base64
import json
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

from tests.support.project import ROOT, page_address

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
# axe-core, as `make setup` installs it from package-lock.json.
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
# What axe-core reports that fails the test: its two highest impacts.
BLOCKING_IMPACTS = ("serious", "critical")
# Material draws each diagram into a closed shadow root, which neither axe-core nor the test
# could look into. In the test's browser only, shadow roots are opened: the same drawing,
# now visible to both.
OPEN_SHADOW_ROOTS = """
const attachShadow = Element.prototype.attachShadow;
Element.prototype.attachShadow = function (init) {
  return attachShadow.call(this, { ...init, mode: "open" });
};
"""
MERMAID_FENCE = re.compile(r"^[ \t]*(?:`{3,}|~{3,})mermaid[ \t]*$", re.MULTILINE)


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
def site_url(mkdocs_site: Path) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(SiteHandler, directory=str(mkdocs_site)))
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
    missing = [
        reason
        for reason, present in [
            (f"no Chromium at {CHROMIUM} (install Debian's chromium; .ci/run does)", CHROMIUM),
            (f"no axe-core at {AXE} (make setup installs it with npm ci)", AXE),
        ]
        if not present.is_file()
    ]
    if missing:
        if os.environ.get("REQUIRE_BROWSER"):
            pytest.fail(f"{'; '.join(missing)}, and REQUIRE_BROWSER is set")
        pytest.skip("; ".join(missing))
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            tmp_path_factory.mktemp("chromium-profile"),
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_FLAGS,
            viewport={"width": 1280, "height": 900},
        )
        context.set_default_timeout(15_000)
        context.add_init_script(OPEN_SHADOW_ROOTS)
        yield context
        context.close()


def open_tab(browser: BrowserContext, site_url: str) -> tuple[Page, Visit]:
    """A new tab that records console errors, uncaught exceptions, failed requests and every
    request to another host (refused); a test fails on any of them."""
    seen = Visit()
    page = browser.new_page()

    def route(route: Route) -> None:
        if route.request.url.startswith(site_url):
            route.continue_()
        else:
            seen.elsewhere.append(route.request.url)
            route.abort()

    def console(message: ConsoleMessage) -> None:
        if message.type == "error":
            seen.errors.append(f"console: {message.text} at {message.location['url']}")

    def failed(request: Request) -> None:
        # Leaving a page cancels what it was still loading (net::ERR_ABORTED): not a fault.
        if request.failure != "net::ERR_ABORTED":
            seen.errors.append(f"failed: {request.url} ({request.failure})")

    def answered(response: Response) -> None:
        if response.status >= 400:
            seen.errors.append(f"{response.status}: {response.url}")

    page.route("**/*", route)
    page.on("console", console)
    page.on("pageerror", lambda error: seen.errors.append(f"uncaught: {error}"))
    page.on("requestfailed", failed)
    page.on("response", answered)
    return page, seen


@pytest.fixture
def visit(browser: BrowserContext, site_url: str) -> Iterator[tuple[Page, Visit]]:
    page, seen = open_tab(browser, site_url)
    yield page, seen
    page.close()
    assert seen.elsewhere == [], "the site asked another host"


def fetch(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode("utf-8")
    except HTTPError as error:
        return error.code, ""


@dataclass
class Survey:
    """One page, as the browser found it; each test below asserts one part."""

    status: int
    seen: Visit
    blocks: int = 0
    copy_buttons: int = 0
    broken_images: list[str] = field(default_factory=list)
    broken_links: list[str] = field(default_factory=list)
    edit_link: str | None = None
    # Code blocks that scroll sideways at 1280 px: (box px, needed px, longest line).
    too_wide: list[tuple[int, int, str]] = field(default_factory=list)
    diagrams: dict[str, int] = field(default_factory=dict)  # scheme: diagrams drawn
    illegible: dict[str, list[str]] = field(default_factory=dict)  # scheme: diagram texts
    violations: dict[str, list[str]] = field(default_factory=dict)  # scheme: axe findings


# Every code block, folds opened and every tab's block shown, that scrolls sideways: how wide
# its box is, how wide its code is, and its longest line.
MEASURE_CODE = """() => {
  document.querySelectorAll("article details").forEach(d => { d.open = true; });
  const style = document.createElement("style");
  style.textContent = ".tabbed-set > .tabbed-content > .tabbed-block { display: block !important }";
  document.head.append(style);
  const wide = [...document.querySelectorAll("article pre > code")]
    .filter(code => code.scrollWidth > code.clientWidth + 1)
    .map(code => [code.clientWidth, code.scrollWidth,
      code.innerText.split("\\n").reduce((a, b) => (b.length > a.length ? b : a), "")]);
  style.remove();
  return wide;
}"""

# Each drawn diagram's text, against what it is drawn on: the shape or label box under it,
# else the page. WCAG's contrast ratio, with translucent colours laid over what is under them.
DIAGRAM_TEXTS = """() => {
  const parse = (c) => {
    const m = c.match(/rgba?\\(([^)]+)\\)/);
    if (!m) return null;
    const [r, g, b, a = 1] = m[1].split(/[ ,/]+/).filter(Boolean).map(Number);
    return [r, g, b, a];
  };
  const over = (top, under) =>
    top.slice(0, 3).map((v, i) => v * top[3] + under[i] * (1 - top[3]));
  const lum = (rgb) => {
    const [r, g, b] = rgb.map((v) => {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const ratio = (a, b) => {
    const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p);
    return (x + 0.05) / (y + 0.05);
  };
  const white = [255, 255, 255, 1];
  const page = over(parse(getComputedStyle(document.body).backgroundColor) || white, white);
  const drawn = [...document.querySelectorAll("article div.mermaid")]
    .filter((d) => d.shadowRoot && d.shadowRoot.querySelector("svg"));
  const illegible = [];
  for (const host of drawn) {
    const root = host.shadowRoot;
    const leaves = [...root.querySelectorAll("text, tspan, foreignObject *")].filter((e) =>
      [...e.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim()));
    for (const el of leaves) {
      el.scrollIntoView({ block: "center" });
      const box = el.getBoundingClientRect();
      if (!box.width || !box.height) continue;
      const style = getComputedStyle(el);
      const fg = parse(el instanceof SVGElement ? style.fill : style.color);
      if (!fg) continue;
      let bg = page;
      for (const under of root.elementsFromPoint(box.x + box.width / 2, box.y + box.height / 2)) {
        if (under === el) continue;
        const s = getComputedStyle(under);
        const svg = under instanceof SVGElement;
        if (svg && under.contains(el)) continue;  // the text's own group, not a shape
        const fill = parse(svg ? s.fill : s.backgroundColor);
        const alpha = fill ? fill[3] * (svg ? Number(s.fillOpacity) * Number(s.opacity) : 1) : 0;
        if (alpha > 0) {
          bg = over([...fill.slice(0, 3), alpha], page);
          break;
        }
      }
      const r = ratio(over(fg, bg), bg);
      const text = JSON.stringify(el.textContent.trim().slice(0, 40));
      if (r < 4.5) illegible.push(`${text} ${r.toFixed(2)}:1`);
    }
  }
  return [drawn.length, illegible];
}"""

# A first pass names no element (axe would work out a CSS selector for every element it
# checks: a fifth of its time on the longest pages); only a rule that fails runs again, naming
# the elements for the message. A rule that fails only once is still reported.
RUN_AXE = """async ([impacts, rules]) => {
  const only = rules ? { runOnly: { type: "rule", values: rules } } : {};
  const failing = (await axe.run(document, {
    resultTypes: ["violations"], selectors: false, ...only })).violations
    .filter((v) => impacts.includes(v.impact)).map((v) => v.id);
  if (!failing.length) return [];
  const { violations } = await axe.run(document, {
    resultTypes: ["violations"], runOnly: { type: "rule", values: failing } });
  const named = violations.filter((v) => impacts.includes(v.impact)).map((v) =>
    `${v.impact} ${v.id} (${v.help}): `
    + v.nodes.slice(0, 5).map((n) => n.target.join(" ")).join(", ")
    + (v.nodes.length > 5 ? ` and ${v.nodes.length - 5} more` : ""));
  return named.length ? named : failing.map((id) => `${id} (failed once, not a second time)`);
}"""
SCHEME = "document.body.getAttribute('data-md-color-scheme')"  # default (light) or slate
# In the second scheme only what colours change can change: axe's colour rules. (The rest
# of its rules read the markup, the same in both; running them twice would double the cost.)
COLOUR_RULES = ["color-contrast", "link-in-text-block"]


@pytest.fixture(scope="module")
def surveys() -> dict[Path, Survey]:
    """Each page's survey, made the first time a test asks for it: one load per page."""
    return {}


def screenshot(page: Page, path: Path) -> None:
    """The whole page as a PNG, as Playwright's full_page screenshot takes it, but encoded by
    Chromium's fast PNG encoder: about half the time, on pages up to 16,000 px tall."""
    width, height = page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.scrollHeight]"
    )
    cdp = page.context.new_cdp_session(page)
    try:
        shot = cdp.send(
            "Page.captureScreenshot",
            {
                "format": "png",
                "optimizeForSpeed": True,
                "captureBeyondViewport": True,
                "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1},
            },
        )
    finally:
        cdp.detach()
    path.write_bytes(base64.b64decode(shot["data"]))


def survey(
    surveys: dict[Path, Survey],
    browser: BrowserContext,
    site_url: str,
    screenshots: Path | None,
    source: Path,
) -> Survey:
    if source in surveys:
        return surveys[source]
    page, seen = open_tab(browser, site_url)
    try:
        # From "load" on (Material's script has run, images are in), the survey can start;
        # what the page still fetches after it is awaited before the tab closes, below.
        response = page.goto(urljoin(site_url, page_address(source)), wait_until="load")
        assert response is not None
        found = Survey(status=response.status, seen=seen)
        found.blocks = page.locator("article pre > code").count()
        found.copy_buttons = page.locator(
            "article pre > .md-code__nav > button[data-md-type='copy']"
        ).count()
        found.broken_images = page.eval_on_selector_all(
            "img", "images => images.filter(i => !i.complete || !i.naturalWidth).map(i => i.src)"
        )
        # (A code annotation's marker links to an anchor Material never creates: its script
        # opens the annotation instead, which test_code_annotations_open checks.)
        links = page.eval_on_selector_all(
            "a[href]:not(.md-annotation__index)", "links => links.map(a => a.href)"
        )
        here = page.url.partition("#")[0]
        for link in sorted({link for link in links if link.startswith(site_url)}):
            target, _, anchor = link.partition("#")
            if target == here:  # anchors on this page, some made by its script (annotations)
                if anchor and not page.evaluate("id => !!document.getElementById(id)", anchor):
                    found.broken_links.append(f"{link}: no such anchor")
                continue
            status, body = fetch(target)
            if status != 200:
                found.broken_links.append(f"{link}: {status}")
            elif anchor and f'id="{anchor}"' not in body:
                found.broken_links.append(f"{link}: no such anchor")
        found.edit_link = page.locator("a.md-content__button[href*='/edit/']").get_attribute("href")
        name: str = page.evaluate(SCHEME)  # the scheme the page opened in
        if screenshots:
            screenshot(page, screenshots / f"{source.stem}-{name}.png")

        # Folds opened from here on: code, diagrams and contrast inside them count too.
        found.too_wide = [(int(a), int(b), str(c)) for a, b, c in page.evaluate(MEASURE_CODE)]
        expected = len(MERMAID_FENCE.findall(source.read_text(encoding="utf-8")))
        if expected:
            page.wait_for_function(
                """n => [...document.querySelectorAll("article div.mermaid")]
                    .filter(d => d.shadowRoot && d.shadowRoot.querySelector("svg")).length >= n""",
                arg=expected,
            )
        page.add_script_tag(path=str(AXE))
        toggle = page.locator("label.md-header__button[for^='__palette']:visible")
        # The scheme the page opened in, then the other. The palette stays where it was left,
        # and the next page opens in it: which scheme has every rule alternates from page to
        # page. (Between schemes only colours change, and which of the palette's two toggles
        # shows: over a run, each toggle has every rule.)
        for rules in (None, COLOUR_RULES):
            if rules:
                toggle.click()
                page.wait_for_function(f"{SCHEME} !== {json.dumps(name)}")
                name = page.evaluate(SCHEME)
            found.diagrams[name], found.illegible[name] = page.evaluate(DIAGRAM_TEXTS)
            found.violations[name] = page.evaluate(RUN_AXE, [list(BLOCKING_IMPACTS), rules])
        # Every request the page made has been answered (a failure is recorded in seen).
        page.wait_for_load_state("networkidle")
    finally:
        page.close()
    surveys[source] = found
    return found


@pytest.fixture
def surveyed(
    surveys: dict[Path, Survey],
    browser: BrowserContext,
    site_url: str,
    screenshots: Path | None,
) -> "partial[Survey]":
    return partial(survey, surveys, browser, site_url, screenshots)


@pytest.mark.parametrize("source", PAGES, ids=[page.name for page in PAGES])
def test_every_page_renders_without_errors(surveyed: "partial[Survey]", source: Path) -> None:
    found = surveyed(source)
    assert found.status == 200
    assert found.seen.elsewhere == [], "the site asked another host"
    # Every code block has its copy button (Material adds them once the page's script runs).
    assert found.copy_buttons == found.blocks, "a code block without a copy button"
    # Every image loaded; every link into the site reaches a page that has the anchor it names.
    assert found.broken_images == []
    assert found.broken_links == []
    # The edit link opens this page's own Markdown file in the repository.
    assert found.edit_link == f"{REPO_URL}/edit/main/docs/{source.relative_to(DOCS).as_posix()}"
    assert found.seen.errors == []


@pytest.mark.parametrize("source", PAGES, ids=[page.name for page in PAGES])
def test_every_code_block_fits_its_box(surveyed: "partial[Survey]", source: Path) -> None:
    """At 1280 px, folds open and every tab shown, no code block scrolls sideways."""
    too_wide = surveyed(source).too_wide
    assert too_wide == [], (
        f"{source.name}: {len(too_wide)} code blocks scroll sideways:\n"
        + "\n".join(
            f"  box {box} px, needs {needed} px: {line!r}" for box, needed, line in too_wide
        )
    )


@pytest.mark.parametrize("source", PAGES, ids=[page.name for page in PAGES])
def test_every_diagram_is_drawn_and_legible(surveyed: "partial[Survey]", source: Path) -> None:
    """Each ```mermaid fence is drawn as an SVG, in light and in dark mode, by the Mermaid the
    site serves itself (a request to a CDN would fail the render test), and its text keeps a
    4.5:1 contrast with what it is drawn on."""
    found = surveyed(source)
    expected = len(MERMAID_FENCE.findall(source.read_text(encoding="utf-8")))
    assert found.diagrams == {"default": expected, "slate": expected}
    assert found.illegible == {"default": [], "slate": []}
    assert found.seen.elsewhere == []


@pytest.mark.parametrize("source", PAGES, ids=[page.name for page in PAGES])
def test_every_page_is_accessible(surveyed: "partial[Survey]", source: Path) -> None:
    """axe-core, folds open: every rule it has in the scheme the page opens in, its colour
    rules in the other (light and dark, the palette toggle switches them): no serious or
    critical violation."""
    violations = surveyed(source).violations
    assert set(violations) == {"default", "slate"}
    assert violations == {"default": [], "slate": []}, f"{source.name}:\n" + "\n".join(
        f"  {scheme}: {finding}" for scheme, found in violations.items() for finding in found
    )


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
    # (text_content: a mark inside a closed fold has no rendered text, but is there.)
    marks = page.locator("article mark").all_text_contents()
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
    assert page.title() == "Page not found - Async FastAPI, tested"
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
    before = page.evaluate(SCHEME)
    page.locator("label.md-header__button[for^='__palette']:visible").click()
    assert {before, page.evaluate(SCHEME)} == {"default", "slate"}
    assert seen.errors == []


# The pages with code annotations: a `# (1)!` comment in a block, and its note after it.
ANNOTATED = [page for page in PAGES if "(1)!" in page.read_text(encoding="utf-8")]


@pytest.mark.skipif(not ANNOTATED, reason="no page has a code annotation")
def test_code_annotations_open(visit: tuple[Page, Visit], site_url: str) -> None:
    page, seen = visit
    page.goto(urljoin(site_url, page_address(ANNOTATED[0])), wait_until="networkidle")
    page.evaluate("() => document.querySelectorAll('article details').forEach(d => d.open = true)")
    annotation = page.locator("article .md-annotation").first
    annotation.focus()
    tooltip = annotation.locator(".md-tooltip__inner")
    tooltip.wait_for(state="visible")
    assert tooltip.inner_text().strip()
    assert seen.errors == []
