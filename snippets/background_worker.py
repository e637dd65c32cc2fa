"""Welcome emails sent by workers the app owns: a queue that endpoints feed,
and a task group that the lifespan starts, and drains when the app stops."""

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, HTTPException, Request, status
from fastapi.exceptions import RequestValidationError
from starlette.middleware.body_limit import RequestBodyLimitMiddleware

from background import Signup, send_welcome_email
from client_input import (
    MAX_JSON_BODY,
    NOT_JSON,
    TOO_LARGE,
    Detail,
    invalid_request,
)

logger = logging.getLogger(__name__)

WORKERS = 4  # emails sent at once, at most
QUEUE_SIZE = 1000  # emails waiting, at most; past that, signups get a 503
SEND_TIMEOUT = 10  # seconds one email may take before it is given up
DRAIN_SECONDS = 10  # how long the app may go on sending when it stops

Emails = asyncio.Queue[str]

QUEUE_FULL = "Too many signups at once; try again in a minute."
BUSY: dict[int | str, dict[str, Any]] = {
    status.HTTP_503_SERVICE_UNAVAILABLE: {
        "model": Detail,
        "description": "The queue of emails is full; try again later",
    },
}


# --8<-- [start:worker]
async def send_emails(emails: Emails) -> None:
    """Send queued emails, one after another, until cancelled."""
    while True:
        address = await emails.get()
        try:
            async with asyncio.timeout(SEND_TIMEOUT):  # a hung call ends
                await send_welcome_email(address)
        except Exception:  # a failure or a timeout must not stop the worker
            logger.exception("welcome email to %s failed", address)
        finally:
            emails.task_done()
    # --8<-- [end:worker]


# --8<-- [start:lifespan]
@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, Emails]]:
    emails: Emails = asyncio.Queue(maxsize=QUEUE_SIZE)
    async with asyncio.TaskGroup() as group:
        workers = [
            group.create_task(send_emails(emails)) for _ in range(WORKERS)
        ]
        yield {"emails": emails}
        # The server has stopped taking requests: send what is queued.
        try:
            async with asyncio.timeout(DRAIN_SECONDS):
                await emails.join()
        except TimeoutError:
            logger.error("%d queued welcome email(s) dropped", emails.qsize())
        for worker in workers:
            worker.cancel()
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
    responses={**TOO_LARGE, **NOT_JSON, **BUSY},
)
async def sign_up(signup: Signup, request: Request) -> dict[str, str]:
    emails: Emails = request.state.emails
    try:
        emails.put_nowait(signup.email)
    except asyncio.QueueFull:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            QUEUE_FULL,
            headers={"Retry-After": "60"},
        ) from None
    return {"status": "signed up; a welcome email is on its way"}
    # --8<-- [end:app]
