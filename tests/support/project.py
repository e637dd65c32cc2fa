"""Where this project keeps its pages, snippets and recordings, and the engine's corpus
helpers (pytest_pages.corpus) bound to those places, for the guards under tests/."""

from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

from sybil import Sybil

from pytest_pages import corpus
from pytest_pages.collection import pages as pages_in

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
SNIPPETS = ROOT / "snippets"
RECORDINGS = ROOT / "upstream" / "jsonplaceholder"
SEED_SQL = SNIPPETS / "users_db.sql"
#: The engine, src/pytest_pages. A pytest started in a subprocess gets it on PYTHONPATH, so that
#: it runs this tree's engine, not the one `make setup` installed (in a mutant's copy, they differ).
SRC = ROOT / "src"


def pages() -> Sybil:
    """The Sybil that parses this project's pages (it runs none: pytest's run does that)."""
    return pages_in(ROOT, DOCS, SNIPPETS)


def includes(page: Path) -> Iterator[tuple[int, Path, str | None]]:
    return corpus.includes(page, ROOT, SNIPPETS)


def page_as_module(page: Path) -> str:
    return corpus.page_as_module(page, ROOT, SNIPPETS)


def page_address(page: Path) -> str:
    return corpus.page_address(page, DOCS)


def load_snippet(name: str) -> ModuleType:
    """snippets/<name>.py, loaded fresh (a new module, and app, on every call)."""
    return corpus.load_snippet(SNIPPETS / f"{name}.py")
