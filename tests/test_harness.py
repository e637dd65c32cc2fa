"""The harness itself: each behaviour the pages rely on, shown on small pages of its own."""

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from textwrap import dedent
from typing import Any

import pytest
from sybil import Document
from sybil.example import SybilFailure

from pytest_pages.collection import pages
from pytest_pages.corpus import scanned_python_fences
from pytest_pages.markdown import clock_of
from pytest_pages.runtime import CLOCK_START
from tests.support import postgres, processes
from tests.support.databases import sqlite_path
from tests.support.pages import database_of
from tests.support.project import RECORDINGS, ROOT, SRC

FENCE = "```"


@contextmanager
def opened_page(root: Path, text: str, **snippets: str) -> Iterator[Document]:
    """Write `text` as docs/page.md under `root` (and any snippets, `name__py` for `name.py`),
    and open it as the test run would: parsed, with its loop, upstreams and database."""
    (root / "docs").mkdir(parents=True, exist_ok=True)
    (root / "snippets").mkdir(exist_ok=True)
    page = root / "docs" / "page.md"
    page.write_text(dedent(text), encoding="utf-8")
    for name, source in snippets.items():
        (root / "snippets" / name.replace("__", ".")).write_text(dedent(source), encoding="utf-8")
    sybil = pages(root, root / "docs", root / "snippets", CONFIG[0])
    document = sybil.parse(page)
    assert sybil.setup is not None
    assert sybil.teardown is not None
    sybil.setup(document.namespace)
    try:
        yield document
    finally:
        sybil.teardown(document.namespace)


def run_page(root: Path, text: str, update_docs: bool = False, **snippets: str) -> dict[str, Any]:
    """Run every example of the page, as the test run would (with --update-docs, if asked);
    return the page's namespace."""
    with opened_page(root, text, **snippets) as document:
        document.namespace["__page__"].update_docs = update_docs
        for example in document.examples():
            example.evaluate()
    return document.namespace


#: The run's pytest config, which a page opened here needs for its set-up hook (the project's
#: upstreams and database, tests/support/pages.py); set for each test by `config` below.
CONFIG: list[pytest.Config] = []


@pytest.fixture(autouse=True)
def config(pytestconfig: pytest.Config) -> Iterator[None]:
    CONFIG.append(pytestconfig)
    yield
    CONFIG.clear()


@pytest.fixture(autouse=True)
def respx_mock() -> None:
    """Overrides tests/conftest.py's: here every request comes from a page, and each page
    starts its own upstreams. A test-wide router, started earlier, would be asked first and
    hide the page's routes."""


# --- blocks ------------------------------------------------------------------------------


def test_blocks_share_one_namespace_and_one_loop_and_may_await(tmp_path: Path) -> None:
    namespace = run_page(
        tmp_path,
        f"""
        {FENCE}python
        import asyncio
        first_loop = asyncio.get_running_loop()
        queue = asyncio.Queue()
        {FENCE}

        {FENCE}python title="second.py" hl_lines="1"
        await queue.put("made in the first block")
        same_loop = asyncio.get_running_loop() is first_loop
        {FENCE}

        {FENCE} {{.python title="third"}}
        received = await queue.get()
        {FENCE}
        """,
    )
    assert namespace["same_loop"] is True
    assert namespace["received"] == "made in the first block"


def test_sleeps_take_exactly_their_time_on_the_virtual_clock(tmp_path: Path) -> None:
    namespace = run_page(
        tmp_path,
        f"""
        {FENCE}python
        import asyncio
        loop = asyncio.get_running_loop()
        started = loop.time()
        await asyncio.gather(asyncio.sleep(2), asyncio.sleep(3))
        elapsed = loop.time() - started
        {FENCE}
        """,
    )
    # To the microsecond: a real clock would have measured a little more than 3 s, after 3 s
    # of waiting. The clock starts where no page can take differences for round numbers.
    assert namespace["started"] == CLOCK_START
    assert namespace["elapsed"] != 3.0
    assert round(namespace["elapsed"], 6) == 3.0


def test_an_included_snippet_runs_as_the_real_file_with_its_own_line_numbers(
    tmp_path: Path,
) -> None:
    with pytest.raises(ZeroDivisionError) as raised:
        run_page(
            tmp_path,
            f"""
            {FENCE}python title="snippets/broken.py"
            --8<-- "broken.py"
            {FENCE}
            """,
            broken__py="""\
            def ratio() -> float:
                return 1 / 0


            ratio()
            """,
        )
    last = traceback.extract_tb(raised.value.__traceback__)[-1]
    assert (Path(last.filename), last.lineno) == (tmp_path / "snippets" / "broken.py", 2)


def test_a_section_include_runs_only_that_section_at_its_file_lines(tmp_path: Path) -> None:
    snippet = """\
    before = "not included"
    # --8<-- [start:middle]
    middle = "included"
    # --8<-- [end:middle]
    after = "not included"
    """
    namespace = run_page(
        tmp_path,
        f"""
        {FENCE}python
        --8<-- "parts.py:middle"
        {FENCE}
        """,
        parts__py=snippet,
    )
    assert namespace["middle"] == "included"
    assert "before" not in namespace
    assert "after" not in namespace
    with pytest.raises(ZeroDivisionError) as raised:
        run_page(
            tmp_path,
            f'{FENCE}python\n--8<-- "parts.py:middle"\n{FENCE}\n',
            parts__py=snippet.replace('"included"', "1 / 0"),
        )
    assert traceback.extract_tb(raised.value.__traceback__)[-1].lineno == 3


@pytest.mark.parametrize(
    ("include", "complaint"),
    [
        ('--8<-- "missing.py"', "no such snippet"),
        ('--8<-- "parts.py:nowhere"', "needs exactly one '--8<-- [start:nowhere]'"),
        ('--8<-- "parts.py:3:5"', "named sections, never line numbers"),
        ('--8<-- "parts.py"\nprint("and code")', "a block is either Python or one include"),
    ],
)
def test_a_bad_include_is_refused_naming_the_page_line(
    tmp_path: Path, include: str, complaint: str
) -> None:
    with pytest.raises(ValueError, match=re.escape(complaint)) as raised:
        run_page(tmp_path, f"Intro.\n\n{FENCE}python\n{include}\n{FENCE}\n", parts__py="x = 1\n")
    assert str(raised.value).startswith("docs/page.md:3: ")


# --- exchanges ---------------------------------------------------------------------------

APP = f"""
{FENCE}python
from contextlib import asynccontextmanager

from fastapi import FastAPI


@asynccontextmanager
async def lifespan(app: FastAPI):
    app.state.greeting = "set by the lifespan"
    yield


app = FastAPI(lifespan=lifespan)


@app.get("/greeting")
async def greeting() -> dict[str, str]:
    return {{"greeting": app.state.greeting}}


@app.post("/echo")
async def echo(payload: dict[str, int]) -> dict[str, int]:
    return payload
{FENCE}
"""

