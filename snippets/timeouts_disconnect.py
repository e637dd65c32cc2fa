# --8<-- [start:endpoints]
"""Work for a client that has gone: a streamed response stops when its
client disconnects; a plain endpoint runs to the end, unless it watches for
the disconnect itself."""

import asyncio
from collections.abc import AsyncIterator, Awaitable
from typing import TypeVar

from fastapi import FastAPI, Request
from fastapi.responses import StreamingResponse
from starlette.requests import ClientDisconnect

from streaming import PLAIN_TEXT, client_gone

T = TypeVar("T")

app = FastAPI()


async def slow_rows(count: int) -> AsyncIterator[str]:
    for number in range(1, count + 1):
        await asyncio.sleep(1)  # stands in for a slow query, row by row
        yield f"row {number}\n"


async def all_rows(count: int) -> list[str]:
    return [row async for row in slow_rows(count)]


@app.get(
    "/report/streamed", response_class=StreamingResponse, responses=PLAIN_TEXT
)
async def streamed_report() -> StreamingResponse:
    """Starlette cancels a stream whose client has gone, at the stream's
    next `await`."""
    return StreamingResponse(slow_rows(10), media_type="text/plain")


@app.get("/report")
async def report() -> list[str]:
    """Nothing tells this endpoint that its client has gone: it runs all
    ten seconds."""
    return await all_rows(10)


# --8<-- [end:endpoints]


# --8<-- [start:pattern]
async def disconnect(request: Request) -> None:
    """Raise ClientDisconnect once the client has gone.

    Start it only once the body has been read (FastAPI reads it before the
    endpoint runs, for a parameter that needs it): it takes the request's
    messages, and the last of them is the disconnect."""
    while (await request.receive())["type"] != "http.disconnect":
        pass
    raise ClientDisconnect


async def unless_disconnected(request: Request, work: Awaitable[T]) -> T:
    """`await work`, but cancel it, and raise ClientDisconnect, if the
    client goes first."""
    try:
        async with asyncio.TaskGroup() as group:
            watcher = group.create_task(disconnect(request))
            # cancelled by the group if the watcher raises first
            result = await work
            watcher.cancel()
    except* ClientDisconnect:
        raise ClientDisconnect from None
    except* Exception as failed:  # the work's own error: raised as it was
        raise failed.exceptions[0] from None
    return result


@app.get("/report/cancellable")
async def cancellable_report(request: Request) -> list[str]:
    return await unless_disconnected(request, all_rows(10))


# a quiet 499 that no one reads
app.add_exception_handler(ClientDisconnect, client_gone)
# --8<-- [end:pattern]
