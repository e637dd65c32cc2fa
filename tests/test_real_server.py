"""The fault matrix's real-server slice: the apps served by uvicorn on 127.0.0.1, as readers
deploy them, under what real clients send: many requests at once, bodies too large, bodies sent
slowly and abandoned, and upstreams that send compressed bombs.

Each app is served inside the test's own event loop (`snippets/local_server.py`), on the real
clock: a virtual one would jump ahead while the loop waits for the kernel to move bytes, and
time out a client still sending. Every test asserts counts and outcomes, never times."""

import asyncio
import gzip
import logging
import os
import sqlite3
import tracemalloc
from collections.abc import AsyncIterator, Iterable, Iterator
from contextlib import asynccontextmanager, closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from databases import Database
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.types import ASGIApp

import upstream_errors
from benchmarks_hostile import Counted
from local_server import local_server
from pytest_pages.transport import ErrorLog
from tests.support.databases import seeded_database, sqlite_path, sqlite_url
from tests.support.project import load_snippet as load

MiB = 1024 * 1024

pytestmark = pytest.mark.looptime(False)


@dataclass
class Served:
    client: httpx.AsyncClient
    app: Counted
    errors: list[logging.LogRecord]  # what uvicorn logged as an error while it served


@asynccontextmanager
async def served(app: ASGIApp, respx_mock: respx.MockRouter) -> AsyncIterator[Served]:
    """`app` under uvicorn on 127.0.0.1, and a client for it; stopped (and so finished,
    background work included) when the block ends."""
    respx_mock.route(host="127.0.0.1").pass_through()
    counted, errors = Counted(app), ErrorLog()
    logging.getLogger("uvicorn.error").addHandler(errors)
    try:
        async with (
            local_server(counted) as url,
            httpx.AsyncClient(base_url=url, timeout=60) as client,
        ):
            yield Served(client, counted, errors.records)
    finally:
        logging.getLogger("uvicorn.error").removeHandler(errors)


def stored_name(database_url: str, user: int) -> str:
    path = sqlite_path(database_url)
    with closing(sqlite3.connect(path)) as database:
        (name,) = database.execute("SELECT name FROM users WHERE id = ?", (user,)).fetchone()
    return str(name)


@contextmanager
def a_reader_in_a_transaction(database_url: str) -> Iterator[None]:
    """Another connection, reading in an open transaction: SQLite lets a writer change rows
    meanwhile, but not commit them."""
    path = sqlite_path(database_url)
    with closing(sqlite3.connect(path, isolation_level=None)) as reader:
        reader.execute("BEGIN")
        reader.execute("SELECT * FROM users").fetchall()
        yield
        reader.execute("ROLLBACK")


# --- a 2xx means stored ----------------------------------------------------------------------


@pytest.mark.asyncio
async def test_a_rename_answered_200_is_stored_even_when_the_commit_fails(
    database_url: str, respx_mock: respx.MockRouter
) -> None:
    module = load("dependencies")
    module.BUSY_TIMEOUT = 0  # type: ignore[attr-defined]  # give up on a lock at once
    with a_reader_in_a_transaction(database_url):
        async with served(module.app, respx_mock) as server:
            response = await server.client.put("/users/1/name", json={"name": "Leanne G."})
    stored = stored_name(database_url, 1)
    # What the client was told is what the database holds.
    assert (response.status_code == 200) == (stored == "Leanne G.")
    assert response.status_code == 503  # the commit could not take its lock
    assert stored == "Leanne Graham"
    assert server.errors == []  # nothing failed after the response was sent


# --- uploads ---------------------------------------------------------------------------------


def multipart(name: str, size: int, piece: bytes = b"x") -> Iterator[bytes]:
    """A multipart body holding one file of `size` bytes, in 64 KiB pieces."""
    yield (
        b"--boundary\r\nContent-Disposition: form-data; name=upload; filename="
        + name.encode()
        + b"\r\nContent-Type: application/octet-stream\r\n\r\n"
    )
    for start in range(0, size, 65536):
        yield piece * min(65536, size - start)
    yield b"\r\n--boundary--\r\n"


MULTIPART = {"content-type": "multipart/form-data; boundary=boundary"}


async def chunked(pieces: Iterable[bytes]) -> AsyncIterator[bytes]:
    """A body sent as it is made: chunked, with no Content-Length to refuse it by."""
    for piece in pieces:
        yield piece


