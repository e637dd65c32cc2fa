"""The contract other code relies on: the example modules, loaded by file path, and how they
behave. Names and behaviour here must not change."""

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
import respx
import sqlalchemy.exc
from fastapi import FastAPI

from testing import app_client
from tests.support.databases import seeded_database, sqlite_url
from tests.support.project import load_snippet as load

APPS = ["async_endpoint", "parallel_tasks", "fetch_data", "external_api", "users_db"]
APPS += ["users_sqlalchemy"]
DATABASE_APPS = ["users_db", "users_sqlalchemy"]
UPSTREAM_APPS = {
    "fetch_data": ("/fetch-data", "https://jsonplaceholder.typicode.com/posts"),
    "external_api": ("/external-api", "https://nonexistent-api.com/data"),
}


@pytest.mark.parametrize("name", APPS)
def test_each_module_loaded_by_path_exposes_a_fastapi_app(name: str) -> None:
    assert isinstance(load(name).app, FastAPI)


# --- databases -----------------------------------------------------------------------------


@pytest.mark.asyncio
@pytest.mark.parametrize("name", DATABASE_APPS)
async def test_database_apps_default_to_test_db_in_the_working_directory(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seeded_database(tmp_path)
    (tmp_path / "app.db").rename(tmp_path / "test.db")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    async with app_client(load(name).app) as client:
        response = await client.get("/users")
    assert len(response.json()) == 10


@pytest.mark.asyncio
@pytest.mark.parametrize("name", DATABASE_APPS)
async def test_database_apps_never_create_the_database_or_its_table(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing, empty = tmp_path / "missing.db", tmp_path / "empty.db"
    sqlite3.connect(empty).close()
    monkeypatch.setenv("DATABASE_URL", sqlite_url(missing))
    async with app_client(load(name).app) as client:
        response = await client.get("/users")
    assert (response.status_code, response.json()) == (
        503,
        {"detail": "The database is unavailable."},
    )
    assert not missing.exists()
    monkeypatch.setenv("DATABASE_URL", sqlite_url(empty))
    bug = (sqlite3.OperationalError, sqlalchemy.exc.OperationalError)
    with pytest.raises(bug, match="no such table: users"):
        async with app_client(load(name).app) as client:
            await client.get("/users")  # a bug, the server's 500: raised in a test client
    with closing(sqlite3.connect(empty)) as database:
        assert database.execute("SELECT name FROM sqlite_master").fetchall() == []


@pytest.mark.asyncio
@pytest.mark.usefixtures("database_url")
@pytest.mark.parametrize("name", DATABASE_APPS)
async def test_users_are_every_row_in_id_order_with_exactly_four_fields(name: str) -> None:
    async with app_client(load(name).app) as client:
        users = (await client.get("/users")).json()
    assert [user["id"] for user in users] == list(range(1, 11))
    assert all(list(user) == ["id", "name", "username", "email"] for user in users)


@pytest.mark.asyncio
@pytest.mark.usefixtures("database_url")
@pytest.mark.parametrize("name", DATABASE_APPS)
@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/users/1", 200),
        ("/users/10", 200),
        ("/users/11", 404),
        ("/users/0", 422),
        ("/users/-1", 422),
        (f"/users/{2**63}", 422),
        ("/users/abc", 422),
        ("/users/1.5", 422),
        ("/users/1%20OR%201=1", 422),
    ],
)
async def test_one_user_by_id_or_404_or_422(name: str, path: str, status: int) -> None:
    async with app_client(load(name).app) as client:
        response = await client.get(path)
    assert response.status_code == status
    if status == 200:
        assert list(response.json()) == ["id", "name", "username", "email"]
        assert response.json()["id"] == int(path.rsplit("/", 1)[1])


# --- upstreams (their faults: tests/test_faults.py) ----------------------------------------


@pytest.mark.asyncio
@pytest.mark.parametrize("name", UPSTREAM_APPS)
async def test_upstream_json_passes_through(name: str, respx_mock: respx.MockRouter) -> None:
    path, url = UPSTREAM_APPS[name]
    respx_mock.get(url).respond(201, json={"data": [1, 2, 3]})
    async with app_client(load(name).app) as client:
        response = await client.get(path)
    assert (response.status_code, response.json()) == (200, {"data": [1, 2, 3]})
