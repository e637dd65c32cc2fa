"""uvicorn in a process of its own, started as a reader starts it, for the pages that prove
what only real processes show: several workers, signals, file descriptors.

A page that uses it runs on the real clock (`clock: real` in its front matter): the server's
timers are the machine's. Every server listens on a free port of 127.0.0.1; one the page
leaves running, because a block failed before stopping it, is killed when the test process
exits."""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import IO

from tests.support.project import ROOT

STARTING_LIMIT = 60.0  # seconds for a server to answer: a busy machine spawns workers slowly
STOPPING_LIMIT = 30.0

running: set[subprocess.Popen[bytes]] = set()


class UvicornProcess:
    """`python -m uvicorn <app> --app-dir snippets --host 127.0.0.1 --port <free> <options>`."""

    def __init__(self, app: str, *options: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.command = [sys.executable, "-m", "uvicorn", app, "--app-dir", "snippets"]
        self.command += ["--host", "127.0.0.1", "--port", str(self.port), *options]
        # Open for the server's whole life, closed by close_log: no `with` can span that.
        self.output: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115
        self.final_log: str | None = None  # the whole log, once the process has ended
        self.process = subprocess.Popen(
            self.command,
            cwd=ROOT,  # the repository: --app-dir and the module paths are relative to it
            stdout=self.output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a group of its own: killed whole, workers included
        )
        running.add(self.process)
        self.pid = self.process.pid

    async def started(self) -> UvicornProcess:
        """Wait until the server accepts a connection and answers `GET /`."""
        deadline = time.monotonic() + STARTING_LIMIT
        while not await answers(self.port):
            if self.process.poll() is not None or time.monotonic() > deadline:
                log = self.log()
                self.kill()
                raise RuntimeError(f"uvicorn did not start:\n{log}")
            await asyncio.sleep(0.05)
        return self

    def log(self) -> str:
        """What the server has written so far, its log and its workers'."""
        if self.final_log is not None:
            return self.final_log
        self.output.seek(0)
        return self.output.read().decode(errors="replace")

    def terminate(self) -> None:
        """SIGTERM, as `kill <pid>`, a container's stop or Ctrl+C's cousin send it."""
        self.process.send_signal(signal.SIGTERM)

    async def exited(self) -> int:
        """Wait for the process to end; its exit status (negative: the signal that ended it)."""
        deadline = time.monotonic() + STOPPING_LIMIT
        while self.process.poll() is None:
            if time.monotonic() > deadline:
                log = self.log()
                self.kill()
                raise RuntimeError(f"uvicorn did not stop:\n{log}")
            await asyncio.sleep(0.05)
        running.discard(self.process)
        self.close_log()
        return self.process.returncode

    async def stop(self) -> int:
        self.terminate()
        return await self.exited()

    def kill(self) -> None:
        kill(self.process)
        self.close_log()

    def close_log(self) -> None:
        if self.final_log is None:
            self.final_log = self.log()
            self.output.close()

    async def logged(self, line: str, times: int = 1) -> str:
        """Wait until the log holds `line` (a whole line, or its end) `times` times."""
        deadline = time.monotonic() + STARTING_LIMIT
        while sum(entry.endswith(line) for entry in self.log().splitlines()) < times:
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"uvicorn did not log {line!r} {times} times:\n{self.log()}")
            await asyncio.sleep(0.05)
        return self.log()

    def workers(self) -> list[int]:
        """The process ids of the worker processes the supervisor started (multiprocessing's
        spawned children; not its resource tracker, a child too)."""
        children = Path(f"/proc/{self.pid}/task/{self.pid}/children").read_text().split()
        return [
            int(pid)
            for pid in children
            if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()
        ]


def free_port() -> int:
    """A port of 127.0.0.1 nothing listens on now, for a server of the run's own."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))  # port 0: the system picks a free one
        port: int = probe.getsockname()[1]
        return port


async def answers(port: int) -> bool:
    """Whether a server on `port` answers an HTTP request, whatever its status."""
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        return False
    try:
        writer.write(b"GET / HTTP/1.1\r\nHost: probe\r\nConnection: close\r\n\r\n")
        return (await reader.read(12)).startswith(b"HTTP/1.1 ")
    except OSError:
        return False
    finally:
        writer.close()


def held_connections(port: int, *pids: int) -> set[int]:
    """The connections to `port` whose server end one of `pids` holds as a file descriptor,
    each as its client's port. Read from /proc (the sockets among each process's descriptors,
    and the kernel's table of TCP sockets): what the processes hold, however busy they are."""
    inodes: set[int] = set()
    for pid in pids:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            with contextlib.suppress(FileNotFoundError):  # closed meanwhile
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
                if target.startswith("socket:["):
                    inodes.add(int(target[len("socket:[") : -1]))
    clients: set[int] = set()
    table = Path(f"/proc/{pids[0]}/net/tcp").read_text()  # one network: the same for all
    for line in table.splitlines()[1:]:
        fields = line.split()
        local_port = int(fields[1].split(":")[1], 16)
        client_port = int(fields[2].split(":")[1], 16)
        if int(fields[9]) in inodes and local_port == port and client_port != 0:
            clients.add(client_port)
    return clients


def kill(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL to the server and every process it started (its group)."""
    with contextlib.suppress(ProcessLookupError):  # all gone already
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    running.discard(process)


@atexit.register
def kill_what_is_left() -> None:
    for process in list(running):
        kill(process)
