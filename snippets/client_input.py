# --8<-- [start:limit]
"""Bad input from clients: a body too large is refused before it is read,
input that is not valid text gets a 422 that can be sent, and every error
answers in the shape it declares."""

import re
from typing import Any

from fastapi import Request, status
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel

# Bytes: far more than any request to these apps needs.
MAX_JSON_BODY = 64 * 1024
# --8<-- [end:limit]

# --8<-- [start:text]
# Halves of UTF-16 pairs: never valid text on their own.
SURROGATES = re.compile("[\ud800-\udfff]")


def printable(value: Any) -> Any:
    """`value` with every lone surrogate replaced by U+FFFD, the
    replacement character, in keys too: the JSON a client sent may be
    echoed whole."""
    if isinstance(value, str):
        return SURROGATES.sub("\ufffd", value)
    if isinstance(value, list):
        return [printable(item) for item in value]
    if isinstance(value, dict):
        return {printable(key): printable(item) for key, item in value.items()}
    return value


async def invalid_request(
    request: Request, error: RequestValidationError
) -> JSONResponse:
    """FastAPI's own 422, with the input it echoes made printable first.

    JSON may carry a lone surrogate (`"\\ud800"`), and a body sent without
    a Content-Type is echoed as raw bytes, which may not be UTF-8: echoed as
    they are, either fails to encode, and becomes a 500."""
    as_text = {bytes: lambda raw: raw.decode("utf-8", "replace")}
    errors = jsonable_encoder(error.errors(), custom_encoder=as_text)
    return JSONResponse(
        {"detail": printable(errors)}, status.HTTP_422_UNPROCESSABLE_CONTENT
    )
    # --8<-- [end:text]


# --8<-- [start:declared]
class Detail(BaseModel):
    """What FastAPI sends with every error it raises: `{"detail": "..."}`."""

    detail: str


def too_large(limit: int) -> dict[int | str, dict[str, Any]]:
    """For `responses=`: the 413 Starlette's body limit answers, in JSON,
    or in plain text when the declared Content-Length alone is over it."""
    detail = {"schema": Detail.model_json_schema()}
    return {
        status.HTTP_413_CONTENT_TOO_LARGE: {
            "description": f"The body is larger than {limit:,} bytes",
            "content": {"application/json": detail, "text/plain": {}},
        },
    }


TOO_LARGE = too_large(MAX_JSON_BODY)
NOT_JSON: dict[int | str, dict[str, Any]] = {
    status.HTTP_400_BAD_REQUEST: {
        "model": Detail,
        "description": "The body cannot be parsed",
    },
}
# --8<-- [end:declared]
