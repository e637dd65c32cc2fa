"""Fixtures for the tests under tests/: the same upstreams and database every page gets."""

from collections.abc import Iterator
from pathlib import Path

import pytest
import respx

from docs_harness import seeded_database, upstreams


@pytest.fixture(autouse=True)
def respx_mock() -> Iterator[respx.MockRouter]:
    """Consulted first; JSONPlaceholder's recordings answer the rest; anything else fails."""
    with upstreams() as router:
        yield router


@pytest.fixture
def database_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A freshly seeded SQLite database, handed to the app through DATABASE_URL."""
    url = seeded_database(tmp_path)
    monkeypatch.setenv("DATABASE_URL", url)
    return url
