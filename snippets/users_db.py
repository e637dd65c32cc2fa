"""The users API with `databases`, as the article built it: what you move
away from (the Async databases page says why and how)."""

import os
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from databases import Database
from fastapi import Depends, FastAPI, HTTPException, Request, status

# The SQLAlchemy version's settings, response models, id type and error
# handler, so that the two versions cannot drift apart.
from users_sqlalchemy import (
    BUSY_TIMEOUT,
    DEFAULT_DATABASE_URL,
    NOT_FOUND,
    UNAVAILABLE,
    User,
    UserId,
    database_unavailable,
)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, Database]]:
    """Connect at start-up, disconnect at shutdown."""
    url = os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL)
    async with Database(url, timeout=BUSY_TIMEOUT, uri=True) as database:
        yield {"database": database}


async def get_database(request: Request) -> Database:
    database: Database = request.state.database
    return database


Db = Annotated[Database, Depends(get_database)]

app = FastAPI(lifespan=lifespan)
# `databases` raises the driver's own error, not SQLAlchemy's wrapper.
app.add_exception_handler(sqlite3.OperationalError, database_unavailable)


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
        values={"id": user_id},
    )
    if row is None:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, f"No user with id {user_id}."
        )
    return User.model_validate(row, from_attributes=True)
    # --8<-- [end:get_user]
