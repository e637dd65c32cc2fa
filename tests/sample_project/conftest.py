"""The sample project's page set-up: every page gets a greeting in its environment."""

import pytest

from pytest_pages.runtime import Page


@pytest.hookimpl
def pytest_pages_setup(page: Page) -> None:
    page.environment["GREETING"] = page.front_matter.get("greeting", "Hello")
