"""Work that runs after the response is sent: FastAPI's BackgroundTasks."""

import asyncio
from typing import Annotated

from fastapi import BackgroundTasks, FastAPI, status
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field
from starlette.middleware.body_limit import RequestBodyLimitMiddleware

from client_input import MAX_JSON_BODY, NOT_JSON, TOO_LARGE, invalid_request

app = FastAPI(exception_handlers={RequestValidationError: invalid_request})
# A body over the limit is refused before it is read.
app.add_middleware(RequestBodyLimitMiddleware, max_body_size=MAX_JSON_BODY)

# Stands in for a mail service: who has been sent a welcome.
outbox: list[str] = []

# No @, space or control character, each side of an @ and a dot. Spelled
# out, because `\s` means other characters to pydantic than to a JSON
# Schema validator reading the API's schema.
ADDRESS = r"^[^@\x00-\x20]+@[^@\x00-\x20]+\.[^@\x00-\x20]+$"


class Signup(BaseModel):
    email: Annotated[str, Field(pattern=ADDRESS, max_length=254)]


async def send_welcome_email(address: str) -> None:
    await asyncio.sleep(1)  # stands in for a slow call to the mail service
    outbox.append(address)


@app.post(
    "/signups",
    status_code=status.HTTP_202_ACCEPTED,
    responses={**TOO_LARGE, **NOT_JSON},
)
async def sign_up(
    signup: Signup, background: BackgroundTasks
) -> dict[str, str]:
    background.add_task(send_welcome_email, signup.email)
    return {"status": "signed up; a welcome email is on its way"}
