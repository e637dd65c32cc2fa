# --8<-- [start:limits]
"""Calling an upstream that may fail: each failure gets the status that says
whose fault it is, and nothing of the upstream's own text."""

import asyncio
import functools
import logging
import math
import random
import zlib
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
import stamina
from fastapi import HTTPException
from pydantic import TypeAdapter, ValidationError

from client_input import Detail

logger = logging.getLogger(__name__)

DEADLINE = 10.0  # seconds for the whole call, retries and waits included
MAX_BODY = 1_048_576  # bytes: a larger body is not one this app can use
ATTEMPTS = 3  # tries, for a call that failed before anything was sent
LONGEST_WAIT = 2  # seconds: a longer Retry-After goes to the client
# --8<-- [end:limits]


# --8<-- [start:responses]
def failed(description: str) -> dict[str, Any]:
    return {"model": Detail, "description": description}


# For `responses=`, on every endpoint that calls get_json.
UPSTREAM_FAILED: dict[int | str, dict[str, Any]] = {
    500: failed("This app's request was refused or unsendable: a bug here"),
    502: failed("The upstream failed, or sent what this app cannot use"),
    503: failed("This app or the upstream is busy: see any Retry-After"),
    504: failed("The upstream was too slow"),
}
# --8<-- [end:responses]


# --8<-- [start:get_json]
async def get_json(
    client: httpx.AsyncClient,
    url: str,
    shape: Any = Any,
    not_found: str | None = None,
) -> Any:
    """GET `url` and return its JSON body, checked against `shape` (a type
    pydantic can validate, such as a model or `list[Model]`). `not_found`,
    when `url` names what your client asked for: the detail of the 404 an
    upstream's 404 becomes. Every other failure gets the status the contract
    gives it; the upstream's own text is logged, never sent."""
    try:
        async with asyncio.timeout(DEADLINE):
            body = await read_body(client, url, not_found)
    except httpx.PoolTimeout as error:  # no free connection: we are full
        logger.warning("GET %s found no free connection", url)
        busy = {"Retry-After": f"{DEADLINE:.0f}"}  # by then, one is free
        detail = "This app is busy; try again later."
        raise HTTPException(503, detail, headers=busy) from error
    except UpstreamBusy as error:
        logger.warning("GET %s %s", url, error)
        busy = {"Retry-After": str(error.seconds)}
        detail = "The upstream is busy; try again later."
        raise HTTPException(503, detail, headers=busy) from error
    except (httpx.TimeoutException, TimeoutError) as error:
        logger.warning("GET %s timed out: %r", url, error)
        detail = "The upstream timed out."
        raise HTTPException(504, detail) from error
    except (httpx.UnsupportedProtocol, httpx.LocalProtocolError) as error:
        logger.error("GET %s could not be sent, a bug here: %r", url, error)
        detail = "This app could not send its request to the upstream."
        raise HTTPException(500, detail) from error
    except httpx.HTTPError as error:  # refused, dropped, unresolvable...
        logger.warning("GET %s failed: %r", url, error)
        detail = "The upstream is unreachable."
        raise HTTPException(502, detail) from error
    try:
        return adapter(shape).validate_json(body)
    except ValidationError as error:  # not JSON, or not JSON we can use
        logger.warning("GET %s sent a body we cannot use: %s", url, error)
        not_json = error.errors()[0]["type"] == "json_invalid"
        what = "not JSON" if not_json else "JSON of an unexpected shape"
        detail = f"The upstream sent a body that is {what}."
        raise HTTPException(502, detail) from error


@functools.cache
def adapter(shape: Any) -> TypeAdapter[Any]:
    """A validator for `shape`, built once per shape, not once per call."""
    return TypeAdapter(shape)


# --8<-- [end:get_json]


# --8<-- [start:status]
def check_status(
    response: httpx.Response, url: str, not_found: str | None
) -> None:
    """Raise what a status other than 2xx means for your client."""
    code = response.status_code
    if response.is_success:
        return
    if code == 404 and not_found is not None:  # what the client asked for
        logger.info("GET %s answered 404", url)
        raise HTTPException(404, not_found)
    if code in (429, 503) and (seconds := retry_after(response)) is not None:
        raise UpstreamBusy(code, seconds)
    if code == 429:  # busy, without saying for how long: no wait to pass on
        logger.warning("GET %s answered 429", url)
        detail = "The upstream is busy; try again later."
        raise HTTPException(503, detail)
    if code == 408:  # it gave up waiting for our request: a timeout
        logger.warning("GET %s answered 408", url)
        raise HTTPException(504, "The upstream timed out.")
    if response.is_client_error:  # we asked it wrongly
        logger.error("GET %s answered %d: a bug in this app", url, code)
        detail = f"The upstream refused this app's request ({code})."
        raise HTTPException(500, detail)
    logger.warning("GET %s answered %d", url, code)  # 3xx and 5xx
    detail = f"The upstream answered {code}."
    raise HTTPException(502, detail)


