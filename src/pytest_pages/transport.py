"""Sending a shown request to an app: in-process through httpx, and over a socket to uvicorn."""

from __future__ import annotations

import asyncio
import logging
import socket
import traceback
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import h11
import httpx
import uvicorn

from pytest_pages.messages import REQUEST_LINE, Message

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