EXCHANGE = f"""
{FENCE}http
GET /greeting HTTP/1.1
{FENCE}

{FENCE}http
HTTP/1.1 200 OK
content-type: application/json

{{
  "greeting": "set by the lifespan"
}}
{FENCE}
"""


def test_an_exchange_is_sent_to_the_app_with_its_lifespan_entered(tmp_path: Path) -> None:
    run_page(tmp_path, APP + EXCHANGE)


def test_an_exchange_sends_the_shown_headers_and_body(tmp_path: Path) -> None:
    run_page(
        tmp_path,
        APP
        + f"""
        {FENCE}http
        POST /echo HTTP/1.1
        content-type: application/json

        {{"a": 1}}
        {FENCE}

        {FENCE}http
        HTTP/1.1 200 OK

        {{"a": 1}}
        {FENCE}
        """,
    )


@pytest.mark.parametrize(
    ("old", "new", "diff"),
    [
        (
            '"set by the lifespan"',
            '"a promise"',
            ['-  "greeting": "a promise"', '+  "greeting": "set by the lifespan"'],
        ),
        ("GET /greeting", "GET /nowhere", ["-HTTP/1.1 200 OK", "+HTTP/1.1 404 Not Found"]),
        ("200 OK", "200 Fine", ["-HTTP/1.1 200 Fine", "+HTTP/1.1 200 OK"]),
        (
            "application/json",
            "text/plain",
            ["-content-type: text/plain", "+content-type: application/json"],
        ),
    ],
)
def test_a_differing_response_fails_with_a_diff_naming_the_page_line(
    tmp_path: Path, old: str, new: str, diff: list[str]
) -> None:
    page = APP + EXCHANGE.replace(old, new)
    with pytest.raises(SybilFailure) as failed:
        run_page(tmp_path, page)
    fences = [number for number, line in enumerate(page.splitlines(), 1) if line == f"{FENCE}http"]
    report = failed.value.result
    assert report.startswith(f"docs/page.md:{fences[1]}: ")
    assert "--- shown on the page\n+++ sent by the app" in report
    assert all(line in report.splitlines() for line in diff), report


COUNTING_APP = f"""
{FENCE}python
from fastapi import FastAPI

app = FastAPI()


@app.get("/numbers/{{count}}")
async def numbers(count: int) -> list[int]:
    return list(range(count))


@app.get("/broken")
async def broken() -> None:
    raise RuntimeError("a bug in the app")
{FENCE}
"""


def shown_list(count: int, items: str) -> str:
    request = f"{FENCE}http\nGET /numbers/{count} HTTP/1.1\n{FENCE}\n\n"
    return COUNTING_APP + request + f"{FENCE}http\nHTTP/1.1 200 OK\n\n[{items}]\n{FENCE}\n"


@pytest.mark.parametrize(
    ("count", "items"), [(5, "0, 1, ..."), (3, "0, 1, 2"), (3, "\n 0,\n ...\n")]
)
def test_a_list_cut_with_an_ellipsis_matches_its_first_items_and_more(
    tmp_path: Path, count: int, items: str
) -> None:
    run_page(tmp_path, shown_list(count, items))


@pytest.mark.parametrize(
    ("count", "items", "diff"),
    [
        (2, "0, 1, ...", ['-  "..."', "-  ..."]),  # `...` promises more than there is
        (5, "0, 2, ...", ["-  2,", "+  1,"]),
        (5, "0, 1", ["+  2,", "+  3,", "+  4"]),  # without `...`, every item is shown
    ],
)
def test_a_cut_list_still_fails_on_what_it_shows_or_promises(
    tmp_path: Path, count: int, items: str, diff: list[str]
) -> None:
    with pytest.raises(SybilFailure) as failed:
        run_page(tmp_path, shown_list(count, items))
    lines = failed.value.result.splitlines()
    assert any(line in lines for line in diff), failed.value.result


def test_a_shown_500_is_checked_like_any_response(tmp_path: Path) -> None:
    exchange = f"""
    {FENCE}http
    GET /broken HTTP/1.1
    {FENCE}

    {FENCE}http
    HTTP/1.1 500 Internal Server Error

    Internal Server Error
    {FENCE}
    """
    run_page(tmp_path, COUNTING_APP + dedent(exchange))
    promised = dedent(exchange).replace("500 Internal Server Error\n\nInternal", "200 OK\n\nnull")
    with pytest.raises(SybilFailure) as failed:
        run_page(tmp_path, COUNTING_APP + promised)
    report = failed.value.result
    assert "+HTTP/1.1 500 Internal Server Error" in report
    for way in ("in-process (httpx.ASGITransport)", "over a socket (uvicorn on 127.0.0.1)"):
        assert f"{way}, the app raised:" in report
    assert report.count("RuntimeError: a bug in the app") == 2


WHERE_APP = f"""
{FENCE}python
from fastapi import BackgroundTasks, FastAPI, Request

app = FastAPI()


@app.get("/where")
async def where(request: Request) -> dict[str, str]:
    return {{"host": request.url.hostname or ""}}


def audit() -> None:
    raise RuntimeError("the audit log is full")


@app.post("/orders", status_code=202)
async def order(background: BackgroundTasks) -> dict[str, str]:
    background.add_task(audit)
    return {{"status": "accepted"}}
{FENCE}
"""


def where_exchange(host: str) -> str:
    """GET /where, shown answering `host`."""
    return f"""
{FENCE}http
GET /where HTTP/1.1
{FENCE}

{FENCE}http
HTTP/1.1 200 OK

{{"host": "{host}"}}
{FENCE}
"""


def test_every_exchange_is_also_sent_over_a_socket_to_uvicorn(tmp_path: Path) -> None:
    page = WHERE_APP + where_exchange("testserver")
    with pytest.raises(SybilFailure) as failed:
        run_page(tmp_path, page)
    report = failed.value.result
    fences = [number for number, line in enumerate(page.splitlines(), 1) if line == f"{FENCE}http"]
    assert report.startswith(f"docs/page.md:{fences[1]}: GET /where HTTP/1.1 answered differently")
    # Only the socket's answer differs: the test transport calls its host "testserver".
    assert "in-process" not in report
    assert "over a socket (uvicorn on 127.0.0.1):" in report
    assert '-  "host": "testserver"' in report.splitlines()
    assert '+  "host": "127.0.0.1"' in report.splitlines()


def test_update_docs_rewrites_nothing_the_two_ways_disagree_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(SybilFailure) as failed:
        run_page(tmp_path, WHERE_APP + where_exchange("elsewhere"), update_docs=True)
    report = failed.value.result
    assert "in-process (httpx.ASGITransport):" in report
    assert "over a socket (uvicorn on 127.0.0.1):" in report
    assert '"elsewhere"' in (tmp_path / "docs" / "page.md").read_text(encoding="utf-8")


