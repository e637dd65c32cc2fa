"""One app served by several worker processes: what each process has of
its own. Run it with `uvicorn workers:app --workers 2`."""

# --8<-- [start:imports]
import asyncio
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Annotated, Any, TypedDict

from anyio import to_thread
from fastapi import FastAPI, Query, Request
from fastapi.responses import StreamingResponse

# uvicorn's own logger, so that these lines print beside uvicorn's with no
# logging set-up of the app's own. An app with one (see the middleware
# page's LOGGING) uses logging.getLogger(__name__) instead.
logger = logging.getLogger("uvicorn.error")
# --8<-- [end:imports]


# --8<-- [start:lifespan]
@dataclass
class Tally:
    """Requests this process has served: in its memory, and its alone."""

    served: int = 0


class State(TypedDict):
    tally: Tally


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[State]:
    # Runs once in every worker process, when that process starts.
    logger.info("worker %d: started", os.getpid())
    yield {"tally": Tally()}
    # And once in every worker, when it stops.
    logger.info("worker %d: stopped", os.getpid())


app = FastAPI(lifespan=lifespan)
# --8<-- [end:lifespan]


# --8<-- [start:whoami]
@app.get("/whoami")
async def whoami(request: Request) -> dict[str, int]:
    tally: Tally = request.state.tally
    tally.served += 1
    threads = to_thread.current_default_thread_limiter()
    return {
        "pid": os.getpid(),
        "served": tally.served,
        # The thread pool that runs `def` endpoints: one per process too.
        "threads": int(threads.total_tokens),
    }


# --8<-- [end:whoami]


# --8<-- [start:slow]
SLOWEST = 30.0  # seconds: a bound, so that no query can hold a worker longer


@app.get("/slow")
async def slow(
    seconds: Annotated[float, Query(ge=0, le=SLOWEST)] = 1.0,
) -> dict[str, float]:
    """Stands in for a request that takes a while: an upstream, a query."""
    await asyncio.sleep(seconds)
    return {"slept": seconds}


# --8<-- [end:slow]


# --8<-- [start:stream]
PLAIN_TEXT: dict[int | str, dict[str, Any]] = {
    200: {"description": "A line a second", "content": {"text/plain": {}}},
}


@app.get("/stream", response_class=StreamingResponse, responses=PLAIN_TEXT)
async def stream(
    seconds: Annotated[int, Query(ge=0, le=int(SLOWEST))] = 1,
) -> StreamingResponse:
    """A line a second for `seconds` seconds: stands in for server-sent
    events or a progress feed, a response that stays open while it is sent."""

    async def lines() -> AsyncIterator[str]:
        for second in range(seconds):
            yield f"{second}\n"
            await asyncio.sleep(1)

    return StreamingResponse(lines(), media_type="text/plain")


# --8<-- [end:stream]
