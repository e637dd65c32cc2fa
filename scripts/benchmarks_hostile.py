"""`make bench-hostile`: what hostile traffic costs the guide's apps, under uvicorn on 127.0.0.1.

Two measurements, each in a fresh process so that its peak memory is its own:

- bomb: `/external-api` calls an upstream, itself served on 127.0.0.1, that answers with half a
  megabyte of gzip unzipping to 512 MiB, and then with the same gzipped again (under a
  kilobyte, `Content-Encoding: gzip, gzip`); reported for each are the answer, the seconds it
  took, the longest a concurrent `/openapi.json` request waited meanwhile, and the process's
  peak RSS above what it held before the request;
- upload: `PUT /files/big.bin` with 50 MiB, once with a Content-Length and once chunked;
  reported are the answer and how many body bytes the app read before it.

`--snippets DIR` measures another copy of the apps, such as an older commit's.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

ROOT = Path(__file__).resolve().parents[1]  # scripts/ sits in the repository root
MiB = 1024 * 1024


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


@contextmanager
def serving(app: Any) -> Iterator[str]:
    """`app` under uvicorn, in a thread of its own, on a free port of 127.0.0.1."""
    import uvicorn

    with socket.socket() as listening:
        listening.bind(("127.0.0.1", 0))
        server = uvicorn.Server(uvicorn.Config(app, log_level="error", lifespan="on"))
        thread = threading.Thread(target=server.run, kwargs={"sockets": [listening]})
        thread.start()
        while not server.started:
            time.sleep(0.01)
        host, port = listening.getsockname()
        try:
            yield f"http://{host}:{port}"
        finally:
            server.should_exit = True
            thread.join()


def bomb_body(unzipped: int) -> bytes:
    """Spaces gzipped a mebibyte at a time, so that making it holds no more than that."""
    gzip = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    pieces = [gzip.compress(b" " * MiB) for _ in range(unzipped // MiB)]
    return b"".join([*pieces, gzip.flush()])


@contextmanager
def bomb_upstream(body: bytes, encoding: str) -> Iterator[str]:
    """A raw HTTP server on 127.0.0.1 answering every request with `body`, so encoded."""
    head = (
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-encoding: %s\r\n"
        b"content-length: %d\r\nconnection: close\r\n\r\n" % (encoding.encode(), len(body))
    )

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(head + body)
        await writer.drain()
        writer.close()

    ready, stop = threading.Event(), threading.Event()
    address: list[str] = []

    async def serve() -> None:
        server = await asyncio.start_server(answer, "127.0.0.1", 0)
        host, port = server.sockets[0].getsockname()[:2]
        address.append(f"http://{host}:{port}/data")
        ready.set()
        await asyncio.to_thread(stop.wait)
        server.close()

    thread = threading.Thread(target=asyncio.run, args=(serve(),))
    thread.start()
    ready.wait()
    try:
        yield address[0]
    finally:
        stop.set()
        thread.join()


def measure_bomb(twice: bool) -> dict[str, Any]:
    import httpx

    import external_api

    body = bomb_body(512 * MiB)
    if twice:
        body = zlib.compress(body, 9, wbits=16 + zlib.MAX_WBITS)
    with bomb_upstream(body, "gzip, gzip" if twice else "gzip") as upstream:
        external_api.EXTERNAL_URL = upstream  # the endpoint reads it on every call
        with serving(external_api.app) as url, httpx.Client(base_url=url, timeout=120) as client:
            client.get("/openapi.json")  # warm: everything imported, built and connected
            before = peak_rss_mib()
            waits: list[float] = []
            done = threading.Event()

            def meanwhile() -> None:
                with httpx.Client(base_url=url, timeout=120) as other:
                    while not done.is_set():
                        started = time.perf_counter()
                        other.get("/openapi.json")
                        waits.append(time.perf_counter() - started)
                        time.sleep(0.01)

            pinger = threading.Thread(target=meanwhile)
            pinger.start()
            started = time.perf_counter()
            response = client.get("/external-api")
            seconds = time.perf_counter() - started
            done.set()
            pinger.join()
    return {
        "gzip_bytes": len(body),
        "status": response.status_code,
        "detail": response.json().get("detail"),
        "seconds": round(seconds, 2),
        "longest_wait_seconds": round(max(waits, default=0.0), 2),
        "peak_rss_growth_mib": round(peak_rss_mib() - before, 1),
    }


class Counted:
    """An app wrapped to count the request body bytes it received: what it read of each body."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.received = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def counted() -> Message:
            message = await receive()
            self.received += len(message.get("body", b""))
            return message

        await self.app(scope, counted, send)


async def in_pieces(body: bytes) -> AsyncIterator[bytes]:
    """`body` in 64 KiB pieces, for httpx to send chunked (no Content-Length)."""
    for start in range(0, len(body), 65536):
        yield body[start : start + 65536]


def measure_upload() -> dict[str, Any]:
    import httpx

    os.environ["FILES_DIR"] = tempfile.mkdtemp()
    import files

    head = b'--b\r\nContent-Disposition: form-data; name="upload"; filename="big.bin"\r\n\r\n'
    upload = head + b"x" * (50 * MiB) + b"\r\n--b--\r\n"
    form = {"content-type": "multipart/form-data; boundary=b"}

    def pieces() -> Iterator[bytes]:
        for start in range(0, len(upload), 65536):
            yield upload[start : start + 65536]

    results = {}
    for sent_as in ("content-length", "chunked"):
        counted = Counted(files.app)
        with serving(counted) as url, httpx.Client(base_url=url, timeout=120) as client:
            content = upload if sent_as == "content-length" else pieces()
            response = client.put("/files/big.bin", content=content, headers=form)
        results[sent_as] = {"status": response.status_code, "bytes_read": counted.received}
    return {"upload_bytes": len(upload), **results}


def in_a_fresh_process(what: str, snippets: Path) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(snippets), "PYTHONDONTWRITEBYTECODE": "1"}
    run = subprocess.run(
        [sys.executable, __file__, "--one", what],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    result: dict[str, Any] = json.loads(run.stdout.strip().splitlines()[-1])
    return result


MEASURES = {
    "bomb": lambda: measure_bomb(twice=False),
    "bomb, gzip twice": lambda: measure_bomb(twice=True),
    "upload": measure_upload,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--snippets", type=Path, default=ROOT / "snippets")
    parser.add_argument("--one", choices=MEASURES, help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.one:
        print(json.dumps(MEASURES[arguments.one]()))
        return
    report = {what: in_a_fresh_process(what, arguments.snippets) for what in MEASURES}
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
