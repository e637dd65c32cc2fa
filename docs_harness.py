"""The machinery that runs every page of the guide as a test.

`conftest.py` wires it into pytest; `tests/test_harness.py` checks it. The words:

- page: a Markdown file under `docs/`, run top to bottom with one namespace and one
  event loop on a virtual clock (looptime), a respx router and a freshly seeded database
  (SQLite's; PostgreSQL's, on a real clock, for a page whose front matter says
  `database: postgresql`); a page whose front matter says `clock: real` runs on the real
  clock too (its servers run in processes of their own: `docs_processes.py`);
- block: a fenced ```` ```python ```` block on a page (Material attributes allowed);
  it may use top-level `await`;
- snippet: a file under `snippets/` that a block includes with pymdownx.snippets'
  `--8<-- "file.py"` or `--8<-- "file.py:section"`; the real file runs, under its own name;
- exchange: an ```` ```http ```` request block followed by an ```` ```http ```` response
  block; the request is sent to the page's `app` and the response must match;
- conversation: a ```` ```websocket ```` block, replayed against the page's `app` over a
  socket (`docs_websocket.py`).
"""

from __future__ import annotations

import ast
import asyncio
import difflib
import importlib.util
import inspect
import ipaddress
import json
import logging
import os
import re
import socket
import sqlite3
import tempfile
import traceback
from collections import defaultdict
from collections.abc import AsyncIterator, Iterable, Iterator
from contextlib import ExitStack, asynccontextmanager, closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import h11
import httpx
import looptime
import pytest
import respx
import uvicorn
from _pytest._code.code import ExceptionInfo, Traceback

# pytest's own assert rewriting, applied to blocks as it is to test modules. The import is
# from pytest's internals, the one narrow exception to using public API only.
from _pytest.assertion.rewrite import rewrite_asserts
from sybil import Document, Example, Region, Sybil
from sybil.evaluators.skip import Skipper, SkipState
from sybil.integration.pytest import SybilFile, SybilItem
from sybil.parsers.markdown.lexers import DirectiveInHTMLCommentLexer, RawFencedCodeBlockLexer
from sybil.parsers.markdown.skip import SkipParser

import docs_postgres

ROOT = Path(__file__).resolve().parent
RECORDINGS = ROOT / "upstream" / "jsonplaceholder"
SEED_SQL = ROOT / "snippets" / "users_db.sql"
JSONPLACEHOLDER = "https://jsonplaceholder.typicode.com"

#: What the pytest run did with the pages, for the summary at its end.
totals: defaultdict[str, float] = defaultdict(float)
totals.update(
    dict.fromkeys(
        (
            "python blocks passed",
            "exchanges verified in process",
            "exchanges verified over a socket",
            "conversations verified over a socket",
            "pages",
        ),
        0.0,
    )
)
skipped: list[str] = []  # "docs/page.md:LINE: reason", for each block skipped


def add_up(report: dict[str, Any]) -> None:
    """Add what one pytest-xdist worker did (its `totals` and `skipped`) to this process's."""
    for name, value in report["totals"].items():
        totals[name] += value
    skipped.extend(report["skipped"])


def keep_pages_whole(items: list[pytest.Item]) -> None:
    """A page's blocks share one namespace and must run top to bottom, but pytest-randomly
    shuffles every test it collects. Put each page's blocks back together, in page order, where
    the page's first block landed: pages still run in a random order among the other tests."""

    def page(item: pytest.Item) -> str | None:
        return item.example.path if isinstance(item, PageItem) else None

    def place_on_page(item: pytest.Item) -> int:
        return item.example.start if isinstance(item, PageItem) else 0

    blocks: dict[str | None, list[pytest.Item]] = defaultdict(list)
    for item in items:
        blocks[page(item)].append(item)
    reordered: list[pytest.Item] = []
    for item in items:
        if page(item) is None:
            reordered.append(item)
        elif page(item) in blocks:
            reordered.extend(sorted(blocks.pop(page(item)), key=place_on_page))
    items[:] = reordered


# --- pages -------------------------------------------------------------------------------


def pages(root: Path = ROOT) -> Sybil:
    """The Sybil for every page under `root/docs`, resolving includes in `root/snippets`."""
    from docs_websocket import ConversationParser  # it builds on this module

    return Sybil(
        parsers=[
            ReasonedSkipParser(root),
            PythonBlockParser(root),
            ExchangeParser(root),
            ConversationParser(root),
        ],
        patterns=["*.md"],
        path=str(root / "docs"),
        document_types={".md": PageDocument},
        setup=open_page,
        teardown=close_page,
    )


def collect_pages(root: Path = ROOT) -> Any:
    """conftest.py's `pytest_collect_file`: every page a test module, every example a test."""
    sybil = pages(root)

    def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> PageFile | None:
        if sybil.should_parse(file_path):
            return PageFile.from_parent(parent, path=file_path, sybils=[sybil])
        return None

    return pytest_collect_file


class PageDocument(Document):
    """A page, knowing from its front matter which database it runs against."""

    def __init__(self, text: str, path: str) -> None:
        super().__init__(text, path)
        self.namespace["__database__"] = database_of(text)
        self.namespace["__clock__"] = clock_of(text)


