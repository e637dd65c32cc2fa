"""The seeded SQLite database each page and test gets, and the URLs the apps take for it."""

import sqlite3
from contextlib import closing
from pathlib import Path

from tests.support.project import SEED_SQL


def seeded_database(directory: Path) -> str:
    """A fresh SQLite file in `directory`, loaded from `snippets/users_db.sql`; its URL."""
    path = directory / "app.db"
    with closing(sqlite3.connect(path)) as database:
        database.executescript(SEED_SQL.read_text(encoding="utf-8"))
    return sqlite_url(path)


def sqlite_url(path: Path) -> str:
    """The URL the apps take for an SQLite file: opened read-write, never created if missing."""
    return f"sqlite+aiosqlite:///file:{path}?mode=rw&uri=true"


def sqlite_path(url: str) -> Path:
    """The file an SQLite URL from `sqlite_url` names."""
    return Path(url.removeprefix("sqlite+aiosqlite:///file:").partition("?")[0])
