"""Calling another API the article's way: a new client for every request."""

from typing import Any

import httpx
from fastapi import FastAPI

POSTS_URL = "https://jsonplaceholder.typicode.com/posts"

app = FastAPI()


@app.get("/fetch-data")
async def fetch_data() -> Any:
    async with httpx.AsyncClient() as client:
        response = await client.get(POSTS_URL)
    return response.json()
