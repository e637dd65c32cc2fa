"""The mistake to avoid: a blocking call inside `async def` stalls the whole event loop."""

import time

from fastapi import FastAPI

app = FastAPI()


# --8<-- [start:endpoint]
@app.get("/async-endpoint")
async def async_endpoint() -> dict[str, str]:
    time.sleep(2)  # blocks the event loop: no other request runs meanwhile
    return {"message": "This is an async response!"}
# --8<-- [end:endpoint]
