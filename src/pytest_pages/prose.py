"""Numbers in the prose, checked against the run: the one job of this module.

A number a page states in a sentence, where a run computes it, carries a marker right after
it, an HTML comment that the site does not show:

    The group answers after 3.0<!-- = group_seconds --> seconds.

The marker holds a Python expression. At the end of the page, after every block and exchange
on it has run (pages often state a figure before the folded block that computes it), the
expression is evaluated in the page's namespace and its value written with as many decimals
as the page shows (`3.0` one, `5` none); that must be the number shown. A page that fails
says where, what the prose says and what the run says; under `--update-docs`, the number is
rewritten in place instead. Markers inside code, fenced or inline, are text, not markers.
"""

from __future__ import annotations

import numbers
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sybil import Document, Example, Region
from sybil.parsers.markdown.lexers import RawFencedCodeBlockLexer

from pytest_pages.markdown import where

if TYPE_CHECKING:
    from pytest_pages.runtime import Page

MARKER = re.compile(r"<!--\s*=\s*(?P<expression>.*?)\s*-->", re.DOTALL)  # wrapped or not
NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?\Z")  # ends where its marker starts
ANY_FENCE = RawFencedCodeBlockLexer(info_pattern=re.compile(r"[^\n]*$\n", re.MULTILINE))
CODE_SPAN = re.compile(r"(?<!`)(`+)(?!`)(?:(?!\n[ \t]*\n).)+?(?<!`)\1(?!`)", re.DOTALL)


@dataclass(frozen=True)
class ProseNumber:
    """A number the prose states, the expression that computes it, and where it stands."""

    shown: str
    expression: str
    place: str  # `docs/page.md:LINE`
    span: tuple[int, int]  # where the number is in the page text, for update-docs

    def as_computed(self, value: object) -> str:
        """`value` written as the page writes this number: with as many decimals."""
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TypeError(f"{value!r} is not a number")
        decimals = len(self.shown.partition(".")[2])
        written = f"{float(value):.{decimals}f}"
        return written.removeprefix("-") if float(written) == 0 else written  # never -0.0


@dataclass(frozen=True)
class ProseNumbers:
    """Every marked number on a page, checked together once the page has run."""

    numbers: tuple[ProseNumber, ...]


def masked(document: Document) -> str:
    """The page text with its code, fenced and inline, blanked out (positions and line
    breaks kept)."""
    text = document.text
    for block in ANY_FENCE(document):
        text = text[: block.start] + blank(text[block.start : block.end]) + text[block.end :]
    return CODE_SPAN.sub(lambda span: blank(span[0]), text)


def blank(text: str) -> str:
    return re.sub(r"[^\n]", " ", text)


class ProseNumberParser:
    """Every marked number in a page's prose, as one example at the end of the page."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def __call__(self, document: Document) -> Iterable[Region]:
        prose = masked(document)
        found = []
        for marker in MARKER.finditer(prose):
            place = where(document, marker.start(), self.root)
            number = NUMBER.search(prose, 0, marker.start())
            if number is None or not marker["expression"]:
                raise ValueError(
                    f"{place}: a prose number's marker follows the number with no space "
                    f"between and names what computes it, as in 3.0<!-- = seconds -->; "
                    f"found {document.text[max(0, marker.start() - 12) : marker.end()]!r}"
                )
            found.append(
                ProseNumber(number[0], marker["expression"], place, (number.start(), number.end()))
            )
        if found:
            end = len(document.text)
            yield Region(end, end, ProseNumbers(tuple(found)), check)


def check(example: Example) -> str | None:
    """Evaluate each marked number's expression in the page's namespace; describe every
    number the prose gets wrong, or (under `--update-docs`) rewrite it instead."""
    page: Page = example.namespace["__page__"]
    page.require_what_it_needs()
    report = []
    for number in example.parsed.numbers:
        try:
            computed = number.as_computed(eval(number.expression, example.namespace))
        except Exception as error:  # any error is the page's: reported, with its place
            report.append(f"{number.place}: {number.expression}: {type(error).__name__}: {error}")
            continue
        if computed == number.shown:
            continue
        if page.update_docs:
            page.number_updates.append((number.span, computed))
            continue
        report.append(
            f"{number.place}: the prose says {number.shown}, the run says {computed} "
            f"({number.expression})"
        )
    return "\n".join(report) or None
