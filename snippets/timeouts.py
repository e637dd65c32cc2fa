"""A fan-out with one deadline: three upstream calls at once, all cancelled
if time runs out, the others cancelled if one fails."""

import asyncio
from typing import Any

from fastapi import FastAPI, HTTPException, status

from fetch_data import HttpClient, lifespan
from upstream_errors import UPSTREAM_FAILED, failed, get_json

API = "https://jsonplaceholder.typicode.com"
DEADLINE = 2.0  # seconds for the three calls together
# the shapes the upstream must send: an object, and a list of them
Item = dict[str, Any]
Items = list[Item]

app = FastAPI(lifespan=lifespan)


NO_SUCH_USER = failed("No user with this id")


@app.get(
    "/users/{user_id}/overview",
    responses={**UPSTREAM_FAILED, 404: NO_SUCH_USER},
)
async def user_overview(user_id: int, client: HttpClient) -> dict[str, Any]:
    missing = f"No user with id {user_id}."
    try:
        async with asyncio.timeout(DEADLINE), asyncio.TaskGroup() as calls:
            user = calls.create_task(
                get_json(client, f"{API}/users/{user_id}", Item, missing)
            )
            posts = calls.create_task(
                get_json(client, f"{API}/posts?userId={user_id}", Items)
            )
            todos = calls.create_task(
                get_json(client, f"{API}/todos?userId={user_id}", Items)
            )
    except* HTTPException as failed:  # an upstream failed: as get_json says
        raise failed.exceptions[0] from None
    except* TimeoutError:
        detail = f"The upstreams took longer than {DEADLINE:g} seconds."
        raise HTTPException(status.HTTP_504_GATEWAY_TIMEOUT, detail) from None
    return {
        "user": user.result(),
        "posts": len(posts.result()),
        "todos": len(todos.result()),
    }