def test_an_app_that_raises_after_the_response_fails_the_exchange_both_ways(
    tmp_path: Path,
) -> None:
    exchange = f"""
    {FENCE}http
    POST /orders HTTP/1.1
    {FENCE}

    {FENCE}http
    HTTP/1.1 202 Accepted

    {{"status": "accepted"}}
    {FENCE}
    """
    with pytest.raises(SybilFailure) as failed:
        run_page(tmp_path, WHERE_APP + dedent(exchange))
    report = failed.value.result
    assert "POST /orders HTTP/1.1 answered as shown, but" in report
    assert "in-process (httpx.ASGITransport), the app raised:" in report
    assert "over a socket (uvicorn on 127.0.0.1), the app raised:" in report
    assert "Exception in ASGI application" in report  # what uvicorn logged
    assert report.count("RuntimeError: the audit log is full") == 2


def test_an_exchange_needs_an_app(tmp_path: Path) -> None:
    with pytest.raises(SybilFailure) as failed:
        run_page(tmp_path, EXCHANGE)
    response_fence = 6
    assert failed.value.result == (
        f"docs/page.md:{response_fence}: the page defines no `app` before this exchange"
    )


@pytest.mark.parametrize(
    ("blocks", "complaint"),
    [
        (f"{FENCE}http\nGET / HTTP/1.1\n{FENCE}\n", "has no response block after it"),
        (f"{FENCE}http\nHTTP/1.1 200 OK\n{FENCE}\n", "found 'HTTP/1.1 200 OK'"),
        (f"{FENCE}http\nGET / HTTP/1.1\nnot a header\n{FENCE}\n", "is not a header"),
    ],
)
def test_a_malformed_exchange_is_refused(tmp_path: Path, blocks: str, complaint: str) -> None:
    with pytest.raises(ValueError, match=rf"^docs/page.md:1: .*{re.escape(complaint)}"):
        run_page(tmp_path, blocks)


# --- conversations: WebSocket exchanges, replayed over a socket ---------------------------

ROOM_APP = f"""
{FENCE}python
from fastapi import FastAPI, WebSocket, WebSocketDisconnect, WebSocketException

app = FastAPI()


@app.websocket("/echo")
async def echo(websocket: WebSocket, token: str) -> None:
    if token != "secret":
        raise WebSocketException(1008)
    await websocket.accept()
    await websocket.send_text("welcome")
    try:
        while (text := await websocket.receive_text()) != "bye":
            await websocket.send_text(text.upper())
    except WebSocketDisconnect:
        return
    await websocket.close(4000, "asked to leave")
{FENCE}
"""

CONVERSATION = f"""
{FENCE}websocket
WEBSOCKET /echo?token=secret
< welcome
> hello
< HELLO
> bye
CLOSE 4000 asked to leave
{FENCE}
"""


def test_a_conversation_is_replayed_over_a_socket_as_shown(tmp_path: Path) -> None:
    refused = f"{FENCE}websocket\nWEBSOCKET /echo?token=wrong\nHTTP/1.1 403 Forbidden\n{FENCE}\n"
    run_page(tmp_path, ROOM_APP + CONVERSATION + refused)


@pytest.mark.parametrize(
    ("old", "new", "diff", "differs"),
    [
        ("< HELLO", "< hello", ["-< hello", "+< HELLO"], 4),
        ("< welcome\n", "", ["+< welcome"], 3),  # sent by the app, not shown
        (
            "CLOSE 4000 asked to leave",
            "CLOSE 1000",
            ["-CLOSE 1000", "+CLOSE 4000 asked to leave"],
            6,
        ),
        ("token=secret", "token=wrong", ["+HTTP/1.1 403 Forbidden"], 2),
    ],
)
def test_a_differing_conversation_fails_with_a_diff_naming_the_page_and_lines(
    tmp_path: Path, old: str, new: str, diff: list[str], differs: int
) -> None:
    page = ROOM_APP + CONVERSATION.replace(old, new)
    with pytest.raises(SybilFailure) as failed:
        run_page(tmp_path, page)
    fence = page.splitlines().index(f"{FENCE}websocket") + 1
    report = failed.value.result
    # The block's line, and the line of the first message that went differently.
    first = f"docs/page.md:{fence}: WEBSOCKET /echo?token="
    assert report.startswith(first)
    assert report.splitlines()[0].endswith(
        f" went differently, from docs/page.md:{fence + differs}"
    )
    assert "over a socket (uvicorn on 127.0.0.1):" in report
    assert "--- shown on the page\n+++ sent by the app" in report
    assert all(line in report.splitlines() for line in diff), report


def test_an_app_that_raises_fails_a_conversation_that_went_as_shown(tmp_path: Path) -> None:
    raising = ROOM_APP.replace('await websocket.close(4000, "asked to leave")', "raise KeyError(4)")
    conversation = CONVERSATION.replace("CLOSE 4000 asked to leave\n", "")
    with pytest.raises(SybilFailure) as failed:
        run_page(tmp_path, raising + conversation)
    report = failed.value.result
    assert "WEBSOCKET /echo?token=secret went as shown, but" in report
    assert "over a socket (uvicorn on 127.0.0.1), the app raised:" in report
    assert "KeyError: 4" in report


@pytest.mark.parametrize(
    ("sending", "named"),
    [
        ("await websocket.send_text('two\\nlines')", "a message with a newline"),
        ("await websocket.send_bytes(b'welcome')", "a binary message"),
    ],
)
def test_a_message_the_notation_cannot_show_fails_naming_why(
    tmp_path: Path, sending: str, named: str
) -> None:
    page = ROOM_APP.replace('await websocket.send_text("welcome")', sending)
    with pytest.raises(SybilFailure) as failed:
        run_page(tmp_path, page + CONVERSATION)
    assert f"+< ({named}, which a conversation cannot show)" in failed.value.result


def test_an_app_that_never_accepts_fails_the_conversation_instead_of_hanging(
    tmp_path: Path,
) -> None:
    hanging = ROOM_APP.replace("from fastapi", "import asyncio\nfrom fastapi").replace(
        "    await websocket.accept()\n", "    await asyncio.Event().wait()\n"
    )
    with pytest.raises(SybilFailure) as failed:
        run_page(tmp_path, hanging + CONVERSATION)
    assert "WEBSOCKET /echo?token=secret hung: the app did not accept" in failed.value.result


@pytest.mark.parametrize(
    ("block", "complaint"),
    [
        ("GET /echo HTTP/1.1\n< welcome", "starts with the path it opens, 'WEBSOCKET /path?query'"),
        ("WEBSOCKET /echo\nhello", "line 3 of a websocket block is '> message' (sent)"),
        ("WEBSOCKET /echo\nCLOSE 1000\n< welcome", "found 'CLOSE 1000'"),
        ("WEBSOCKET /echo\n< welcome\nHTTP/1.1 403 Forbidden", "or alone 'HTTP/1.1 403"),
    ],
)
def test_a_malformed_conversation_is_refused(tmp_path: Path, block: str, complaint: str) -> None:
    with pytest.raises(ValueError, match=rf"^docs/page.md:1: .*{re.escape(complaint)}"):
        run_page(tmp_path, f"{FENCE}websocket\n{block}\n{FENCE}\n")