def front_matter_value(text: str, key: str, default: str, allowed: tuple[str, ...]) -> str:
    """One `key: value` of a page's front matter, `default` if absent; a value not `allowed`
    raises, naming the key and what it may be."""
    front_matter = re.match(r"---\n(.*?)\n---\n", text, re.DOTALL)
    found = re.search(rf"^{key}:\s*(\S+)\s*$", front_matter[1] if front_matter else "", re.M)
    value = found[1] if found else default
    if value not in allowed:
        raise ValueError(f"{key}: {value}: a page's {key} is one of {', '.join(allowed)}")
    return value


def database_of(text: str) -> str:
    """The front matter's `database:` (`sqlite`, the default, or `postgresql`)."""
    return front_matter_value(text, "database", "sqlite", ("sqlite", "postgresql"))


def clock_of(text: str) -> str:
    """The front matter's `clock:`: `virtual`, the default, or `real`, for a page that talks
    to processes of its own (their timers and sockets do not follow a virtual clock). A page
    on PostgreSQL runs on the real clock whatever this says."""
    return front_matter_value(text, "clock", "virtual", ("virtual", "real"))


class PageFile(SybilFile):
    def collect(self) -> Iterator[PageItem]:
        for sybil in self.sybils:
            document = sybil.parse(self.path)
            self.documents.append(document)
            for example in document.examples():
                yield PageItem.from_parent(self, sybil=sybil, example=example)

    def teardown(self) -> None:
        for document in self.documents:
            page: Page = document.namespace["__page__"]
            totals["pages"] += 1
            totals["loop seconds"] += page.runner.get_loop().time() - page.clock_start
            if page.updates:
                rewrite_blocks(Path(document.path), page.updates)
        super().teardown()


class PageItem(SybilItem):
    def reportinfo(self) -> tuple[str, int, str]:
        """pytest counts lines from 0 here and shows them plus one; Sybil's count from 1."""
        example = self.example
        return example.path, example.line - 1, f"{Path(example.path).name} line={example.line}"

    def runtest(self) -> None:
        from docs_websocket import Conversation  # it builds on this module

        updates = self.example.namespace["__page__"].updates
        rewrites_before = len(updates)
        try:
            super().runtest()
        except pytest.skip.Exception as skip:
            place = f"{Path(self.example.path).relative_to(self.config.rootpath)}"
            skipped.append(f"{place}:{self.example.line}: {skip.msg}")
            raise
        if isinstance(self.example.parsed, Code):
            totals["python blocks passed"] += 1
        elif len(updates) > rewrites_before:  # `make update-docs` rewrote what it showed
            totals["responses rewritten"] += 1
        elif isinstance(self.example.parsed, Exchange):  # answered as shown, both ways
            totals["exchanges verified in process"] += 1
            totals["exchanges verified over a socket"] += 1
        elif isinstance(self.example.parsed, Conversation):  # went as shown
            totals["conversations verified over a socket"] += 1

    def repr_failure(self, excinfo: ExceptionInfo[BaseException], style: Any = None) -> Any:
        """A block is module-level code: pytest's long style would print the page from line 1."""
        if style is None and self.config.getoption("tbstyle") == "auto":
            style = "short"
        return super().repr_failure(excinfo, style)

    def _traceback_filter(self, excinfo: ExceptionInfo[BaseException]) -> Traceback:
        """Start a failure's traceback at the page or the snippet, not in the machinery."""
        ours = (Path(self.example.path), Path(self.example.path).parents[1] / "snippets")
        entries = list(excinfo.traceback)
        for index, entry in enumerate(entries):
            path = Path(entry.path)
            if path == ours[0] or path.is_relative_to(ours[1]):
                return Traceback(entries[index:]).filter(excinfo)
        return excinfo.traceback.filter(excinfo)


# Where every page's clock starts. A real loop's clock starts wherever the machine's monotonic
# clock is, never at 0; from this start, most differences of whole and half seconds come out a
# hair short in floating point (513.31 - 510.31 == 2.9999999999999432), so a page that compares
# a raw difference exactly fails on every run, not once in a while when a thread or a socket
# has left the clock between microseconds. Pages round differences to the clock's microsecond.
CLOCK_START = 510.31


def new_loop() -> asyncio.AbstractEventLoop:
    """A looptime event loop, its clock at CLOCK_START. Before moving its clock to the next
    timer, it polls for I/O this many times: pages that talk to a real server on 127.0.0.1 need
    the bytes in flight through the kernel to arrive first (the default, 42, is not always
    enough on a busy machine)."""
    return looptime.new_event_loop(noop_cycles=1000, start=CLOCK_START)


def new_server_loop() -> asyncio.AbstractEventLoop:
    """The loop that serves a page's app for its exchanges' checks over a socket: looptime's
    default polling, since nothing there measures time, and a clock that moves on while bytes
    are in flight changes no answer (the client has no timeout)."""
    return looptime.new_event_loop()


