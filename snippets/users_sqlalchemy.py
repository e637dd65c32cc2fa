"""The same users API with SQLAlchemy 2's async API."""

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import Depends, FastAPI, HTTPException, Request, status
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import (
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from users_db import (
    BUSY_TIMEOUT,
    DEFAULT_DATABASE_URL,
    NOT_FOUND,
    UNAVAILABLE,
    User,
    UserId,
    database_unavailable,
)


class Base(DeclarativeBase):
    pass


class UserRow(Base):
    """The existing users table, mapped; the app never creates it."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]
    username: Mapped[str]
    email: Mapped[str]


@asynccontextmanager
async def lifespan(
    app: FastAPI,
) -> AsyncIterator[dict[str, async_sessionmaker[AsyncSession]]]:
    url = os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL)
    engine = create_async_engine(url, connect_args={"timeout": BUSY_TIMEOUT})
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
app.add_exception_handler(
    OperationalError, database_unavailable
)  # as users_db's


@app.get("/users", responses=UNAVAILABLE)
async def list_users(session: Session) -> list[User]:
    rows = await session.scalars(select(UserRow).order_by(UserRow.id))
    return [User.model_validate(row, from_attributes=True) for row in rows]


# --8<-- [start:get_user]
@app.get("/users/{user_id}", responses={**NOT_FOUND, **UNAVAILABLE})
async def get_user(user_id: UserId, session: Session) -> User:
    row = await session.get(UserRow, user_id)
    if row is None:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, f"No user with id {user_id}."
        )
    return User.model_validate(row, from_attributes=True)
    # --8<-- [end:get_user]
