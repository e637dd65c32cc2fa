"""Calling an upstream that may fail: every failure becomes a clear 502 or 504, never a 500."""

import asyncio
import functools
import logging
import zlib
from typing import Any

import httpx
from fastapi import HTTPException, status
from pydantic import TypeAdapter, ValidationError

from client_input import Detail

logger = logging.getLogger(__name__)

# For `responses=`, on every endpoint that calls get_json.
UPSTREAM_FAILED: dict[int | str, dict[str, Any]] = {
    status.HTTP_502_BAD_GATEWAY: {
        "model": Detail,
        "description": "The upstream failed, or sent what this app cannot use",
    },
    status.HTTP_504_GATEWAY_TIMEOUT: {
        "model": Detail,
        "description": "The upstream was too slow",
    },
}

DEADLINE = (
    10.0  # seconds for the whole call, first byte sent to last byte received
)
MAX_BODY = (
    1_048_576  # bytes: a body larger than 1 MiB is not one this app can use
)


async def get_json(
    client: httpx.AsyncClient, url: str, shape: Any = Any
) -> Any:
    """GET `url` and return its JSON body, checked against `shape` (a type pydantic can
    validate, such as a model or `list[Model]`). Any failure of the upstream becomes a 502 Bad
    Gateway, or a 504 Gateway Timeout when it was too slow; its own text is logged, never sent."""
    try:
        async with asyncio.timeout(DEADLINE):
            body = await read_body(client, url)
    except (
        httpx.TimeoutException,
        TimeoutError,
    ) as error:  # a timeout of httpx's, or ours
        logger.warning("GET %s timed out: %r", url, error)
        raise HTTPException(
            status.HTTP_504_GATEWAY_TIMEOUT, "The upstream timed out."
        ) from error
    except (
        httpx.HTTPError
    ) as error:  # refused, dropped, unresolvable, broken protocol
        logger.warning("GET %s failed: %r", url, error)
        raise HTTPException(
            status.HTTP_502_BAD_GATEWAY, "The upstream is unreachable."
        ) from error
    try:
        return adapter(shape).validate_json(body)
    except (
        ValidationError
    ) as error:  # not JSON, or not the JSON this endpoint can use
        logger.warning(
            "GET %s sent a body this app cannot use: %s", url, error
        )
        not_json = error.errors()[0]["type"] == "json_invalid"
        detail = "not JSON" if not_json else "JSON of an unexpected shape"
        raise HTTPException(
            status.HTTP_502_BAD_GATEWAY,
            f"The upstream sent a body that is {detail}.",
        ) from error


@functools.cache
def adapter(shape: Any) -> TypeAdapter[Any]:
    """A validator for `shape`, built once per shape rather than once per call."""
    return TypeAdapter(shape)


async def read_body(client: httpx.AsyncClient, url: str) -> bytes:
    """The body of a 2xx answer, no more than MAX_BODY bytes as they arrive and no more than
    MAX_BODY once unzipped: no encoding makes it cost more than twice that."""
    async with client.stream(
        "GET", url, headers={"Accept-Encoding": "gzip"}
    ) as response:
        if (
            not response.is_success
        ):  # 3xx too: httpx follows no redirect unless asked to
            logger.warning("GET %s answered %d", url, response.status_code)
            detail = f"The upstream answered {response.status_code}."
            raise HTTPException(status.HTTP_502_BAD_GATEWAY, detail)
        encoding = (
            response.headers.get("Content-Encoding", "identity")
            .strip()
            .lower()
        )
        if encoding not in (
            "identity",
            "gzip",
        ):  # gzip once, as asked, or nothing
            logger.warning("GET %s sent a body in %r", url, encoding)
            detail = (
                "The upstream sent a body in an encoding it was not asked for."
            )
            raise HTTPException(status.HTTP_502_BAD_GATEWAY, detail)
        gunzip = (
            zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
            if encoding == "gzip"
            else None
        )
        received, body = 0, bytearray()
        try:
            # aiter_raw, not aiter_bytes: httpx would unzip each network read whole, first.
            async for chunk in response.aiter_raw():
                received += len(chunk)
                # max_length: unzip no more than the room left, and a byte to tell it is full
                body += (
                    gunzip.decompress(chunk, MAX_BODY + 1 - len(body))
                    if gunzip
                    else chunk
                )
                if (
                    received > MAX_BODY or len(body) > MAX_BODY
                ):  # stop; leaving hangs up
                    logger.warning(
                        "GET %s sent more than %d bytes", url, MAX_BODY
                    )
                    detail = f"The upstream sent more than {MAX_BODY:,} bytes."
                    raise HTTPException(status.HTTP_502_BAD_GATEWAY, detail)
            if gunzip and (
                not gunzip.eof or gunzip.unused_data
            ):  # cut short, or more after
                raise zlib.error("not one whole gzip stream")
        except zlib.error as error:
            logger.warning(
                "GET %s sent a body that is not gzip: %s", url, error
            )
            detail = (
                "The upstream sent a body that is not the gzip it says it is."
            )
            raise HTTPException(status.HTTP_502_BAD_GATEWAY, detail) from error
        return bytes(body)
