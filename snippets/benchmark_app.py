"""The endpoints the benchmarks put under load: three ways to wait, three
ways to call an upstream.

Settings come from the environment, so one module serves every run:
BENCH_SLEEP (seconds each request waits), BENCH_THREADS (the thread pool's
limit), BENCH_UPSTREAM (a base URL) and BENCH_CONNECTIONS (the shared
client's connection limit)."""

import asyncio
import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from anyio import to_thread
from fastapi import FastAPI, Request

SLEEP = float(os.environ.get("BENCH_SLEEP", "0.5"))
UPSTREAM = os.environ.get("BENCH_UPSTREAM", "http://127.0.0.1:8001")


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, Any]]:
    to_thread.current_default_thread_limiter().total_tokens = int(
        os.environ.get("BENCH_THREADS", "40")
    )
    connections = int(os.environ.get("BENCH_CONNECTIONS", "100"))
    limits = httpx.Limits(
        max_connections=connections, max_keepalive_connections=connections
    )
    async with httpx.AsyncClient(base_url=UPSTREAM, limits=limits) as client:
        yield {"upstream": client, "turns": asyncio.Semaphore(connections)}


app = FastAPI(lifespan=lifespan)


@app.get("/async-sleep")
async def async_sleep() -> dict[str, bool]:
    await asyncio.sleep(SLEEP)
    return {"ok": True}


@app.get("/def-sleep")
def def_sleep() -> dict[str, bool]:
    time.sleep(SLEEP)  # in a worker thread of the pool
    return {"ok": True}


@app.get("/blocking-sleep")
async def blocking_sleep() -> dict[str, bool]:
    # The mistake, measured: the whole loop waits.
    time.sleep(SLEEP)  # noqa: ASYNC251
    return {"ok": True}


@app.get("/data")
async def data() -> dict[str, bool]:
    """What the upstream-calling endpoints call, on a second server."""
    return {"ok": True}


@app.get("/upstream-per-request")
async def upstream_per_request() -> Any:
    async with httpx.AsyncClient(base_url=UPSTREAM) as client:
        return (await client.get("/data")).json()


@app.get("/upstream-shared")
async def upstream_shared(request: Request) -> Any:
    client: httpx.AsyncClient = request.state.upstream
    return (await client.get("/data")).json()


@app.get("/upstream-shared-queued")
async def upstream_shared_queued(request: Request) -> Any:
    """The same, but requests wait their turn here, not inside httpx's
    connection pool."""
    client: httpx.AsyncClient = request.state.upstream
    async with request.state.turns:
        return (await client.get("/data")).json()
