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
`--update-docs` it rewrites the block from what the app sent instead.
"""

from __future__ import annotations

import asyncio
import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sybil import Document, Example, Region

from pytest_pages.markdown import fenced, where
from pytest_pages.replay import CLOSE, QUIET, RECEIVED, REPLAY_LIMIT, SENT, replay
from pytest_pages.transport import OVER_A_SOCKET

if TYPE_CHECKING:
    from pytest_pages.runtime import Page

OPENING = re.compile(r"WEBSOCKET (?P<path>/\S*)")
REFUSED = re.compile(r"HTTP/1\.1 (?P<status>\d{3})(?: .*)?")


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
    page: Page = example.namespace["__page__"]
    page.require_what_it_needs()
    app = example.namespace.get("app")
    if app is None:
        return f"{conversation.place}: the page defines no `app` before this conversation"
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
    if page.update_docs and not errors:
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
