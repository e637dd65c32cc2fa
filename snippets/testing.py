"""This guide's own test client, for its pages and its test files, which run
on looptime's virtual clock. Your tests want asgi-lifespan's time limits: see
`app_client` in test_endpoints.py, and the Testing page for why they differ."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from asgi_lifespan import LifespanManager
from fastapi import FastAPI


@asynccontextmanager
async def app_client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client whose requests go straight into `app`, no server."""
    # No limits on start-up and shutdown: on the virtual clock, a limit fires
    # while the loop waits for a thread looptime does not know of, such as a
    # database driver's, however short the real wait.
    async with LifespanManager(
        app, startup_timeout=None, shutdown_timeout=None
    ) as manager:  # start-up has run here
        transport = httpx.ASGITransport(app=manager.app)  # hands on state
        async with httpx.AsyncClient(
            transport=transport, base_url="http://testserver"
        ) as client:
            yield client
    # shutdown has run here
