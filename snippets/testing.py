"""A test client for a FastAPI app: its lifespan entered, its state handed to every request."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI
from starlette.types import Receive, Scope, Send


@asynccontextmanager
async def app_client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client whose requests go straight to `app`, in this event loop.

    httpx.ASGITransport runs no lifespan, so this enters it; and the state a lifespan yields
    reaches requests only through a server, which copies it into each request's scope, so
    this does the same."""
    async with app.router.lifespan_context(app) as state:

        async def app_with_state(
            scope: Scope, receive: Receive, send: Send
        ) -> None:
            await app({**scope, "state": dict(state or {})}, receive, send)

        transport = httpx.ASGITransport(app=app_with_state)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://testserver"
        ) as client:
            yield client
