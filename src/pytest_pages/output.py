"""Printed output, checked: the one job of this module.

A ```` ```python ```` block (inline or an included snippet) followed, with nothing but blank
lines between, by a plain fenced block (no info string, or `text`) shows what the block prints:

    ```python
    print(f"{seconds:.1f} s")
    ```

    ```
    3.0 s
    ```

The block runs with `sys.stdout` captured; what it printed must read as the shown block does,
line for line: trailing spaces on a line, and blank lines before the first line and after the
last, are not compared (a page cannot show them reliably), everything else is, indentation
and blank lines between included. A shown output under a block that prints nothing fails
too: it is output nobody checks. Under `--update-docs`, the shown block is rewritten from
what the block printed instead.
"""

from __future__ import annotations

import difflib
import io
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sybil import Document
from sybil.parsers.markdown.lexers import RawFencedCodeBlockLexer

from pytest_pages.markdown import where

if TYPE_CHECKING:
    from pytest_pages.runtime import Page

#: A plain fence's info string: none, or `text`.
PLAIN = RawFencedCodeBlockLexer(info_pattern=re.compile(r"[ \t]*(?:text)?[ \t]*$\n", re.M))


@dataclass(frozen=True)
class ShownOutput:
    """What a page shows a block printing, and where it shows it."""

    text: str  # the block's content, its fence's indentation removed
    place: str  # `docs/page.md:LINE` of its opening fence
    block: tuple[int, int]  # where the fenced block is in the page text, for update-docs


class OutputFinder:
    """The plain fenced blocks of a page that show output: each right after a block."""

    def __init__(self, document: Document, root: Path) -> None:
        self.text = document.text
        self.plain = {
            region.start: ShownOutput(
                str(region.lexemes["source"]),
                where(document, region.start, root),
                (region.start, region.end),
            )
            for region in PLAIN(document)
        }

    def after(self, end: int) -> ShownOutput | None:
        """The plain block right after position `end` (a block's closing fence), if any."""
        gap = len(self.text[end:]) - len(self.text[end:].lstrip(" \t\n"))
        return self.plain.get(self.line_start(end + gap))

    def line_start(self, position: int) -> int:
        """Where the line holding `position` starts: a fence's region starts at its indent."""
        return self.text.rfind("\n", 0, position) + 1


@contextmanager
def captured() -> Iterator[io.StringIO]:
    """What is written to `sys.stdout` meanwhile, kept; then passed on to the `sys.stdout` of
    before (pytest's capture, which shows it with a failure)."""
    printed = io.StringIO()
    try:
        with redirect_stdout(printed):
            yield printed
    finally:
        sys.stdout.write(printed.getvalue())


def as_compared(text: str) -> list[str]:
    """The lines compared: trailing spaces and leading and trailing blank lines dropped."""
    lines = [line.rstrip() for line in text.splitlines()]
    while lines and not lines[0]:
        lines.pop(0)
    while lines and not lines[-1]:
        lines.pop()
    return lines


def check(shown: ShownOutput, printed: str, page: Page) -> str | None:
    """Compare what the block printed with what the page shows; describe any difference, or
    (under `--update-docs`) rewrite the shown block instead."""
    expected, actual = as_compared(shown.text), as_compared(printed)
    if not actual:
        return (
            f"{shown.place}: this block shows printed output, but the Python block above it "
            "printed nothing (a plain fenced block right after a Python block shows what it "
            "prints; put a sentence between them if it shows something else)"
        )
    if actual == expected:
        return None
    if page.update_docs:
        page.updates.append((shown.block, "\n".join(actual)))
        return None
    report = [f"{shown.place}: the block above printed something else", ""]
    report += difflib.unified_diff(
        expected, actual, "shown on the page", "printed by the block", lineterm=""
    )
    return "\n".join(report)