def files_left(folder: Path) -> list[str]:
    return sorted(os.listdir(folder)) if folder.is_dir() else []


@pytest.mark.asyncio
@pytest.mark.parametrize("sent_as", ["content-length", "chunked"])
async def test_an_oversized_upload_is_refused_before_it_is_read(
    sent_as: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, respx_mock: respx.MockRouter
) -> None:
    monkeypatch.setenv("FILES_DIR", str(tmp_path / "files"))
    files = load("files")
    body = multipart("big.bin", 50 * MiB)
    async with served(files.app, respx_mock) as server:
        if sent_as == "content-length":
            content: Any = b"".join(body)
            headers = {**MULTIPART, "content-length": str(len(content))}
        else:
            content, headers = chunked(body), MULTIPART
        response = await server.client.put("/files/big.bin", content=content, headers=headers)
        listing = (await server.client.get("/files")).json()
    assert response.status_code == 413
    if sent_as == "content-length":
        assert server.app.received == 0  # refused on the declared size alone
    else:  # read no further than the limit, the form around the file and a read past it
        assert server.app.received <= files.MAX_BYTES + MiB
    assert listing == []
    assert files_left(tmp_path / "files") == []
    assert server.errors == []


@pytest.mark.asyncio
async def test_uploads_of_one_name_at_once_never_mix_and_never_fail(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, respx_mock: respx.MockRouter
) -> None:
    monkeypatch.setenv("FILES_DIR", str(tmp_path / "files"))
    files = load("files")
    pieces = [bytes([ord("a") + n]) for n in range(8)]  # each upload all a's, all b's...
    async with served(files.app, respx_mock) as server:
        responses = await asyncio.gather(
            *(
                server.client.put(
                    "/files/same.txt",
                    content=b"".join(multipart("same.txt", 2 * MiB, piece)),
                    headers=MULTIPART,
                )
                for piece in pieces
            )
        )
    assert [response.status_code for response in responses] == [201] * len(pieces)
    stored = (tmp_path / "files" / "same.txt").read_bytes()
    assert len(stored) == 2 * MiB
    assert stored in {piece * (2 * MiB) for piece in pieces}  # one upload, whole
    assert files_left(tmp_path / "files") == ["same.txt"]  # no partial file left behind
    assert server.errors == []


# --- JSON bodies -----------------------------------------------------------------------------

JSON_ENDPOINTS = {
    "dependencies": ("PUT", "/users/1/name", "name"),
    "background": ("POST", "/signups", "email"),
}


@pytest.mark.asyncio
@pytest.mark.usefixtures("database_url")
@pytest.mark.parametrize("where", ["a value", "a key", "a nested key"])
@pytest.mark.parametrize("app_name", JSON_ENDPOINTS)
async def test_invalid_text_in_json_is_a_422_that_echoes_nothing_it_cannot_encode(
    app_name: str, where: str, respx_mock: respx.MockRouter
) -> None:
    method, path, field = JSON_ENDPOINTS[app_name]
    lone_surrogate = {  # valid JSON, not valid text
        "a value": '{"' + field + '": "caf\\ud800"}',
        "a key": '{"caf\\ud800": 1}',
        "a nested key": '{"' + field + '": {"caf\\ud800": 1}}',
    }[where]
    async with served(load(app_name).app, respx_mock) as server:
        response = await server.client.request(
            method, path, content=lone_surrogate, headers={"content-type": "application/json"}
        )
    assert response.status_code == 422
    response.content.decode("utf-8")  # strict: the answer is valid UTF-8
    assert response.json()["detail"][0]["loc"] in (["body", field], ["body"])
    assert server.errors == []


@pytest.mark.asyncio
@pytest.mark.usefixtures("database_url")
@pytest.mark.parametrize("sent_as", ["content-length", "chunked"])
@pytest.mark.parametrize("app_name", JSON_ENDPOINTS)
async def test_a_json_body_over_the_limit_is_refused_before_it_is_read(
    app_name: str, sent_as: str, respx_mock: respx.MockRouter
) -> None:
    method, path, field = JSON_ENDPOINTS[app_name]
    module = load(app_name)
    body = b'{"%s": "' % field.encode() + b"x" * (16 * MiB) + b'"}'
    pieces = (body[start : start + 65536] for start in range(0, len(body), 65536))
    content = body if sent_as == "content-length" else chunked(pieces)
    async with served(module.app, respx_mock) as server:
        response = await server.client.request(
            method, path, content=content, headers={"content-type": "application/json"}
        )
    assert response.status_code == 413
    if sent_as == "content-length":
        assert server.app.received == 0
    else:
        assert server.app.received <= module.MAX_JSON_BODY + 320 * 1024  # one piece from uvicorn
    assert server.errors == []


