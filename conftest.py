"""Wiring only: the machinery lives in docs_harness.py, the tests' fixtures in tests/conftest.py."""

import pytest

from docs_harness import collect_pages, totals

pytest_plugins = ["pytester"]  # tests/test_harness.py runs pages in a pytest of their own

# Every page under docs/ is a test module; every block and exchange on it, a test.
pytest_collect_file = collect_pages()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if totals["pages"]:
        figures = ", ".join(f"{value:g} {name}" for name, value in totals.items())
        terminalreporter.write_sep("-", f"docs: {figures}")
