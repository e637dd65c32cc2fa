"""Fixtures for the tests under tests/: the same upstreams and database every page gets."""

from collections.abc import Iterator
from pathlib import Path

import pytest
import respx

from docs_harness import jsonplaceholder, seeded_database


@pytest.fixture(autouse=True)
def respx_mock() -> Iterator[respx.MockRouter]:
    """JSONPlaceholder answers from the recordings; any other request fails, naming its URL."""
    with jsonplaceholder() as router:
        yield router


@pytest.fixture
def database_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A freshly seeded SQLite database, handed to the app through DATABASE_URL."""
    url = seeded_database(tmp_path)
    monkeypatch.setenv("DATABASE_URL", url)
    return url