# --- printed output ------------------------------------------------------------------------

PRINTS = f"""
{FENCE}python
import asyncio

loop = asyncio.get_running_loop()
started = loop.time()
await asyncio.gather(asyncio.sleep(1), asyncio.sleep(2))
print(f"took {{loop.time() - started:.1f}} s")
print()
print("  indented, after a blank line")
{FENCE}

{FENCE}
took 2.0 s

  indented, after a blank line
{FENCE}
"""


def test_a_plain_block_after_a_python_block_shows_what_it_prints(tmp_path: Path) -> None:
    in_a_note = f"""
!!! note
    {FENCE}python title="snippets/greet.py"
    --8<-- "greet.py"
    {FENCE}

    {FENCE}text
    Hello, reader!{"   "}

    {FENCE}
"""
    namespace = run_page(tmp_path, PRINTS + in_a_note, greet__py='print("Hello, reader!")\n')
    assert namespace["started"] == CLOCK_START  # it ran, in the page's loop


@pytest.mark.parametrize(
    ("old", "new", "diff"),
    [
        ("took 2.0 s\n", "took 3.0 s\n", ["-took 3.0 s", "+took 2.0 s"]),
        # Indentation is compared, and blank lines between lines:
        (
            "\n  indented",
            "\nindented",
            ["-indented, after a blank line", "+  indented, after a blank line"],
        ),
        ("\n\n  indented", "\n  indented", ["+"]),  # the blank line between
    ],
)
def test_printed_output_that_differs_fails_with_a_diff_naming_the_page_line(
    tmp_path: Path, old: str, new: str, diff: list[str]
) -> None:
    assert PRINTS.count(old) == 1  # in the shown output: the code prints as before
    page = PRINTS.replace(old, new)
    with pytest.raises(SybilFailure) as failed:
        run_page(tmp_path, page)
    report = failed.value.result
    fence = page.splitlines().index(FENCE, page.splitlines().index(FENCE) + 1) + 1
    assert report.startswith(f"docs/page.md:{fence}: the block above printed something else")
    assert "--- shown on the page\n+++ printed by the block" in report
    assert all(line in report.splitlines() for line in diff), report


def test_a_shown_output_under_a_block_that_prints_nothing_fails(tmp_path: Path) -> None:
    page = f"{FENCE}python\nquiet = True\n{FENCE}\n\n{FENCE}text\nlooks like output\n{FENCE}\n"
    with pytest.raises(SybilFailure) as failed:
        run_page(tmp_path, page)
    assert failed.value.result.startswith(
        "docs/page.md:5: this block shows printed output, but the Python block above it "
        "printed nothing"
    )


@pytest.mark.parametrize(
    "between",
    ["\nWhat it logs, in a sentence between:\n\n", "\n<!-- a comment -->\n\n"],
)
def test_a_plain_block_with_anything_but_blank_lines_before_it_is_not_output(
    tmp_path: Path, between: str
) -> None:
    page = (
        f"{FENCE}python\nprint('not shown')\n{FENCE}\n{between}"
        f"{FENCE}text\nsomething else\n{FENCE}\n\n"
        f"{FENCE}python\nprint('not shown either')\n{FENCE}\n\n"
        f"{FENCE}console\n$ something else again\n{FENCE}\n"
    )
    with opened_page(tmp_path, page) as document:
        examples = list(document.examples())
        for example in examples:
            example.evaluate()
    assert [example.parsed.output for example in examples] == [None, None]


# --- numbers in the prose ---------------------------------------------------------------------

NUMBERS = f"""
Both sleeps end after 3.0<!-- = seconds --> seconds of loop time, not
5<!--
  = 2 + 3
--> seconds; `7<!-- = seconds -->` in code is text.

{FENCE}python
import asyncio

loop = asyncio.get_running_loop()
started = loop.time()
done = await asyncio.gather(asyncio.sleep(2, 2), asyncio.sleep(3, 3))
seconds = loop.time() - started  # a hair off 3.0: compared with one decimal
{FENCE}

{FENCE}markdown
It took 9<!-- = seconds --> seconds (in a fence: text).
{FENCE}

!!! note
    The page slept 2<!-- = len(done) --> times.
"""


def test_a_prose_number_is_checked_once_the_page_has_run(tmp_path: Path) -> None:
    with opened_page(tmp_path, NUMBERS) as document:
        examples = list(document.examples())
        for example in examples:
            example.evaluate()
    numbers = examples[-1].parsed.numbers  # the page's last example, after the block
    assert [(n.shown, n.expression, n.place) for n in numbers] == [
        ("3.0", "seconds", "docs/page.md:2"),
        ("5", "2 + 3", "docs/page.md:3"),
        ("2", "len(done)", "docs/page.md:21"),
    ]


@pytest.mark.parametrize(
    ("old", "new", "complaint"),
    [
        ("3.0<", "2.5<", "docs/page.md:2: the prose says 2.5, the run says 3.0 (seconds)"),
        ("3.0<", "3<", None),  # no decimal shown: none compared, and 3 is what the run says
        ("= 2 + 3", "= 2 + 2", "docs/page.md:3: the prose says 5, the run says 4 (2 + 2)"),
        ("= seconds -->", "= secs -->", "docs/page.md:2: secs: NameError: name 'secs' is"),
        ("= seconds -->", "= 'three' -->", "docs/page.md:2: 'three': TypeError: 'three' is not"),
    ],
)
def test_a_prose_number_the_run_contradicts_fails_naming_the_page_line(
    tmp_path: Path, old: str, new: str, complaint: str | None
) -> None:
    page = NUMBERS.replace(old, new, 1)
    if complaint is None:
        run_page(tmp_path, page)
        return
    with pytest.raises(SybilFailure) as failed:
        run_page(tmp_path, page)
    assert failed.value.result.startswith(complaint), failed.value.result


@pytest.mark.parametrize(
    "marked",
    ["3.0 <!-- = seconds -->", "3.0\n<!-- = seconds -->", "3.0<!-- = -->", "<!-- = 3 -->"],
)
def test_a_marker_that_follows_no_number_is_refused(tmp_path: Path, marked: str) -> None:
    with pytest.raises(ValueError, match=r"^docs/page.md:\d: a prose number's marker follows"):
        run_page(tmp_path, f"It took {marked} seconds.\n")


# --- skips -------------------------------------------------------------------------------


def test_a_skip_with_a_reason_reports_the_block_skipped(tmp_path: Path) -> None:
    with pytest.raises(pytest.skip.Exception, match="serves forever"):
        run_page(
            tmp_path,
            f"""
            <!-- skip: next "serves forever" -->
            {FENCE}python
            raise AssertionError("a skipped block ran")
            {FENCE}
            """,
        )


