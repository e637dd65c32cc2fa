"""A test client for a FastAPI app, with the app's lifespan running."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from asgi_lifespan import LifespanManager
from fastapi import FastAPI


@asynccontextmanager
async def app_client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client whose requests go straight into `app`, no server."""
    async with LifespanManager(
        app, startup_timeout=None, shutdown_timeout=None
    ) as manager:  # start-up has run here
        transport = httpx.ASGITransport(app=manager.app)  # hands on state
        async with httpx.AsyncClient(
            transport=transport, base_url="http://testserver"
        ) as client:
            yield client
    # shutdown has run here
