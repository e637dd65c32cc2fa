"""An async endpoint: while it waits, the event loop serves other requests."""

import asyncio

from fastapi import FastAPI

app = FastAPI()


@app.get("/async-endpoint")
async def async_endpoint() -> dict[str, str]:
    await asyncio.sleep(2)  # stands in for slow I/O: an API call, a query
    return {"message": "This is an async response!"}
