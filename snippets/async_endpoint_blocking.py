"""The mistake to avoid: a blocking call inside `async def` stalls the whole event loop."""

import time

from fastapi import FastAPI

app = FastAPI()


@app.get("/async-endpoint")
async def async_endpoint() -> dict[str, str]:
    time.sleep(2)  # noqa: ASYNC251  # blocks the loop: no other request runs meanwhile
    return {"message": "This is an async response!"}
