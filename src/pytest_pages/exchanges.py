"""HTTP exchanges: a shown request and the response it promises, checked both ways."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sybil import Document, Example, Region

from pytest_pages.markdown import fenced, where
from pytest_pages.messages import REQUEST_LINE, STATUS_LINE, Message, as_message
from pytest_pages.shown import render, restyled
from pytest_pages.transport import IN_PROCESS, OVER_A_SOCKET, send, send_over_a_socket

if TYPE_CHECKING:
    from pytest_pages.runtime import Page


@dataclass(frozen=True)
class Exchange:
    """A request a page shows, the response it promises, and where it promises it."""

    request: Message
    response: Message
    place: str
    response_block: tuple[int, int]  # where the response's fenced block is in the page text


class ExchangeParser:
    """Pairs each ```` ```http ```` request block with the response block after it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.fences = fenced("http")

    def __call__(self, document: Document) -> Iterable[Region]:
        request: Region | None = None
        for block in self.fences(document):
            place = where(document, block.start, self.root)
            try:
                message = Message.parse(block.lexemes["source"])
            except ValueError as error:
                raise ValueError(f"{place}: {error}") from None
            if REQUEST_LINE.fullmatch(message.first_line) and request is None:
                request = block
            elif STATUS_LINE.fullmatch(message.first_line) and request is not None:
                shown = Message.parse(request.lexemes["source"])
                exchange = Exchange(shown, message, place, (block.start, block.end))
                yield Region(request.start, block.end, exchange, check)
                request = None
            else:
                raise ValueError(
                    f"{place}: an http block is a request ('GET /path HTTP/1.1') followed by "
                    f"its response ('HTTP/1.1 200 OK'); found {message.first_line!r}"
                )
        if request is not None:
            place = where(document, request.start, self.root)
            raise ValueError(f"{place}: this request block has no response block after it")


def check(example: Example) -> str | None:
    """Send the shown request to the page's `app` twice, in-process and over a socket; describe
    every difference from the page, and every exception the app raised while serving it."""
    exchange: Exchange = example.parsed
    page: Page = example.namespace["__page__"]
    page.require_what_it_needs()
    app = example.namespace.get("app")
    if app is None:
        return f"{exchange.place}: the page defines no `app` before this exchange"
    answers = {
        IN_PROCESS: page.runner.run(send(app, exchange.request)),
        OVER_A_SOCKET: page.server_runner.run(send_over_a_socket(app, exchange.request)),
    }
    expected = render(exchange.response, exchange.response)
    actual = {
        way: render(as_message(response), exchange.response)
        for way, (response, _) in answers.items()
    }
    # A page that shows a 500 shows the app failing: there, and only there, it may raise.
    may_raise = STATUS_LINE.fullmatch(exchange.response.first_line)["status"] == "500"  # type: ignore[index]
    raised = {way: errors for way, (_, errors) in answers.items() if errors and not may_raise}
    if set(actual.values()) == {expected} and not raised:
        return None
    agreed = len(set(actual.values())) == 1
    if page.update_docs and agreed and not raised:
        response = answers[IN_PROCESS][0]
        page.updates.append((exchange.response_block, restyled(response, exchange.response)))
        return None
    report = [f"{exchange.place}: {exchange.request.first_line} answered differently"]
    if not set(actual.values()) - {expected}:
        report = [f"{exchange.place}: {exchange.request.first_line} answered as shown, but"]
    for way, answer in actual.items():
        if answer != expected:
            report += ["", f"{way}:"]
            report += difflib.unified_diff(
                expected.splitlines(),
                answer.splitlines(),
                "shown on the page",
                "sent by the app",
                lineterm="",
            )
        if way in raised:
            report += ["", f"{way}, the app raised:", *raised[way]]
    return "\n".join(report)
