# --8<-- [start:stream]
"""Streaming: responses sent chunk by chunk, server-sent events, and request
bodies read as they arrive, so nothing waits for, or holds, the whole."""

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import FastAPI, Path, Request, Response
from fastapi.responses import StreamingResponse
from fastapi.sse import EventSourceResponse, ServerSentEvent
from starlette.requests import ClientDisconnect

app = FastAPI()


async def countdown(start: int) -> AsyncIterator[str]:
    for number in range(start, 0, -1):
        yield f"{number}\n"
        await asyncio.sleep(1)  # stands in for waiting on the next piece
    yield "liftoff\n"


PLAIN_TEXT: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "Lines of text, as they come",
        "content": {"text/plain": {}},
    },
}


@app.get(
    "/countdown/{start}",
    response_class=StreamingResponse,
    responses=PLAIN_TEXT,
)
async def stream_countdown(
    start: Annotated[int, Path(ge=1, le=10)],
) -> StreamingResponse:
    return StreamingResponse(countdown(start), media_type="text/plain")
    # --8<-- [end:stream]


# --8<-- [start:events]
@app.get("/ticks", response_class=EventSourceResponse)
async def ticks() -> AsyncIterator[ServerSentEvent]:
    """Server-sent events: FastAPI formats each one, and sends a `: ping`
    comment after 15 seconds with nothing to send."""
    for number in range(1, 4):
        yield ServerSentEvent(
            data={"tick": number}, event="tick", id=str(number)
        )
        await asyncio.sleep(1)
    # --8<-- [end:events]


# --8<-- [start:upload]
@app.post("/upload-size")
async def upload_size(request: Request) -> dict[str, int]:
    """Count an upload's bytes as they arrive, holding one chunk at a
    time."""
    size = chunks = 0
    async for chunk in request.stream():
        size += len(chunk)
        chunks += 1 if chunk else 0
    return {"bytes": size, "chunks": chunks}


@app.exception_handler(ClientDisconnect)
async def client_gone(request: Request, error: Exception) -> Response:
    """The client left before its request was done, mid-upload, say.

    No one is left to read an answer, and it is no error of the server's,
    so this keeps a traceback out of its log. 499 is nginx's "client closed
    request"."""
    return Response(status_code=499)
    # --8<-- [end:upload]
