"""The mistake to avoid: a blocking call inside `async def` stalls the loop."""

import time

from fastapi import FastAPI

app = FastAPI()


@app.get("/async-endpoint")
async def async_endpoint() -> dict[str, str]:
    # Blocks the loop for two seconds: no other request runs meanwhile.
    time.sleep(2)  # noqa: ASYNC251
    return {"message": "This is an async response!"}
