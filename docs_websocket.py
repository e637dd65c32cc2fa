"""Shown WebSocket conversations, checked: the one job of this module.

A conversation is a ```` ```websocket ```` block on a page, one message a line:

    WEBSOCKET /rooms/lobby?token=alice-token
    < alice joined
    > hello
    < alice: hello

The first line is the path the client opens; `> text` is a message the client sends, `< text`
one it receives. After the last line, the client closes the connection. The last line may
instead say how the conversation ended: `CLOSE 1008 reason` when the server closed it (the
client waits for that), or `HTTP/1.1 403 Forbidden` alone when it refused the handshake.
The test run replays it against the page's `app`, served by uvicorn on 127.0.0.1, over a real
socket, and fails, naming the page and the line, when the app answers differently; under
`make update-docs` it rewrites the block from what the app sent instead.
"""

from __future__ import annotations

import asyncio
import difflib
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from typing import Any

from sybil import Document, Example, Region
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from docs_harness import OVER_A_SOCKET, Page, fenced, served, where

OPENING = re.compile(r"WEBSOCKET (?P<path>/\S*)")
SENT, RECEIVED = "> ", "< "
CLOSE = re.compile(r"CLOSE (?P<code>\d{4})(?: (?P<reason>.*))?")
REFUSED = re.compile(r"HTTP/1\.1 (?P<status>\d{3})(?: .*)?")
#: How long a `<` line waits for its message, in real seconds: a conversation runs on the real
#: clock, since on a virtual one a message still in the kernel when the loop idles would let
#: the clock, and the wait, jump ahead. Only an app that does not send pays the wait.
QUIET = 5.0
#: How long one whole conversation may take, in real seconds, before it fails as hung.
REPLAY_LIMIT = 60.0


@dataclass(frozen=True)
class Conversation:
    """A conversation as a page shows it, and where the page shows it."""

    path: str
    lines: tuple[str, ...]  # after the WEBSOCKET line: `> `, `< `, and how it ended, if shown
    place: str  # `docs/page.md:LINE` of the block's opening fence
    first_line: int  # the page's line of `lines[0]`
    block: tuple[int, int]  # where the fenced block is in the page text, for update-docs

    @classmethod
    def parse(cls, text: str, place: str, first_line: int, block: tuple[int, int]) -> Conversation:
        opening, *lines = text.strip("\n").splitlines() or [""]
        match = OPENING.fullmatch(opening.strip())
        if match is None:
            raise ValueError(
                f"{place}: a websocket block starts with the path it opens, "
                f"'WEBSOCKET /path?query'; found {opening.strip()!r}"
            )
        for number, line in enumerate(lines):
            last = number == len(lines) - 1
            if line.startswith((SENT, RECEIVED)) or line in (SENT.strip(), RECEIVED.strip()):
                continue
            if CLOSE.fullmatch(line) and last:
                continue
            if REFUSED.fullmatch(line) and lines == [line]:
                continue
            raise ValueError(
                f"{place}: line {first_line + number} of a websocket block is '> message' "
                "(sent), '< message' (received), or, last, 'CLOSE 1008 reason' (closed by the "
                f"server), or alone 'HTTP/1.1 403 Forbidden' (refused); found {line!r}"
            )
        return cls(match["path"], tuple(lines), place, first_line, block)


class ConversationParser:
    """Every ```` ```websocket ```` block on a page."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.fences = fenced("websocket")

    def __call__(self, document: Document) -> Iterable[Region]:
        for block in self.fences(document):
            place = where(document, block.start, self.root)
            first_line = document.text.count("\n", 0, block.start) + 3  # fence, WEBSOCKET
            conversation = Conversation.parse(
                block.lexemes["source"], place, first_line, (block.start, block.end)
            )
            yield Region(block.start, block.end, conversation, check)


def check(example: Example) -> str | None:
    """Replay the conversation against the page's `app` over a socket; describe every
    difference from the page, and every error the app logged meanwhile."""
    conversation: Conversation = example.parsed
    app = example.namespace.get("app")
    if app is None:
        return f"{conversation.place}: the page defines no `app` before this conversation"
    page: Page = example.namespace["__page__"]
    with asyncio.Runner() as runner:  # the real clock: see QUIET
        try:
            transcript, errors = runner.run(replay(app, conversation))
        except TimeoutError:
            return (
                f"{conversation.place}: WEBSOCKET {conversation.path} hung: the app did not "
                f"accept within {QUIET:g} s, or the conversation took over {REPLAY_LIMIT:g} s"
            )
    shown = list(conversation.lines)
    if transcript == shown and not errors:
        return None
    if os.environ.get("DOCS_UPDATE") == "1" and not errors:
        content = "\n".join([f"WEBSOCKET {conversation.path}", *transcript])
        page.updates.append((conversation.block, content))
        return None
    opening = f"{conversation.place}: WEBSOCKET {conversation.path}"
    if transcript == shown:
        report = [f"{opening} went as shown, but"]
    else:
        differs = next(
            (n for n, (a, b) in enumerate(zip(shown, transcript, strict=False)) if a != b),
            min(len(shown), len(transcript)),
        )
        line = conversation.first_line + differs
        page_name = conversation.place.rpartition(":")[0]
        report = [f"{opening} went differently, from {page_name}:{line}", "", f"{OVER_A_SOCKET}:"]
        report += difflib.unified_diff(
            shown, transcript, "shown on the page", "sent by the app", lineterm=""
        )
    if errors:
        report += ["", f"{OVER_A_SOCKET}, the app raised:", *errors]
    return "\n".join(report)


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
