"""snippets/local_server.py, the real server pages use for what only a server shows."""

import asyncio

import pytest
from starlette.types import Receive, Scope, Send

from local_server import local_server
from pytest_pages.runtime import new_loop


async def ok(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


async def clock_moved_by_ten_requests() -> float:
    """Ten requests one after another on one keep-alive connection, as a page's loop times
    them."""
    loop = asyncio.get_running_loop()
    async with local_server(ok) as url:
        host, port = url.removeprefix("http://").split(":")
        reader, writer = await asyncio.open_connection(host, int(port))
        start = loop.time()
        for _ in range(10):
            writer.write(b"GET / HTTP/1.1\r\nHost: test\r\n\r\n")
            await reader.readuntil(b"ok")
        moved = loop.time() - start
        writer.close()
        await writer.wait_closed()
    return moved


def test_a_response_does_not_wait_for_the_clients_ack() -> None:
    """uvicorn writes a response's head and body apart. With Nagle's algorithm left on for the
    server's connections, the body waits for the client's delayed ACK of the head, 40 ms on
    Linux, each time: real time, which a page's virtual clock turns into uvicorn's 0.1 s ticks
    (fetch_data.md's clock moved 101.6 s, 58.2 s once they no longer waited)."""
    loop = new_loop()
    try:
        assert loop.run_until_complete(clock_moved_by_ten_requests()) == 0
    finally:
        loop.close()


async def refuses_to_start(scope: Scope, receive: Receive, send: Send) -> None:
    """An app whose lifespan fails to start, as one whose database is down may."""
    if scope["type"] == "lifespan":
        await receive()
        await send({"type": "lifespan.startup.failed", "message": "no database"})


async def serve_once() -> None:
    async with local_server(refuses_to_start):
        pass


def test_a_server_that_stops_before_it_starts_raises() -> None:
    loop = new_loop()
    try:
        with pytest.raises(RuntimeError, match="uvicorn stopped before it started"):
            loop.run_until_complete(serve_once())
    finally:
        loop.close()
