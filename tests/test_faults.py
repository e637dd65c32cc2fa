"""The fault matrix: every endpoint of the guide that calls an upstream, against every class of
upstream fault, and every database endpoint against every database fault.

The status each upstream fault must get is read from the contract table on
docs/upstream_errors.md, so the page and the code cannot disagree. The article's own versions
(`fetch_data_per_request.py`, `changes_external_api.py`) are left out on purpose: the guide
shows them failing; so is `benchmark_app.py`, a measuring instrument."""

import asyncio
import gzip
import inspect
import re
import socket
import sqlite3
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
import respx
from fastapi import FastAPI
from fastapi.routing import APIRoute
from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool
from starlette.routing import Match

import upstream_errors
from testing import app_client
from tests.support import postgres
from tests.support.databases import seeded_database, sqlite_path, sqlite_url
from tests.support.project import ROOT
from tests.support.project import load_snippet as load
from tests.support.upstreams import JSONPLACEHOLDER

SECRET = "db01.internal"  # in everything an upstream sends; never in what a client gets


def contract() -> dict[str, int]:
    """The table on the upstream errors page: what the upstream does -> the status it gets."""
    page = (ROOT / "docs/upstream_errors.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| (.+?) \| (\d{3})\b.*\|$", page, re.MULTILINE)
    assert len(rows) >= 8, "the contract table on docs/upstream_errors.md"
    return {what: int(status) for what, status in rows}


CONTRACT = contract()
USABLE = "answers 2xx with JSON the endpoint can use"
NOT_FOUND = "answers 404 to a lookup of what its client named"
OUR_BUG = "answers another 4xx, 408 and 429 aside: the request we sent was wrong"
UNSENDABLE = "is never asked: the URL or a header we built cannot be sent"
BUSY = "answers 429 or 503 with a `Retry-After`"
RATE_LIMITED = "answers 429 without a `Retry-After`"
STATUS = "answers any other status, 3xx included"
POOL = "finds no free connection in our pool within 2 seconds"
NO_ANSWER = "does not connect or answer in time, or answers 408"
TOO_SLOW = "takes longer than 10 seconds in all, however it trickles"
UNREACHABLE = "cannot be reached (refused, unresolvable, dropped)"
NOT_JSON = "answers 2xx with a body that is not JSON, truncated JSON included"
WRONG_SHAPE = "answers 2xx with JSON of a shape the endpoint cannot use"
TOO_LARGE = "sends a body larger than 1 MiB, as it arrives or once unzipped"
ENCODING = (
    "sends a body in an encoding it was not asked for (anything but gzip, once), or broken gzip"
)


def declared(app: FastAPI, method: str, path: str) -> set[int]:
    """The statuses the app's OpenAPI schema declares for the operation that answers `path`:
    every status a test here sees must be one of them."""
    scope = {"type": "http", "method": method, "path": path.partition("?")[0]}
    [route] = [route for route in app.routes if route.matches(scope)[0] == Match.FULL]
    assert isinstance(route, APIRoute)
    operation = app.openapi()["paths"][route.path_format][method.lower()]
    return {int(status) for status in operation["responses"]}


# --- upstream faults ---------------------------------------------------------------------

Upstream = Callable[[httpx.Request], httpx.Response]


def answers(status: int, headers: dict[str, str] | None = None, **kwargs: object) -> Upstream:
    sent = {"Location": f"https://{SECRET}/", "Server": SECRET, "Set-Cookie": f"host={SECRET}"}
    sent |= headers or {}
    return lambda request: httpx.Response(status, headers=sent, **kwargs)  # type: ignore[arg-type]


def raises(error: type[httpx.TransportError], message: str) -> Upstream:
    def upstream(request: httpx.Request) -> httpx.Response:
        raise error(f"{message} ({SECRET})", request=request)

    return upstream


async def forever() -> AsyncIterator[bytes]:
    while True:
        yield b" " * 65536


async def trickle() -> AsyncIterator[bytes]:
    while True:  # a byte a second: no read timeout ever fires
        yield b" "
        await asyncio.sleep(1)


def gzipped(body: bytes, times: int = 1) -> bytes:
    for _ in range(times):
        body = gzip.compress(body, compresslevel=9)
    return body


def in_reads(body: bytes) -> Callable[[httpx.Request], httpx.Response]:
    """A body as a socket delivers it, 64 KiB a read."""

    async def reads() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 65536):
            yield body[start : start + 65536]

    return lambda request: httpx.Response(200, headers=COMPRESSED, content=reads())


COMPRESSED = {"Content-Encoding": "gzip", "Server": SECRET}
BOMB = gzipped(b" " * 16 * 1_048_576)  # 16 KiB that unzip to 16 MiB


