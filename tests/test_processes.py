"""tests/support/processes.py: uvicorn in a process of its own, as the workers page starts it."""

import asyncio
import contextlib
import os
import signal
import time
from pathlib import Path

import pytest

from tests.support.processes import UvicornProcess, running


def gone(pid: int) -> bool:
    """Ended: no such process, or a zombie waiting for init to reap it."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] == "Z"


def test_a_killed_server_takes_its_workers_with_it() -> None:
    async def start_and_kill() -> list[int]:
        server = await UvicornProcess("workers:app", "--workers", "2").started()
        await server.logged("Application startup complete.", times=2)
        workers = server.workers()
        server.kill()  # what a failed page leaves to the test process's exit
        return workers

    workers = asyncio.run(start_and_kill())
    try:
        assert len(workers) == 2
        deadline = time.monotonic() + 10
        while not all(map(gone, workers)) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert all(map(gone, workers))
        assert not running
    finally:  # a failure here must not leave the workers running
        for pid in workers:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def test_a_server_that_cannot_start_says_why() -> None:
    with pytest.raises(RuntimeError, match=r"uvicorn did not start:[\s\S]*no_such_module"):
        asyncio.run(UvicornProcess("no_such_module:app").started())
    assert not running
