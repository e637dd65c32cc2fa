"""Blocking calls and the event loop: a `def` endpoint, an offloaded call, and the mistake."""

import hashlib

from anyio import to_thread
from fastapi import FastAPI

app = FastAPI()


def fingerprint(text: str) -> str:
    """A blocking call: tens of milliseconds of key stretching, with no await anywhere."""
    digest = hashlib.pbkdf2_hmac(
        "sha256", text.encode(), b"async-fastapi-tested", 100_000
    )
    return digest.hex()[:16]


@app.get("/fingerprint/{text}")
def fingerprint_in_thread_pool(text: str) -> dict[str, str]:
    """Plain `def`: FastAPI runs it in a worker thread, so the loop stays free."""
    return {"text": text, "fingerprint": fingerprint(text)}


@app.get("/fingerprint-offloaded/{text}")
async def fingerprint_offloaded(text: str) -> dict[str, str]:
    """`async def` that hands the blocking part to a worker thread and awaits it."""
    return {
        "text": text,
        "fingerprint": await to_thread.run_sync(fingerprint, text),
    }


@app.get("/fingerprint-blocking/{text}")
async def fingerprint_blocking(text: str) -> dict[str, str]:
    """The mistake: a blocking call inside `async def` holds the event loop."""
    return {"text": text, "fingerprint": fingerprint(text)}


@app.get("/ping")
async def ping() -> dict[str, bool]:
    return {"pong": True}
