"""Calling another API: one shared httpx.AsyncClient, made in the lifespan,
handed out by a dependency, with a timeout and connection limits."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

import httpx
from fastapi import Depends, FastAPI, Request

from upstream_errors import UPSTREAM_FAILED, get_json

POSTS_URL = "https://jsonplaceholder.typicode.com/posts"


@asynccontextmanager
async def lifespan(
    app: FastAPI,
) -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    """One client for the app's whole life: its connections are reused."""
    # Seconds: 3 to connect, 10 for each read or write, 2 for a free
    # connection from the pool. httpx's default is 5 for each.
    timeout = httpx.Timeout(10.0, connect=3.0, pool=2.0)
    # At most 50 connections, and every one kept open for the next request:
    # keep fewer and each burst closes the rest, to open them again.
    limits = httpx.Limits(max_connections=50, max_keepalive_connections=50)
    async with httpx.AsyncClient(timeout=timeout, limits=limits) as client:
        yield {"http_client": client}  # the state: request.state.http_client


async def http_client(request: Request) -> httpx.AsyncClient:
    """The shared client. `async def`: a `def` would run in a thread."""
    client: httpx.AsyncClient = request.state.http_client
    return client


HttpClient = Annotated[httpx.AsyncClient, Depends(http_client)]

app = FastAPI(lifespan=lifespan)


@app.get("/fetch-data", responses=UPSTREAM_FAILED)
async def fetch_data(client: HttpClient) -> Any:
    return await get_json(client, POSTS_URL)
