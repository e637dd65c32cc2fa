"""Tests for the guide's apps: pytest-asyncio and AnyIO run them, respx and
dependency overrides stand in for what they call."""

# --8<-- [start:setup]
import asyncio
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, closing
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
import respx
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import (
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

import async_endpoint
import external_api
import fetch_data
import users_db
import users_sqlalchemy


@pytest.fixture(autouse=True)
def upstreams(respx_mock: respx.MockRouter) -> respx.MockRouter:
    """Every test runs under respx: a request nobody mocked fails."""
    return respx_mock


# --8<-- [end:setup]


# --8<-- [start:client]
@asynccontextmanager
async def app_client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client whose requests go straight into `app`, no server."""
    async with LifespanManager(app) as manager:  # start-up has run here
        transport = httpx.ASGITransport(app=manager.app)  # hands on state
        async with httpx.AsyncClient(
            transport=transport, base_url="http://testserver"
        ) as client:
            yield client
    # shutdown has run here, each within its 5-second limit


# This guide's pytest settings put every test on looptime's virtual clock,
# where those limits misfire (see Testing); these tests keep the real one.
pytestmark = pytest.mark.looptime(False)
# --8<-- [end:client]


# --8<-- [start:asyncio]
# asyncio.sleep moves a virtual clock: the two seconds take none
@pytest.mark.asyncio
@pytest.mark.looptime(True)
async def test_async_endpoint_answers_after_two_seconds() -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()
    async with app_client(async_endpoint.app) as client:
        response = await client.get("/async-endpoint")

    assert response.status_code == 200
    assert response.json() == {"message": "This is an async response!"}
    assert round(loop.time() - started, 6) == 2.0


# --8<-- [end:asyncio]


# --8<-- [start:anyio]
@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"  # AnyIO would also try trio, where it is installed


@pytest.mark.anyio
async def test_fetch_data_passes_the_upstream_json_on(
    respx_mock: respx.MockRouter,
) -> None:
    posts = [{"userId": 1, "id": 1, "title": "a title", "body": "a body"}]
    respx_mock.get(fetch_data.POSTS_URL).respond(json=posts)
    async with app_client(fetch_data.app) as client:
        response = await client.get("/fetch-data")

    assert response.status_code == 200
    assert response.json() == posts


# --8<-- [end:anyio]


# --8<-- [start:upstream_failures]
@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("failure", "status"),
    [
        ({"return_value": httpx.Response(503, text="db01 is down")}, 502),
        ({"side_effect": httpx.ConnectTimeout("db01 is slow")}, 504),
    ],
    ids=["error status", "timeout"],
)
async def test_external_api_turns_upstream_failures_into_gateway_errors(
    respx_mock: respx.MockRouter,
    failure: dict[str, Any],
    status: int,
) -> None:
    respx_mock.get(external_api.EXTERNAL_URL).mock(**failure)  # every time
    async with app_client(external_api.app) as client:
        response = await client.get("/external-api")

    assert response.status_code == status
    assert "db01" not in response.text


# --8<-- [end:upstream_failures]


# --8<-- [start:client_override]
POSTS = [{"userId": 1, "id": 1, "title": "a stand-in", "body": "a body"}]
stand_in = FastAPI()  # a stand-in for the upstream, served from memory


@stand_in.get("/posts")
async def posts() -> list[dict[str, Any]]:
    return POSTS


@pytest_asyncio.fixture
async def posts_from_memory() -> AsyncIterator[None]:
    """fetch_data's shared client, swapped for one that asks the stand-in."""
    transport = httpx.ASGITransport(app=stand_in)
    async with httpx.AsyncClient(transport=transport) as client:

        async def client_for_the_stand_in() -> httpx.AsyncClient:
            return client

        overrides = fetch_data.app.dependency_overrides
        overrides[fetch_data.http_client] = client_for_the_stand_in
        yield
        # after the test, passed or failed: the next test gets the real one
        del overrides[fetch_data.http_client]


@pytest.mark.asyncio
@pytest.mark.usefixtures("posts_from_memory")
async def test_fetch_data_uses_the_client_it_is_given() -> None:
    async with app_client(fetch_data.app) as client:
        response = await client.get("/fetch-data")

    assert response.json() == POSTS


# --8<-- [end:client_override]


# --8<-- [start:database]
SEED_SQL = Path(__file__).with_name("users_db.sql")


@pytest.fixture
def seeded_database(tmp_path: Path) -> str:
    """A fresh SQLite database holding the ten users, for one test."""
    path = tmp_path / "users.db"
    with closing(sqlite3.connect(path)) as database:
        database.executescript(SEED_SQL.read_text(encoding="utf-8"))
    # mode=rw: never created if missing, so a wrong path fails loudly
    return f"sqlite+aiosqlite:///file:{path}?mode=rw&uri=true"


@pytest.fixture
def database_url(seeded_database: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The fresh database, handed to the apps as a deployment would."""
    monkeypatch.setenv("DATABASE_URL", seeded_database)
    return seeded_database


# --8<-- [end:database]


# --8<-- [start:users]
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


# --8<-- [end:users]


# --8<-- [start:database_override]
@pytest_asyncio.fixture
async def sessions_on_the_test_database(
    seeded_database: str,
) -> AsyncIterator[None]:
    """users_sqlalchemy's sessions, opened on the fresh database instead."""
    engine = create_async_engine(seeded_database)
    sessions = async_sessionmaker(engine, expire_on_commit=False)

    async def test_session() -> AsyncIterator[AsyncSession]:
        async with sessions() as session:
            yield session

    overrides = users_sqlalchemy.app.dependency_overrides
    overrides[users_sqlalchemy.get_session] = test_session
    yield
    del overrides[users_sqlalchemy.get_session]
    await engine.dispose()


@pytest.mark.asyncio
@pytest.mark.usefixtures("sessions_on_the_test_database")
async def test_a_user_is_read_through_the_overriding_session() -> None:
    async with app_client(users_sqlalchemy.app) as client:
        response = await client.get("/users/2")

    assert response.json()["name"] == "Ervin Howell"


# --8<-- [end:database_override]
