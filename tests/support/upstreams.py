"""Upstreams for pages and tests: JSONPlaceholder answered from its recordings, through respx."""

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import respx

from tests.support.project import RECORDINGS

JSONPLACEHOLDER = "https://jsonplaceholder.typicode.com"


@contextmanager
def upstreams() -> Iterator[respx.MockRouter]:
    """The respx router a page or test gets as `respx_mock`: empty, and consulted first.

    Whatever it does not match, JSONPlaceholder's recordings answer; a request neither
    knows fails loudly, naming its URL. So mocking a JSONPlaceholder URL in `respx_mock`
    replaces the recorded answer: `respx_mock.get(f"{JSONPLACEHOLDER}/posts").respond(503)`.
    """
    # respx asks its started routers in the order they started, moving on when one has no
    # route for the request: start the page's own router first, the recordings second.
    with mock_router() as router, jsonplaceholder():
        yield router


def mock_router() -> respx.MockRouter:
    return respx.MockRouter(assert_all_mocked=True, assert_all_called=False)


def jsonplaceholder() -> respx.MockRouter:
    """A router answering JSONPlaceholder's lists and items from the recorded data, like the
    real service: `/posts?userId=1` filters, an unknown id is a 404 with `{}`."""
    router = mock_router()
    for recording in sorted(RECORDINGS.glob("*.json")):
        rows = json.loads(recording.read_text(encoding="utf-8"))
        collection = re.escape(f"{JSONPLACEHOLDER}/{recording.stem}")
        router.get(url__regex=rf"^{collection}(\?.*)?$").mock(side_effect=listing(rows))
        router.get(url__regex=rf"^{collection}/(?P<key>[^/?]+)$").mock(side_effect=item(rows))
    return router


def listing(rows: list[dict[str, Any]]) -> Any:
    def as_query(value: Any) -> str:
        return json.dumps(value) if isinstance(value, bool) else str(value)  # true, not True

    def respond(request: httpx.Request) -> httpx.Response:
        wanted = request.url.params.multi_items()
        kept = [row for row in rows if all(as_query(row.get(k)) == v for k, v in wanted)]
        return httpx.Response(200, json=kept)

    return respond


def item(rows: list[dict[str, Any]]) -> Any:
    by_id = {row["id"]: row for row in rows}

    def respond(request: httpx.Request, key: str) -> httpx.Response:
        row = by_id.get(int(key)) if key.isascii() and key.isdigit() else None  # as there
        return httpx.Response(200, json=row) if row else httpx.Response(404, json={})

    return respond
