"""Tests for the chat room, kept beside the app: each serves it with uvicorn
on 127.0.0.1 and talks to it with the websockets library's client, over a
real socket, as browsers and other clients do."""

# --8<-- [start:tests]
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from local_server import local_server
from websockets_room import app


@pytest.mark.asyncio
async def test_members_hear_each_other_and_who_leaves() -> None:
    async with local_server(app) as url:
        lobby = url.replace("http://", "ws://") + "/rooms/lobby"
        async with connect(f"{lobby}?token=alice-token") as alice:
            assert await alice.recv() == "alice joined"
            async with connect(f"{lobby}?token=bob-token") as bob:
                assert await bob.recv() == "bob joined"
                assert await alice.recv() == "bob joined"
                await bob.send("hi")
                assert await alice.recv() == "bob: hi"
                assert await bob.recv() == "bob: hi"
            assert await alice.recv() == "bob left"


@pytest.mark.asyncio
async def test_an_unknown_token_is_refused_before_accept() -> None:
    async with local_server(app) as url:
        lobby = url.replace("http://", "ws://") + "/rooms/lobby"
        with pytest.raises(InvalidStatus) as refused:
            async with connect(f"{lobby}?token=wrong"):
                pass  # never reached: the handshake itself fails
    assert refused.value.response.status_code == 403


# --8<-- [end:tests]