async def never_answers(request: httpx.Request) -> httpx.Response:
    await asyncio.sleep(24 * 3600)
    return httpx.Response(200, json={})


FAULTS: dict[str, tuple[Callable[[httpx.Request], Any], str]] = {
    **{f"{code}": (answers(code, text=SECRET), STATUS) for code in (301, 302, 303, 307, 308)},
    "304": (answers(304), STATUS),
    **{
        f"{code}": (answers(code, json={"error": SECRET}), OUR_BUG)
        for code in (400, 401, 403, 405, 409, 410, 418, 422)
    },
    "404": (answers(404, json={"error": SECRET}), NOT_FOUND),
    "408": (answers(408, json={"error": SECRET}), NO_ANSWER),
    "429": (answers(429, json={"error": SECRET}), RATE_LIMITED),
    "429, Retry-After unreadable": (answers(429, {"Retry-After": SECRET}), RATE_LIMITED),
    **{f"{code}": (answers(code, text=SECRET), STATUS) for code in (500, 501, 502, 503, 504)},
    "429, retry after 3 s": (answers(429, {"Retry-After": "3"}), BUSY),
    "503, retry after 120 s": (answers(503, {"Retry-After": "120"}), BUSY),
    "503, retry after a date": (
        answers(503, {"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}),
        BUSY,
    ),
    "503, Retry-After unreadable": (answers(503, {"Retry-After": SECRET}), STATUS),
    "connect timeout": (raises(httpx.ConnectTimeout, "timed out"), NO_ANSWER),
    "read timeout": (raises(httpx.ReadTimeout, "timed out"), NO_ANSWER),
    "write timeout": (raises(httpx.WriteTimeout, "timed out"), NO_ANSWER),
    "pool timeout": (raises(httpx.PoolTimeout, "timed out"), POOL),
    "slower than the deadline": (never_answers, TOO_SLOW),
    "a byte a second, forever": (lambda request: httpx.Response(200, content=trickle()), TOO_SLOW),
    "connection refused": (
        raises(httpx.ConnectError, "[Errno 111] Connection refused"),
        UNREACHABLE,
    ),
    "name does not resolve": (
        raises(httpx.ConnectError, "[Errno -2] Name or service not known"),
        UNREACHABLE,
    ),
    "connection reset": (
        raises(httpx.ReadError, "[Errno 104] Connection reset by peer"),
        UNREACHABLE,
    ),
    "broken protocol": (raises(httpx.RemoteProtocolError, "illegal header"), UNREACHABLE),
    "proxy refused": (raises(httpx.ProxyError, "502 from proxy"), UNREACHABLE),
    "a scheme httpx lacks": (raises(httpx.UnsupportedProtocol, "no 'htp'"), UNSENDABLE),
    "a header it cannot send": (raises(httpx.LocalProtocolError, "bad header"), UNSENDABLE),
    "truncated JSON": (answers(200, text=f'{{"secret": "{SECRET}", "list": [1, 2'), NOT_JSON),
    "HTML, not JSON": (answers(200, text=f"<html>{SECRET}</html>"), NOT_JSON),
    "empty body": (answers(200), NOT_JSON),
    "not text at all": (answers(200, content=b"\xff\xfe" + SECRET.encode()), NOT_JSON),
    "JSON of the wrong shape": (answers(200, json=[[SECRET]]), WRONG_SHAPE),
    "2 MiB at once": (answers(200, content=b"[" + b"1," * 1_048_576 + b"1]"), TOO_LARGE),
    "a body without end": (lambda request: httpx.Response(200, content=forever()), TOO_LARGE),
    "16 MiB, gzipped": (in_reads(BOMB), TOO_LARGE),
    "2 MiB of JSON, gzipped": (in_reads(gzipped(b"[" + b"1," * 1_048_576 + b"1]")), TOO_LARGE),
    "gzipped twice": (in_reads(gzipped(BOMB)), ENCODING),
    "brotli, not asked for": (answers(200, headers={"Content-Encoding": "br"}), ENCODING),
    "deflate, not asked for": (answers(200, headers={"Content-Encoding": "deflate"}), ENCODING),
    "says gzip, is not": (answers(200, headers=COMPRESSED, text=f'["{SECRET}"]'), ENCODING),
    "gzip cut short": (in_reads(gzipped(b'{"data": [1, 2, 3]}')[:-8]), ENCODING),
    "gzip, then more": (in_reads(gzipped(b'{"data": [1, 2, 3]}') + b"GARBAGE"), ENCODING),
}

# Every endpoint that calls an upstream: its module, the request, and where its calls go.
# `shaped`: the endpoint reads fields of what it gets; the others pass any JSON on as it is.
ENDPOINTS = {
    "external_api": ("/external-api", "https://nonexistent-api.com", False),
    "fetch_data": ("/fetch-data", JSONPLACEHOLDER, False),
    "fan_out": ("/posts/titles?count=3", JSONPLACEHOLDER, True),
    "timeouts": ("/users/1/overview", JSONPLACEHOLDER, True),
    "upstream_errors_lookup": ("/posts/7", JSONPLACEHOLDER, True),
}
LOOKUPS = {
    "upstream_errors_lookup",
    "timeouts",
}  # endpoints whose upstream 404 is their client's 404


def expected(endpoint: str, fault: str) -> int:
    _, _, shaped = ENDPOINTS[endpoint]
    row = FAULTS[fault][1]
    if row == NOT_FOUND and endpoint not in LOOKUPS:
        row = OUR_BUG  # a 404 from an address the client did not choose
    return CONTRACT[USABLE if row == WRONG_SHAPE and not shaped else row]


def test_the_matrix_covers_every_row_of_the_contract() -> None:
    assert {row for _, row in FAULTS.values()} == set(CONTRACT) - {USABLE}


@pytest.mark.asyncio
@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("endpoint", ENDPOINTS)
async def test_every_upstream_fault_gets_its_documented_status_and_leaks_nothing(
    endpoint: str, fault: str, respx_mock: respx.MockRouter
) -> None:
    path, upstream, _ = ENDPOINTS[endpoint]
    behaviour, asked = FAULTS[fault][0], []

    async def upstream_call(request: httpx.Request) -> httpx.Response:
        asked.append(request.url)
        answer = behaviour(request)
        return await answer if inspect.isawaitable(answer) else answer  # type: ignore[no-any-return]

    respx_mock.route(url__startswith=upstream).mock(side_effect=upstream_call)
    app = load(endpoint).app
    async with app_client(app) as client:
        response = await client.get(path)

    assert asked, "the fault reached the endpoint"
    assert response.status_code == expected(endpoint, fault)
    assert response.status_code in declared(app, "GET", path)
    if response.status_code != 200:
        assert list(response.json()) == ["detail"]
        assert SECRET not in response.text
        assert not any(SECRET in value for value in response.headers.values())
    if FAULTS[fault][1] in (BUSY, POOL):  # a wait the client can use, in whole seconds
        assert response.headers["retry-after"].isdigit()
    else:  # a wait only where someone said how long
        assert "retry-after" not in response.headers


@pytest.mark.asyncio
@pytest.mark.parametrize("endpoint", ENDPOINTS)
async def test_a_body_without_end_is_read_no_further_than_the_limit(
    endpoint: str, respx_mock: respx.MockRouter
) -> None:
    path, upstream, _ = ENDPOINTS[endpoint]
    sent: list[int] = []

    async def counted() -> AsyncIterator[bytes]:
        async for chunk in forever():
            sent.append(len(chunk))
            yield chunk

    route = respx_mock.route(url__startswith=upstream).mock(
        side_effect=lambda request: httpx.Response(200, content=counted())
    )
    async with app_client(load(endpoint).app) as client:
        assert (await client.get(path)).status_code == 502
    assert sum(sent) <= route.call_count * (upstream_errors.MAX_BODY + 65536)


# --- database faults ---------------------------------------------------------------------

DATABASE_APPS = ["users_db", "users_sqlalchemy", "dependencies"]
INJECTIONS = [
    "1 OR 1=1",
    "1; DROP TABLE users",
    "1' OR '1'='1",
    "1 UNION SELECT name FROM sqlite_master",
    "'; DELETE FROM users; --",
    "Robert'); DROP TABLE users;--",
]


def by_id(app_name: str, user: str) -> list[tuple[str, str, dict[str, str] | None]]:
    """The app's requests that take a user's id, with `user` as the id."""
    if app_name == "dependencies":
        return [("PUT", f"/users/{user}/name", {"name": "A new name"})]
    return [("GET", f"/users/{user}", None)]


def every_request(app_name: str) -> list[tuple[str, str, dict[str, str] | None]]:
    listing = [] if app_name == "dependencies" else [("GET", "/users", None)]
    return [*listing, *by_id(app_name, "1")]


def table(url: str) -> list[tuple[object, ...]]:
    with closing(sqlite3.connect(sqlite_path(url))) as database:
        return database.execute("SELECT * FROM users ORDER BY id").fetchall()


@pytest.mark.asyncio
@pytest.mark.parametrize("user", ["11", "12", str(2**63 - 1)])
@pytest.mark.parametrize("app_name", DATABASE_APPS)
async def test_a_missing_row_is_404(app_name: str, user: str, database_url: str) -> None:
    before = table(database_url)
    app = load(app_name).app
    async with app_client(app) as client:
        for method, path, body in by_id(app_name, user):
            response = await client.request(method, path, json=body)
            assert response.status_code == 404
            assert 404 in declared(app, method, path)
            assert response.json() == {"detail": f"No user with id {user}."}
    assert table(database_url) == before


@pytest.mark.asyncio
@pytest.mark.parametrize("user", ["abc", "1.5", "1e3", "0x1", "\u0661", "0", "-1", str(2**63)])
@pytest.mark.parametrize("app_name", DATABASE_APPS)
async def test_an_id_that_is_not_a_positive_64_bit_integer_is_422(
    app_name: str, user: str, database_url: str
) -> None:
    before = table(database_url)
    app = load(app_name).app
    async with app_client(app) as client:
        for method, path, body in by_id(app_name, user):
            response = await client.request(method, path, json=body)
            assert response.status_code == 422
            assert 422 in declared(app, method, path)
            assert response.json()["detail"][0]["loc"] == ["path", "user_id"]
    assert table(database_url) == before


@pytest.mark.asyncio
@pytest.mark.parametrize("attempt", INJECTIONS)
@pytest.mark.parametrize("app_name", DATABASE_APPS)
async def test_sql_injection_in_every_parameter_leaves_the_table_intact(
    app_name: str, attempt: str, database_url: str
) -> None:
    before = table(database_url)
    async with app_client(load(app_name).app) as client:
        for method, path, body in by_id(app_name, attempt):  # the id: refused before any SQL
            response = await client.request(method, path, json=body)
            assert response.status_code == 422
        if app_name == "dependencies":  # the new name: stored as the text it is, nothing more
            response = await client.put("/users/3/name", json={"name": attempt})
            assert (response.status_code, response.json()["name"]) == (200, attempt)
            before[2] = (3, attempt, *before[2][2:])
    assert table(database_url) == before
    assert len(before) == 10


@pytest.fixture
def unavailable(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """A database URL that cannot serve: a missing folder, a missing file, a locked file."""
    if request.param == "missing folder":
        monkeypatch.setenv("DATABASE_URL", sqlite_url(tmp_path / "none" / "app.db"))
        yield request.param
    elif request.param == "missing file":
        monkeypatch.setenv("DATABASE_URL", sqlite_url(tmp_path / "app.db"))
        yield request.param
    else:
        url = seeded_database(tmp_path)
        monkeypatch.setenv("DATABASE_URL", url)
        with closing(sqlite3.connect(sqlite_path(url))) as locker:
            locker.isolation_level = None
            locker.execute("BEGIN EXCLUSIVE")  # nobody else reads or writes until it ends
            yield request.param
            locker.execute("ROLLBACK")


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "unavailable", ["missing folder", "missing file", "locked file"], indirect=True
)
@pytest.mark.parametrize("app_name", DATABASE_APPS)
async def test_an_unavailable_database_is_a_clear_503(
    app_name: str, unavailable: str, caplog: pytest.LogCaptureFixture
) -> None:
    module = load(app_name)
    module.BUSY_TIMEOUT = 0  # type: ignore[attr-defined]  # give up on a lock at once, not in 5 real s
    async with app_client(module.app) as client:
        for method, path, body in every_request(app_name):
            response = await client.request(method, path, json=body)
            assert response.status_code == 503, (unavailable, path)
            assert 503 in declared(module.app, method, path)
            assert response.json() == {"detail": "The database is unavailable."}
            assert response.headers["retry-after"] == "5"
    assert "the database is unavailable" in caplog.text  # the cause is logged, not sent
    # aiosqlite, when a connection fails to open, stops its worker thread without waiting for
    # it; were this test's loop to close first, that thread would fail in a later test.
    await asyncio.to_thread(join_sqlite_threads)


def join_sqlite_threads() -> None:
    for thread in threading.enumerate():
        if thread.name.endswith("(_connection_worker_thread)"):
            thread.join(timeout=5)
            assert not thread.is_alive(), "a database connection the app never closed"


# --- PostgreSQL faults -------------------------------------------------------------------
# The PostgreSQL app against a real server (tests/conftest.py's `postgres_url`), on the real
# clock: on the virtual one, asyncpg's and the pool's timers would fire while the server works.

POSTGRES_LEAKS = ("asyncpg", "SELECT", "pg_", "SQLSTATE", "terminat", "timeout", "127.0.0.1")


async def postgres_table(url: str) -> list[tuple[object, ...]]:
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(text("SELECT * FROM users ORDER BY id"))
            return [tuple(row) for row in rows]
    finally:
        await engine.dispose()


@pytest.mark.asyncio
@pytest.mark.looptime(False)
@pytest.mark.parametrize("attempt", INJECTIONS)
async def test_postgres_sql_injection_in_every_parameter_leaves_the_table_intact(
    attempt: str, postgres_url: str
) -> None:
    before = await postgres_table(postgres_url)
    app = load("users_postgres").app
    async with app_client(app) as client:
        response = await client.get(f"/users/{attempt}")  # the id: refused before any SQL
        assert response.status_code == 422
        response = await client.get("/users", params={"username": attempt})  # data, no match
        assert (response.status_code, response.json()) == (200, [])
    assert await postgres_table(postgres_url) == before
    assert len(before) == 10


@pytest.mark.asyncio
@pytest.mark.looptime(False)
@pytest.mark.parametrize(
    ("user", "status"), [("11", 404), (str(2**31 - 1), 404), (str(2**31), 422)]
)
async def test_postgres_ids_past_a_32_bit_integer_are_422(
    user: str, status: int, postgres_url: str
) -> None:
    app = load("users_postgres").app
    async with app_client(app) as client:
        response = await client.get(f"/users/{user}")
    assert response.status_code == status
    assert status in declared(app, "GET", f"/users/{user}")


@pytest_asyncio.fixture
async def postgres_fault(
    request: pytest.FixtureRequest, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[str]:
    """The PostgreSQL server failing the app one way: down when it starts, its connection
    killed in the middle of a request, a query past the statement timeout, or every
    connection of the pool busy past the pool's timeout."""
    if request.param == "down at start-up":
        with socket.socket() as closed:  # a port nobody listens on
            closed.bind(("127.0.0.1", 0))
            port = closed.getsockname()[1]
        monkeypatch.setenv("DATABASE_URL", f"postgresql+asyncpg://app@127.0.0.1:{port}/app")
        yield request.param
    elif request.param == "killed mid-request":

        def kill_the_connection(*_: object) -> None:  # runs just before the query is sent
            postgres.cluster().psql(
                "-c",
                "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity"
                " WHERE application_name = 'users-api'",
            )

        event.listen(Engine, "before_cursor_execute", kill_the_connection)
        yield request.param
        event.remove(Engine, "before_cursor_execute", kill_the_connection)
    else:
        # A transaction that locks the table: the app's queries wait on the lock, holding
        # their connections, until the statement timeout cancels them.
        monkeypatch.setenv("DB_STATEMENT_TIMEOUT_MS", "300")
        if request.param == "pool exhausted":
            monkeypatch.setenv("DB_POOL_SIZE", "1")
            monkeypatch.setenv("DB_POOL_TIMEOUT", "0.05")
        admin = postgres.admin_url(postgres_url)  # the app's role may only read
        locker = create_async_engine(admin, poolclass=NullPool)
        async with locker.connect() as connection:  # rolled back as it closes
            await connection.execute(text("LOCK TABLE users IN ACCESS EXCLUSIVE MODE"))
            yield request.param
        await locker.dispose()


@pytest.mark.asyncio
@pytest.mark.looptime(False)
@pytest.mark.parametrize(
    "postgres_fault",
    ["down at start-up", "killed mid-request", "statement timeout", "pool exhausted"],
    indirect=True,
)
async def test_a_postgres_outage_is_a_clear_503_that_leaks_nothing(
    postgres_fault: str, postgres_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    # The table, where the fault leaves it readable (a lock does not, until the test ends).
    unlocked = postgres_fault in ("down at start-up", "killed mid-request")
    before = await postgres_table(postgres_url) if unlocked else None
    app = load("users_postgres").app
    async with app_client(app) as client:
        started = time.perf_counter()
        # Two at once: with a pool of one, the second finds no free connection.
        responses = await asyncio.gather(client.get("/users/1"), client.get("/users"))
        took = time.perf_counter() - started
    for response in responses:
        assert response.status_code == 503, (postgres_fault, response.text)
        assert 503 in declared(app, "GET", response.request.url.path)
        assert response.json() == {"detail": "The database is unavailable."}
        assert response.headers["retry-after"] == "5"
        shown = f"{response.headers}{response.text}"
        assert not [leak for leak in POSTGRES_LEAKS if leak in shown], shown
    assert took < 2.0  # every outage answered in well under the client's patience
    assert "the database is unavailable" in caplog.text  # the cause is logged, not sent
    if before is not None:
        assert await postgres_table(postgres_url) == before
