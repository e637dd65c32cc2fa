"""Wiring only. The engine is the pytest-pages plugin (src/pytest_pages/, switched on by
pyproject.toml's `pages`); this project's page set-up is tests/support/pages.py; the tests'
fixtures are in tests/conftest.py."""

import asyncio

import pytest

from tests.support import postgres

# tests/test_harness.py runs pages in a pytest of its own; tests/support/pages.py gives every
# page the upstreams, database and environment the guide's code expects;
# tests/support/scheduling.py lets make test's two workers share the browser test's pages.
pytest_plugins = [
    "pytester",
    "tests.support.pages",
    "tests.support.scheduling",
    "tests.support.shown_lines",
]


def pytest_configure(config: pytest.Config) -> None:
    # looptime 0.9's plugin calls get_event_loop() around every test, sync ones too. Until a
    # loop has been set, Python 3.11 answers by creating one that nobody closes: a
    # ResourceWarning, so an error here (pytest-asyncio fixed the same in its #1430). Setting
    # "no current loop" makes get_event_loop() raise instead, which looptime handles.
    asyncio.set_event_loop(None)


def pytest_sessionfinish() -> None:
    postgres.stop()  # this process's PostgreSQL cluster, if a page or test started one