def test_a_skipped_range_skips_every_block_in_it_and_no_more(tmp_path: Path) -> None:
    page = f"""
    <!-- skip: start "needs a real server" -->
    {FENCE}python
    raise AssertionError("a skipped block ran")
    {FENCE}

    {FENCE}python
    raise AssertionError("a second skipped block ran")
    {FENCE}
    <!-- skip: end -->

    {FENCE}python
    after = "ran"
    {FENCE}
    """
    outcomes = []
    with opened_page(tmp_path, page) as document:
        for example in document.examples():
            try:
                example.evaluate()
                outcomes.append("ran")
            except pytest.skip.Exception as skipped:
                outcomes.append(f"skipped: {skipped.msg}")
    directives_and_blocks = ["ran", *["skipped: needs a real server"] * 2, "ran", "ran"]
    assert outcomes == directives_and_blocks
    assert document.namespace["after"] == "ran"


def test_a_skip_without_a_reason_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"docs/page.md:2: 'skip: next' needs a reason"):
        run_page(tmp_path, f"\n<!-- skip: next -->\n{FENCE}python\npass\n{FENCE}\n")


# --- upstreams and databases -------------------------------------------------------------


def test_upstreams_answer_from_recordings_can_be_replaced_and_refuse_the_unmocked(
    tmp_path: Path,
) -> None:
    namespace = run_page(
        tmp_path,
        f"""
        {FENCE}python
        import httpx
        api = httpx.AsyncClient(base_url="https://jsonplaceholder.typicode.com")
        todos = (await api.get("/todos", params={{"userId": 2, "completed": "true"}})).json()
        {FENCE}

        {FENCE}python
        respx_mock.get("https://jsonplaceholder.typicode.com/posts/1").respond(503)
        {FENCE}

        {FENCE}python
        replaced = (await api.get("/posts/1")).status_code
        try:
            await api.get("https://unmocked.example/path?q=1")
        except AssertionError as error:
            refusal = str(error)
        await api.aclose()
        {FENCE}
        """,
    )
    recorded = json.loads((RECORDINGS / "todos.json").read_text(encoding="utf-8"))
    expected = [todo for todo in recorded if todo["userId"] == 2 and todo["completed"] is True]
    assert namespace["todos"] == expected
    assert len(expected) == 8
    assert namespace["replaced"] == 503
    assert "https://unmocked.example/path?q=1" in namespace["refusal"]


def test_each_page_gets_a_fresh_database_and_gives_back_the_environment(
    tmp_path: Path,
) -> None:
    before = os.environ.get("DATABASE_URL")
    page = f"""
    {FENCE}python
    import os
    from databases import Database
    url = os.environ["DATABASE_URL"]
    async with Database(url, uri=True) as database:
        count = await database.fetch_val("SELECT count(*) FROM users")
        await database.execute("DELETE FROM users")
    {FENCE}
    """
    first = run_page(tmp_path / "first", page)
    second = run_page(tmp_path / "second", page)
    assert first["count"] == second["count"] == 10
    assert first["url"] != second["url"]
    assert not sqlite_path(first["url"]).exists()
    assert os.environ.get("DATABASE_URL") == before


def test_each_page_loads_one_certificate_into_each_httpx_client(tmp_path: Path) -> None:
    # The apps' clients load SSL_CERT_FILE (tests/support/pages.py): no page makes a TLS
    # connection, and one certificate loads about a hundred times faster than certifi's bundle.
    page = f"""
    {FENCE}python
    import ssl
    from unittest import mock

    import httpx

    made = mock.patch("ssl.create_default_context", wraps=ssl.create_default_context)
    with made as create:
        httpx.AsyncClient()
    cafile = create.call_args.kwargs["cafile"]
    stats = ssl.create_default_context(cafile=cafile).cert_store_stats()
    {FENCE}
    """
    before = os.environ.get("SSL_CERT_FILE")
    namespace = run_page(tmp_path, page)
    assert Path(namespace["cafile"]).name == "certificate.pem"
    assert namespace["stats"]["x509_ca"] == 1
    assert os.environ.get("SSL_CERT_FILE") == before


POSTGRES_PAGE = f"""---
description: a page on PostgreSQL
database: postgresql
---

{FENCE}python
import asyncio
import os
import time

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from tests.support.postgres import admin_url

url = os.environ["DATABASE_URL"]
engine = create_async_engine(admin_url(url))  # the app's role may not delete
async with engine.connect() as connection:
    count = (await connection.execute(text("SELECT count(*) FROM users"))).scalar_one()
    posts = (await connection.execute(text("SELECT count(*) FROM posts"))).scalar_one()
    await connection.execute(text("DELETE FROM posts"))  # gone from this page's copy only
    await connection.commit()
await engine.dispose()
started, real_start = asyncio.get_running_loop().time(), time.perf_counter()
await asyncio.sleep(0.05)
loop_waited = asyncio.get_running_loop().time() - started
real_waited = time.perf_counter() - real_start
{FENCE}
"""


def test_the_front_matter_names_the_pages_database() -> None:
    assert database_of("# no front matter\n") == "sqlite"
    assert database_of("---\ndescription: x\n---\n") == "sqlite"
    assert database_of("---\ndescription: x\ndatabase: postgresql\n---\n") == "postgresql"
    with pytest.raises(ValueError, match="database: mysql"):
        database_of("---\ndatabase: mysql\n---\n")


def page_on_a_clock(clock: str, seconds: float = 0.05) -> str:
    """A page that waits `seconds`, with `clock:` in its front matter unless `clock` is empty."""
    front_matter = f"---\ndescription: a page\n{'clock: ' + clock + chr(10) if clock else ''}---\n"
    return (
        front_matter
        + f"""
{FENCE}python
import asyncio
import time

loop = asyncio.get_running_loop()
started, real_start = loop.time(), time.perf_counter()
await asyncio.sleep({seconds})
loop_waited = loop.time() - started
real_waited = time.perf_counter() - real_start
{FENCE}
"""
    )


def test_the_front_matter_names_the_pages_clock() -> None:
    assert clock_of("# no front matter\n") == "virtual"
    assert clock_of("---\ndescription: x\n---\n") == "virtual"
    assert clock_of("---\ndescription: x\nclock: real\n---\n") == "real"
    with pytest.raises(ValueError, match="clock: wall: a page's clock is one of virtual, real"):
        clock_of("---\nclock: wall\n---\n")


def test_a_page_with_clock_real_runs_on_the_real_clock(tmp_path: Path) -> None:
    real = run_page(tmp_path / "real", page_on_a_clock("real"))
    virtual = run_page(tmp_path / "virtual", page_on_a_clock("", seconds=30))
    # A real 0.05 s, on a loop whose clock is the machine's, not CLOCK_START.
    assert real["real_waited"] >= 0.05
    assert real["loop_waited"] >= 0.05
    assert real["started"] != CLOCK_START
    # Without the key, the virtual clock: exactly 30 s of loop time, next to none of it
    # waited (the loop's idle polls before it moves its clock take real time: about 0.1 s
    # on a busy machine, under coverage, so the wait is long enough to tell them apart).
    assert virtual["started"] == CLOCK_START
    assert round(virtual["loop_waited"], 6) == 30
    assert virtual["real_waited"] < 3