class Page:
    """What a page runs against: its event loop, its upstreams and its database.

    A second event loop, also on a virtual clock, serves the page's `app` with uvicorn for each
    exchange's check over a socket; it runs only while the page's own loop does not, so those
    checks never move the page's clock (uvicorn's shutdown alone waits 0.1 s, and a page's
    `loop.time()` differences hold only while its clock moves by the page's own waits alone)."""

    def __init__(self, database: str = "sqlite", clock: str = "virtual") -> None:
        self.database = database
        # A page on a real PostgreSQL server runs on the real clock: on the virtual one, a
        # timer (asyncpg's connect timeout, the pool's timeout) fires as soon as the loop has
        # nothing to do but wait for the server, however short the server's real answer. So
        # does a page whose front matter says `clock: real`, such as one that starts servers
        # in processes of their own and waits on their answers.
        real_clock = database == "postgresql" or clock == "real"
        self.runner = asyncio.Runner(
            loop_factory=asyncio.new_event_loop if real_clock else new_loop
        )
        self.server_runner = asyncio.Runner(
            loop_factory=asyncio.new_event_loop if real_clock else new_server_loop
        )
        self.clock_start = self.runner.get_loop().time() if real_clock else CLOCK_START
        self.resources = ExitStack()
        self.updates: list[tuple[tuple[int, int], str]] = []  # for `make update-docs`
        self.unavailable: str | None = None  # why the page cannot run here, if it cannot

    def open(self, namespace: dict[str, Any]) -> None:
        namespace["__page__"] = self
        namespace["respx_mock"] = self.resources.enter_context(upstreams())
        workdir = Path(self.resources.enter_context(tempfile.TemporaryDirectory()))
        database_url = seeded_database(workdir)
        if self.database == "postgresql":
            try:
                database_url = docs_postgres.fresh_database()
            except docs_postgres.NoServer as error:
                self.unavailable = f"no PostgreSQL server: {error}"
        files = str(workdir / "files")  # not created: apps make their own folders
        self.resources.enter_context(
            environment(DATABASE_URL=database_url, FILES_DIR=files, **NO_PROXIES)
        )
        self.resources.callback(self.server_runner.close)
        self.resources.callback(self.runner.close)  # closed first: nothing runs after it

    def close(self) -> None:
        self.resources.close()


def open_page(namespace: dict[str, Any]) -> None:
    Page(namespace.get("__database__", "sqlite"), namespace.get("__clock__", "virtual")).open(
        namespace
    )


def require_what_the_page_needs(page: Page) -> None:
    """Skip a block whose page cannot run here, saying why; fail it instead where the run
    requires PostgreSQL (REQUIRE_POSTGRES, which CI sets)."""
    __tracebackhide__ = True
    if page.unavailable is None:
        return
    if docs_postgres.required():
        pytest.fail(f"{page.unavailable} (REQUIRE_POSTGRES is set)", pytrace=False)
    raise pytest.skip.Exception(page.unavailable, _use_item_location=True)  # at the page's line


def close_page(namespace: dict[str, Any]) -> None:
    namespace["__page__"].close()


def where(document: Document, position: int, root: Path) -> str:
    """`docs/page.md:LINE`, the form editors and terminals turn into a link."""
    line = document.text.count("\n", 0, position) + 1
    return f"{Path(document.path).relative_to(root)}:{line}"


def fenced(language: str) -> RawFencedCodeBlockLexer:
    """Fences whose info string starts with `language`, Material attributes allowed, as in
    ```` ```python title="snippets/x.py" hl_lines="4 5" ```` or ```` ``` {.python title="x"} ````.
    """
    info = rf"[ \t]*(?:\{{[ \t]*\.)?{language}(?=[\s}}])[^\n]*$\n"
    return RawFencedCodeBlockLexer(info_pattern=re.compile(info, re.MULTILINE))


# --- blocks and snippets ---------------------------------------------------------------

INCLUDE = re.compile(r"^[ \t]*-{1,3}8<-{1,3}[ \t]*(?P<target>.*?)[ \t]*$", re.MULTILINE)
TARGET = re.compile(r'"(?P<file>[^":]+)(?::(?P<section>[A-Za-z_][\w-]*))?"')
SECTION_MARK = re.compile(r"--8<-- \[(?P<edge>start|end):(?P<name>[\w-]+)\]")


@dataclass(frozen=True)
class Code:
    """Python source and where it lives, so tracebacks point at the right file and line."""

    source: str
    filename: str
    first_line: int  # 1-based line of `source`'s first line in `filename`
    fenced: bool = True  # False for <!-- invisible-code-block: python -->

    def compile(self) -> Any:
        """Compiled as pytest compiles a test module: failing asserts explain themselves."""
        padded = "\n" * (self.first_line - 1) + self.source
        tree = ast.parse(padded, self.filename)
        rewrite_asserts(tree, padded.encode(), self.filename)
        flags = ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
        return compile(tree, self.filename, "exec", flags=flags, dont_inherit=True)


def snippet_section(path: Path, section: str | None) -> tuple[str, int]:
    """The text of a snippet file, or of one named section of it, and its first line."""
    if not path.is_file():
        raise ValueError(f"no such snippet: {path}")
    text = path.read_text(encoding="utf-8")
    if section is None:
        return text, 1
    lines = text.splitlines(keepends=True)
    edges = {
        (m["edge"], i)
        for i, line in enumerate(lines)
        if (m := SECTION_MARK.search(line)) and m["name"] == section
    }
    starts = [i for edge, i in edges if edge == "start"]
    ends = [i for edge, i in edges if edge == "end"]
    if len(starts) != 1 or len(ends) != 1 or ends[0] < starts[0]:
        raise ValueError(
            f"{path} needs exactly one '--8<-- [start:{section}]' followed by one "
            f"'--8<-- [end:{section}]'"
        )
    return "".join(lines[starts[0] + 1 : ends[0]]), starts[0] + 2


