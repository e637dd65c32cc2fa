"""An async database with `databases` and aiosqlite: the users API."""

import logging
import os
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from databases import Database
from fastapi import Depends, FastAPI, HTTPException, Path, Request, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from client_input import Detail

# A `file:` URI, so that SQLite takes `mode=rw`: open the file, never create an empty one in
# its place when it is missing (a wrong path would otherwise serve "no such table" errors).
DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///file:test.db?mode=rw&uri=true"
BUSY_TIMEOUT = (
    5.0  # seconds a query waits for a database another connection has locked
)

logger = logging.getLogger(__name__)


# An id is a positive integer that fits the database's 64-bit INTEGER; anything else is a 422
# before any SQL runs.
UserId = Annotated[int, Path(gt=0, le=2**63 - 1)]


class User(BaseModel):
    id: int
    name: str
    username: str
    email: str


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, Database]]:
    """Connect at start-up, disconnect at shutdown. The tables must already exist."""
    url = os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL)
    async with Database(url, timeout=BUSY_TIMEOUT, uri=True) as database:
        yield {"database": database}


async def get_database(request: Request) -> Database:
    database: Database = request.state.database
    return database


Db = Annotated[Database, Depends(get_database)]

NOT_FOUND: dict[int | str, dict[str, Any]] = {
    status.HTTP_404_NOT_FOUND: {
        "model": Detail,
        "description": "No such user",
    },
}
UNAVAILABLE: dict[int | str, dict[str, Any]] = {
    status.HTTP_503_SERVICE_UNAVAILABLE: {
        "model": Detail,
        "description": "The database cannot be reached; try again after Retry-After seconds",
    },
}

app = FastAPI(lifespan=lifespan)


# --8<-- [start:unavailable]
# SQLite's result codes for an outage: the database cannot serve anyone just now. Any other
# error, such as a misspelt query or a missing table, is a bug, which no retry will fix.
OUTAGES = {
    sqlite3.SQLITE_BUSY,  # locked by another connection for longer than BUSY_TIMEOUT
    sqlite3.SQLITE_CANTOPEN,  # missing, or cannot be opened
    sqlite3.SQLITE_IOERR,  # the storage under it failing
    sqlite3.SQLITE_FULL,  # the disk under it full
}


def is_an_outage(error: Exception) -> bool:
    driver_error = getattr(
        error, "orig", error
    )  # SQLAlchemy wraps the driver's error
    code = getattr(
        driver_error, "sqlite_errorcode", None
    )  # the extended result code
    return (
        code is not None and (code & 0xFF) in OUTAGES
    )  # 0xFF: its primary code


@app.exception_handler(sqlite3.OperationalError)
async def database_unavailable(
    request: Request, error: Exception
) -> JSONResponse:
    """An outage is not the client's fault, and may be over soon: a 503 with `Retry-After`, the
    cause logged, never sent. A bug stays a bug: raised again, it is the server's 500, logged
    with its traceback."""
    if not is_an_outage(error):
        raise error
    logger.error(
        "%s %s: the database is unavailable: %s",
        request.method,
        request.url.path,
        error,
    )
    detail = {"detail": "The database is unavailable."}
    return JSONResponse(
        detail, status.HTTP_503_SERVICE_UNAVAILABLE, {"Retry-After": "5"}
    )
    # --8<-- [end:unavailable]


@app.get("/users", responses=UNAVAILABLE)
async def list_users(database: Db) -> list[User]:
    rows = await database.fetch_all(
        "SELECT id, name, username, email FROM users ORDER BY id"
    )
    return [User.model_validate(row, from_attributes=True) for row in rows]


# --8<-- [start:get_user]
@app.get("/users/{user_id}", responses={**NOT_FOUND, **UNAVAILABLE})
async def get_user(user_id: UserId, database: Db) -> User:
    row = await database.fetch_one(
        "SELECT id, name, username, email FROM users WHERE id = :id",
        values={
            "id": user_id
        },  # a bound parameter: never format values into SQL
    )
    if row is None:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, f"No user with id {user_id}."
        )
    return User.model_validate(row, from_attributes=True)
    # --8<-- [end:get_user]
