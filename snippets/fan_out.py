# --8<-- [start:limit]
"""Many upstream calls at once, but never more than a few in flight in each
process: one semaphore, made in the lifespan, shared by every request, and a
bounded wait for it."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Query, Request
from pydantic import BaseModel

from fetch_data import HttpClient
from fetch_data import lifespan as client_lifespan
from upstream_errors import UPSTREAM_FAILED, get_json

API = "https://jsonplaceholder.typicode.com"
UPSTREAM_LIMIT = 5  # upstream calls in flight at once, per process
PERMIT_WAIT = 10.0  # seconds a call may wait for a permit; then a 503


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, Any]]:
    """The shared client, and the one semaphore that every request shares."""
    async with client_lifespan(app) as state:
        limit = asyncio.Semaphore(UPSTREAM_LIMIT)
        yield {**state, "upstream_limit": limit}


async def upstream_limit(request: Request) -> asyncio.Semaphore:
    """The lifespan's semaphore: the same object for every request."""
    limit: asyncio.Semaphore = request.state.upstream_limit
    return limit


UpstreamLimit = Annotated[asyncio.Semaphore, Depends(upstream_limit)]


@asynccontextmanager
async def permit(limit: asyncio.Semaphore) -> AsyncIterator[None]:
    """Hold one of `limit`'s permits for the block. A call that waits longer
    than PERMIT_WAIT for one is refused with a 503: the app is full."""
    try:
        async with asyncio.timeout(PERMIT_WAIT):
            await limit.acquire()
    except TimeoutError as error:
        busy = {"Retry-After": f"{PERMIT_WAIT:.0f}"}
        detail = "This app is busy; try again later."
        raise HTTPException(503, detail, headers=busy) from error
    try:
        yield
    finally:
        limit.release()


app = FastAPI(lifespan=lifespan)
# --8<-- [end:limit]


# --8<-- [start:endpoint]
class Post(BaseModel):
    title: str  # the one field this endpoint uses; others are ignored


@app.get("/posts/titles", responses=UPSTREAM_FAILED)
async def post_titles(
    client: HttpClient,
    limit: UpstreamLimit,
    count: Annotated[int, Query(ge=1, le=100)] = 20,
) -> list[str]:
    """The titles of the first `count` posts, fetched a post per request."""

    async def title(post_id: int) -> str:
        async with permit(limit):  # waits while every permit is taken
            post: Post = await get_json(client, f"{API}/posts/{post_id}", Post)
        return post.title

    try:
        async with asyncio.TaskGroup() as fetches:
            titles = [
                fetches.create_task(title(post_id))
                for post_id in range(1, count + 1)
            ]
    except* HTTPException as failed:
        raise failed.exceptions[0] from None
    # in post order, however they finished
    return [task.result() for task in titles]


# --8<-- [end:endpoint]
