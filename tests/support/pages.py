"""This project's page set-up: what every page of the guide runs against.

A pytest plugin (root conftest.py's `pytest_plugins`) implementing pytest-pages'
`pytest_pages_setup`. Each page gets:

- `respx_mock`, a respx router consulted first, with JSONPlaceholder's recordings behind it
  (`upstreams.py`);
- a freshly seeded SQLite database, or, for a page whose front matter says
  `database: postgresql`, a fresh database on a throwaway PostgreSQL server
  (`tests/support/postgres.py`), on the real clock; its URL in `DATABASE_URL`;
- `FILES_DIR`, a folder of the page's own (not created: apps make their own folders);
- `SSL_CERT_FILE`, a bundle of one certificate, certifi's first (`one_certificate`).
"""

import re
from pathlib import Path

import certifi
import pytest

from pytest_pages.markdown import choice, front_matter
from pytest_pages.runtime import Page
from tests.support import postgres
from tests.support.databases import seeded_database
from tests.support.upstreams import upstreams

DATABASES = ("sqlite", "postgresql")


def database_of(text: str) -> str:
    """The front matter's `database:` (`sqlite`, the default, or `postgresql`)."""
    return database_in(front_matter(text))


def database_in(front_matter: dict[str, str]) -> str:
    """`database_of`, from front matter already read; any other value raises, naming it."""
    return choice(front_matter, "database", "sqlite", DATABASES)


def one_certificate(into: Path) -> Path:
    """A CA bundle of certifi's first certificate, for httpx to load into each client's SSL
    context instead of certifi's 117 (httpx reads SSL_CERT_FILE). No page makes a TLS
    connection: upstreams are respx's, local servers plain HTTP. Loading all 117 took 46 ms a
    client here, one, half a millisecond; a serial run of the pages makes about 275 clients."""
    bundle = Path(certifi.where()).read_text(encoding="ascii")
    first = re.search(r"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----\n", bundle, re.S)
    assert first, f"no certificate in {certifi.where()}"
    into.write_text(first[0], encoding="ascii")
    return into


@pytest.hookimpl
def pytest_pages_setup(page: Page) -> None:
    database = database_in(page.front_matter)  # first: a misspelt value enters nothing
    page.namespace["respx_mock"] = page.resources.enter_context(upstreams())
    database_url = seeded_database(page.workdir)
    if database == "postgresql":
        # On the virtual clock, a timer (asyncpg's connect timeout, the pool's timeout) fires
        # as soon as the loop has nothing to do but wait for the server.
        page.clock = "real"
        page.required = postgres.required()  # REQUIRE_POSTGRES, which CI sets
        try:
            database_url = postgres.fresh_database()
        except postgres.NoServer as error:
            page.unavailable = f"no PostgreSQL server: {error}"
            if page.required:
                page.unavailable += " (REQUIRE_POSTGRES is set)"
    page.environment["DATABASE_URL"] = database_url
    page.environment["FILES_DIR"] = str(page.workdir / "files")
    page.environment["SSL_CERT_FILE"] = str(one_certificate(page.workdir / "certificate.pem"))
