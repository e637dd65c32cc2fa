"""Sybil's `<!-- skip: next "reason" -->`, with a reason required and reported."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from sybil import Document, Example, Region
from sybil.evaluators.skip import Skipper, SkipState
from sybil.parsers.markdown.skip import SkipParser

from pytest_pages._pytest_private import skip_at_item
from pytest_pages.markdown import where


class ReasonedSkipper(Skipper):
    """Sybil's skipper, reporting a skip at the page's line rather than inside pytest."""

    def install(self, example: Example, state: SkipState, reason: str | None) -> None:
        super().install(example, state, reason)
        if state.exception is not None:
            # Sybil raises whatever it stores here; pytest's skip is a BaseException, hence
            # the ignore.
            state.exception = skip_at_item(str(state.exception))  # type: ignore[assignment]


class ReasonedSkipParser(SkipParser):
    """Sybil's skip directive, refusing a skip that gives no reason: a bare `skip: next`
    would pass silently instead of being reported as skipped."""

    def __init__(self, root: Path) -> None:
        super().__init__()
        self.skipper = ReasonedSkipper(self.directive)
        self.root = root

    def __call__(self, document: Document) -> Iterable[Region]:
        for region in super().__call__(document):
            action, reason = region.parsed
            if action in ("start", "next") and not reason:
                raise ValueError(
                    f"{where(document, region.start, self.root)}: 'skip: {action}' needs a "
                    f'reason, for example <!-- skip: {action} "serves forever" -->'
                )
            yield region
