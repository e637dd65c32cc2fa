"""Work an endpoint starts with asyncio.create_task: held until it is done,
its failure logged, and given a while to finish when the app stops."""

import asyncio
import logging
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from starlette.middleware.body_limit import RequestBodyLimitMiddleware

from background import Signup, send_welcome_email
from client_input import MAX_JSON_BODY, NOT_JSON, TOO_LARGE, invalid_request

logger = logging.getLogger(__name__)

Tasks = set[asyncio.Task[None]]
STOP_WAIT = 10  # seconds the app gives unfinished tasks when it stops


# --8<-- [start:start]
def start(tasks: Tasks, work: Coroutine[Any, Any, None]) -> None:
    """Run `work` in a task of its own, held in `tasks` until it is done."""
    task = asyncio.create_task(work)
    tasks.add(task)  # the event loop itself holds tasks only weakly
    task.add_done_callback(tasks.discard)
    task.add_done_callback(log_failure)


def log_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and (error := task.exception()) is not None:
        logger.error("task %s failed", task.get_name(), exc_info=error)
    # --8<-- [end:start]


# --8<-- [start:lifespan]
@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, Tasks]]:
    tasks: Tasks = set()
    yield {"tasks": tasks}
    # uvicorn has waited for the requests, but not for these tasks.
    if tasks:
        _, unfinished = await asyncio.wait(tasks, timeout=STOP_WAIT)
        for task in unfinished:
            task.cancel()
        if unfinished:
            await asyncio.wait(unfinished)
            logger.error("cancelled %d unfinished task(s)", len(unfinished))
    # --8<-- [end:lifespan]


# --8<-- [start:app]
app = FastAPI(
    lifespan=lifespan,
    exception_handlers={RequestValidationError: invalid_request},
)
app.add_middleware(RequestBodyLimitMiddleware, max_body_size=MAX_JSON_BODY)


@app.post(
    "/signups",
    status_code=status.HTTP_202_ACCEPTED,
    responses={**TOO_LARGE, **NOT_JSON},
)
async def sign_up(signup: Signup, request: Request) -> dict[str, str]:
    start(request.state.tasks, send_welcome_email(signup.email))
    return {"status": "signed up; a welcome email is on its way"}
    # --8<-- [end:app]
