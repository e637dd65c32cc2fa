"""Python blocks: parsed from a page (inline or included), run in the page's loop."""

from __future__ import annotations

import ast
import inspect
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sybil import Document, Example, Region
from sybil.parsers.markdown.lexers import DirectiveInHTMLCommentLexer

from pytest_pages._pytest_private import rewritten
from pytest_pages.includes import included, snippet_section
from pytest_pages.markdown import fenced, where
from pytest_pages.output import OutputFinder, ShownOutput, captured, check

if TYPE_CHECKING:
    from pytest_pages.runtime import Page


@dataclass(frozen=True)
class Code:
    """Python source and where it lives, so tracebacks point at the right file and line."""

    source: str
    filename: str
    first_line: int  # 1-based line of `source`'s first line in `filename`
    fenced: bool = True  # False for <!-- invisible-code-block: python -->
    output: ShownOutput | None = None  # what the page shows it printing, if anything

    def compile(self) -> Any:
        """Compiled as pytest compiles a test module: failing asserts explain themselves."""
        padded = "\n" * (self.first_line - 1) + self.source
        tree = rewritten(ast.parse(padded, self.filename), padded.encode(), self.filename)
        flags = ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
        return compile(tree, self.filename, "exec", flags=flags, dont_inherit=True)


class PythonBlockParser:
    """Every ```` ```python ```` block, and every `<!-- invisible-code-block: python -->`; a
    fenced block's region takes in the plain block right after it, which shows its output."""

    def __init__(self, root: Path, snippets: Path) -> None:
        self.root = root
        self.snippets = snippets
        self.fences = fenced("python")
        self.invisible = DirectiveInHTMLCommentLexer(
            directive="invisible-code-block", arguments="python"
        )

    def __call__(self, document: Document) -> Iterable[Region]:
        outputs = OutputFinder(document, self.root)
        for lexers, is_fenced in ((self.fences, True), (self.invisible, False)):
            for lexed in lexers(document):
                code = self.code(document, lexed, fenced=is_fenced)
                output = outputs.after(lexed.end) if is_fenced else None
                if output is None:
                    yield Region(lexed.start, lexed.end, code, run_block)
                else:
                    code = replace(code, output=output)
                    yield Region(lexed.start, output.block[1], code, run_block)

    def code(self, document: Document, lexed: Region, *, fenced: bool) -> Code:
        body = lexed.lexemes["source"]
        place = where(document, lexed.start, self.root)
        include = included(body, self.snippets, place)
        if include is None:
            first_line = document.text.count("\n", 0, lexed.start) + 2
            return Code(body, document.path, first_line, fenced)
        path, section = include
        try:
            source, first_line = snippet_section(path, section)
        except ValueError as error:
            raise ValueError(f"{place}: {error}") from None
        return Code(source, str(path), first_line, fenced)


def run_block(example: Example) -> str | None:
    """Run a block in its page's namespace, inside the page's running event loop; where the
    page shows what it prints, compare that with what it printed (see output.py)."""
    __tracebackhide__ = True
    code: Code = example.parsed
    page: Page = example.namespace["__page__"]
    page.require_what_it_needs()
    # A name for what the page defines (classes' __module__, loggers); a file name, so it
    # can never be mistaken for a real module such as a snippet's.
    example.namespace.setdefault("__name__", Path(example.path).name)
    example.namespace["__file__"] = code.filename  # an included snippet runs as itself

    async def inside_the_loop() -> None:
        __tracebackhide__ = True
        result = eval(code.compile(), example.namespace)
        if inspect.iscoroutine(result):  # the block used top-level `await`
            await result

    if code.output is None:
        page.runner.run(inside_the_loop())
        return None
    with captured() as printed:
        page.runner.run(inside_the_loop())
    return check(code.output, printed.getvalue(), page)
