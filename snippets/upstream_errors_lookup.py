"""A lookup through an upstream: its 404 is your client's 404."""

from typing import Annotated

from fastapi import FastAPI, Path
from pydantic import BaseModel

from fetch_data import POSTS_URL, HttpClient, lifespan
from upstream_errors import UPSTREAM_FAILED, failed, get_json

app = FastAPI(lifespan=lifespan)


class Post(BaseModel):
    id: int
    title: str


@app.get(
    "/posts/{post_id}",
    responses={**UPSTREAM_FAILED, 404: failed("No post with this id")},
)
async def post(
    post_id: Annotated[int, Path(gt=0)], client: HttpClient
) -> Post:
    missing = f"No post with id {post_id}."
    url = f"{POSTS_URL}/{post_id}"
    found: Post = await get_json(client, url, Post, not_found=missing)
    return found