# --- compressed bombs from an upstream -------------------------------------------------------

# Every endpoint that calls an upstream: the request, where its calls go, and how many it makes.
UPSTREAM_ENDPOINTS = {
    "external_api": ("/external-api", "https://nonexistent-api.com", 1),
    "fetch_data": ("/fetch-data", "https://jsonplaceholder.typicode.com", 1),
    "fan_out": ("/posts/titles?count=3", "https://jsonplaceholder.typicode.com", 3),
    "timeouts": ("/users/1/overview", "https://jsonplaceholder.typicode.com", 3),
    "upstream_errors_lookup": ("/posts/7", "https://jsonplaceholder.typicode.com", 1),
}


@pytest.fixture(scope="module")
def bombs() -> dict[str, bytes]:
    """64 MiB of spaces, gzipped once (64 KiB) and twice (under 1 KiB)."""
    once = gzip.compress(b" " * (64 * MiB), compresslevel=9)
    return {"gzip": once, "gzip, gzip": gzip.compress(once, compresslevel=9)}


@pytest.mark.asyncio
@pytest.mark.parametrize("encoding", ["gzip", "gzip, gzip"])
@pytest.mark.parametrize("endpoint", UPSTREAM_ENDPOINTS)
async def test_a_compressed_bomb_costs_no_more_than_twice_the_cap(
    endpoint: str, encoding: str, bombs: dict[str, bytes], respx_mock: respx.MockRouter
) -> None:
    path, upstream, calls = UPSTREAM_ENDPOINTS[endpoint]
    module = load(endpoint)

    async def as_it_arrives() -> AsyncIterator[bytes]:
        for start in range(0, len(bombs[encoding]), 65536):  # a socket's reads, 64 KiB each
            yield bombs[encoding][start : start + 65536]

    respx_mock.route(url__startswith=upstream).mock(
        side_effect=lambda request: httpx.Response(
            200, headers={"content-encoding": encoding}, content=as_it_arrives()
        )
    )
    async with served(module.app, respx_mock) as server:
        tracemalloc.start()
        try:
            response = await server.client.get(path)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert response.status_code == 502
    assert list(response.json()) == ["detail"]
    assert peak <= calls * 2 * upstream_errors.MAX_BODY + MiB, f"{peak / MiB:.0f} MiB"
    assert server.errors == []


# --- database errors: an outage is a 503, a bug is a 500 --------------------------------------

DATABASE_APPS = {
    "users_db": ("GET", "/users/1", None),
    "users_sqlalchemy": ("GET", "/users/1", None),
    "dependencies": ("PUT", "/users/1/name", {"name": "A new name"}),
}


def an_empty_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A database file with no tables, as after a deployment whose migrations did not run."""
    sqlite3.connect(tmp_path / "empty.db").close()
    monkeypatch.setenv("DATABASE_URL", sqlite_url(tmp_path / "empty.db"))
    return "no such table: users"


def sql_with_a_typo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every query the apps send, misspelt: a bug in the code, not an outage."""
    monkeypatch.setenv("DATABASE_URL", seeded_database(tmp_path))
    fetch_one, execute = Database.fetch_one, AsyncSession.execute

    async def misspelt_fetch(self: Database, query: str, values: Any = None) -> Any:
        return await fetch_one(self, query.replace("SELECT", "SELEC"), values)

    async def misspelt_get(self: AsyncSession, *args: object, **kwargs: object) -> Any:
        return await execute(self, text("SELEC name FROM users"))

    monkeypatch.setattr(Database, "fetch_one", misspelt_fetch)
    monkeypatch.setattr(AsyncSession, "get", misspelt_get)
    return 'near "SELEC": syntax error'


