"""Calling an upstream that may fail: every failure becomes a clear 502 or 504, never a 500."""

import asyncio
import functools
import logging
from typing import Any

import httpx
from fastapi import HTTPException, status
from pydantic import TypeAdapter, ValidationError

logger = logging.getLogger(__name__)

DEADLINE = 10.0  # seconds for the whole call, first byte sent to last byte received
MAX_BODY = 1_048_576  # bytes: a body larger than 1 MiB is not one this app can use


async def get_json(client: httpx.AsyncClient, url: str, shape: Any = Any) -> Any:
    """GET `url` and return its JSON body, checked against `shape` (a type pydantic can
    validate, such as a model or `list[Model]`). Any failure of the upstream becomes a 502 Bad
    Gateway, or a 504 Gateway Timeout when it was too slow; its own text is logged, never sent."""
    try:
        async with asyncio.timeout(DEADLINE):
            body = await read_body(client, url)
    except (httpx.TimeoutException, TimeoutError) as error:  # a timeout of httpx's, or ours
        logger.warning("GET %s timed out: %r", url, error)
        raise HTTPException(status.HTTP_504_GATEWAY_TIMEOUT, "The upstream timed out.") from error
    except httpx.HTTPError as error:  # refused, dropped, unresolvable, broken protocol
        logger.warning("GET %s failed: %r", url, error)
        raise HTTPException(status.HTTP_502_BAD_GATEWAY, "The upstream is unreachable.") from error
    try:
        return adapter(shape).validate_json(body)
    except ValidationError as error:  # not JSON, or not the JSON this endpoint can use
        logger.warning("GET %s sent a body this app cannot use: %s", url, error)
        not_json = error.errors()[0]["type"] == "json_invalid"
        detail = "not JSON" if not_json else "JSON of an unexpected shape"
        raise HTTPException(
            status.HTTP_502_BAD_GATEWAY, f"The upstream sent a body that is {detail}."
        ) from error


@functools.cache
def adapter(shape: Any) -> TypeAdapter[Any]:
    """A validator for `shape`, built once per shape rather than once per call."""
    return TypeAdapter(shape)


async def read_body(client: httpx.AsyncClient, url: str) -> bytes:
    """The body of a 2xx answer, read no further than MAX_BODY bytes."""
    async with client.stream("GET", url) as response:
        if not response.is_success:  # 3xx too: httpx follows no redirect unless asked to
            logger.warning("GET %s answered %d", url, response.status_code)
            detail = f"The upstream answered {response.status_code}."
            raise HTTPException(status.HTTP_502_BAD_GATEWAY, detail)
        body = bytearray()
        async for chunk in response.aiter_bytes():
            body += chunk
            if len(body) > MAX_BODY:  # stop reading; leaving the block closes the connection
                logger.warning("GET %s sent more than %d bytes", url, MAX_BODY)
                detail = f"The upstream sent more than {MAX_BODY:,} bytes."
                raise HTTPException(status.HTTP_502_BAD_GATEWAY, detail)
        return bytes(body)
