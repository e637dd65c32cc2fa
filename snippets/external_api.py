"""The article's error-handling example, corrected: an upstream that may
fail in every way, and a client that learns only what it can act on."""

from typing import Any

from fastapi import FastAPI

from fetch_data import HttpClient, lifespan
from upstream_errors import UPSTREAM_FAILED, get_json

EXTERNAL_URL = "https://nonexistent-api.com/data"

app = FastAPI(lifespan=lifespan)


@app.get("/external-api", responses=UPSTREAM_FAILED)
async def external_api(client: HttpClient) -> Any:
    return await get_json(client, EXTERNAL_URL)
