"""A WebSocket conversation replayed against an app served by uvicorn on 127.0.0.1."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from pytest_pages.transport import served

if TYPE_CHECKING:
    from pytest_pages.conversations import Conversation

import re

SENT, RECEIVED = "> ", "< "
CLOSE = re.compile(r"CLOSE (?P<code>\d{4})(?: (?P<reason>.*))?")
#: How long a `<` line waits for its message, in real seconds: a conversation runs on the real
#: clock, since on a virtual one a message still in the kernel when the loop idles would let
#: the clock, and the wait, jump ahead. Only an app that does not send pays the wait.
QUIET = 5.0
#: How long one whole conversation may take, in real seconds, before it fails as hung.
REPLAY_LIMIT = 60.0


async def replay(app: Any, conversation: Conversation) -> tuple[list[str], list[str]]:
    """The conversation as it went with `app` under uvicorn, in the page's notation, and
    every error uvicorn logged meanwhile."""
    # A bound on the whole replay, on the real clock: an app that hangs fails the block.
    # Stopping waits at most QUIET seconds for a handler that never ends.
    async with asyncio.timeout(REPLAY_LIMIT), served(app, int(QUIET)) as ((host, port), errors):
        url = f"ws://{host}:{port}{conversation.path}"
        try:
            # No proxy (the page's environment has none anyway), no keepalive pings, and the
            # handshake bounded like any message: an app that never accepts fails, not hangs.
            client = await connect(url, proxy=None, open_timeout=QUIET, ping_interval=None)
        except InvalidStatus as refused:
            status = HTTPStatus(refused.response.status_code)
            transcript = [f"HTTP/1.1 {status.value} {status.phrase}"]
        else:
            async with client:
                transcript = await converse(client, conversation.lines)
    return transcript, errors.entries()


async def converse(client: ClientConnection, lines: Sequence[str]) -> list[str]:
    """Send each `>` line and wait for a message at each `<`. Then, if the page shows the
    server closing, wait for it to close; if not, close, and take any message the server sent
    before it saw the close."""
    transcript: list[str] = []
    try:
        for line in lines:
            if line.startswith(SENT.strip()):
                text = line[len(SENT) :]
                await client.send(text)
                transcript.append(f"{SENT}{text}".rstrip(" "))
            elif line.startswith(RECEIVED.strip()):
                received = await next_message(client)
                if received is not None:
                    transcript.append(received)
        if not (lines and CLOSE.fullmatch(lines[-1])):
            await client.close()  # the client leaves; what came before stays readable
        while (received := await next_message(client)) is not None:
            transcript.append(received)
    except ConnectionClosed as closed:
        if closed.rcvd is not None and closed.rcvd_then_sent is not False:  # server first
            reason = f" {closed.rcvd.reason}" if closed.rcvd.reason else ""
            transcript.append(f"CLOSE {closed.rcvd.code}{reason}")
    return transcript


async def next_message(client: ClientConnection) -> str | None:
    """The next message, as a `<` line; None if none came within QUIET seconds. Raises
    ConnectionClosed when the server closed the connection."""
    try:
        async with asyncio.timeout(QUIET):
            return as_received(await client.recv())
    except TimeoutError:
        return None


def as_received(message: str | bytes) -> str:
    """A `<` line; a message the notation cannot show as it is (binary, or holding a
    newline) becomes a line no page shows, which names the problem in the diff."""
    if isinstance(message, bytes):
        return f"{RECEIVED}(a binary message, which a conversation cannot show) {message!r}"
    if "\n" in message:
        return f"{RECEIVED}(a message with a newline, which a conversation cannot show) {message!r}"
    return f"{RECEIVED}{message}".rstrip(" ")