@pytest.mark.asyncio
@pytest.mark.parametrize("bug", [an_empty_database, sql_with_a_typo])
@pytest.mark.parametrize("app_name", DATABASE_APPS)
async def test_a_bug_in_sql_or_schema_is_a_500_logged_with_nothing_of_the_sql_sent(
    app_name: str,
    bug: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    respx_mock: respx.MockRouter,
) -> None:
    cause = bug(tmp_path, monkeypatch)
    method, path, body = DATABASE_APPS[app_name]
    async with served(load(app_name).app, respx_mock) as server:
        response = await server.client.request(method, path, json=body)
    assert (response.status_code, response.text) == (500, "Internal Server Error")
    assert "retry-after" not in response.headers  # nothing invites a retry of a bug
    [logged] = server.errors  # the server logged the failure, with its cause
    assert logged.exc_info is not None
    assert cause in str(logged.exc_info[1])


# --- many at once: nothing lost ---------------------------------------------------------------


@pytest.mark.asyncio
async def test_renames_at_once_each_stored_or_refused_and_the_names_stay_unique(
    database_url: str, respx_mock: respx.MockRouter
) -> None:
    async with served(load("dependencies").app, respx_mock) as server:
        own = await asyncio.gather(
            *(
                server.client.put(f"/users/{user}/name", json={"name": f"User {user}"})
                for user in range(1, 11)
            )
        )
        same = await asyncio.gather(
            *(
                server.client.put(f"/users/{user}/name", json={"name": "Everyone"})
                for user in range(1, 11)
            )
        )
    assert [response.status_code for response in own] == [200] * 10
    assert sorted(response.status_code for response in same) == [200] + [409] * 9
    names = [stored_name(database_url, user) for user in range(1, 11)]
    assert names.count("Everyone") == 1  # the one 200
    assert {name for name in names if name != "Everyone"} <= {f"User {n}" for n in range(1, 11)}
    assert server.errors == []


@pytest.mark.asyncio
@pytest.mark.looptime(True)  # the welcome emails' second takes none
async def test_signups_at_once_each_get_their_welcome(respx_mock: respx.MockRouter) -> None:
    background = load("background")
    addresses = [f"user{n}@example.org" for n in range(20)]
    async with served(background.app, respx_mock) as server:
        answers = await asyncio.gather(
            *(server.client.post("/signups", json={"email": address}) for address in addresses)
        )
    # Leaving `served` stops the server, which first lets the background work finish.
    assert [answer.status_code for answer in answers] == [202] * 20
    assert sorted(background.outbox) == sorted(addresses)
    assert server.errors == []


@pytest.mark.asyncio
async def test_uploads_at_once_of_many_names_are_each_stored_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, respx_mock: respx.MockRouter
) -> None:
    monkeypatch.setenv("FILES_DIR", str(tmp_path / "files"))
    contents = {f"file{n}.bin": bytes([n]) * (512 * 1024) for n in range(10)}
    async with served(load("files").app, respx_mock) as server:
        answers = await asyncio.gather(
            *(
                server.client.put(f"/files/{name}", files={"upload": (name, content)})
                for name, content in contents.items()
            )
        )
    assert [answer.status_code for answer in answers] == [201] * 10
    assert files_left(tmp_path / "files") == sorted(contents)
    for name, content in contents.items():
        assert (tmp_path / "files" / name).read_bytes() == content
    assert server.errors == []


@pytest.mark.asyncio
async def test_streamed_uploads_at_once_are_each_counted_whole(
    respx_mock: respx.MockRouter,
) -> None:
    sizes = [n * 100_000 for n in range(1, 11)]
    async with served(load("streaming").app, respx_mock) as server:
        answers = await asyncio.gather(
            *(server.client.post("/upload-size", content=chunked([b"x" * size])) for size in sizes)
        )
    assert [answer.json()["bytes"] for answer in answers] == sizes
    assert server.errors == []


@pytest.mark.asyncio
@pytest.mark.parametrize("endpoint", UPSTREAM_ENDPOINTS)
async def test_upstream_calls_at_once_are_each_answered(
    endpoint: str, respx_mock: respx.MockRouter
) -> None:
    path, _, _ = UPSTREAM_ENDPOINTS[endpoint]
    respx_mock.get("https://nonexistent-api.com/data").respond(json={"data": [1, 2, 3]})
    async with served(load(endpoint).app, respx_mock) as server:
        answers = await asyncio.gather(*(server.client.get(path) for _ in range(20)))
    assert [answer.status_code for answer in answers] == [200] * 20
    assert len({answer.content for answer in answers}) == 1  # the same answer, each whole
    assert server.errors == []


