"""Blocking calls and the event loop: a `def` endpoint, an offloaded call,
the mistake, and pure-Python work, for which a thread adds no CPU."""

import hashlib

from anyio import to_thread
from fastapi import FastAPI

from blocking_work import checksum

app = FastAPI()


def fingerprint(text: str) -> str:
    """Tens of milliseconds of key stretching in C, with no await anywhere.

    hashlib releases the GIL while it runs: other threads run meanwhile."""
    digest = hashlib.pbkdf2_hmac(
        "sha256", text.encode(), b"async-fastapi-tested", 100_000
    )
    return digest.hex()[:16]


@app.get("/fingerprint/{text}")
def fingerprint_in_thread_pool(text: str) -> dict[str, str]:
    """Plain `def`: FastAPI runs it in a worker thread; the loop stays free."""
    return {"text": text, "fingerprint": fingerprint(text)}


@app.get("/fingerprint-offloaded/{text}")
async def fingerprint_offloaded(text: str) -> dict[str, str]:
    """`async def` that hands the blocking call to a worker thread."""
    return {
        "text": text,
        "fingerprint": await to_thread.run_sync(fingerprint, text),
    }


@app.get("/fingerprint-blocking/{text}")
async def fingerprint_blocking(text: str) -> dict[str, str]:
    """The mistake: a blocking call inside `async def` holds the event loop."""
    return {"text": text, "fingerprint": fingerprint(text)}


@app.get("/checksum/{text}")
def checksum_in_thread_pool(text: str) -> dict[str, str | int]:
    """Plain `def` too, but pure Python: it shares the GIL with the loop."""
    return {"text": text, "checksum": checksum(text)}


@app.get("/ping")
async def ping() -> dict[str, bool]:
    return {"pong": True}
