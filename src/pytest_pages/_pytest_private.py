"""Every use of pytest's private API in this package, each with why; nowhere else imports it.

pytest offers no public API for these three needs. Each may break with a pytest release; the
plugin's own tests (tests/test_harness.py) fail if one does.
"""

from __future__ import annotations

import ast
from collections.abc import Sequence
from pathlib import Path

import pytest

# 2. A traceback cut to start at the page or the snippet. pytest's Item has no public way to
#    filter a traceback; `_traceback_filter` is what pytest's own Python items override.
from _pytest._code.code import Traceback

# 1. pytest's assert rewriting, applied to a page's blocks as to a test module, so that a
#    failing `assert` in a block explains itself. pytest applies it only to modules it imports.
from _pytest.assertion.rewrite import rewrite_asserts


def rewritten(tree: ast.Module, source: bytes, filename: str) -> ast.Module:
    """`tree` with its asserts rewritten as pytest rewrites a test module's."""
    rewrite_asserts(tree, source, filename)
    return tree


def skip_at_item(reason: str) -> BaseException:
    """3. A skip reported at the item's own place (the page's line), not at the line of the
    engine that raised it: the `_use_item_location` flag pytest's own skip markers use."""
    return pytest.skip.Exception(reason, _use_item_location=True)  # a pytest Skipped


class PageTraceback:
    """Mixed into a page's item: its failures' tracebacks start at the page or a snippet."""

    def places_of_its_own(self) -> Sequence[Path]:
        raise NotImplementedError

    def _traceback_filter(self, excinfo: pytest.ExceptionInfo[BaseException]) -> Traceback:
        entries = list(excinfo.traceback)
        page, *snippets = self.places_of_its_own()
        for index, entry in enumerate(entries):
            path = Path(entry.path)
            if path == page or any(path.is_relative_to(folder) for folder in snippets):
                return Traceback(entries[index:]).filter(excinfo)
        return excinfo.traceback.filter(excinfo)
