"""The users API on PostgreSQL, with SQLAlchemy's async engine and asyncpg."""

# --8<-- [start:settings]
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Annotated

from fastapi import (
    FastAPI,
    HTTPException,
    Path,
    Query,
    Request,
    status,
)
from fastapi.responses import JSONResponse
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.ext.asyncio import (
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from users_sqlalchemy import NOT_FOUND, UNAVAILABLE, Session, User, UserRow

DEFAULT_DATABASE_URL = "postgresql+asyncpg://app@127.0.0.1:5432/app"

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PoolSettings:
    """How many connections one worker process keeps, and how long a
    request or a query may wait: from the environment, with sane defaults."""

    size: int = 5  # connections kept open
    max_overflow: int = 0  # extra ones opened under load, then closed
    timeout: float = 2.0  # seconds a request waits for a free connection
    statement_timeout_ms: int = 5000  # the server cancels longer queries
    connect_timeout: float = 5.0  # seconds to open a connection

    @classmethod
    def from_environment(cls) -> "PoolSettings":
        env = os.environ.get
        default = cls()
        return cls(
            size=int(env("DB_POOL_SIZE", default.size)),
            max_overflow=int(env("DB_MAX_OVERFLOW", default.max_overflow)),
            timeout=float(env("DB_POOL_TIMEOUT", default.timeout)),
            statement_timeout_ms=int(
                env("DB_STATEMENT_TIMEOUT_MS", default.statement_timeout_ms)
            ),
            connect_timeout=float(
                env("DB_CONNECT_TIMEOUT", default.connect_timeout)
            ),
        )
        # --8<-- [end:settings]


# --8<-- [start:engine]
@asynccontextmanager
async def lifespan(
    app: FastAPI,
) -> AsyncIterator[dict[str, async_sessionmaker[AsyncSession]]]:
    url = os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL)
    pool = PoolSettings.from_environment()
    engine = create_async_engine(
        url,
        pool_size=pool.size,
        max_overflow=pool.max_overflow,
        pool_timeout=pool.timeout,
        pool_pre_ping=True,  # test a pooled connection before handing it out
        hide_parameters=True,  # errors and logs show no user's data
        connect_args={
            "timeout": pool.connect_timeout,
            # Set on every new connection, by the server.
            "server_settings": {
                "statement_timeout": str(pool.statement_timeout_ms),
                "application_name": "users-api",
            },
        },
    )
    try:
        yield {"sessions": async_sessionmaker(engine, expire_on_commit=False)}
    finally:
        await engine.dispose()


app = FastAPI(lifespan=lifespan)
# --8<-- [end:engine]


# --8<-- [start:endpoints]
# PostgreSQL's INTEGER is 32-bit, and its text holds no NUL character: an
# id or a name it could not take is a 422, not a server error.
UserId = Annotated[int, Path(gt=0, le=2**31 - 1)]
Username = Annotated[str | None, Query(max_length=100, pattern=r"^[^\x00]*$")]


@app.get("/users", responses=UNAVAILABLE)
async def list_users(
    session: Session, username: Username = None
) -> list[User]:
    query = select(UserRow).order_by(UserRow.id)
    if username is not None:
        query = query.where(UserRow.username == username)  # a bound parameter
    rows = await session.scalars(query)
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


# --8<-- [start:unavailable]
# SQLSTATE classes of an outage: the database cannot serve anyone just now.
OUTAGE_CLASSES = {
    "08",  # connection exception: the connection failed or was lost
    "53",  # insufficient resources, such as "too many clients already"
    "57",  # operator intervention: statement timeout, server shutting down
}


def is_an_outage(error: Exception) -> bool:
    if isinstance(error, PoolTimeoutError):  # no free connection in time
        return True
    if isinstance(error, OSError):  # the server cannot be reached at all
        return True
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True  # the connection died under the query
    sqlstate = getattr(getattr(error, "orig", None), "sqlstate", None) or ""
    return sqlstate[:2] in OUTAGE_CLASSES


async def database_unavailable(
    request: Request, error: Exception
) -> JSONResponse:
    """An outage: a quick 503 with `Retry-After`, the cause logged, never
    sent. Anything else, such as a misspelt column, is a bug: raised again,
    it is the server's 500, logged with its traceback."""
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


DATABASE_ERRORS = (DBAPIError, PoolTimeoutError, OSError)
for database_error in DATABASE_ERRORS:
    app.add_exception_handler(database_error, database_unavailable)
# --8<-- [end:unavailable]
