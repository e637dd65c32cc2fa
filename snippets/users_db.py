"""An async database with `databases` and aiosqlite: the users API."""

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from databases import Database
from fastapi import Depends, FastAPI, HTTPException, Request, status
from pydantic import BaseModel

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./test.db"


class User(BaseModel):
    id: int
    name: str
    username: str
    email: str


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, Database]]:
    """Connect at start-up, disconnect at shutdown. The tables must already exist."""
    async with Database(os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL)) as database:
        yield {"database": database}


async def get_database(request: Request) -> Database:
    database: Database = request.state.database
    return database


Db = Annotated[Database, Depends(get_database)]

app = FastAPI(lifespan=lifespan)


@app.get("/users")
async def list_users(database: Db) -> list[User]:
    rows = await database.fetch_all("SELECT id, name, username, email FROM users ORDER BY id")
    return [User.model_validate(row, from_attributes=True) for row in rows]


# --8<-- [start:get_user]
@app.get("/users/{user_id}")
async def get_user(user_id: int, database: Db) -> User:
    row = await database.fetch_one(
        "SELECT id, name, username, email FROM users WHERE id = :id",
        values={"id": user_id},  # a bound parameter: never format values into SQL
    )
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"No user with id {user_id}.")
    return User.model_validate(row, from_attributes=True)
    # --8<-- [end:get_user]
