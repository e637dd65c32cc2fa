"""asyncio's debug mode, turned on in the lifespan: uvicorn's own event loop
then logs every step that holds it for longer than `slow_callback_duration`."""

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

import blocking


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    if os.environ.get("PYTHONASYNCIODEBUG"):  # hunting for blocking calls
        loop = asyncio.get_running_loop()  # the loop uvicorn serves on
        loop.set_debug(True)
        loop.slow_callback_duration = 0.02  # seconds; 0.1 by default
    yield


app = FastAPI(lifespan=lifespan)
app.include_router(blocking.app.router)
