"""Work that runs after the response is sent: FastAPI's BackgroundTasks."""

import asyncio
from typing import Annotated

from fastapi import BackgroundTasks, FastAPI, status
from pydantic import BaseModel, Field

app = FastAPI()
outbox: list[str] = []  # stands in for a mail service: who has been sent a welcome


class Signup(BaseModel):
    email: Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254)]


async def send_welcome_email(address: str) -> None:
    await asyncio.sleep(5)  # stands in for a slow call to the mail service
    outbox.append(address)


@app.post("/signups", status_code=status.HTTP_202_ACCEPTED)
async def sign_up(signup: Signup, background: BackgroundTasks) -> dict[str, str]:
    background.add_task(send_welcome_email, signup.email)  # runs once the response is sent
    return {"status": "signed up; a welcome email is on its way"}
