"""A resource per request from a dependency with `yield`, and typed lifespan
state: each request's changes are one database transaction, committed before
the response is sent if the endpoint returns, rolled back if it raises."""

# --8<-- [start:imports]
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any, TypedDict, cast

from fastapi import Depends, FastAPI, HTTPException, Request, status
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.ext.asyncio import (
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from starlette.middleware.body_limit import RequestBodyLimitMiddleware

from client_input import (
    MAX_JSON_BODY,
    NOT_JSON,
    TOO_LARGE,
    Detail,
    invalid_request,
)
from users_sqlalchemy import (
    BUSY_TIMEOUT,
    DEFAULT_DATABASE_URL,
    NOT_FOUND,
    POOL_TIMEOUT,
    UNAVAILABLE,
    User,
    UserId,
    UserRow,
    database_unavailable,
)

# --8<-- [end:imports]


# --8<-- [start:state]
class State(TypedDict):
    """What the lifespan hands to every request, checked on both sides."""

    sessions: async_sessionmaker[AsyncSession]


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[State]:
    url = os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL)
    engine = create_async_engine(
        url, connect_args={"timeout": BUSY_TIMEOUT}, pool_timeout=POOL_TIMEOUT
    )
    try:
        yield {"sessions": async_sessionmaker(engine, expire_on_commit=False)}
    finally:
        await engine.dispose()


async def lifespan_state(request: Request) -> State:
    # The server's copy of what the lifespan yielded: request.state's dict.
    return cast(State, request.scope["state"])


LifespanState = Annotated[State, Depends(lifespan_state)]
# --8<-- [end:state]


# --8<-- [start:transaction]
async def transaction(state: LifespanState) -> AsyncIterator[AsyncSession]:
    """One session in one transaction per request, closed whatever happens."""
    async with state["sessions"]() as session, session.begin():
        # The endpoint runs here; an exception it raises comes back out here.
        yield session


# scope="function": the code after `yield`, the commit, runs before the
# response is sent, so a failed commit is the client's answer. FastAPI's
# default, "request", runs it after the response.
Transaction = Annotated[AsyncSession, Depends(transaction, scope="function")]
# --8<-- [end:transaction]


# --8<-- [start:app]
app = FastAPI(
    lifespan=lifespan,
    exception_handlers={RequestValidationError: invalid_request},
)
app.add_middleware(RequestBodyLimitMiddleware, max_body_size=MAX_JSON_BODY)
app.add_exception_handler(OperationalError, database_unavailable)  # a 503
app.add_exception_handler(PoolTimeoutError, database_unavailable)  # a 503


class NewName(BaseModel):
    name: Annotated[str, Field(min_length=1, max_length=100)]


TAKEN: dict[int | str, dict[str, Any]] = {
    status.HTTP_409_CONFLICT: {
        "model": Detail,
        "description": "Another user has that name",
    },
}


@app.put(
    "/users/{user_id}/name",
    responses={**NOT_FOUND, **TAKEN, **UNAVAILABLE, **TOO_LARGE, **NOT_JSON},
)
async def rename_user(
    user_id: UserId, new: NewName, session: Transaction
) -> User:
    user = await session.get(UserRow, user_id)
    if user is None:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, f"No user with id {user_id}."
        )
    user.name = new.name
    try:
        # The UPDATE runs here, and the database keeps names unique.
        await session.flush()
    except IntegrityError:
        detail = f"Another user is named {new.name!r}."
        raise HTTPException(status.HTTP_409_CONFLICT, detail) from None
    return User.model_validate(user, from_attributes=True)
    # --8<-- [end:app]