def test_a_page_with_an_unknown_clock_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="clock: wall"):
        run_page(tmp_path, page_on_a_clock("wall"))


def test_a_postgresql_page_gets_a_fresh_database_and_the_real_clock(
    tmp_path: Path, postgres_cluster: postgres.Cluster
) -> None:
    before = os.environ.get("DATABASE_URL")
    first = run_page(tmp_path / "first", POSTGRES_PAGE)
    second = run_page(tmp_path / "second", POSTGRES_PAGE)
    assert first["url"].startswith("postgresql+asyncpg://users_api@127.0.0.1:")
    assert first["url"] != second["url"]
    assert first["count"] == second["count"] == 10
    assert first["posts"] == second["posts"] == 5
    # A real 0.05 s: the virtual clock would have moved without waiting.
    assert first["real_waited"] >= 0.05
    assert first["loop_waited"] >= 0.05
    assert os.environ.get("DATABASE_URL") == before


def test_the_postgresql_server_outlives_a_killed_worker_so_the_next_run_stops_it(
    postgres_cluster: postgres.Cluster,
) -> None:
    """tests/support/postgres.py's docstring: pg_ctl starts the server in a session of its own, so a
    signal to the worker's process group does not reach it; stop_orphans is what does."""
    postmaster = int(
        (postgres_cluster.directory / "data" / "postmaster.pid").read_text().split()[0]
    )
    assert os.getsid(postmaster) != os.getsid(0)
    assert os.getpgid(postmaster) != os.getpgid(0)


def test_a_failed_postgresql_start_up_stops_the_server_and_says_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not (postgres.BIN / "initdb").exists():
        pytest.skip("no PostgreSQL server binaries")
    ports: list[int] = []
    free_port = processes.free_port  # what postgres.start_cluster calls

    def recorded_port() -> int:
        ports.append(free_port())
        return ports[-1]

    servers: list[int] = []  # the postmaster's pid, to stop it if the code did not
    pg_ctl = postgres.Cluster.pg_ctl

    def recorded_pg_ctl(cluster: postgres.Cluster, action: str, *options: str) -> None:
        pg_ctl(cluster, action, *options)
        if action == "start":
            pid = (cluster.directory / "data" / "postmaster.pid").read_text().split()[0]
            servers.append(int(pid))

    bad_seed = tmp_path / "bad.sql"
    bad_seed.write_text("CREATE TABLE broken (;\n", encoding="utf-8")
    monkeypatch.setattr(postgres, "free_port", recorded_port)
    monkeypatch.setattr(postgres.Cluster, "pg_ctl", recorded_pg_ctl)
    monkeypatch.setattr(postgres, "SEED_SQL", bad_seed)
    monkeypatch.setattr(postgres, "PREFIX", "docs-postgres-failing-")
    try:
        with pytest.raises(postgres.NoServer) as failed:
            postgres.start_cluster()
        message = str(failed.value)
        assert "syntax error" in message  # what psql said
        assert "the server's log ended with:" in message
        assert "database system is ready to accept connections" in message
        # The server it had started is stopped, and its directory gone.
        assert len(ports) == len(servers) == 1
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", ports[0]), timeout=5).close()
        assert not list(Path(tempfile.gettempdir()).glob("docs-postgres-failing-*"))
    finally:  # under a mutant, a server left running is stopped here (SIGQUIT: at once)
        for pid in servers:
            with contextlib.suppress(OSError):
                socket.create_connection(("127.0.0.1", ports[0]), timeout=5).close()
                os.kill(pid, signal.SIGQUIT)


@pytest.fixture
def no_postgres_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """This process's cluster forgotten for the test, and no binaries to start another."""
    monkeypatch.setattr(postgres, "_cluster", None)
    monkeypatch.setattr(postgres, "BIN", tmp_path / "no-postgresql")


@pytest.mark.usefixtures("no_postgres_server")
@pytest.mark.parametrize("example", ["block", "exchange"])
def test_without_a_server_a_postgresql_page_skips_saying_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, example: str
) -> None:
    monkeypatch.delenv("REQUIRE_POSTGRES", raising=False)
    page = POSTGRES_PAGE if example == "block" else EXCHANGE_ON_POSTGRES
    with (
        opened_page(tmp_path, page) as document,
        pytest.raises(pytest.skip.Exception) as skipped,
    ):
        next(document.examples()).evaluate()
    reason = str(skipped.value.msg)
    assert reason.startswith("no PostgreSQL server: no ")
    assert reason.endswith("initdb (Debian: apt-get install postgresql-15)")