# --- bodies sent slowly, then abandoned: nothing stored, nothing left behind -----------------

ABANDONED = {
    "files": (
        "PUT",
        "/files/half.bin",
        "multipart/form-data; boundary=b",
        b'--b\r\nContent-Disposition: form-data; name="upload"; filename="h"\r\n\r\nxxxx',
    ),
    "dependencies": ("PUT", "/users/1/name", "application/json", b'{"name": "Half'),
    "background": ("POST", "/signups", "application/json", b'{"email": "half@exam'),
    "streaming": ("POST", "/upload-size", "application/octet-stream", b"x" * 1000),
}


@pytest.mark.asyncio
@pytest.mark.usefixtures("database_url")
@pytest.mark.parametrize("app_name", ABANDONED)
async def test_a_body_sent_slowly_and_abandoned_leaves_nothing_behind(
    app_name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, respx_mock: respx.MockRouter
) -> None:
    monkeypatch.setenv("FILES_DIR", str(tmp_path / "files"))
    method, path, content_type, start = ABANDONED[app_name]
    module = load(app_name)
    async with served(module.app, respx_mock) as server:
        host, port = server.client.base_url.host, server.client.base_url.port
        assert port is not None
        _, writer = await asyncio.open_connection(host, port)
        head = f"{method} {path} HTTP/1.1\r\nhost: {host}\r\ncontent-type: {content_type}\r\n"
        writer.write(f"{head}content-length: 1000000\r\n\r\n".encode())
        for byte in start:  # a byte at a time, then silence, then gone
            writer.write(bytes([byte]))
            await writer.drain()
        writer.close()
        await writer.wait_closed()
        # Meanwhile, and after, the server answers everyone else.
        assert (await server.client.get("/openapi.json")).status_code == 200
    assert files_left(tmp_path / "files") == []
    if app_name == "dependencies":
        assert stored_name(os.environ["DATABASE_URL"], 1) == "Leanne Graham"
    if app_name == "background":
        assert module.outbox == []
    assert server.errors == []


@pytest.mark.asyncio
async def test_a_large_streamed_upload_is_counted_holding_one_piece_at_a_time(
    respx_mock: respx.MockRouter,
) -> None:
    """/upload-size has no size limit: it keeps nothing of a body, whatever its size. The
    upload is sent by hand, chunked: through respx, even passed through, httpx holds it whole."""
    async with served(load("streaming").app, respx_mock) as server:
        host, port = server.client.base_url.host, server.client.base_url.port
        assert port is not None
        tracemalloc.start()
        try:
            reader, writer = await asyncio.open_connection(host, port)
            writer.write(b"POST /upload-size HTTP/1.1\r\nhost: x\r\n")
            writer.write(b"transfer-encoding: chunked\r\nconnection: close\r\n\r\n")
            for _ in range(50 * 16):  # 50 MiB, 64 KiB at a time
                writer.write(b"10000\r\n" + b"x" * 65536 + b"\r\n")
                await writer.drain()
            writer.write(b"0\r\n\r\n")
            answer = await reader.read()
            writer.close()
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert answer.startswith(b"HTTP/1.1 200 OK")
    assert b'"bytes":52428800' in answer
    assert peak < 2 * MiB, f"{peak / MiB:.1f} MiB"
    assert server.errors == []


@pytest.mark.asyncio
@pytest.mark.parametrize("name", ["page.html", "image.svg", "notes.txt"])
async def test_an_uploaded_file_is_served_as_a_download_never_as_a_page(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, respx_mock: respx.MockRouter
) -> None:
    """Served by its name's type, an uploaded page or image would run its scripts in the
    browser of whoever opened its link, as if the site had sent them: stored XSS."""
    monkeypatch.setenv("FILES_DIR", str(tmp_path / "files"))
    script = b"<script>document.title = 'stolen'</script>"
    async with served(load("files").app, respx_mock) as server:
        await server.client.put(f"/files/{name}", files={"upload": (name, script)})
        response = await server.client.get(f"/files/{name}")
    assert response.content == script
    assert response.headers["content-type"] == "application/octet-stream"
    assert response.headers["content-disposition"].startswith("attachment;")
    assert response.headers["x-content-type-options"] == "nosniff"
