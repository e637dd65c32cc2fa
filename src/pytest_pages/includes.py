"""Snippets a block includes: pymdownx.snippets' `--8<--` lines, whole files or named sections."""

from __future__ import annotations

import re
from pathlib import Path

INCLUDE = re.compile(r"^[ \t]*-{1,3}8<-{1,3}[ \t]*(?P<target>.*?)[ \t]*$", re.MULTILINE)
TARGET = re.compile(r'"(?P<file>[^":]+)(?::(?P<section>[A-Za-z_][\w-]*))?"')
SECTION_MARK = re.compile(r"--8<-- \[(?P<edge>start|end):(?P<name>[\w-]+)\]")


def snippet_section(path: Path, section: str | None) -> tuple[str, int]:
    """The text of a snippet file, or of one named section of it, and its first line."""
    if not path.is_file():
        raise ValueError(f"no such snippet: {path}")
    text = path.read_text(encoding="utf-8")
    if section is None:
        return text, 1
    lines = text.splitlines(keepends=True)
    edges = {
        (m["edge"], i)
        for i, line in enumerate(lines)
        if (m := SECTION_MARK.search(line)) and m["name"] == section
    }
    starts = [i for edge, i in edges if edge == "start"]
    ends = [i for edge, i in edges if edge == "end"]
    if len(starts) != 1 or len(ends) != 1 or ends[0] < starts[0]:
        raise ValueError(
            f"{path} needs exactly one '--8<-- [start:{section}]' followed by one "
            f"'--8<-- [end:{section}]'"
        )
    return "".join(lines[starts[0] + 1 : ends[0]]), starts[0] + 2


def included(body: str, snippets: Path, place: str) -> tuple[Path, str | None] | None:
    """The snippet file and section a block's body includes, or None for plain code."""
    if not INCLUDE.search(body):
        return None
    lines = [line.strip() for line in body.splitlines() if line.strip()]
    target = TARGET.fullmatch(lines[0].split(None, 1)[-1]) if len(lines) == 1 else None
    if target is None:
        raise ValueError(
            f'{place}: a block is either Python or one include line, --8<-- "file.py" or '
            f'--8<-- "file.py:section" (named sections, never line numbers): {body.strip()!r}'
        )
    return snippets / target["file"], target["section"]
