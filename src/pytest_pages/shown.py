"""What a page shows of a response: rendered for comparison, restyled for `--update-docs`."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx

from pytest_pages.messages import Message, as_message

ELLIPSIS = re.compile(r"(?<=[\[,\s])\.\.\.(?=\s*[\],])")  # `...` as an item of a JSON list
MORE = "\u2026 and more"


def render(message: Message, shown: Message) -> str:
    """A message as the page would show it, for comparison: the first line, the headers the
    page shows, and the body, JSON re-indented and cut where the page cuts a list with `...`."""
    headers = dict(message.headers)
    lines = [message.first_line]
    lines += [f"{name}: {headers.get(name, '(absent)')}" for name, _ in shown.headers]
    return "\n".join(lines) + "\n\n" + body_as_shown(message.body, shown.body)


def restyled(response: httpx.Response, shown: Message) -> str:
    """The response as the page would show it, in the page's style: the headers it shows, in its
    order; JSON on one line if the page had it on one line, indented if not; lists cut with
    `...` where the page cut them."""
    actual = as_message(response)
    headers = dict(actual.headers)
    lines = [actual.first_line, *(f"{name}: {headers.get(name, '')}" for name, _ in shown.headers)]
    body = body_as_shown(actual.body, shown.body, indent=2 if "\n" in shown.body else None)
    return "\n".join(lines) + ("\n\n" + body if body else "")


def rewrite_blocks(
    path: Path,
    updates: list[tuple[tuple[int, int], str]],
    in_place: Sequence[tuple[tuple[int, int], str]] = (),
) -> None:
    """Put each new content into its fenced block, keeping the fences and their indentation;
    and each of `in_place` (a number in the prose) exactly where the old text was."""
    text = path.read_text(encoding="utf-8")
    edits = [(span, content, True) for span, content in updates]
    edits += [(span, content, False) for span, content in in_place]
    for (start, end), content, is_block in sorted(edits, reverse=True):
        if not is_block:
            text = text[:start] + content + text[end:]
            continue
        opening, *_, closing = text[start:end].splitlines()
        indent = opening[: len(opening) - len(opening.lstrip())]
        inside = [f"{indent}{line}" if line else "" for line in content.splitlines()]
        text = text[:start] + "\n".join([opening, *inside, closing]) + text[end:]
    path.write_text(text, encoding="utf-8")


def body_as_shown(body: str, shown_body: str, indent: int | None = 2) -> str:
    """A JSON body cut like the shown one and laid out with `indent`; other bodies as they are."""
    try:
        actual, shown = parsed(body), parsed(shown_body)
    except ValueError:
        return body
    text = json.dumps(cut_like(actual, shown), indent=indent, ensure_ascii=False)
    return text.replace(json.dumps(MORE, ensure_ascii=False), "...")


def parsed(text: str) -> Any:
    """JSON; failing that, JSON with lists cut by `...`, as a page may show them."""
    try:
        return json.loads(text)
    except ValueError:
        return json.loads(ELLIPSIS.sub(lambda _: json.dumps(MORE), text))


def cut_like(actual: Any, shown: Any) -> Any:
    """`actual` in the shape the page shows: where a shown list ends with `...`, the items past
    those shown become `...`, provided there is at least one (`...` promises more)."""
    if isinstance(actual, list) and isinstance(shown, list):
        if shown and shown[-1] == MORE and len(actual) >= len(shown):
            kept = len(shown) - 1
            return [cut_like(a, s) for a, s in zip(actual[:kept], shown, strict=False)] + [MORE]
        return [cut_like(a, s) for a, s in zip(actual, shown, strict=False)] + actual[len(shown) :]
    if isinstance(actual, dict) and isinstance(shown, dict):
        return {key: cut_like(value, shown.get(key)) for key, value in actual.items()}
    return actual
