"""Wiring only: the machinery lives in docs_harness.py, the tests' fixtures in tests/conftest.py."""

import asyncio
from typing import Any

import pytest

import docs_postgres
from docs_harness import NetworkGuard, add_up, collect_pages, keep_pages_whole, skipped, totals

pytest_plugins = ["pytester"]  # tests/test_harness.py runs pages in a pytest of their own

# Every page under docs/ is a test module; every block and exchange on it, a test.
pytest_collect_file = collect_pages()


def pytest_configure(config: pytest.Config) -> None:
    # No test reaches beyond loopback; one that tries fails, naming the host.
    config.pluginmanager.register(NetworkGuard(), "network-guard")
    # looptime 0.9's plugin calls get_event_loop() around every test, sync ones too. Until a
    # loop has been set, Python 3.11 answers by creating one that nobody closes: a
    # ResourceWarning, so an error here (pytest-asyncio fixed the same in its #1430). Setting
    # "no current loop" makes get_event_loop() raise instead, which looptime handles.
    asyncio.set_event_loop(None)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    keep_pages_whole(items)  # after pytest-randomly's shuffle: each page's blocks in order


def pytest_sessionfinish(session: pytest.Session) -> None:
    docs_postgres.stop()  # this process's PostgreSQL cluster, if a page or test started one
    if hasattr(session.config, "workeroutput"):  # a pytest-xdist worker: report to the main run
        session.config.workeroutput["pages"] = {"totals": dict(totals), "skipped": skipped}


def pytest_testnodedown(node: Any) -> None:
    add_up(node.workeroutput.get("pages", {"totals": {}, "skipped": []}))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if totals["pages"]:
        figures = ", ".join(f"{value:g} {name}" for name, value in totals.items())
        terminalreporter.write_sep("-", "the pages")
        terminalreporter.write_line(f"docs: {figures}, {len(skipped)} skipped")
        for skip in skipped:
            terminalreporter.write_line(f"  skipped {skip}")
