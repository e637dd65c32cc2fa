"""An async database with `databases` and aiosqlite: the users API."""

import logging
import os
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from databases import Database
from fastapi import Depends, FastAPI, HTTPException, Path, Request, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./test.db"
BUSY_TIMEOUT = 5.0  # seconds a query waits for a database another connection has locked

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
    async with Database(url, timeout=BUSY_TIMEOUT) as database:
        yield {"database": database}


async def get_database(request: Request) -> Database:
    database: Database = request.state.database
    return database


Db = Annotated[Database, Depends(get_database)]

app = FastAPI(lifespan=lifespan)


# --8<-- [start:unavailable]
@app.exception_handler(sqlite3.OperationalError)
async def database_unavailable(request: Request, error: Exception) -> JSONResponse:
    """The database file is missing, locked or unreadable: not the client's fault, and worth
    trying again later. What went wrong is logged, never sent."""
    logger.error("%s %s: the database is unavailable: %s", request.method, request.url.path, error)
    detail = {"detail": "The database is unavailable."}
    return JSONResponse(detail, status.HTTP_503_SERVICE_UNAVAILABLE, {"Retry-After": "5"})
    # --8<-- [end:unavailable]


@app.get("/users")
async def list_users(database: Db) -> list[User]:
    rows = await database.fetch_all("SELECT id, name, username, email FROM users ORDER BY id")
    return [User.model_validate(row, from_attributes=True) for row in rows]


# --8<-- [start:get_user]
@app.get("/users/{user_id}")
async def get_user(user_id: UserId, database: Db) -> User:
    row = await database.fetch_one(
        "SELECT id, name, username, email FROM users WHERE id = :id",
        values={"id": user_id},  # a bound parameter: never format values into SQL
    )
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"No user with id {user_id}.")
    return User.model_validate(row, from_attributes=True)
    # --8<-- [end:get_user]
