"""Reading a page's Markdown: fences, places, front matter."""

from __future__ import annotations

import re
from pathlib import Path

from sybil import Document
from sybil.parsers.markdown.lexers import RawFencedCodeBlockLexer

FRONT_MATTER = re.compile(r"---\n(.*?)\n---\n", re.DOTALL)
#: The clocks a page may run on; `virtual` unless its front matter says otherwise.
CLOCKS = ("virtual", "real")
KEY_VALUE = re.compile(r"^(?P<key>[\w-]+):[ \t]*(?P<value>\S+)[ \t]*$", re.MULTILINE)


def where(document: Document, position: int, root: Path) -> str:
    """`docs/page.md:LINE`, the form editors and terminals turn into a link."""
    line = document.text.count("\n", 0, position) + 1
    return f"{Path(document.path).relative_to(root)}:{line}"


def fenced(language: str) -> RawFencedCodeBlockLexer:
    """Fences whose info string starts with `language`, Material attributes allowed, as in
    ```` ```python title="snippets/x.py" hl_lines="4 5" ```` or ```` ``` {.python title="x"} ````.
    """
    info = rf"[ \t]*(?:\{{[ \t]*\.)?{language}(?=[\s}}])[^\n]*$\n"
    return RawFencedCodeBlockLexer(info_pattern=re.compile(info, re.MULTILINE))


def front_matter(text: str) -> dict[str, str]:
    """A page's front matter's one-word `key: value` lines (title, clock, database...)."""
    found = FRONT_MATTER.match(text)
    return {m["key"]: m["value"] for m in KEY_VALUE.finditer(found[1] if found else "")}


def front_matter_value(text: str, key: str, default: str, allowed: tuple[str, ...]) -> str:
    """One `key: value` of a page's front matter, `default` if absent; a value not `allowed`
    raises, naming the key and what it may be."""
    return choice(front_matter(text), key, default, allowed)


def choice(front_matter: dict[str, str], key: str, default: str, allowed: tuple[str, ...]) -> str:
    """`front_matter[key]`, `default` if absent; a value not `allowed` raises, naming the key
    and what it may be."""
    value = front_matter.get(key, default)
    if value not in allowed:
        raise ValueError(f"{key}: {value}: a page's {key} is one of {', '.join(allowed)}")
    return value


def clock_of(text: str) -> str:
    """The front matter's `clock:`: `virtual`, the default, or `real`, for a page that talks
    to processes of its own (their timers and sockets do not follow a virtual clock)."""
    return front_matter_value(text, "clock", "virtual", CLOCKS)
