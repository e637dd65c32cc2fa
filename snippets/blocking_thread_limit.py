"""Raising the thread pool's limit from anyio's default of 40, for many blocking calls at once."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from anyio import to_thread
from fastapi import FastAPI

import blocking


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    to_thread.current_default_thread_limiter().total_tokens = (
        100  # this event loop's pool
    )
    yield


app = FastAPI(lifespan=lifespan)
app.include_router(blocking.app.router)
