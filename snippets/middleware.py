"""A request id on every log line: a pure ASGI middleware takes the client's
`X-Request-ID` (or makes one), keeps it in a ContextVar for the request, and
sends it back; a logging filter stamps it on every record, wherever in the
request the record was logged."""

# --8<-- [start:request_id]
import asyncio
import hashlib
import logging
import re
import uuid
from contextvars import ContextVar
from typing import Any, TextIO

from fastapi import BackgroundTasks, FastAPI, Request, Response
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers, MutableHeaders
from starlette.middleware.base import (
    BaseHTTPMiddleware,
    RequestResponseEndpoint,
)
from starlette.types import ASGIApp, Message, Receive, Scope, Send

HEADER = "X-Request-ID"
# An id a client may choose: up to 64 letters, digits, dots, dashes and
# underscores. Anything else is replaced, never echoed nor logged.
ACCEPTED = re.compile(r"[A-Za-z0-9._-]{1,64}")
NO_REQUEST = "-"  # what a record logged outside any request shows

request_id: ContextVar[str] = ContextVar("request_id", default=NO_REQUEST)


def accepted_or_new(given: str | None) -> str:
    """The client's id if it is a safe one, else a new random one."""
    if given is not None and ACCEPTED.fullmatch(given):
        return given
    return uuid.uuid4().hex


# --8<-- [end:request_id]


# --8<-- [start:middleware]
errors = logging.getLogger("requests")


class RequestIdMiddleware:
    """Pure ASGI: the id is set for the whole request, background tasks
    included, and reset when the request is done."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(
        self, scope: Scope, receive: Receive, send: Send
    ) -> None:
        if scope["type"] != "http":  # lifespan, websockets: passed through
            await self.app(scope, receive, send)
            return
        current = accepted_or_new(Headers(scope=scope).get(HEADER))

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])  # ASGI lets it be left out
                MutableHeaders(scope=message)[HEADER] = current
            await send(message)

        token = request_id.set(current)
        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            # Logged here, while the id is set: the server's own traceback
            # is logged after the reset, without it.
            errors.exception("unhandled error")
            raise
        finally:
            request_id.reset(token)  # the next request starts without it


# --8<-- [end:middleware]


# --8<-- [start:filter]
class RequestIdFilter(logging.Filter):
    """Stamps the current request's id on every record it sees."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True  # a filter that stamps, never one that drops


LOG_FORMAT = "%(asctime)s %(levelname)s [%(request_id)s] %(name)s %(message)s"


def request_id_handler() -> logging.StreamHandler[TextIO]:
    """A handler whose every line names its request. On a handler, the filter
    sees the records of every logger that reaches it; on a logger, only that
    logger's own."""
    handler = logging.StreamHandler()
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    return handler


# --8<-- [end:filter]


# --8<-- [start:logging]
# At start-up: uvicorn.run("yourapp.main:app", log_config=LOGGING)
LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": RequestIdFilter}},
    "formatters": {"request_id": {"format": LOG_FORMAT}},
    "handlers": {
        "stamped": {
            "class": "logging.StreamHandler",
            "filters": ["request_id"],
            "formatter": "request_id",
        },
    },
    "root": {"level": "INFO", "handlers": ["stamped"]},  # your app's lines
    "loggers": {  # uvicorn's own lines, its access line included
        "uvicorn": {
            "handlers": ["stamped"],
            "level": "INFO",
            "propagate": False,
        },
        "uvicorn.access": {
            "handlers": ["stamped"],
            "level": "INFO",
            "propagate": False,
        },
    },
}
# --8<-- [end:logging]


# --8<-- [start:app]
log = logging.getLogger("reports")
app = FastAPI()
app.add_middleware(RequestIdMiddleware)


class Report(BaseModel):
    name: str
    size: int
    sha256: str


async def load_rows(name: str) -> list[str]:
    await asyncio.sleep(0.01)  # stands in for a database query
    log.info("rows loaded")
    return [f"{name}-{row}" for row in range(3)]


def render(rows: list[str]) -> bytes:  # blocking work: run in a thread
    log.info("rendered")
    return "\n".join(rows).encode()


def digest(body: bytes) -> str:  # blocking work: run in a thread
    log.info("digested")
    return hashlib.sha256(body).hexdigest()


def audit(name: str) -> None:  # after the response
    log.info("report %s sent", name)


@app.get("/reports/{name}")
async def report(name: str, background: BackgroundTasks) -> Report:
    log.info("report requested")
    rows = await load_rows(name)
    body = await asyncio.to_thread(render, rows)
    sha256 = await run_in_threadpool(digest, body)
    background.add_task(audit, name)
    return Report(name=name, size=len(body), sha256=sha256)


# --8<-- [end:app]


# --8<-- [start:base_http]
class RequestIdHTTPMiddleware(BaseHTTPMiddleware):
    """The same, as a BaseHTTPMiddleware: shorter, but it runs the app in a
    task of its own (see the page for what that changes)."""

    async def dispatch(
        self, request: Request, call_next: RequestResponseEndpoint
    ) -> Response:
        current = accepted_or_new(request.headers.get(HEADER))
        token = request_id.set(current)
        try:
            response = await call_next(request)
        finally:
            request_id.reset(token)
        response.headers[HEADER] = current
        return response


# --8<-- [end:base_http]
