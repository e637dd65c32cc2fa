"""A FastAPI app that greets, with the greeting its environment gives it."""

import asyncio
import os

from fastapi import FastAPI

app = FastAPI()


@app.get("/greet/{name}")
async def greet(name: str) -> dict[str, str]:
    await asyncio.sleep(2)  # an upstream's answer, as slow as it is
    return {"greeting": f"{os.environ['GREETING']}, {name}!"}
