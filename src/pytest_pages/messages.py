"""HTTP messages as a page shows them: parsed from a block, or made from a response."""

from __future__ import annotations

import re
from dataclasses import dataclass

import httpx

REQUEST_LINE = re.compile(r"(?P<method>[A-Z]+) (?P<target>/\S*)(?: HTTP/[\d.]+)?")
STATUS_LINE = re.compile(r"HTTP/[\d.]+ (?P<status>\d{3})(?: (?P<reason>.*))?")
HEADER = re.compile(r"(?P<name>[A-Za-z0-9-]+):[ \t]*(?P<value>.*)")


@dataclass(frozen=True)
class Message:
    """An HTTP request or response as a page shows it: first line, headers, body."""

    first_line: str
    headers: tuple[tuple[str, str], ...]
    body: str

    @classmethod
    def parse(cls, text: str) -> Message:
        head, _, body = text.strip("\n").partition("\n\n")
        first_line, *header_lines = head.splitlines()
        headers = []
        for line in header_lines:
            header = HEADER.fullmatch(line.strip())
            if header is None:
                raise ValueError(
                    f"{line.strip()!r} is not a header: leave a blank line before the body"
                )
            headers.append((header["name"].lower(), header["value"]))
        return cls(first_line.strip(), tuple(headers), body.strip())


def as_message(response: httpx.Response) -> Message:
    status = f"HTTP/1.1 {response.status_code} {response.reason_phrase}"
    return Message(status, tuple(response.headers.items()), response.text.strip())
