"""The pages as a project's guards see them, without running them: fences, includes, each
page's Python as one module for linters, and each page's address in the built site."""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

from pytest_pages.blocks import Code
from pytest_pages.collection import pages
from pytest_pages.includes import INCLUDE, included

PYTHON_FENCE = re.compile(r"^[ \t>]*(?:[-*+][ \t]+)?(`{3,}|~{3,})[ \t]*\{?[ \t]*\.?(\w*)")


def scanned_python_fences(page: Path) -> list[int]:
    """Line numbers of every fence a reader would take for Python, found without Sybil."""
    found, open_fence = [], ""
    for number, line in enumerate(page.read_text(encoding="utf-8").splitlines(), 1):
        match = PYTHON_FENCE.match(line)
        if match is None:
            continue
        fence, language = match.groups()
        if not open_fence:
            open_fence = fence
            if language.lower() in {"python", "py", "python3", "py3", "pycon"}:
                found.append(number)
        elif fence[0] == open_fence[0] and len(fence) >= len(open_fence) and not language:
            open_fence = ""
    return found


def includes(page: Path, root: Path, snippets: Path) -> Iterator[tuple[int, Path, str | None]]:
    """Every `--8<--` include on a page, in any kind of block: its line, file and section.
    A malformed one raises, naming the page and line, as it does when the page runs."""
    for number, line in enumerate(page.read_text(encoding="utf-8").splitlines(), 1):
        if INCLUDE.match(line):
            place = f"{page.relative_to(root)}:{number}"
            include = included(line, snippets, place)
            assert include is not None  # INCLUDE matched
            yield number, *include


def page_as_module(page: Path, root: Path, snippets: Path) -> str:
    """A page's own Python as one module, for linters: each inline block at its own lines (so a
    finding's line is the page's line), each included snippet as a star import."""
    document = pages(root, page.parent, snippets).parse(page)
    lines = [""] * (document.text.count("\n") + 1)
    lines[0] = "respx_mock = None  # the project's set-up gives every page one"  # the title
    for example in document.examples():
        code = example.parsed
        if not isinstance(code, Code):
            continue
        if code.filename != document.path:  # on the lines of the fences around the include
            lines[example.line - 1] = f"from {Path(code.filename).stem} import *"
            lines[example.line + 1] = "..."  # ends the import block: the next block's are its own
            continue
        for number, line in enumerate(code.source.splitlines(), start=code.first_line):
            lines[number - 1] = line
    return "\n".join(lines) + "\n"


def page_address(page: Path, docs: Path) -> str:
    """A page's address within the built site: docs/users.md at users/, docs/index.md at ''."""
    relative = page.relative_to(docs).with_suffix("").as_posix()
    return relative.removesuffix("index") if relative.endswith("index") else f"{relative}/"


def load_snippet(path: Path) -> ModuleType:
    """A snippet loaded by its path, as outside code would, under a name of its own and
    outside sys.modules: a fresh module, and app, on every call."""
    spec = importlib.util.spec_from_file_location(f"loaded_{path.stem}", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
