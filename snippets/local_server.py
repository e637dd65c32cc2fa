"""A real uvicorn server for an app, on a free port of 127.0.0.1, inside the
running event loop: for what only a server shows, such as chunks arriving
one by one, or a socket timing out."""

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import Any

import uvicorn
from starlette.types import ASGIApp


@asynccontextmanager
async def local_server(
    app: ASGIApp, log_config: dict[str, Any] | None = None, **config: Any
) -> AsyncIterator[str]:
    """Serve `app` until the block ends; yield its base URL, such as
    http://127.0.0.1:40123. Without `log_config`, uvicorn leaves logging as
    it is and logs only warnings; with one, it applies it (as
    `uvicorn.run(..., log_config=...)` does) and sets no level of its own.
    Other keywords go to `uvicorn.Config`, such as `timeout_keep_alive=60`."""
    # TCP by name: asyncio then turns Nagle's algorithm off on each connection,
    # as on a server it makes itself. On a plain socket.socket(), a keep-alive
    # response's body waits 40 ms for the client to acknowledge its headers.
    tcp = (socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    with socket.socket(*tcp) as listening:
        listening.bind(("127.0.0.1", 0))  # port 0: the system picks one
        server = uvicorn.Server(
            uvicorn.Config(
                app,
                log_config=log_config,
                log_level="warning" if log_config is None else None,
                **config,
            )
        )
        serving = asyncio.create_task(serve(server, listening))
        try:
            while not server.started:
                if serving.done():
                    await serving  # it stopped before it started: raises why
                await asyncio.sleep(0.01)
            host, port = listening.getsockname()
            yield f"http://{host}:{port}"
        finally:
            server.should_exit = True
            await serving


async def serve(server: uvicorn.Server, listening: socket.socket) -> None:
    """uvicorn's `serve`, raising if the server stops before it starts.
    uvicorn stops then with `sys.exit`, as its command does: a SystemExit,
    which would escape the task and stop the whole event loop."""
    with suppress(SystemExit):
        await server.serve(sockets=[listening])
    if not server.started:
        raise RuntimeError("uvicorn stopped before it started; see its log")
