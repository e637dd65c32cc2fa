"""Calling another API the article's way: a new httpx.AsyncClient for every request."""

from typing import Any

import httpx
from fastapi import FastAPI

app = FastAPI()


@app.get("/fetch-data")
async def fetch_data() -> Any:
    async with httpx.AsyncClient() as client:
        response = await client.get(
            "https://jsonplaceholder.typicode.com/posts"
        )
    return response.json()
