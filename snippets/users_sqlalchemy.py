"""The users API with SQLAlchemy 2's asyncio extension and aiosqlite."""

# --8<-- [start:setup]
import logging
import os
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Path, Request, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import ForeignKey, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.ext.asyncio import (
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    mapped_column,
    relationship,
    selectinload,
)

from client_input import Detail

# A `file:` URI, so that SQLite takes `mode=rw`: it opens the file, and never
# creates an empty one in its place when the file is missing.
DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///file:test.db?mode=rw&uri=true"
BUSY_TIMEOUT = 5.0  # seconds a query waits while another connection locks
POOL_TIMEOUT = 2.0  # seconds a request waits for a free connection

logger = logging.getLogger(__name__)
# --8<-- [end:setup]


# --8<-- [start:models]
class Base(DeclarativeBase):
    pass


class UserRow(Base):
    """The existing users table, mapped; the app never creates it."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]
    username: Mapped[str]
    email: Mapped[str]
    posts: Mapped[list["PostRow"]] = relationship(
        order_by="PostRow.id",
        lazy="raise",  # read only what the query loaded, or raise
    )


class PostRow(Base):
    __tablename__ = "posts"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    title: Mapped[str]


# What a response holds: a column added to a table later stays out of it.
class User(BaseModel):
    id: int
    name: str
    username: str
    email: str


class Post(BaseModel):
    id: int
    title: str


# A positive integer that fits SQLite's 64-bit INTEGER; anything else is a
# 422 before any SQL runs.
UserId = Annotated[int, Path(gt=0, le=2**63 - 1)]
# --8<-- [end:models]


# --8<-- [start:sessions]
@asynccontextmanager
async def lifespan(
    app: FastAPI,
) -> AsyncIterator[dict[str, async_sessionmaker[AsyncSession]]]:
    url = os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL)
    engine = create_async_engine(
        url,
        connect_args={"timeout": BUSY_TIMEOUT},
        pool_timeout=POOL_TIMEOUT,  # SQLAlchemy's default: 30 seconds
    )
    try:
        yield {"sessions": async_sessionmaker(engine, expire_on_commit=False)}
    finally:
        await engine.dispose()


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One session per request, closed when the response is done."""
    sessions: async_sessionmaker[AsyncSession] = request.state.sessions
    async with sessions() as session:
        yield session


Session = Annotated[AsyncSession, Depends(get_session)]

app = FastAPI(lifespan=lifespan)
# --8<-- [end:sessions]


# --8<-- [start:endpoints]
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    status.HTTP_404_NOT_FOUND: {
        "model": Detail,
        "description": "No such user",
    },
}
UNAVAILABLE: dict[int | str, dict[str, Any]] = {
    status.HTTP_503_SERVICE_UNAVAILABLE: {
        "model": Detail,
        "description": "The database is unavailable; retry after Retry-After",
    },
}


@app.get("/users", responses=UNAVAILABLE)
async def list_users(session: Session) -> list[User]:
    rows = await session.scalars(select(UserRow).order_by(UserRow.id))
    return [User.model_validate(row, from_attributes=True) for row in rows]


@app.get("/users/{user_id}", responses={**NOT_FOUND, **UNAVAILABLE})
async def get_user(user_id: UserId, session: Session) -> User:
    row = await session.get(UserRow, user_id)
    if row is None:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, f"No user with id {user_id}."
        )
    return User.model_validate(row, from_attributes=True)
    # --8<-- [end:endpoints]


# --8<-- [start:posts]
@app.get("/users/{user_id}/posts", responses={**NOT_FOUND, **UNAVAILABLE})
async def list_posts(user_id: UserId, session: Session) -> list[Post]:
    # The posts load within this awaited call, not when something reads them.
    options = [selectinload(UserRow.posts)]
    row = await session.get(UserRow, user_id, options=options)
    if row is None:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, f"No user with id {user_id}."
        )
    return [Post.model_validate(p, from_attributes=True) for p in row.posts]
    # --8<-- [end:posts]


# --8<-- [start:unavailable]
# SQLite's result codes for an outage: the database cannot serve anyone just
# now. Any other error, such as a misspelt query or a missing table, is a
# bug, which no retry will fix.
OUTAGES = {
    sqlite3.SQLITE_BUSY,  # locked by another connection beyond BUSY_TIMEOUT
    sqlite3.SQLITE_CANTOPEN,  # missing, or cannot be opened
    sqlite3.SQLITE_IOERR,  # the storage under it failing
    sqlite3.SQLITE_FULL,  # the disk under it full
}


def is_an_outage(error: Exception) -> bool:
    if isinstance(error, PoolTimeoutError):  # every connection in use
        return True
    # SQLAlchemy wraps the driver's error; `databases` raises it as it is.
    driver_error = getattr(error, "orig", error)
    # SQLite's extended result code; its low byte is the primary code.
    code = getattr(driver_error, "sqlite_errorcode", None)
    return code is not None and (code & 0xFF) in OUTAGES


async def database_unavailable(
    request: Request, error: Exception
) -> JSONResponse:
    """An outage is not the client's fault, and may be over soon: a 503 with
    `Retry-After`, the cause logged, never sent. A bug stays a bug: raised
    again, it is the server's 500, logged with its traceback."""
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


app.add_exception_handler(OperationalError, database_unavailable)
app.add_exception_handler(PoolTimeoutError, database_unavailable)
# --8<-- [end:unavailable]
