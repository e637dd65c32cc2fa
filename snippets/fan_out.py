"""Many upstream calls at once, but never more than a few in flight."""

import asyncio
from typing import Annotated

from fastapi import FastAPI, HTTPException, Query
from pydantic import BaseModel

from fetch_data import HttpClient, lifespan
from upstream_errors import UPSTREAM_FAILED, get_json

API = "https://jsonplaceholder.typicode.com"
IN_FLIGHT = 5  # requests to the upstream at once, at most, per request to this endpoint

app = FastAPI(lifespan=lifespan)


class Post(BaseModel):
    title: str  # the one field this endpoint uses; others are ignored


@app.get("/posts/titles", responses=UPSTREAM_FAILED)
async def post_titles(
    client: HttpClient, count: Annotated[int, Query(ge=1, le=100)] = 20
) -> list[str]:
    """The titles of the first `count` posts, fetched a post per request."""
    limit = asyncio.Semaphore(IN_FLIGHT)

    async def title(post_id: int) -> str:
        async with limit:  # waits here while IN_FLIGHT others are fetching
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
    return [
        task.result() for task in titles
    ]  # in post order, however they finished
