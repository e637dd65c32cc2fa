"""Calling an upstream that may fail: every failure becomes a clear 502 or 504, never a 500."""

import logging
from typing import Any

import httpx
from fastapi import HTTPException, status

logger = logging.getLogger(__name__)


async def get_json(client: httpx.AsyncClient, url: str) -> Any:
    """GET `url` and return its JSON body. Any failure of the upstream becomes a 502 Bad
    Gateway, or a 504 Gateway Timeout when it was too slow; its own text is logged, never sent."""
    try:
        response = await client.get(url)
    except httpx.TimeoutException as error:  # connect, read, write or pool timeout
        logger.warning("GET %s timed out: %r", url, error)
        raise HTTPException(status.HTTP_504_GATEWAY_TIMEOUT, "The upstream timed out.") from error
    except httpx.HTTPError as error:  # refused, dropped, unresolvable, broken protocol
        logger.warning("GET %s failed: %r", url, error)
        raise HTTPException(status.HTTP_502_BAD_GATEWAY, "The upstream is unreachable.") from error

    if not response.is_success:  # 3xx too: httpx follows no redirect unless asked to
        logger.warning("GET %s answered %d", url, response.status_code)
        detail = f"The upstream answered {response.status_code}."
        raise HTTPException(status.HTTP_502_BAD_GATEWAY, detail)
    try:
        return response.json()
    except ValueError as error:  # not JSON, or not even text
        logger.warning("GET %s sent a body that is not JSON: %r", url, error)
        detail = "The upstream sent a body that is not JSON."
        raise HTTPException(status.HTTP_502_BAD_GATEWAY, detail) from error