class UpstreamBusy(Exception):
    """A 429 or a 503 that says when to come back: `seconds` from now."""

    def __init__(self, code: int, seconds: int) -> None:
        super().__init__(f"answered {code}, retry after {seconds} s")
        self.seconds = seconds


def retry_after(response: httpx.Response) -> int | None:
    """The upstream's Retry-After in whole seconds, or None if it sent
    none, or nothing we can read."""
    value = response.headers.get("Retry-After", "").strip()
    if value.isascii() and value.isdigit():
        return int(value) if len(value) <= 6 else None  # 11 days, at most
    try:
        when = parsedate_to_datetime(value)  # the other form: an HTTP date
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # "-0000": UTC, as HTTP dates always are
        when = when.replace(tzinfo=UTC)
    seconds = (when - datetime.now(UTC)).total_seconds()
    return max(0, math.ceil(seconds)) if seconds < 1e6 else None


# --8<-- [end:status]


# --8<-- [start:retries]
def worth_retrying(error: Exception) -> bool | float:
    """stamina's hook: True to retry after its backoff, a number of seconds
    to retry after that wait, False to give up."""
    if isinstance(error, httpx.ConnectError | httpx.ConnectTimeout):
        return True  # no connection, so nothing was sent: send it again
    if isinstance(error, UpstreamBusy) and error.seconds <= LONGEST_WAIT:
        # The wait the upstream asked for, and up to 0.1 s more at random:
        # stamina waits exactly the number returned, adding no jitter.
        return error.seconds + random.uniform(0, 0.1)
    return False  # after a response began, or our own pool was full


retrying = stamina.AsyncRetryingCaller(
    attempts=ATTEMPTS,
    timeout=None,  # DEADLINE bounds all attempts and waits together
    wait_initial=0.1,  # then 0.2 s: exponential backoff...
    wait_jitter=0.1,  # ...plus up to 0.1 s at random, so calls spread
).on(worth_retrying)


async def read_body(
    client: httpx.AsyncClient, url: str, not_found: str | None = None
) -> bytes:
    """The body of a 2xx answer to GET `url`, tried up to ATTEMPTS times."""
    return await retrying(read_once, client, url, not_found)


# --8<-- [end:retries]


# --8<-- [start:body]
async def read_once(
    client: httpx.AsyncClient, url: str, not_found: str | None
) -> bytes:
    """No more than MAX_BODY bytes as they arrive and no more than MAX_BODY
    once unzipped: no encoding makes a body cost more than twice that."""
    gzip_only = {"Accept-Encoding": "gzip"}
    async with client.stream("GET", url, headers=gzip_only) as response:
        check_status(response, url, not_found)
        encoding = response.headers.get("Content-Encoding", "identity")
        encoding = encoding.strip().lower()
        if encoding not in ("identity", "gzip"):  # gzip once, as asked
            logger.warning("GET %s sent a body in %r", url, encoding)
            detail = "The upstream sent a body in an encoding not asked for."
            raise HTTPException(502, detail)
        gunzip = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
        received, body = 0, bytearray()
        try:
            # aiter_raw, not aiter_bytes: httpx unzips each read whole.
            async for chunk in response.aiter_raw():
                received += len(chunk)
                if encoding == "gzip":  # unzip only what fits, and a byte
                    chunk = gunzip.decompress(chunk, MAX_BODY + 1 - len(body))
                body += chunk
                if received > MAX_BODY or len(body) > MAX_BODY:
                    logger.warning("GET %s sent over %d bytes", url, MAX_BODY)
                    detail = f"The upstream sent more than {MAX_BODY:,} bytes."
                    raise HTTPException(502, detail)  # leaving hangs up
            if encoding == "gzip" and (not gunzip.eof or gunzip.unused_data):
                raise zlib.error("not one whole gzip stream")
        except zlib.error as error:
            logger.warning("GET %s sent broken gzip: %s", url, error)
            detail = "The upstream sent a body that is not the gzip it says."
            raise HTTPException(502, detail) from error
        return bytes(body)


# --8<-- [end:body]