def included(body: str, snippets: Path, place: str) -> tuple[Path, str | None] | None:
    """The snippet file and section a block's body includes, or None for plain code."""
    if not INCLUDE.search(body):
        return None
    lines = [line.strip() for line in body.splitlines() if line.strip()]
    target = TARGET.fullmatch(lines[0].split(None, 1)[-1]) if len(lines) == 1 else None
    if target is None:
        raise ValueError(
            f'{place}: a block is either Python or one include line, --8<-- "file.py" or '
            f'--8<-- "file.py:section" (named sections, never line numbers): {body.strip()!r}'
        )
    return snippets / target["file"], target["section"]


class PythonBlockParser:
    """Every ```` ```python ```` block, and every `<!-- invisible-code-block: python -->`."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.fences = fenced("python")
        self.invisible = DirectiveInHTMLCommentLexer(
            directive="invisible-code-block", arguments="python"
        )

    def __call__(self, document: Document) -> Iterable[Region]:
        for lexers, is_fenced in ((self.fences, True), (self.invisible, False)):
            for lexed in lexers(document):
                code = self.code(document, lexed, fenced=is_fenced)
                yield Region(lexed.start, lexed.end, code, run_block)

    def code(self, document: Document, lexed: Region, *, fenced: bool) -> Code:
        body = lexed.lexemes["source"]
        place = where(document, lexed.start, self.root)
        include = included(body, self.root / "snippets", place)
        if include is None:
            first_line = document.text.count("\n", 0, lexed.start) + 2
            return Code(body, document.path, first_line, fenced)
        path, section = include
        try:
            source, first_line = snippet_section(path, section)
        except ValueError as error:
            raise ValueError(f"{place}: {error}") from None
        return Code(source, str(path), first_line, fenced)


def run_block(example: Example) -> None:
    """Run a block in its page's namespace, inside the page's running event loop."""
    __tracebackhide__ = True
    code: Code = example.parsed
    page: Page = example.namespace["__page__"]
    require_what_the_page_needs(page)
    # A name for what the page defines (classes' __module__, loggers); a file name, so it
    # can never be mistaken for a real module such as a snippet's.
    example.namespace.setdefault("__name__", Path(example.path).name)
    example.namespace["__file__"] = code.filename  # an included snippet runs as itself

    async def inside_the_loop() -> None:
        __tracebackhide__ = True
        result = eval(code.compile(), example.namespace)
        if inspect.iscoroutine(result):  # the block used top-level `await`
            await result

    page.runner.run(inside_the_loop())


class ReasonedSkipper(Skipper):
    """Sybil's skipper, reporting a skip at the page's line rather than inside pytest."""

    def install(self, example: Example, state: SkipState, reason: str | None) -> None:
        super().install(example, state, reason)
        if state.exception is not None:
            reason = str(state.exception)
            # Sybil raises whatever it stores here; pytest's skip is a BaseException, hence
            # the ignore. _use_item_location makes pytest report the page's path and line.
            skip = pytest.skip.Exception(reason, _use_item_location=True)
            state.exception = skip  # type: ignore[assignment]


class ReasonedSkipParser(SkipParser):
    """Sybil's `<!-- skip: next "reason" -->`, refusing a skip that gives no reason.

    A bare `skip: next` would pass silently instead of being reported as skipped."""

    def __init__(self, root: Path) -> None:
        super().__init__()
        self.skipper = ReasonedSkipper(self.directive)
        self.root = root

    def __call__(self, document: Document) -> Iterable[Region]:
        for region in super().__call__(document):
            action, reason = region.parsed
            if action in ("start", "next") and not reason:
                raise ValueError(
                    f"{where(document, region.start, self.root)}: 'skip: {action}' needs a "
                    f'reason, for example <!-- skip: {action} "serves forever" -->'
                )
            yield region


# --- exchanges -------------------------------------------------------------------------

REQUEST_LINE = re.compile(r"(?P<method>[A-Z]+) (?P<target>/\S*)(?: HTTP/[\d.]+)?")
STATUS_LINE = re.compile(r"HTTP/[\d.]+ (?P<status>\d{3})(?: (?P<reason>.*))?")
HEADER = re.compile(r"(?P<name>[A-Za-z0-9-]+):[ \t]*(?P<value>.*)")


@dataclass(frozen=True)
class Message:
    """An HTTP request or response as a page shows it: first line, headers, body."""

    first_line: str
    headers: tuple[tuple[str, str], ...]
    body: str

    @classmethod
    def parse(cls, text: str) -> Message:
        head, _, body = text.strip("\n").partition("\n\n")
        first_line, *header_lines = head.splitlines()
        headers = []
        for line in header_lines:
            header = HEADER.fullmatch(line.strip())
            if header is None:
                raise ValueError(
                    f"{line.strip()!r} is not a header: leave a blank line before the body"
                )
            headers.append((header["name"].lower(), header["value"]))
        return cls(first_line.strip(), tuple(headers), body.strip())


@dataclass(frozen=True)
class Exchange:
    """A request a page shows, the response it promises, and where it promises it."""

    request: Message
    response: Message
    place: str
    response_block: tuple[int, int]  # where the response's fenced block is in the page text


class ExchangeParser:
    """Pairs each ```` ```http ```` request block with the response block after it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.fences = fenced("http")

    def __call__(self, document: Document) -> Iterable[Region]:
        request: Region | None = None
        for block in self.fences(document):
            place = where(document, block.start, self.root)
            try:
                message = Message.parse(block.lexemes["source"])
            except ValueError as error:
                raise ValueError(f"{place}: {error}") from None
            if REQUEST_LINE.fullmatch(message.first_line) and request is None:
                request = block
            elif STATUS_LINE.fullmatch(message.first_line) and request is not None:
                shown = Message.parse(request.lexemes["source"])
                exchange = Exchange(shown, message, place, (block.start, block.end))
                yield Region(request.start, block.end, exchange, check)
                request = None
            else:
                raise ValueError(
                    f"{place}: an http block is a request ('GET /path HTTP/1.1') followed by "
                    f"its response ('HTTP/1.1 200 OK'); found {message.first_line!r}"
                )
        if request is not None:
            place = where(document, request.start, self.root)
            raise ValueError(f"{place}: this request block has no response block after it")


def check(example: Example) -> str | None:
    """Send the shown request to the page's `app` twice, in-process and over a socket; describe
    every difference from the page, and every exception the app raised while serving it."""
    exchange: Exchange = example.parsed
    page: Page = example.namespace["__page__"]
    require_what_the_page_needs(page)
    app = example.namespace.get("app")
    if app is None:
        return f"{exchange.place}: the page defines no `app` before this exchange"
    answers = {
        IN_PROCESS: page.runner.run(send(app, exchange.request)),
        OVER_A_SOCKET: page.server_runner.run(send_over_a_socket(app, exchange.request)),
    }
    expected = render(exchange.response, exchange.response)
    actual = {
        way: render(as_message(response), exchange.response)
        for way, (response, _) in answers.items()
    }
    # A page that shows a 500 shows the app failing: there, and only there, it may raise.
    may_raise = STATUS_LINE.fullmatch(exchange.response.first_line)["status"] == "500"  # type: ignore[index]
    raised = {way: errors for way, (_, errors) in answers.items() if errors and not may_raise}
    if set(actual.values()) == {expected} and not raised:
        return None
    agreed = len(set(actual.values())) == 1
    if os.environ.get("DOCS_UPDATE") == "1" and agreed and not raised:
        response = answers[IN_PROCESS][0]
        page.updates.append((exchange.response_block, restyled(response, exchange.response)))
        return None
    report = [f"{exchange.place}: {exchange.request.first_line} answered differently"]
    if not set(actual.values()) - {expected}:
        report = [f"{exchange.place}: {exchange.request.first_line} answered as shown, but"]
    for way, answer in actual.items():
        if answer != expected:
            report += ["", f"{way}:"]
            report += difflib.unified_diff(
                expected.splitlines(),
                answer.splitlines(),
                "shown on the page",
                "sent by the app",
                lineterm="",
            )
        if way in raised:
            report += ["", f"{way}, the app raised:", *raised[way]]
    return "\n".join(report)


IN_PROCESS = "in-process (httpx.ASGITransport)"
OVER_A_SOCKET = "over a socket (uvicorn on 127.0.0.1)"


async def send(app: Any, request: Message) -> tuple[httpx.Response, list[str]]:
    """Send a shown request through `httpx.ASGITransport`, with the app's lifespan entered
    and its state handed to the request, as a server would.

    An exception in the app becomes the 500 a client would see; it is returned beside the
    response, for the report when that 500 is not what the page shows."""
    match = REQUEST_LINE.fullmatch(request.first_line)
    assert match is not None
    raised: list[Exception] = []

    async def app_recording_errors(scope: Any, receive: Any, send: Any) -> None:
        try:
            await app(scope, receive, send)
        except Exception as error:
            raised.append(error)
            raise

    async with app.router.lifespan_context(app) as state:

        async def app_with_state(scope: Any, receive: Any, send: Any) -> None:
            # What a server does with lifespan state: a shallow copy in every request's scope.
            await app_recording_errors({**scope, "state": dict(state or {})}, receive, send)

        transport = httpx.ASGITransport(app=app_with_state, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            response = await client.request(
                match["method"],
                match["target"],
                headers=list(request.headers),
                content=request.body.encode() or None,
            )
    return response, ["".join(traceback.format_exception(error)) for error in raised]


async def send_over_a_socket(app: Any, request: Message) -> tuple[httpx.Response, list[str]]:
    """Serve `app` with uvicorn on a free port of 127.0.0.1 and send the shown request over a
    TCP connection, as a reader's client would.

    The server is stopped once the response is in, and stopping waits for the app to finish,
    background work after the response included; returned beside the response is every error
    uvicorn logged meanwhile (an exception in the app, even one raised after the response)."""
    async with served(app) as (address, errors):
        response = await http_over_tcp(address, request)
    return response, errors.entries()


@asynccontextmanager
async def served(
    app: Any, shutdown_limit: int | None = None
) -> AsyncIterator[tuple[tuple[str, int], ErrorLog]]:
    """`app` served by uvicorn on a free port of 127.0.0.1, its lifespan run by uvicorn, until
    the block ends; yields the address and the log of every error uvicorn logs meanwhile, which
    holds all of them once the block has ended (stopping waits for the app to finish, for at
    most `shutdown_limit` seconds if given: on the virtual clock, leave it None, since the
    clock may jump past it while background work after a response still runs)."""
    errors = ErrorLog()
    server_log = logging.getLogger("uvicorn.error")
    server_log.addHandler(errors)
    try:
        with socket.socket() as listening:
            listening.bind(("127.0.0.1", 0))
            config = uvicorn.Config(
                app,
                lifespan="on",
                log_config=None,
                log_level="warning",
                timeout_graceful_shutdown=shutdown_limit,
            )
            server = uvicorn.Server(config)
            serving = asyncio.create_task(server.serve(sockets=[listening]))
            try:
                while not server.started:
                    if serving.done():
                        raise RuntimeError(
                            "uvicorn stopped before it started:\n" + "\n".join(errors.entries())
                        )
                    await asyncio.sleep(0.01)
                yield listening.getsockname(), errors
            finally:
                server.should_exit = True
                await serving
    finally:
        server_log.removeHandler(errors)


class ErrorLog(logging.Handler):
    """Every record of level ERROR and above, as logged."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def entries(self) -> list[str]:
        """Each record as text, with its traceback."""
        return [logging.Formatter().format(record) for record in self.records]


async def http_over_tcp(address: tuple[str, int], request: Message) -> httpx.Response:
    """One HTTP/1.1 request on a new TCP connection, spoken with h11 rather than httpx, so that
    nothing a page mocks in httpx (respx) can stand between the client and the server."""
    match = REQUEST_LINE.fullmatch(request.first_line)
    assert match is not None
    host, port = address
    body = request.body.encode()
    headers = [("host", f"{host}:{port}"), *request.headers]
    if body:
        headers.append(("content-length", str(len(body))))
    client = h11.Connection(h11.CLIENT)
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(
            client.send(
                h11.Request(method=match["method"], target=match["target"], headers=headers)
            )
            or b""
        )
        writer.write(client.send(h11.Data(data=body)) or b"" if body else b"")
        writer.write(client.send(h11.EndOfMessage()) or b"")
        await writer.drain()
        status, received, content = 0, [], bytearray()
        while True:
            event = client.next_event()
            if event is h11.NEED_DATA:
                client.receive_data(await reader.read(65536))
            elif isinstance(event, h11.Response):
                status = event.status_code
                received = [
                    (name.decode(), value.decode("latin-1")) for name, value in event.headers
                ]
            elif isinstance(event, h11.Data):
                content += event.data
            elif isinstance(event, h11.EndOfMessage):
                break
    finally:
        writer.close()
        await writer.wait_closed()
    return httpx.Response(status, headers=received, content=bytes(content))


def restyled(response: httpx.Response, shown: Message) -> str:
    """The response as the page would show it, in the page's style: the headers it shows, in its
    order; JSON on one line if the page had it on one line, indented if not; lists cut with
    `...` where the page cut them."""
    actual = as_message(response)
    headers = dict(actual.headers)
    lines = [actual.first_line, *(f"{name}: {headers.get(name, '')}" for name, _ in shown.headers)]
    body = body_as_shown(actual.body, shown.body, indent=2 if "\n" in shown.body else None)
    return "\n".join(lines) + ("\n\n" + body if body else "")


def rewrite_blocks(path: Path, updates: list[tuple[tuple[int, int], str]]) -> None:
    """Put each new content into its fenced block, keeping the fences and their indentation."""
    text = path.read_text(encoding="utf-8")
    for (start, end), content in sorted(updates, reverse=True):
        opening, *_, closing = text[start:end].splitlines()
        indent = opening[: len(opening) - len(opening.lstrip())]
        inside = [f"{indent}{line}" if line else "" for line in content.splitlines()]
        text = text[:start] + "\n".join([opening, *inside, closing]) + text[end:]
    path.write_text(text, encoding="utf-8")


def as_message(response: httpx.Response) -> Message:
    status = f"HTTP/1.1 {response.status_code} {response.reason_phrase}"
    return Message(status, tuple(response.headers.items()), response.text.strip())


def render(message: Message, shown: Message) -> str:
    """A message as the page would show it, for comparison: the first line, the headers the
    page shows, and the body, JSON re-indented and cut where the page cuts a list with `...`."""
    headers = dict(message.headers)
    lines = [message.first_line]
    lines += [f"{name}: {headers.get(name, '(absent)')}" for name, _ in shown.headers]
    return "\n".join(lines) + "\n\n" + body_as_shown(message.body, shown.body)


ELLIPSIS = re.compile(r"(?<=[\[,\s])\.\.\.(?=\s*[\],])")  # `...` as an item of a JSON list
MORE = "\u2026 and more"


def body_as_shown(body: str, shown_body: str, indent: int | None = 2) -> str:
    """A JSON body cut like the shown one and laid out with `indent`; other bodies as they are."""
    try:
        actual, shown = parsed(body), parsed(shown_body)
    except ValueError:
        return body
    text = json.dumps(cut_like(actual, shown), indent=indent, ensure_ascii=False)
    return text.replace(json.dumps(MORE, ensure_ascii=False), "...")


def parsed(text: str) -> Any:
    """JSON; failing that, JSON with lists cut by `...`, as a page may show them."""
    try:
        return json.loads(text)
    except ValueError:
        return json.loads(ELLIPSIS.sub(lambda _: json.dumps(MORE), text))


def cut_like(actual: Any, shown: Any) -> Any:
    """`actual` in the shape the page shows: where a shown list ends with `...`, the items past
    those shown become `...`, provided there is at least one (`...` promises more)."""
    if isinstance(actual, list) and isinstance(shown, list):
        if shown and shown[-1] == MORE and len(actual) >= len(shown):
            kept = len(shown) - 1
            return [cut_like(a, s) for a, s in zip(actual[:kept], shown, strict=False)] + [MORE]
        return [cut_like(a, s) for a, s in zip(actual, shown, strict=False)] + actual[len(shown) :]
    if isinstance(actual, dict) and isinstance(shown, dict):
        return {key: cut_like(value, shown.get(key)) for key, value in actual.items()}
    return actual


# --- upstreams and databases -------------------------------------------------------------


@contextmanager
def upstreams() -> Iterator[respx.MockRouter]:
    """The respx router a page or test gets as `respx_mock`: empty, and consulted first.

    Whatever it does not match, JSONPlaceholder's recordings answer; a request neither
    knows fails loudly, naming its URL. So mocking a JSONPlaceholder URL in `respx_mock`
    replaces the recorded answer: `respx_mock.get(f"{JSONPLACEHOLDER}/posts").respond(503)`.
    """
    # respx asks its started routers in the order they started, moving on when one has no
    # route for the request: start the page's own router first, the recordings second.
    with mock_router() as router, jsonplaceholder():
        yield router


def mock_router() -> respx.MockRouter:
    return respx.MockRouter(assert_all_mocked=True, assert_all_called=False)


def jsonplaceholder() -> respx.MockRouter:
    """A router answering JSONPlaceholder's lists and items from the recorded data, like the
    real service: `/posts?userId=1` filters, an unknown id is a 404 with `{}`."""
    router = mock_router()
    for recording in sorted(RECORDINGS.glob("*.json")):
        rows = json.loads(recording.read_text(encoding="utf-8"))
        collection = re.escape(f"{JSONPLACEHOLDER}/{recording.stem}")
        router.get(url__regex=rf"^{collection}(\?.*)?$").mock(side_effect=listing(rows))
        router.get(url__regex=rf"^{collection}/(?P<key>[^/?]+)$").mock(side_effect=item(rows))
    return router


def listing(rows: list[dict[str, Any]]) -> Any:
    def as_query(value: Any) -> str:
        return json.dumps(value) if isinstance(value, bool) else str(value)  # true, not True

    def respond(request: httpx.Request) -> httpx.Response:
        wanted = request.url.params.multi_items()
        kept = [row for row in rows if all(as_query(row.get(k)) == v for k, v in wanted)]
        return httpx.Response(200, json=kept)

    return respond


def item(rows: list[dict[str, Any]]) -> Any:
    by_id = {row["id"]: row for row in rows}

    def respond(request: httpx.Request, key: str) -> httpx.Response:
        row = by_id.get(int(key)) if key.isascii() and key.isdigit() else None  # as there
        return httpx.Response(200, json=row) if row else httpx.Response(404, json={})

    return respond


#: httpx reads these; a page must not depend on the machine's proxies, nor reach them.
NO_PROXIES: dict[str, str | None] = dict.fromkeys(
    name for proxy in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY") for name in (proxy, proxy.lower())
)


@contextmanager
def environment(**values: str | None) -> Iterator[None]:
    """Set (or, for None, remove) environment variables for a while; then put back what was."""
    saved = {name: os.environ.get(name) for name in values}
    try:
        for name, value in values.items():
            set_variable(name, value)
        yield
    finally:
        for name, value in saved.items():
            set_variable(name, value)


def set_variable(name: str, value: str | None) -> None:
    if value is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = value


def seeded_database(directory: Path) -> str:
    """A fresh SQLite file in `directory`, loaded from `snippets/users_db.sql`; its URL."""
    path = directory / "app.db"
    with closing(sqlite3.connect(path)) as database:
        database.executescript(SEED_SQL.read_text(encoding="utf-8"))
    return sqlite_url(path)


def sqlite_url(path: Path) -> str:
    """The URL the apps take for an SQLite file: opened read-write, never created if missing."""
    return f"sqlite+aiosqlite:///file:{path}?mode=rw&uri=true"


def sqlite_path(url: str) -> Path:
    """The file an SQLite URL from `sqlite_url` names."""
    return Path(url.removeprefix("sqlite+aiosqlite:///file:").partition("?")[0])


# --- no network --------------------------------------------------------------------------


class OutsideThisMachine(ConnectionRefusedError):
    """A test tried to reach a host that is not this machine."""


class NetworkGuard:
    """A pytest plugin: while it is registered, a connection or a name lookup for any host
    outside loopback raises OutsideThisMachine, and fails the test that tried it, naming the
    host, even if the code under test caught the error (an app that turns a failed upstream
    call into a 502 would otherwise pass). respx answers httpx before any socket is opened;
    this catches everything else."""

    def __init__(self) -> None:
        self.attempts: list[str] = []
        self.patches = pytest.MonkeyPatch()

    def pytest_configure(self) -> None:
        connect, connect_ex = socket.socket.connect, socket.socket.connect_ex
        getaddrinfo = socket.getaddrinfo

        def guarded_connect(sock: socket.socket, address: Any) -> None:
            self.check_address(sock, address)
            connect(sock, address)

        def guarded_connect_ex(sock: socket.socket, address: Any) -> int:
            self.check_address(sock, address)
            return connect_ex(sock, address)

        def guarded_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
            name = host.decode() if isinstance(host, bytes) else host
            if not (self.is_local(name) or self.is_address(name)):  # an address needs no DNS
                self.refuse(f"look up {name!r}")
            return getaddrinfo(host, *args, **kwargs)

        self.patches.setattr(socket.socket, "connect", guarded_connect)
        self.patches.setattr(socket.socket, "connect_ex", guarded_connect_ex)
        self.patches.setattr(socket, "getaddrinfo", guarded_getaddrinfo)

    def pytest_unconfigure(self) -> None:
        self.patches.undo()

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_setup(self) -> Iterator[None]:
        self.attempts.clear()
        return (yield)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self) -> Iterator[None]:
        try:
            return (yield)
        finally:  # whether or not the test failed by itself, say which host it tried
            self.fail_if_attempted()

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_teardown(self) -> Iterator[None]:
        try:
            return (yield)
        finally:
            self.fail_if_attempted()

    def check_address(self, sock: socket.socket, address: Any) -> None:
        if sock.family in (socket.AF_INET, socket.AF_INET6) and not self.is_local(address[0]):
            self.refuse(f"connect to {address[0]} port {address[1]}")

    @staticmethod
    def is_local(host: str | None) -> bool:
        if host is None or host == "localhost":
            return True
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return False  # a name other than localhost
        return address.is_loopback or address.is_unspecified

    @staticmethod
    def is_address(host: str) -> bool:
        try:
            ipaddress.ip_address(host)
        except ValueError:
            return False
        return True

    def refuse(self, attempt: str) -> None:
        self.attempts.append(attempt)
        raise OutsideThisMachine(f"tests may not reach outside this machine: {attempt}")

    def fail_if_attempted(self) -> None:
        if self.attempts:
            attempts, self.attempts = self.attempts, []
            pytest.fail(
                "tried to reach outside this machine (respx mocks httpx; only loopback is "
                "allowed): " + "; ".join(dict.fromkeys(attempts)),
                pytrace=False,
            )


# --- the corpus, as the guards see it ----------------------------------------------------

PYTHON_FENCE = re.compile(r"^[ \t>]*(?:[-*+][ \t]+)?(`{3,}|~{3,})[ \t]*\{?[ \t]*\.?(\w*)")


def scanned_python_fences(page: Path) -> list[int]:
    """Line numbers of every fence a reader would take for Python, found without Sybil."""
    found, open_fence = [], ""
    for number, line in enumerate(page.read_text(encoding="utf-8").splitlines(), 1):
        match = PYTHON_FENCE.match(line)
        if match is None:
            continue
        fence, language = match.groups()
        if not open_fence:
            open_fence = fence
            if language.lower() in {"python", "py", "python3", "py3", "pycon"}:
                found.append(number)
        elif fence[0] == open_fence[0] and len(fence) >= len(open_fence) and not language:
            open_fence = ""
    return found


def includes(page: Path, root: Path = ROOT) -> Iterator[tuple[int, Path, str | None]]:
    """Every `--8<--` include on a page, in any kind of block: its line, file and section.
    A malformed one raises, naming the page and line, as it does when the page runs."""
    for number, line in enumerate(page.read_text(encoding="utf-8").splitlines(), 1):
        if INCLUDE.match(line):
            place = f"{page.relative_to(root)}:{number}"
            include = included(line, root / "snippets", place)
            assert include is not None  # INCLUDE matched
            yield number, *include


def page_as_module(page: Path, root: Path = ROOT) -> str:
    """A page's own Python as one module, for linters: each inline block at its own lines (so a
    finding's line is the page's line), each included snippet as a star import."""
    document = pages(root).parse(page)
    lines = [""] * (document.text.count("\n") + 1)
    lines[0] = "respx_mock = None  # the harness gives every page one"  # line 1: the title
    for example in document.examples():
        code = example.parsed
        if not isinstance(code, Code):
            continue
        if code.filename != document.path:  # on the lines of the fences around the include
            lines[example.line - 1] = f"from {Path(code.filename).stem} import *"
            lines[example.line + 1] = "..."  # ends the import block: the next block's are its own
            continue
        for number, line in enumerate(code.source.splitlines(), start=code.first_line):
            lines[number - 1] = line
    return "\n".join(lines) + "\n"


def page_address(page: Path, root: Path = ROOT) -> str:
    """A page's address within the built site: docs/users.md at users/, docs/index.md at ''."""
    relative = page.relative_to(root / "docs").with_suffix("").as_posix()
    return relative.removesuffix("index") if relative.endswith("index") else f"{relative}/"


def load_snippet(name: str, root: Path = ROOT) -> ModuleType:
    """snippets/<name>.py loaded by its path, as outside code would, under a name of its own
    and outside sys.modules: a fresh module, and app, on every call."""
    spec = importlib.util.spec_from_file_location(
        f"loaded_{name}", root / "snippets" / f"{name}.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
