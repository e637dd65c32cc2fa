"""Pages as pytest modules, their examples as items, kept whole and in page order."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from sybil import Document, Sybil
from sybil.integration.pytest import SybilFile, SybilItem

from pytest_pages import figures
from pytest_pages._pytest_private import PageTraceback
from pytest_pages.blocks import Code, PythonBlockParser
from pytest_pages.conversations import Conversation, ConversationParser
from pytest_pages.exchanges import Exchange, ExchangeParser
from pytest_pages.markdown import CLOCKS, choice, front_matter
from pytest_pages.prose import ProseNumberParser, ProseNumbers
from pytest_pages.runtime import Page
from pytest_pages.shown import rewrite_blocks
from pytest_pages.skips import ReasonedSkipParser


class PageDocument(Document):
    """A page, its front matter read (and its `clock:` checked) as it is parsed."""

    def __init__(self, text: str, path: str) -> None:
        super().__init__(text, path)
        read = front_matter(text)
        choice(read, "clock", "virtual", CLOCKS)  # an unknown clock fails the page's collection
        self.namespace["__front_matter__"] = read


def pages(root: Path, folder: Path, snippets: Path, config: pytest.Config | None = None) -> Sybil:
    """The Sybil for every page in `folder`, naming places relative to `root` and resolving
    includes in `snippets`; with a pytest `config`, it also opens and closes each page."""
    return Sybil(
        parsers=[
            ReasonedSkipParser(root),
            PythonBlockParser(root, snippets),
            ExchangeParser(root),
            ConversationParser(root),
            ProseNumberParser(root),  # at the end of the page, once everything has run
        ],
        patterns=["*.md"],
        path=str(folder),
        document_types={".md": PageDocument},
        setup=partial(open_page, config) if config else None,
        teardown=close_page if config else None,
    )


def open_page(config: pytest.Config, namespace: dict[str, Any]) -> None:
    # The hook caller of the page's folder, which PageFile.setup leaves in the namespace; the
    # whole run's where a page is opened without one (the engine's own tests).
    Page(config, namespace).open(namespace.pop("__hook__", config.hook))


def close_page(namespace: dict[str, Any]) -> None:
    if "__page__" in namespace:
        namespace["__page__"].close()


class PageFile(SybilFile):
    def collect(self) -> Iterator[PageItem]:
        for sybil in self.sybils:
            document = sybil.parse(self.path)
            self.documents.append(document)
            for example in document.examples():
                yield PageItem.from_parent(self, sybil=sybil, example=example)

    def setup(self) -> None:
        for document in self.documents:
            document.namespace["__hook__"] = self.ihook
        super().setup()

    def teardown(self) -> None:
        counts = figures.of(self.config)
        name = self.path.relative_to(self.config.rootpath).as_posix()
        try:
            for document in self.documents:
                page: Page | None = document.namespace.get("__page__")
                if page is None or not page.opened:  # its set-up failed, and said why
                    continue
                counts.count(name, "pages")
                counts.count(name, "loop seconds", page.loop_seconds())
                if page.updates or page.number_updates:
                    rewrite_blocks(Path(document.path), page.updates, page.number_updates)
        finally:
            with counts.failures_on(name):  # closing the page: its loops, servers, resources
                super().teardown()


class PageItem(PageTraceback, SybilItem):
    def reportinfo(self) -> tuple[str, int, str]:
        """pytest counts lines from 0 here and shows them plus one; Sybil's count from 1."""
        example = self.example
        return example.path, example.line - 1, f"{Path(example.path).name} line={example.line}"

    def runtest(self) -> None:
        page = self.example.namespace["__page__"]
        updates, number_updates = page.updates, page.number_updates
        rewrites_before, numbers_before = len(updates), len(number_updates)
        counts = figures.of(self.config)
        name = self.path.relative_to(self.config.rootpath).as_posix()
        try:
            with counts.failures_on(name):
                super().runtest()
        except pytest.skip.Exception as skip:
            counts.skip(name, self.example.line, str(skip.msg))
            raise
        rewritten = len(updates) > rewrites_before  # `--update-docs` rewrote what it showed
        if isinstance(self.example.parsed, ProseNumbers):  # each as stated, or rewritten
            numbers_rewritten = len(number_updates) - numbers_before
            shown = len(self.example.parsed.numbers) - numbers_rewritten
            counts.count(name, "prose numbers verified", shown)
            if numbers_rewritten:
                counts.count(name, "prose numbers rewritten", numbers_rewritten)
        elif isinstance(self.example.parsed, Code):
            counts.count(name, "python blocks passed")
            if self.example.parsed.output is not None:  # it printed as shown, or was rewritten
                counts.count(name, "outputs rewritten" if rewritten else "outputs verified")
        elif isinstance(self.example.parsed, Exchange) and rewritten:
            counts.count(name, "responses rewritten")
        elif isinstance(self.example.parsed, Exchange):  # answered as shown, both ways
            counts.count(name, "exchanges verified in process")
            counts.count(name, "exchanges verified over a socket")
        elif isinstance(self.example.parsed, Conversation) and rewritten:
            counts.count(name, "conversations rewritten")
        elif isinstance(self.example.parsed, Conversation):  # went as shown
            counts.count(name, "conversations verified over a socket")

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        """A block is module-level code: pytest's long style would print the page from line 1."""
        if style is None and self.config.getoption("tbstyle") == "auto":
            style = "short"
        return super().repr_failure(excinfo, style)

    def places_of_its_own(self) -> Sequence[Path]:
        snippets: Path = self.config.stash[SNIPPETS]
        return (Path(self.example.path), snippets)


SNIPPETS = pytest.StashKey[Path]()


def keep_pages_whole(items: list[pytest.Item]) -> None:
    """A page's blocks share one namespace and must run top to bottom, but pytest-randomly
    shuffles every test it collects. Put each page's blocks back together, in page order, where
    the page's first block landed: pages still run in a random order among the other tests."""

    def page(item: pytest.Item) -> str | None:
        return item.example.path if isinstance(item, PageItem) else None

    def place_on_page(item: pytest.Item) -> int:
        return item.example.start if isinstance(item, PageItem) else 0

    blocks: dict[str | None, list[pytest.Item]] = defaultdict(list)
    for item in items:
        blocks[page(item)].append(item)
    reordered: list[pytest.Item] = []
    for item in items:
        if page(item) is None:
            reordered.append(item)
        elif page(item) in blocks:
            reordered.extend(sorted(blocks.pop(page(item)), key=place_on_page))
    items[:] = reordered
