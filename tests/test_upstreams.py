"""The upstreams every test gets: `respx_mock` first, JSONPlaceholder's recordings behind it."""

import json
from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio
import respx

from tests.support.project import RECORDINGS
from tests.support.upstreams import JSONPLACEHOLDER


def recorded(resource: str) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = json.loads(
        (RECORDINGS / f"{resource}.json").read_text(encoding="utf-8")
    )
    return rows


@pytest_asyncio.fixture
async def api() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=JSONPLACEHOLDER) as client:
        yield client


@pytest.mark.asyncio
@pytest.mark.parametrize("resource", ["posts", "users", "todos"])
async def test_lists_and_items_answer_from_the_recordings(
    api: httpx.AsyncClient, resource: str
) -> None:
    rows = recorded(resource)
    assert (await api.get(f"/{resource}")).json() == rows
    assert (await api.get(f"/{resource}/{rows[-1]['id']}")).json() == rows[-1]


@pytest.mark.asyncio
async def test_an_unknown_id_is_a_404_with_an_empty_object_as_upstream(
    api: httpx.AsyncClient,
) -> None:
    response = await api.get("/posts/101")
    assert (response.status_code, response.json()) == (404, {})


@pytest.mark.asyncio
async def test_query_parameters_filter_lists_as_upstream(api: httpx.AsyncClient) -> None:
    posts = (await api.get("/posts", params={"userId": 3})).json()
    assert [post["id"] for post in posts] == list(range(21, 31))
    assert (await api.get("/posts", params={"userId": 99})).json() == []


@pytest.mark.asyncio
async def test_a_route_in_respx_mock_replaces_the_recording_for_that_url_only(
    api: httpx.AsyncClient, respx_mock: respx.MockRouter
) -> None:
    route = respx_mock.get(f"{JSONPLACEHOLDER}/users").respond(503)
    assert (await api.get("/users")).status_code == 503
    assert (await api.get("/users/1")).json()["name"] == "Leanne Graham"
    assert route.call_count == 1


@pytest.mark.asyncio
async def test_a_request_nobody_mocked_fails_naming_its_url(api: httpx.AsyncClient) -> None:
    with pytest.raises(AssertionError, match=r"https://elsewhere\.example/data.*not mocked"):
        await api.get("https://elsewhere.example/data")
    with pytest.raises(AssertionError, match=r"/comments.*not mocked"):
        await api.get("/comments")  # not recorded: JSONPlaceholder has it, we do not
