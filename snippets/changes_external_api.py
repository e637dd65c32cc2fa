"""The article's error handling, as published (with types added): what the
changes page corrects."""

from typing import Any

import httpx
from fastapi import FastAPI, HTTPException

app = FastAPI()


@app.get("/external-api")
async def external_api() -> Any:
    try:
        async with httpx.AsyncClient() as client:
            response = await client.get("https://nonexistent-api.com/data")
            response.raise_for_status()
    except httpx.HTTPStatusError as e:
        raise HTTPException(
            status_code=e.response.status_code, detail="Error fetching data"
        ) from e
    except httpx.RequestError as e:
        raise HTTPException(status_code=500, detail="Request failed") from e
    return response.json()
