"""Calling another API the article's way: a new client for every request."""

from typing import Any

import httpx
from fastapi import FastAPI

app = FastAPI()


@app.get("/fetch-data")
async def fetch_data() -> Any:
    async with httpx.AsyncClient() as client:
        url = "https://jsonplaceholder.typicode.com/posts"
        response = await client.get(url)
    return response.json()