@pytest.mark.usefixtures("no_postgres_server")
def test_without_a_server_a_postgresql_page_fails_where_required(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REQUIRE_POSTGRES", "1")
    # A skip is caught here too, or it would pass as a skipped test.
    with (
        opened_page(tmp_path, POSTGRES_PAGE) as document,
        pytest.raises((pytest.fail.Exception, pytest.skip.Exception)) as outcome,
    ):
        next(document.examples()).evaluate()
    assert isinstance(outcome.value, pytest.fail.Exception)
    assert "REQUIRE_POSTGRES is set" in str(outcome.value)


EXCHANGE_ON_POSTGRES = f"""---
database: postgresql
---

{FENCE}http
GET /users/1 HTTP/1.1
{FENCE}

{FENCE}http
HTTP/1.1 200 OK
{FENCE}
"""


def test_a_cluster_whose_test_run_was_killed_is_stopped_by_the_next(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    orphan, ours = tmp_path / "docs-postgres-orphan", tmp_path / "docs-postgres-ours"
    for directory, owner in ((orphan, ended_process()), (ours, os.getpid())):
        directory.mkdir()
        (directory / "owner").write_text(str(owner), encoding="utf-8")
    postgres.stop_orphans()
    assert not orphan.exists()
    assert ours.exists()


def ended_process() -> int:
    """The id of a process that has ended (and been reaped: no process has it now)."""
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def test_as_root_the_server_runs_as_uid_1000_in_a_user_namespace(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    command = postgres.server_command("pg_ctl", "status")
    assert command == [
        "unshare",
        "--map-user=1000",
        "--map-group=1000",
        str(postgres.BIN / "pg_ctl"),
        "status",
    ]
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    assert postgres.server_command("pg_ctl", "status")[0] == str(postgres.BIN / "pg_ctl")


# --- the guards' plain scan ------------------------------------------------------------


def test_the_plain_scan_sees_python_fences_sybil_would_miss(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        dedent(
            f"""\
            {FENCE}python
            {FENCE}
            {FENCE}py
            {FENCE}
            ````markdown
            {FENCE}python
            {FENCE}
            ````
            !!! note
                {FENCE}python title="x"
                {FENCE}
            """
        ),
        encoding="utf-8",
    )
    assert scanned_python_fences(page) == [1, 3, 10]


# --- the whole loop: a deliberate break fails `make test`, naming the page and line -------


@pytest.fixture
def project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty project of its own, wired like ours, for runs of pytest in a subprocess."""
    for folder in ("docs", "snippets"):
        (pytester.path / folder).mkdir()
    pytester.makeconftest(
        "pytest_plugins = ['tests.support.pages']  # the guide's upstreams and database\n"
        "def pytest_configure(config):\n"
        "    import asyncio; asyncio.set_event_loop(None)  # as ours does, for looptime\n"
    )
    pytester.makeini(
        "[pytest]\n"
        "pages = docs\n"
        "pages_guard_network = true\n"
        "addopts = -p no:cacheprovider -p no:schemathesis -p no:hypothesispytest\n"
        "asyncio_default_fixture_loop_scope = function\n"
        "filterwarnings = error\n"
    )
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(SRC), str(ROOT)]))
    return pytester.path


@pytest.fixture
def chapter(project: Path) -> Path:
    """A copy of the first chapter, in a project of its own."""
    for name in ("docs/async_endpoint.md", "snippets/async_endpoint.py"):
        shutil.copy(ROOT / name, project / name)
    shutil.copy(ROOT / "snippets/async_endpoint_blocking.py", project / "snippets")
    return project


def response_line(page: Path) -> int:
    """The line of the fence that opens the shown response on the chapter page."""
    lines = page.read_text(encoding="utf-8").splitlines()
    return lines.index("HTTP/1.1 200 OK")  # 0-based index of the status = the fence's line


def test_the_chapter_passes_as_it_stands(chapter: Path, pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_subprocess("docs")
    result.assert_outcomes(passed=8, skipped=1)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_pages_run_top_to_bottom_whatever_order_pytest_randomly_picks(
    project: Path, pytester: pytest.Pytester, seed: int
) -> None:
    for name in ("first", "second"):
        blocks = [
            f"```python\nseen.append({n})\nassert seen == list(range({n + 1}))\n```\n"
            for n in range(1, 6)
        ]
        (project / "docs" / f"{name}.md").write_text(
            "```python\nseen = [0]\n```\n\n" + "\n".join(blocks), encoding="utf-8"
        )
    (project / "test_other.py").write_text(
        "".join(f"def test_{n}():\n    pass\n" for n in range(5)), encoding="utf-8"
    )
    result = pytester.runpytest_subprocess(
        "-p", "randomly", "-p", "no:cacheprovider", f"--randomly-seed={seed}", "-v"
    )
    result.assert_outcomes(passed=17)
    order = [line for line in result.outlines if " PASSED" in line]
    assert order != sorted(order), "the other tests were shuffled"


@pytest.mark.parametrize("broken", ["snippets/async_endpoint.py", "docs/async_endpoint.md"])
def test_a_changed_message_fails_naming_the_page_and_line(
    chapter: Path, pytester: pytest.Pytester, broken: str
) -> None:
    page = chapter / "docs/async_endpoint.md"
    line = response_line(page)
    path = chapter / broken
    text = path.read_text(encoding="utf-8")
    # The snippet's return value, or the body of the response shown on the page.
    old = (
        '"This is an async response!"}\n'
        if broken.endswith(".py")
        else '\n{"message": "This is an async response!"}\n'
    )
    assert text.count(old) == 1
    path.write_text(text.replace(old, old.replace("response", "reply")), encoding="utf-8")

    result = pytester.runpytest_subprocess("docs")

    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [
            f"docs/async_endpoint.md:{line}: GET /async-endpoint HTTP/1.1 answered differently",
            "--- shown on the page",
            "+++ sent by the app",
        ]
    )
    assert re.search(r'^[-+]  "message": "This is an async reply!"$', result.stdout.str(), re.M)


# --- make update-docs: shown responses rewritten from what the app sends --------------------


def update_docs(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    pytester.runpytest_subprocess("docs", "--update-docs")


def test_update_docs_changes_nothing_on_a_page_that_is_right(
    chapter: Path, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    page = chapter / "docs/async_endpoint.md"
    before = page.read_bytes()
    update_docs(pytester, monkeypatch)
    assert page.read_bytes() == before


def test_update_docs_rewrites_exactly_the_response_that_changed(
    chapter: Path, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    page, snippet = chapter / "docs/async_endpoint.md", chapter / "snippets/async_endpoint.py"
    before = page.read_text(encoding="utf-8").splitlines()
    snippet.write_text(snippet.read_text().replace("async response", "async reply"))

    update_docs(pytester, monkeypatch)

    after = page.read_text(encoding="utf-8").splitlines()
    changed = [(old, new) for old, new in zip(before, after, strict=True) if old != new]
    assert changed == [
        ('{"message": "This is an async response!"}', '{"message": "This is an async reply!"}')
    ]
    rerun = pytester.runpytest_subprocess("docs")
    assert "answered differently" not in rerun.stdout.str()  # the exchange now holds
    rerun.assert_outcomes(passed=7, failed=1, skipped=1)  # a Python block asserts the old text


def test_update_docs_keeps_each_block_in_the_page_style(
    project: Path, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = f"""\
{FENCE}python
from fastapi import FastAPI
from fastapi.responses import JSONResponse

app = FastAPI()


@app.get("/numbers")
async def numbers() -> list[int]:
    return list(range(10, 15))


@app.get("/user")
async def user() -> JSONResponse:
    return JSONResponse({{"id": 2, "tags": ["b"]}}, headers={{"x-version": "2"}})
{FENCE}
"""
    shown = f"""
{FENCE}http
GET /numbers HTTP/1.1
{FENCE}

{FENCE}http
HTTP/1.1 200 OK

[0, 1, ...]
{FENCE}

!!! note
    {FENCE}http
    GET /user HTTP/1.1
    {FENCE}

    {FENCE}http
    HTTP/1.1 404 Not Found
    x-version: 1

    {{
      "id": 1,
      "tags": ["a"]
    }}
    {FENCE}
"""
    expected = f"""
{FENCE}http
GET /numbers HTTP/1.1
{FENCE}

{FENCE}http
HTTP/1.1 200 OK

[10, 11, ...]
{FENCE}

!!! note
    {FENCE}http
    GET /user HTTP/1.1
    {FENCE}

    {FENCE}http
    HTTP/1.1 200 OK
    x-version: 2

    {{
      "id": 2,
      "tags": [
        "b"
      ]
    }}
    {FENCE}
"""
    page = project / "docs" / "page.md"
    page.write_text(app + shown, encoding="utf-8")

    update_docs(pytester, monkeypatch)

    assert page.read_text(encoding="utf-8") == app + expected
    pytester.runpytest_subprocess("docs").assert_outcomes(passed=3)


def test_update_docs_rewrites_a_conversation_from_what_the_app_sent(
    project: Path, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A reply changed, and the close's reason:
    shown = CONVERSATION.replace("< HELLO", "< hello").replace("asked to leave", "gone")
    in_a_note = "\n!!! note\n" + "".join(f"    {line}\n" for line in shown.strip().splitlines())
    page = project / "docs" / "page.md"
    page.write_text(ROOM_APP + shown + in_a_note, encoding="utf-8")

    update_docs(pytester, monkeypatch)

    rewritten = "\n!!! note\n" + "".join(
        f"    {line}\n" for line in CONVERSATION.strip().splitlines()
    )
    assert page.read_text(encoding="utf-8") == ROOM_APP + CONVERSATION + rewritten
    pytester.runpytest_subprocess("docs").assert_outcomes(passed=3)


def test_update_docs_keeps_each_conversations_fence_attributes_and_place(
    project: Path, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A longer fence with a title; a tilde fence in a content tab, now refused; and one whose
    # app raised, which is reported, not rewritten.
    shown = """
````websocket title="the echo"
WEBSOCKET /echo?token=secret
< hello
````

=== "Refused"

    ~~~websocket
    WEBSOCKET /echo?token=wrong
    < welcome
    ~~~
"""
    rewritten = """
````websocket title="the echo"
WEBSOCKET /echo?token=secret
< welcome
````

=== "Refused"

    ~~~websocket
    WEBSOCKET /echo?token=wrong
    HTTP/1.1 403 Forbidden
    ~~~
"""
    page = project / "docs" / "page.md"
    page.write_text(ROOM_APP + shown, encoding="utf-8")

    updated = pytester.runpytest_subprocess("docs", "--update-docs")

    assert page.read_text(encoding="utf-8") == ROOM_APP + rewritten
    updated.stdout.fnmatch_lines(["docs: *, 2 conversations rewritten, 0 skipped"])
    pytester.runpytest_subprocess("docs").assert_outcomes(passed=3)

    raising = ROOM_APP.replace(
        'send_text("welcome")', 'send_text("welcome")\n    raise KeyError(4)'
    )
    page.write_text(raising + shown, encoding="utf-8")
    result = pytester.runpytest_subprocess("docs", "--update-docs")
    result.assert_outcomes(passed=2, failed=1)
    assert "KeyError: 4" in result.stdout.str()
    # The refused handshake, which the app did not raise on, was rewritten all the same.
    assert page.read_text(encoding="utf-8") == raising + rewritten.replace(
        "< welcome\n````", "< hello\n````"
    )


def test_update_docs_rewrites_printed_output_keeping_its_fences_and_indentation(
    project: Path, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    def in_a_note(text: str) -> str:
        return "\n!!! note\n" + "".join(
            f"    {line}\n" if line else "\n" for line in text.split("\n")[1:-1]
        )

    # One output fenced `text`; one in a note, plain, its indentation wrong too.
    fresh = PRINTS.replace(f"\n{FENCE}\ntook", f"\n{FENCE}text\ntook")
    stale = fresh.replace("took 2.0 s", "took 3.5 s")
    stale_in_a_note = PRINTS.replace("took 2.0 s", "took 3.5 s").replace(
        "\n  indented", "\nindented"
    )
    page = project / "docs" / "page.md"
    page.write_text(stale + in_a_note(stale_in_a_note), encoding="utf-8")

    update_docs(pytester, monkeypatch)

    assert page.read_text(encoding="utf-8") == fresh + in_a_note(PRINTS)
    rerun = pytester.runpytest_subprocess("docs", "--pages-report", "report.json")
    rerun.assert_outcomes(passed=2)
    report = json.loads((project / "report.json").read_text(encoding="utf-8"))
    assert report["totals"]["outputs verified"] == 2


def test_update_docs_rewrites_a_prose_number_in_place_with_its_decimals(
    project: Path, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    stale = NUMBERS.replace("3.0<", "2.50<").replace("\n5<", "\n4<").replace("slept 2<", "slept 1<")
    page = project / "docs" / "page.md"
    page.write_text(stale, encoding="utf-8")

    update_docs(pytester, monkeypatch)

    assert page.read_text(encoding="utf-8") == NUMBERS.replace("3.0<", "3.00<")
    rerun = pytester.runpytest_subprocess("docs", "--pages-report", "report.json")
    rerun.assert_outcomes(passed=2)
    report = json.loads((project / "report.json").read_text(encoding="utf-8"))
    assert report["totals"]["prose numbers verified"] == 3


# --- what a failure looks like -------------------------------------------------------------


def test_failures_name_the_page_line_the_code_and_the_snippet_line(
    project: Path, pytester: pytest.Pytester
) -> None:
    (project / "docs" / "page.md").write_text(
        f"# A page\n\n{FENCE}python\ntotal = 1 + 1\nassert total == 3\n{FENCE}\n\n"
        f'{FENCE}python title="snippets/broken.py"\n--8<-- "broken.py"\n{FENCE}\n',
        encoding="utf-8",
    )
    (project / "snippets" / "broken.py").write_text(
        "def ratio() -> float:\n    return 1 / 0\n\n\nratio()\n", encoding="utf-8"
    )

    result = pytester.runpytest_subprocess("docs")

    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(
        [
            "docs/page.md:5: in <module>",  # the page and the line of the failing assert
            "    assert total == 3",  # the code
            "E   assert 2 == 3",  # what was wrong, explained as in any pytest test
            "snippets/broken.py:5: in <module>",  # the included file and its own lines
            "snippets/broken.py:2: in ratio",
            "E   ZeroDivisionError: division by zero",
            "FAILED docs/page.md::line:3,column:1 - assert 2 == 3",  # the block's fence line
            "FAILED docs/page.md::line:8,column:1 - ZeroDivisionError: division by zero",
        ],
        consecutive=False,
    )


# --- no network ------------------------------------------------------------------------------

REACHES_OUT = """
import asyncio
import socket
import urllib.request

import httpx
import pytest


def test_a_caught_connection_still_fails_the_test():
    try:
        socket.create_connection(("203.0.113.7", 80), timeout=1)
    except OSError:
        pass  # as an app that answers 502 for a failed upstream would


def test_a_name_lookup_fails_naming_the_host():
    urllib.request.urlopen("http://example.com/", timeout=1)


@pytest.mark.asyncio
async def test_httpx_without_respx_fails_naming_the_host():
    async with httpx.AsyncClient() as client:
        await client.get("https://api.example.org/data")


@pytest.mark.asyncio
async def test_asyncio_connections_by_address_are_caught():
    await asyncio.open_connection("198.51.100.1", 443)


@pytest.mark.asyncio
async def test_loopback_is_allowed():
    server = await asyncio.start_server(lambda r, w: w.close(), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        _, writer = await asyncio.open_connection("localhost", port)
        writer.close()
"""


def test_reaching_outside_this_machine_fails_the_test_naming_the_host(
    project: Path, pytester: pytest.Pytester
) -> None:
    (project / "test_reaching_out.py").write_text(REACHES_OUT, encoding="utf-8")
    result = pytester.runpytest_subprocess("-p", "no:randomly", "test_reaching_out.py")
    result.assert_outcomes(passed=1, failed=4)
    output = result.stdout.str()
    for attempt in (
        "connect to 203.0.113.7 port 80",
        "look up 'example.com'",
        "look up 'api.example.org'",
        "connect to 198.51.100.1 port 443",
    ):
        assert "tried to reach outside this machine (respx mocks httpx; only loopback" in output
        assert attempt in output, attempt
