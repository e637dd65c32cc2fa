"""Tests for the guide's apps: pytest-asyncio runs them, respx mocks their upstreams."""

import asyncio
import sqlite3
from contextlib import closing
from pathlib import Path

import httpx
import pytest
import respx
from fastapi import FastAPI

import async_endpoint
import external_api
import fetch_data
import users_db
import users_sqlalchemy
from testing import app_client

SEED_SQL = Path(__file__).with_name("users_db.sql")


@pytest.fixture(autouse=True)
def upstreams(respx_mock: respx.MockRouter) -> respx.MockRouter:
    """Every test runs under respx: a request to an upstream that no test mocked fails."""
    return respx_mock


@pytest.fixture
def database_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh SQLite database holding the ten users, handed to the apps in DATABASE_URL."""
    path = tmp_path / "users.db"
    with closing(sqlite3.connect(path)) as database:
        database.executescript(SEED_SQL.read_text(encoding="utf-8"))
    url = f"sqlite+aiosqlite:///file:{path}?mode=rw&uri=true"  # never created if missing
    monkeypatch.setenv("DATABASE_URL", url)
    return url


@pytest.mark.asyncio
@pytest.mark.looptime  # asyncio.sleep moves a virtual clock: 2 s take no time
async def test_async_endpoint_answers_after_two_seconds() -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()
    async with app_client(async_endpoint.app) as client:
        response = await client.get("/async-endpoint")

    assert response.status_code == 200
    assert response.json() == {"message": "This is an async response!"}
    assert loop.time() - started == 2.0


@pytest.mark.asyncio
async def test_fetch_data_passes_the_upstream_json_on(
    respx_mock: respx.MockRouter,
) -> None:
    posts = [{"userId": 1, "id": 1, "title": "a title", "body": "a body"}]
    respx_mock.get(fetch_data.POSTS_URL).respond(json=posts)
    async with app_client(fetch_data.app) as client:
        response = await client.get("/fetch-data")

    assert response.status_code == 200
    assert response.json() == posts


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("failure", "status"),
    [
        (httpx.Response(503, text="db01.internal is down"), 502),
        (httpx.ConnectTimeout("db01.internal is slow"), 504),
    ],
    ids=["error status", "timeout"],
)
async def test_external_api_turns_upstream_failures_into_gateway_errors(
    respx_mock: respx.MockRouter,
    failure: httpx.Response | Exception,
    status: int,
) -> None:
    respx_mock.get(external_api.EXTERNAL_URL).mock(side_effect=[failure])
    async with app_client(external_api.app) as client:
        response = await client.get("/external-api")

    assert response.status_code == status
    assert "db01.internal" not in response.text


@pytest.mark.asyncio
@pytest.mark.usefixtures("database_url")
@pytest.mark.parametrize(
    "app",
    [users_db.app, users_sqlalchemy.app],
    ids=["databases", "sqlalchemy"],
)
async def test_users_are_listed_in_id_order_and_found_by_id(
    app: FastAPI,
) -> None:
    async with app_client(app) as client:
        users = (await client.get("/users")).json()
        first = await client.get("/users/1")
        missing = await client.get("/users/11")

    assert [user["id"] for user in users] == list(range(1, 11))
    assert first.json()["name"] == "Leanne Graham"
    assert missing.status_code == 404
