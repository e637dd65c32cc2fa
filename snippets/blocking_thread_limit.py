"""Raising the thread pool's limit from anyio's default of 40."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from anyio import to_thread
from fastapi import FastAPI

import blocking


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    limiter = to_thread.current_default_thread_limiter()  # this loop's
    limiter.total_tokens = 100
    yield


app = FastAPI(lifespan=lifespan)
app.include_router(blocking.app.router)
