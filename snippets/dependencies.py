"""A resource per request from a dependency with `yield`, and typed lifespan state: each request
runs in one database transaction, committed if the endpoint returns, rolled back if it raises."""

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, TypedDict, cast

from fastapi import Depends, FastAPI, HTTPException, Request, status
from pydantic import BaseModel, Field
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from users_db import BUSY_TIMEOUT, DEFAULT_DATABASE_URL, User, UserId, database_unavailable
from users_sqlalchemy import UserRow


class State(TypedDict):
    """What the lifespan hands to every request; a type checker holds both sides to it."""

    sessions: async_sessionmaker[AsyncSession]


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[State]:
    url = os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL)
    engine = create_async_engine(url, connect_args={"timeout": BUSY_TIMEOUT})
    try:
        yield {"sessions": async_sessionmaker(engine, expire_on_commit=False)}
    finally:
        await engine.dispose()


def lifespan_state(request: Request) -> State:
    return cast(State, request.scope["state"])  # the server's copy of what lifespan yielded


async def transaction(request: Request) -> AsyncIterator[AsyncSession]:
    """One session in one transaction per request; closed whatever the endpoint does."""
    async with lifespan_state(request)["sessions"]() as session, session.begin():
        yield session  # the endpoint runs here; an exception it raises comes back out here


Transaction = Annotated[AsyncSession, Depends(transaction)]

app = FastAPI(lifespan=lifespan)
app.add_exception_handler(OperationalError, database_unavailable)  # 503, as users_db's


class NewName(BaseModel):
    name: Annotated[str, Field(min_length=1, max_length=100)]


@app.put("/users/{user_id}/name")
async def rename_user(user_id: UserId, new: NewName, session: Transaction) -> User:
    user = await session.get(UserRow, user_id)
    if user is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"No user with id {user_id}.")
    user.name = new.name
    await session.flush()  # the change is made, inside the transaction
    same_name = select(func.count()).where(UserRow.name == new.name)
    if await session.scalar(same_name) != 1:  # a rule checked after the change
        raise HTTPException(status.HTTP_409_CONFLICT, f"Another user is named {new.name!r}.")
    return User.model_validate(user, from_attributes=True)
